#!/usr/bin/env python3
"""Measures the workshop on each container engine the same way and writes
bench/engines.json: which engine it was, the step 5 and step 8 solution sizes (the
checker's figure and the engine's own), a warm `checker step-8 --solution`, and a cold
`checker grade` of two steps (--no-cache, steps 5 and 8, one at a time).

Usage: python3 bench/engines.py [ENGINE...]
  ENGINE is `host` (the engine CHECKER_DOCKER names, as the checker uses it) or an engine
  of scripts/engines.sh, which is started fresh (an empty image store), measured and
  removed. Default: host docker-trixie docker-trixie-containerd podman-trixie
  podman-bookworm. An engine that cannot be measured stops the script with its reason.
Needs target/release/checker (built here) and the base images on the host.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from bench import student_repo

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
CHECKER = TARGET / "release" / "checker"
ENGINES_SH = ROOT / "scripts" / "engines.sh"
DEFAULT = ["host", "docker-trixie", "docker-trixie-containerd", "podman-trixie", "podman-bookworm"]
GRADED = "5,8"
LOADS = []


def run(engine, args, cwd=ROOT):
    """Runs the checker on `engine` with --format json: (seconds, exit code, report)."""
    prefix = [] if engine == "host" else ["bash", str(ENGINES_SH), "exec", engine]
    LOADS.append(round(os.getloadavg()[0], 1))
    started = time.time()
    out = subprocess.run(prefix + [str(CHECKER), *args, "--format", "json"], cwd=cwd,
                         capture_output=True, text=True)
    seconds = round(time.time() - started, 1)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"{engine}: checker {' '.join(args)} gave no report (exit {out.returncode}):\n{out.stderr[-3000:]}")
    if out.returncode == 2:
        sys.exit(f"{engine}: checker {' '.join(args)} could not check (exit 2):\n{out.stderr[-3000:]}")
    return seconds, out.returncode, report


def sizes(report):
    image = report["image"]
    return {"passed": report["passed"], "size_bytes": image["size_bytes"],
            "engine_size_bytes": image.get("engine_size_bytes") or image["size_bytes"]}


def grade_repo():
    """A student repository holding the graded steps' solutions, under target/ (which the
    engines' containers mount at the same path)."""
    repo = TARGET / "engines" / "grade-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    student_repo(repo, {f"step-{n}" for n in GRADED.split(",")})
    return repo


def measure(engine):
    repo = grade_repo()
    # Cold first: a fresh engine's cache is empty, and --no-cache keeps the host's out.
    seconds, code, graded = run(engine, ["grade", "--ci", "--no-cache", "--steps", GRADED], cwd=repo)
    shutil.rmtree(repo)
    if code != 0:
        sys.exit(f"{engine}: the cold grade of steps {GRADED}' solutions failed:\n{json.dumps(graded, indent=2)[:3000]}")
    _, _, step5 = run(engine, ["step-5", "--solution"])
    run(engine, ["step-8", "--solution"])
    warm, _, step8 = run(engine, ["step-8", "--solution"])
    return {
        "engine": step8["engine"],
        "step_5": sizes(step5),
        "step_8": {**sizes(step8), "warm_seconds": warm},
        "cold_grade": {"steps": GRADED, "seconds": seconds,
                       "points": graded["points"], "max_points": graded["max_points"]},
    }


def main():
    engines = sys.argv[1:] or DEFAULT
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "checker"], cwd=ROOT, check=True)
    results = []
    for engine in engines:
        print(f"engines.py: {engine}", flush=True)
        if engine != "host":
            subprocess.run(["bash", str(ENGINES_SH), "start", engine], check=True)
        try:
            results.append({"name": engine, **measure(engine)})
        finally:
            if engine != "host":
                subprocess.run(["bash", str(ENGINES_SH), "stop", engine], check=True)
        print(json.dumps(results[-1]), flush=True)
    out = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {"cpus": os.cpu_count(), "load_average": {"min": min(LOADS), "max": max(LOADS)}},
           "engines": results}
    (ROOT / "bench" / "engines.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

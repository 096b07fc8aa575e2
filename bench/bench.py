#!/usr/bin/env python3
"""Measures the workshop's numbers with the checker itself and writes bench/results.json:
every step's solution image size and time to first response, step 8's cold (--no-cache)
and warm build times, step 3's source-only rebuild against its cold build, and how long
`checker grade --ci --jobs 2` takes on every reference solution, cold and warm.

Usage: python3 bench/bench.py   (needs the engine and the base images; takes minutes)
The docker client is taken from CHECKER_DOCKER, as the checker does.
"""
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKER = ROOT / "target" / "release" / "checker"


def check(*args):
    """Runs the checker with --format json; returns its report, failing loudly on exit 2."""
    out = subprocess.run([str(CHECKER), "--workshop", str(ROOT), *args, "--format", "json"],
                         capture_output=True, text=True)
    report = json.loads(out.stdout)
    if out.returncode not in (0, 1) or "error" in report:
        sys.exit(f"checker {' '.join(args)} could not run: {report.get('error', out.stderr)}")
    if not report["passed"]:
        failed = [c["id"] for c in report["checks"] if c["status"] != "pass"]
        sys.exit(f"checker {' '.join(args)}: the solution failed {failed}")
    return report


def machine():
    """What the numbers were measured on: they mean little without it."""
    docker = os.environ.get("CHECKER_DOCKER", "docker")
    server = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"],
                            capture_output=True, text=True).stdout.strip()
    rust = subprocess.run([docker, "image", "inspect", "--format", "{{.Size}}", "rust:1.95-slim-bookworm"],
                          capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "arch": platform.machine(), "docker_server": server,
            "rust_base_image_bytes": int(rust) if rust.isdigit() else None}


def grade(no_cache):
    """Grades a repository holding every reference solution, as an instructor's CI would:
    `checker grade --ci --jobs 2`. Returns the run's seconds and points."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = pathlib.Path(tmp)
        shutil.copy(ROOT / "workshop.toml", repo)
        shutil.copytree(ROOT / "steps", repo / "steps")
        for step in sorted((repo / "steps").iterdir()):
            shutil.copytree(step / "solution", step, dirs_exist_ok=True)
        args = [str(CHECKER), "grade", "--ci", "--jobs", "2", "--format", "json"] + (["--no-cache"] if no_cache else [])
        started = time.time()
        out = subprocess.run(args, cwd=repo, capture_output=True, text=True)
        seconds = time.time() - started
        result = json.loads(out.stdout)
        if out.returncode != 0:
            sys.exit(f"grading the reference solutions failed ({out.returncode}): {out.stderr[-2000:]}")
        return {"seconds": seconds, "points": result["points"], "max_points": result["max_points"]}


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "checker"], cwd=ROOT, check=True)
    started = time.time()
    results = {"steps": [], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": machine()}
    # Cold builds first, while their layers are not cached yet by the runs below.
    step3 = check("step-3", "--solution", "--no-cache")
    cold8 = check("step-8", "--solution", "--no-cache")
    warm8 = check("step-8", "--solution")
    for n in range(1, 9):
        r = check(f"step-{n}", "--solution")
        results["steps"].append({
            "step": f"step-{n}",
            "title": r["title"],
            "size_bytes": r["image"]["size_bytes"],
            "size_limit_bytes": r["image"]["size_limit_bytes"],
            "first_response_ms": r["image"]["first_response_ms"],
        })
    results["step_3"] = {
        "cold_build_seconds": step3["image"]["build_seconds"],
        "source_only_rebuild_seconds": step3["image"]["rebuild_seconds"],
        "ratio": step3["image"]["rebuild_seconds"] / step3["image"]["build_seconds"],
    }
    results["step_8"] = {
        "cold_build_seconds": cold8["image"]["build_seconds"],
        "warm_build_seconds": warm8["image"]["build_seconds"],
        "source_only_rebuild_seconds": warm8["image"]["rebuild_seconds"],
    }
    # Cold (every layer rebuilt) before warm, with the layers the runs above left.
    results["grade"] = {"jobs": 2, "cold": grade(no_cache=True), "warm": grade(no_cache=False)}
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")

    print("| step | solution image | limit | first 200 after |")
    print("|---|---:|---:|---:|")
    for s in results["steps"]:
        print(f"| {s['step']} {s['title']} | {s['size_bytes'] / 1e6:.1f} MB | {s['size_limit_bytes'] / 1e6:.0f} MB"
              f" | {s['first_response_ms']} ms |")
    s3, s8 = results["step_3"], results["step_8"]
    print(f"\nstep 3: cold build {s3['cold_build_seconds']:.1f} s, source-only rebuild "
          f"{s3['source_only_rebuild_seconds']:.1f} s (ratio {s3['ratio']:.2f})")
    print(f"step 8: cold build {s8['cold_build_seconds']:.1f} s, warm build {s8['warm_build_seconds']:.1f} s, "
          f"source-only rebuild {s8['source_only_rebuild_seconds']:.1f} s")
    g = results["grade"]
    print(f"checker grade --ci --jobs 2 on every solution: cold {g['cold']['seconds']:.0f} s, "
          f"warm {g['warm']['seconds']:.0f} s ({g['warm']['points']}/{g['warm']['max_points']} points)")
    print(f"\nwritten to {out.relative_to(ROOT)} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

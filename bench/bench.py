#!/usr/bin/env python3
"""Measures the workshop's numbers with the checker itself and writes bench/results.json:
every step's solution image size and time to first response, the last step's cold
(--no-cache) and warm build times, the source-only rebuild of the first step with a
`rebuild` check against its cold build, and how long `checker grade --ci --jobs 2` takes
on every reference solution, cold and warm.

For the first step whose `rebuild` check lays new Cargo files over the context (step 9,
cache mounts) it also times plain `docker build`s of that step's solution and of the
step before it: cold (--no-cache), after a source-only change, and after the check's
Cargo files add a dependency, each with the crates cargo compiled; then one more
--no-cache build, which shows whether --no-cache also empties the cache mounts.

Usage: python3 bench/bench.py   (needs the engine and the base images; takes minutes)
The docker client is taken from CHECKER_DOCKER, as the checker does. Its images are
removed; the layer cache and cache mounts its builds fill stay, as any build's do.
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
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKER = ROOT / "target" / "release" / "checker"
DOCKER = os.environ.get("CHECKER_DOCKER") or "docker"
MANIFEST = tomllib.loads((ROOT / "workshop.toml").read_text())
# The machine's 1-minute load average before each measurement: other work on a shared
# machine slows every build measured here, and the results say how much there was.
LOADS = []


def sample_load():
    LOADS.append(round(os.getloadavg()[0], 1))


def check(*args):
    """Runs the checker with --format json; returns its report, failing loudly on exit 2."""
    sample_load()
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
    docker = DOCKER
    server = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"],
                            capture_output=True, text=True).stdout.strip()
    rust = subprocess.run([docker, "image", "inspect", "--format", "{{.Size}}", "rust:1.95-slim-bookworm"],
                          capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "arch": platform.machine(), "docker_server": server,
            "rust_base_image_bytes": int(rust) if rust.isdigit() else None}


def student_repo(repo, solved=None):
    """Fills the folder `repo` with a student repository: the workshop's manifest and
    steps, each step of `solved` (step ids; every step when None) with its reference
    solution laid over it."""
    shutil.copy(ROOT / "workshop.toml", repo)
    shutil.copytree(ROOT / "steps", repo / "steps")
    for step in sorted((repo / "steps").iterdir()):
        if solved is None or step.name in solved:
            shutil.copytree(step / "solution", step, dirs_exist_ok=True)


def grade(no_cache):
    """Grades a repository holding every reference solution, as an instructor's CI would:
    `checker grade --ci --jobs 2`. Returns the run's seconds and points."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = pathlib.Path(tmp)
        student_repo(repo)
        args = [str(CHECKER), "grade", "--ci", "--jobs", "2", "--format", "json"] + (["--no-cache"] if no_cache else [])
        started = time.time()
        out = subprocess.run(args, cwd=repo, capture_output=True, text=True)
        seconds = time.time() - started
        result = json.loads(out.stdout)
        if out.returncode != 0:
            sys.exit(f"grading the reference solutions failed ({out.returncode}): {out.stderr[-2000:]}")
        return {"seconds": seconds, "points": result["points"], "max_points": result["max_points"]}


def solution_context(step, into):
    """The step's folder with its reference solution laid over it, in `into`."""
    shutil.copytree(ROOT / step["dir"], into, ignore=shutil.ignore_patterns("target", "solution"))
    shutil.copytree(ROOT / step["solution"], into, dirs_exist_ok=True)


def docker_build(context, tag, no_cache=False):
    """One `docker build` with BuildKit: its seconds and the crates cargo compiled."""
    sample_load()
    args = [DOCKER, "build", "--progress=plain", "-t", tag] + (["--no-cache"] if no_cache else []) + [str(context)]
    started = time.time()
    out = subprocess.run(args, env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, text=True)
    seconds = time.time() - started
    if out.returncode != 0:
        sys.exit(f"docker build of {context} failed:\n{out.stderr[-3000:]}")
    compiled = [line.split("Compiling ", 1)[1].split(" (")[0].strip()
                for line in out.stderr.splitlines() if " Compiling " in line]
    return {"seconds": seconds, "compiled": compiled}


def source_change():
    """The file the first `rebuild` check with a `change` appends to: src/main.rs."""
    return next(c["change"] for c in MANIFEST["checks"].values() if c["kind"] == "rebuild" and "change" in c)


def new_dependency():
    """Plain docker builds of the first step whose rebuild check lays Cargo files over the
    context, and of the step before it: cold, after a source-only change, after the check's
    files add a dependency; then the step's own again with --no-cache."""
    steps = MANIFEST["steps"]
    for i, step in enumerate(steps):
        for check_id in step["checks"]:
            check = MANIFEST["checks"][check_id]
            if check["kind"] == "rebuild" and "overlay" in check and i > 0:
                break
        else:
            continue
        break
    else:
        return None
    result = {"step": step["id"], "previous": steps[i - 1]["id"], "check": check_id,
              "adds": check.get("may_compile", []), "builds": {}}
    stamp = f"{os.getpid()}-{int(time.time())}"
    with tempfile.TemporaryDirectory() as tmp:
        for measured in (steps[i - 1], step):
            context = pathlib.Path(tmp) / measured["id"]
            solution_context(measured, context)
            tag = f"bench-{measured['id']}:{stamp}"
            cold = docker_build(context, tag, no_cache=True)
            with open(context / source_change(), "a") as changed:
                changed.write(f"\n// bench: source-only change {stamp}\n")
            source = docker_build(context, tag)
            shutil.copytree(ROOT / check["overlay"], context, dirs_exist_ok=True)
            # As the checker does: a comment naming this run, so that no layer an earlier
            # build made from the same files serves this one.
            with open(context / check["change"], "a") as changed:
                changed.write(f"\n# bench: new dependency {stamp}\n")
            added = docker_build(context, tag)
            result["builds"][measured["id"]] = {"cold": cold, "source_only": source, "new_dependency": added}
            if measured is step:
                result["no_cache_again"] = docker_build(context, tag, no_cache=True)
            subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True)
    return result


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "checker"], cwd=ROOT, check=True)
    started = time.time()
    results = {"steps": [], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": machine()}
    steps = [s["id"] for s in MANIFEST["steps"]]
    rebuild = next(s["id"] for s in MANIFEST["steps"]
                   if any(MANIFEST["checks"][c]["kind"] == "rebuild" for c in s["checks"]))
    last = steps[-1]
    # Cold builds first, while their layers are not cached yet by the runs below.
    first = check(rebuild, "--solution", "--no-cache")
    cold = check(last, "--solution", "--no-cache")
    warm = check(last, "--solution")
    results["new_dependency"] = new_dependency()
    for step in steps:
        r = check(step, "--solution")
        results["steps"].append({
            "step": step,
            "title": r["title"],
            "size_bytes": r["image"]["size_bytes"],
            "size_limit_bytes": r["image"]["size_limit_bytes"],
            "first_response_ms": r["image"]["first_response_ms"],
            # The final image's layers (instruction, line, bytes), oldest first: the book
            # draws them for each multi-stage step.
            "layers": r["image"]["layers"],
        })
    # Under each step's id: the first rebuild step's times, and the last step's.
    results[rebuild.replace("-", "_")] = {
        "cold_build_seconds": first["image"]["build_seconds"],
        "source_only_rebuild_seconds": first["image"]["rebuild_seconds"],
        "ratio": first["image"]["rebuild_seconds"] / first["image"]["build_seconds"],
    }
    results[last.replace("-", "_")] = {
        "cold_build_seconds": cold["image"]["build_seconds"],
        "warm_build_seconds": warm["image"]["build_seconds"],
        "source_only_rebuild_seconds": warm["image"]["rebuild_seconds"],
    }
    # Cold (every layer rebuilt) before warm, with the layers the runs above left.
    results["grade"] = {"jobs": 2, "cold": grade(no_cache=True), "warm": grade(no_cache=False)}
    sample_load()
    results["machine"]["load_average"] = {"min": min(LOADS), "max": max(LOADS)}
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")

    print("| step | solution image | limit | first 200 after |")
    print("|---|---:|---:|---:|")
    for s in results["steps"]:
        print(f"| {s['step']} {s['title']} | {s['size_bytes'] / 1e6:.1f} MB | {s['size_limit_bytes'] / 1e6:.0f} MB"
              f" | {s['first_response_ms']} ms |")
    s3, s8 = results[rebuild.replace("-", "_")], results[last.replace("-", "_")]
    print(f"\n{rebuild}: cold build {s3['cold_build_seconds']:.1f} s, source-only rebuild "
          f"{s3['source_only_rebuild_seconds']:.1f} s (ratio {s3['ratio']:.2f})")
    print(f"{last}: cold build {s8['cold_build_seconds']:.1f} s, warm build {s8['warm_build_seconds']:.1f} s, "
          f"source-only rebuild {s8['source_only_rebuild_seconds']:.1f} s")
    new = results["new_dependency"]
    if new:
        for step, b in new["builds"].items():
            print(f"{step} with docker build: " + ", ".join(
                f"{what} {b[what]['seconds']:.1f} s ({len(b[what]['compiled'])} crates)"
                for what in ("cold", "source_only", "new_dependency")))
        again = new["no_cache_again"]
        print(f"{new['step']} --no-cache again: {again['seconds']:.1f} s ({len(again['compiled'])} crates)")
    g = results["grade"]
    print(f"checker grade --ci --jobs 2 on every solution: cold {g['cold']['seconds']:.0f} s, "
          f"warm {g['warm']['seconds']:.0f} s ({g['warm']['points']}/{g['warm']['max_points']} points)")
    print(f"\nwritten to {out.relative_to(ROOT)} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measures the release-profile knobs of bench/knobs.toml on real builds of the workshop
server and writes bench/knobs.json, which `cargo run -p book-tools -- generate` turns into
the table of step 4's chapter (book/src/generated/step-4/knobs.md).

Every row is built on the host with cargo, in a fresh copy of the step's build context
(Cargo.toml, Cargo.lock and src/, each from the step's solution when it has one), linked
statically as the step's Dockerfile does it (RUSTFLAGS and `--target
<arch>-unknown-linux-gnu`), with one knob changed: a CARGO_PROFILE_RELEASE_* variable,
other RUSTFLAGS, or a patched file. For each row it records the size of the binary, a
cold build (a fresh target dir, every dependency compiled; the registry is downloaded
once before, with `cargo fetch`, and every build runs `--offline`, so the network is not
measured) and a source-only rebuild (a comment appended to src/main.rs), in wall-clock
and CPU seconds, and how long the cold build's last step (the server's own crate and the
link) took, from cargo's --timings report. The first row's link map gives the bytes that
static glibc puts in the binary.

Usage, from anywhere (no Docker needed; 15 minutes on 2 shared cores):

    python3 bench/knobs.py

then `cargo run -p book-tools -- generate`. It needs the Rust toolchain of the steps'
image (rustc 1.95) and glibc's static libraries (libc6-dev), as the image has them. The
times are the machine's: they depend on its cores and on what else runs, so run it on a
quiet machine; the load averages at the start and the end are recorded.
"""
import json
import os
import pathlib
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
KNOBS = ROOT / "bench" / "knobs.toml"
OUT = ROOT / "bench" / "knobs.json"


def context_files(step):
    """The files of the step's build context that a build reads, as the solution makes
    them: {path in the context: path in the repository}. The Dockerfile copies only
    Cargo.toml, Cargo.lock and src/; checker::dev::knobs_stamp lists the same files."""
    manifest = tomllib.loads((ROOT / "workshop.toml").read_text())
    found = [s for s in manifest["steps"] if s["id"] == step]
    if not found:
        sys.exit(f"bench/knobs.toml: workshop.toml has no step {step!r}")
    folders = [ROOT / found[0]["dir"], ROOT / found[0]["solution"]]
    names = {"Cargo.toml", "Cargo.lock"}
    for folder in folders:
        names |= {p.relative_to(folder).as_posix() for p in (folder / "src").rglob("*") if p.is_file()}
    files = {}
    for name in sorted(names):
        candidates = [f / name for f in reversed(folders) if (f / name).is_file()]
        if not candidates:
            sys.exit(f"{step} has no {name}")
        files[name] = candidates[0]
    return files


def stamp(paths):
    """FNV-1a 64 over each file's `/`-separated path from the root, a NUL, its length
    (8 bytes, little-endian) and its bytes, in sorted path order: checker::dev's stamp."""
    h = 0xCBF29CE484222325
    for name, path in sorted((p.relative_to(ROOT).as_posix(), p) for p in paths):
        data = path.read_bytes()
        for b in name.encode() + b"\0" + len(data).to_bytes(8, "little") + data:
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"fnv1a64:{h:016x}"


def loadavg():
    return [float(x) for x in pathlib.Path("/proc/loadavg").read_text().split()[:3]]


def output(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def machine():
    """What the numbers were measured on: they mean little without it."""
    glibc = output("getconf", "GNU_LIBC_VERSION")
    return {"cpus": os.cpu_count(), "arch": platform.machine(), "rustc": output("rustc", "-V"),
            "cargo": output("cargo", "-V"), "glibc": glibc.removeprefix("glibc ")}


def has_interpreter(binary):
    """Whether the ELF file asks for a dynamic loader (a PT_INTERP program header)."""
    data = binary.read_bytes()
    if data[:4] != b"\x7fELF":
        sys.exit(f"{binary} is not an ELF file")
    wide, order = data[4] == 2, "little" if data[5] == 1 else "big"
    num = lambda at, size: int.from_bytes(data[at:at + size], order)  # noqa: E731
    phoff, phentsize, phnum = (num(32, 8), num(54, 2), num(56, 2)) if wide else (num(28, 4), num(42, 2), num(44, 2))
    return any(num(phoff + i * phentsize, 4) == 3 for i in range(phnum))


GLIBC = re.compile(r"^(lib(c|m|m-[0-9.]+|mvec|pthread|rt|dl|util|resolv|crypt)\.a|[Sr]?crt1\.o|crt[in]\.o)$")


def glibc_bytes(link_map):
    """The bytes of the binary's loaded sections that come from glibc's archives and start
    files, by file, from a link map of lld or GNU ld. Sections that take no room in the
    file (.bss, .tbss), those not loaded (address 0: .comment, symbols) and what the linker
    makes itself (relocations, dynamic tables, merged strings) do not count: it is a floor."""
    text = link_map.read_text(errors="replace")
    by_file = {}
    made_by_linker = (".rela", ".dyn", ".gnu.hash", ".hash", ".gnu.version", ".got", ".plt", ".iplt",
                      ".interp", ".note.gnu.build-id", ".eh_frame_hdr")

    def add(out, address, section, size, source):
        if out.startswith((".bss", ".tbss", "/DISCARD/")) or address == 0 or section.startswith(made_by_linker):
            return
        name = os.path.basename(source.split("(")[0])
        if GLIBC.match(name):
            by_file[name] = by_file.get(name, 0) + size

    lines = text.splitlines()
    if lines and lines[0].split()[:3] == ["VMA", "LMA", "Size"]:  # lld
        out = None
        for line in lines[1:]:
            m = re.match(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (.*)$", line)
            if not m:
                continue
            rest = m.group(3)
            if not rest.startswith(" "):
                out = (rest.strip(), int(m.group(1), 16))
            elif not rest.startswith("         "):  # an input section, not a symbol
                source, _, section = rest.strip().rpartition(":(")
                add(*out, section.rstrip(")"), int(m.group(2), 16), source)
    elif "Linker script and memory map" in text:  # GNU ld
        out, pending = (None, 0), None
        for line in text.split("Linker script and memory map", 1)[1].splitlines():
            m = re.match(r"^(\S+)(?:\s+0x([0-9a-f]+))?", line)
            if m and not line.startswith(("LOAD", "OUTPUT", "START", "END", "GROUP")):
                out = (m.group(1), int(m.group(2) or "0", 16))
                continue
            m = re.match(r"^ (\S+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m:
                add(*out, m.group(1), int(m.group(2), 16), m.group(3))
                continue
            m = re.match(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m and pending:
                add(*out, pending.group(1), int(m.group(1), 16), m.group(2))
            pending = re.match(r"^ (\S+)$", line)
    else:
        sys.exit(f"{link_map}: not a link map of lld or GNU ld")
    if not by_file:
        sys.exit(f"{link_map}: no section from glibc's archives was found")
    return dict(sorted(by_file.items()))


class Build:
    """One row: a fresh copy of the build context and its own target dir."""

    def __init__(self, tmp, files, knob, target, rustflags, index):
        self.dir = pathlib.Path(tmp) / f"row-{index}"
        for name, source in files.items():
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, self.dir / name)
        for patch in knob.get("patch", []):
            path = self.dir / patch["file"]
            text = path.read_text()
            if text.count(patch["replace"]) != 1:
                sys.exit(f"bench/knobs.toml: {patch['replace']!r} is not once in {patch['file']}")
            path.write_text(text.replace(patch["replace"], patch["with"]))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CARGO_PROFILE_", "CARGO_BUILD_", "CARGO_TARGET_", "RUSTFLAGS",
                                         "CARGO_ENCODED_RUSTFLAGS", "CARGO_INCREMENTAL"))}
        self.env["RUSTFLAGS"] = knob.get("rustflags", rustflags)
        for key, value in knob.get("profile", {}).items():
            name = "CARGO_PROFILE_RELEASE_" + key.upper().replace("-", "_")
            self.env[name] = str(value).lower() if isinstance(value, bool) else str(value)
        self.target = target
        self.binary = self.dir / "target" / target / "release" / "server"

    def cargo(self, command, *flags, rustc_args=()):
        command = ["cargo", command, *flags, "--release", "--locked", "--offline", "--target", self.target]
        command += ["--", *rustc_args] if rustc_args else []
        wall, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        run = subprocess.run(command, cwd=self.dir, env=self.env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.returncode != 0:
            sys.exit(f"{' '.join(command)} failed in {self.dir}:\n{run.stderr[-3000:]}")
        cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
        return {"seconds": round(time.monotonic() - wall, 2), "cpu_seconds": round(cpu_seconds, 2)}

    def last_step(self):
        """How long the cold build's last step took, compiling the server's own crate and
        linking the binary, from cargo's --timings report; None if it cannot be read."""
        report = self.dir / "target" / "cargo-timings" / "cargo-timing.html"
        found = re.search(r"const UNIT_DATA = (\[.*?\]);\n", report.read_text(), re.S) if report.is_file() else None
        units = [u for u in json.loads(found.group(1)) if u.get("name") == "server"] if found else []
        if len(units) != 1:
            print(f"(no time for the last step in {report})", end="")
            return None
        return units[0]["duration"]

    def touch(self, n):
        with open(self.dir / "src" / "main.rs", "a") as f:
            f.write(f"// rebuild {n}\n")


def main():
    # A stop (kill, Ctrl-C) still removes the temporary copy, a few hundred MB.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    knobs = tomllib.loads(KNOBS.read_text())
    files = context_files(knobs["step"])
    arch = platform.machine()
    target = f"{arch}-unknown-linux-gnu"
    started = time.time()
    results = {
        "command": "python3 bench/knobs.py",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "loadavg": {"start": loadavg()},
        "inputs": stamp([KNOBS, *files.values()]),
        "step": knobs["step"],
        "target": target,
        "rustflags": knobs["rustflags"],
        "profile": tomllib.loads(files["Cargo.toml"].read_text()).get("profile", {}).get("release", {}),
        "rebuilds": knobs["rebuilds"],
        "rows": [],
    }
    with tempfile.TemporaryDirectory(prefix="knobs-") as tmp:
        # The registry, downloaded once and shared by every build (not measured).
        fetch = Build(tmp, files, {}, target, knobs["rustflags"], "fetch")
        subprocess.run(["cargo", "fetch", "--locked", "-q"], cwd=fetch.dir, env=fetch.env, check=True)
        for i, knob in enumerate(knobs["knobs"]):
            build = Build(tmp, files, knob, target, knobs["rustflags"], i)
            static = "+crt-static" in build.env["RUSTFLAGS"]
            print(f"{knob['label']}: cold build", end="", flush=True)
            cold = build.cargo("build", "--timings")
            cold["last_step_seconds"] = build.last_step()
            size = build.binary.stat().st_size
            if has_interpreter(build.binary) == static:
                sys.exit(f"{knob['label']}: the binary is {'not ' if static else ''}static")
            rebuilds = []
            for n in range(knobs["rebuilds"]):
                build.touch(n)
                rebuilds.append(build.cargo("build"))
            row = {"label": knob["label"], "profile": knob.get("profile", {}),
                   "rustflags": build.env["RUSTFLAGS"], "patched": [p["file"] for p in knob.get("patch", [])],
                   "static": static, "size_bytes": size, "cold_build": cold,
                   "rebuild_seconds": statistics.median(r["seconds"] for r in rebuilds),
                   "rebuilds": rebuilds}
            results["rows"].append(row)
            print(f" {cold['seconds']:.1f} s, rebuild {row['rebuild_seconds']:.1f} s, {size} bytes", flush=True)
            if i == 0:
                # The same build again, linked with a map (untimed): what comes from glibc.
                link_map = build.dir / "server.map"
                build.cargo("rustc", rustc_args=["-C", f"link-arg=-Wl,-Map={link_map}"])
                by_file = glibc_bytes(link_map)
                results["glibc_in_binary"] = {"bytes": sum(by_file.values()), "by_file": by_file}
            shutil.rmtree(build.dir)  # its target folder: hundreds of MB
    results["loadavg"]["end"] = loadavg()
    results["seconds"] = round(time.time() - started)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)} in {results['seconds']} s; load average "
          f"{results['loadavg']['start'][0]} at the start, {results['loadavg']['end'][0]} at the end")


if __name__ == "__main__":
    main()

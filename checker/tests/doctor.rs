//! `checker doctor`: every line on a healthy engine, the engine down, no client, a missing
//! base image, a remote DOCKER_HOST reported before the engine is tried, and a port round
//! trip that leaves nothing behind, also when interrupted.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The lines a healthy machine reports, besides one per base image.
const LINES: [&str; 10] = [
    "workshop",
    "engine-host",
    "client",
    "engine",
    "buildkit",
    "image-store",
    "rootless",
    "architecture",
    "disk",
    "port-publish",
];

/// The lines that need the engine.
const ENGINE_LINES: [&str; 6] = ["engine", "image-store", "rootless", "architecture", "disk", "port-publish"];

/// The base images the workshop's steps build FROM.
const BASE_IMAGES: [&str; 2] = ["rust:1.95-slim-bookworm", "debian:bookworm-slim"];

/// A docker client that logs every invocation to `$DOCTOR_LOG` (arguments separated by
/// \x1f, invocations by \x1e), then does what `$DOCTOR_MODE` says: `pass` hands it to the
/// real client `$DOCTOR_REAL`; `hang-on-port` also does, except that `docker port` hangs
/// (in a child that keeps the pipes open, so that the doctor's own code cannot go on to
/// remove the container: only the signal handler can);
/// `unreachable` fails fast like a client whose engine does not answer; `gated` does the
/// same, but `docker version` first waits (up to 5 s) for the file `$DOCTOR_GATE`.
const STUB: &str = r#"#!/bin/sh
printf '%s\037' "$@" >> "$DOCTOR_LOG"
printf '\036' >> "$DOCTOR_LOG"
case "$DOCTOR_MODE" in
  pass) exec "$DOCTOR_REAL" "$@" ;;
  hang-on-port) [ "$1" = port ] && { sleep 15; exit 1; }; exec "$DOCTOR_REAL" "$@" ;;
esac
if [ "$DOCTOR_MODE" = gated ] && [ "$1" = version ]; then
  i=0
  while [ ! -e "$DOCTOR_GATE" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if [ -e "$DOCTOR_GATE" ]; then echo released > "$DOCTOR_GATE.seen"; else echo timed-out > "$DOCTOR_GATE.seen"; fi
fi
case "$1" in
  version)
    echo '{"Client":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","Os":"linux","Arch":"amd64"},"Server":null}'
    echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2
    exit 1 ;;
  --version) echo "Docker version 20.10.24+dfsg1, build 297e128"; exit 0 ;;
  *) echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2; exit 1 ;;
esac
"#;

/// A stub client in a folder of its own, with its log.
struct Stub {
    dir: tempfile::TempDir,
}

impl Stub {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker");
        std::fs::write(&path, STUB).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("log"), "").unwrap();
        Self { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("docker")
    }

    fn gate(&self) -> PathBuf {
        self.dir.path().join("gate")
    }

    /// `checker --workshop DIR doctor ARGS` with this stub as its client, in `mode`.
    fn doctor(&self, workshop: &Path, mode: &str, args: &[&str]) -> Command {
        let mut cmd = common::checker_in(workshop);
        cmd.arg("doctor")
            .args(args)
            .env("CHECKER_DOCKER", self.path())
            .env("DOCTOR_LOG", self.dir.path().join("log"))
            .env("DOCTOR_MODE", mode)
            .env("DOCTOR_REAL", common::docker_bin())
            .env("DOCTOR_GATE", self.gate())
            .env("NO_COLOR", "1");
        cmd
    }

    /// Every docker command the doctor ran, as its arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap();
        log.split('\u{1e}')
            .filter(|c| !c.is_empty())
            .map(|c| c.split('\u{1f}').filter(|a| !a.is_empty()).map(str::to_string).collect())
            .collect()
    }
}

/// The doctor's JSON report and exit code, after checking that it did not panic.
fn json_report(out: &Output) -> (i32, Value) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "the doctor panicked: {stderr}");
    let code = out.status.code().expect("an exit code");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON ({e}); exit {code}\nstdout: {}\nstderr: {stderr}", String::from_utf8_lossy(&out.stdout))
    });
    (code, report)
}

fn line<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no line `{name}` in the report:\n{report:#}"))
}

fn status<'a>(report: &'a Value, name: &str) -> &'a str {
    line(report, name)["status"].as_str().expect("a status")
}

fn fix(report: &Value, name: &str) -> String {
    line(report, name)["fix"].as_str().unwrap_or_else(|| panic!("`{name}` has no fix:\n{report:#}")).to_string()
}

/// The run id the doctor's round-trip container was labelled with.
fn round_trip_run(calls: &[Vec<String>]) -> String {
    let run = calls.iter().find(|c| c.first().is_some_and(|a| a == "run")).expect("the doctor ran a container");
    run.iter()
        .find_map(|a| a.strip_prefix("dev.workshop.checker.run="))
        .unwrap_or_else(|| panic!("the container has no run label: {run:?}"))
        .to_string()
}

/// The doctor never pulls, and runs its container with the checker's labels, `--pull
/// never`, and its port on 127.0.0.1 only.
fn assert_round_trip_as_the_checker_runs(calls: &[Vec<String>]) {
    assert!(!calls.iter().any(|c| c.iter().any(|a| a == "pull")), "the doctor pulled: {calls:?}");
    let run = calls.iter().find(|c| c.first().is_some_and(|a| a == "run")).expect("a `docker run`");
    let has = |pair: [&str; 2]| run.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]);
    assert!(has(["--pull", "never"]) && has(["--label", "dev.workshop.checker"]), "{run:?}");
    assert!(run.windows(2).any(|w| w[0] == "-p" && w[1].starts_with("127.0.0.1::")), "{run:?}");
}

#[test]
fn a_healthy_engine_passes_every_line_and_the_round_trip_leaves_nothing() {
    common::require_docker();
    let stub = Stub::new();
    let out = stub.doctor(common::workshop(), "pass", &["--format", "json"]).output().unwrap();
    let (code, report) = json_report(&out);
    let names: Vec<String> =
        LINES.iter().map(|n| n.to_string()).chain(BASE_IMAGES.iter().map(|i| format!("base-image:{i}"))).collect();
    for name in &names {
        assert_eq!(status(&report, name), "ok", "`{name}` on a healthy engine:\n{report:#}");
        assert!(line(&report, name)["fix"].is_null(), "an ok line has no fix: {name}");
        assert!(!line(&report, name)["detail"].as_str().unwrap().is_empty(), "{name} says what it found");
    }
    assert_eq!(report["checks"].as_array().unwrap().len(), names.len(), "no other lines:\n{report:#}");
    assert_eq!((code, &report["ok"]), (0, &Value::Bool(true)), "{report:#}");
    assert!(line(&report, "port-publish")["detail"].as_str().unwrap().contains("127.0.0.1:"), "{report:#}");
    let calls = stub.calls();
    assert_round_trip_as_the_checker_runs(&calls);
    common::assert_nothing_left(&round_trip_run(&calls));

    // The same in the terminal's format, each line named and ok.
    let human = stub.doctor(common::workshop(), "pass", &[]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(0), "{text}");
    for name in LINES.iter().chain(["base-image"].iter()) {
        assert!(text.lines().any(|l| l.starts_with(&format!("  ok    {name} "))), "no ok line `{name}`:\n{text}");
    }
    assert!(text.contains("ready: the workshop can run here"), "{text}");
    common::assert_nothing_left(&round_trip_run(&stub.calls()[calls.len()..]));
}

#[test]
fn with_the_engine_down_every_engine_line_fails_with_its_fix_and_the_rest_is_reported() {
    let sock = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/no.sock", sock.path().display());
    let out = common::checker()
        .env("CHECKER_DOCKER", common::docker_bin())
        .env("DOCKER_HOST", &host)
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let (code, report) = json_report(&out);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(status(&report, "workshop"), "ok", "the workshop is still found:\n{report:#}");
    assert_eq!(status(&report, "client"), "ok", "the client still answers for itself:\n{report:#}");
    assert_eq!(status(&report, "engine-host"), "ok", "a local socket:\n{report:#}");
    assert!(line(&report, "engine")["detail"].as_str().unwrap().contains("does not answer"), "{report:#}");
    let images = BASE_IMAGES.map(|i| format!("base-image:{i}"));
    for name in ENGINE_LINES.iter().copied().chain(images.iter().map(String::as_str)) {
        assert_eq!(status(&report, name), "fail", "`{name}` with the engine down:\n{report:#}");
        assert!(fix(&report, name).contains("Start the engine"), "`{name}`'s fix:\n{report:#}");
    }

    // In the terminal: the same, with the fix under the engine's line.
    let out = common::checker()
        .env("CHECKER_DOCKER", common::docker_bin())
        .env("DOCKER_HOST", &host)
        .env("NO_COLOR", "1")
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("  fail  engine ") && text.contains("fix: Start the engine"), "{text}");
    assert!(text.contains("not ready"), "{text}");
}

#[test]
fn without_a_docker_client_doctor_says_to_install_one_and_never_exits_2() {
    let out = common::checker()
        .env("CHECKER_DOCKER", "/nonexistent/docker")
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let (code, report) = json_report(&out);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "workshop"), "ok");
    assert!(line(&report, "client")["detail"].as_str().unwrap().contains("no such program"), "{report:#}");
    for name in ["client", "buildkit"].iter().chain(ENGINE_LINES.iter()) {
        assert_eq!(status(&report, name), "fail", "`{name}` without a client:\n{report:#}");
        let fix = fix(&report, name);
        assert!(fix.contains("Install Docker") && fix.contains("CHECKER_DOCKER"), "`{name}`: {fix}");
    }
}

#[test]
fn outside_a_workshop_the_workshop_line_fails_with_its_fix_and_the_rest_is_reported() {
    common::require_docker();
    let nowhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_checker"))
        .current_dir(nowhere.path())
        .env_remove("CHECKER_WORKSHOP")
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let (code, report) = json_report(&out);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "workshop"), "fail");
    assert!(line(&report, "workshop")["detail"].as_str().unwrap().contains("not inside a workshop"));
    assert!(fix(&report, "workshop").contains("--workshop"), "{report:#}");
    for name in ["client", "engine", "port-publish"] {
        assert_eq!(status(&report, name), "ok", "`{name}` outside a workshop:\n{report:#}");
    }
    assert_eq!(status(&report, "base-images"), "warn", "{report:#}");
}

#[test]
fn a_missing_base_image_fails_and_names_the_script_that_makes_it() {
    common::require_docker();
    let missing = "debian:no-such-tag";
    let inspect = Command::new(common::docker_bin()).args(["image", "inspect", missing]).output().unwrap();
    assert!(!inspect.status.success(), "{missing} must not be on the engine for this test");
    let workshop = tempfile::tempdir().unwrap();
    std::fs::copy(common::root().join("workshop.toml"), workshop.path().join("workshop.toml")).unwrap();
    common::copy_tree_without(&common::root().join("steps"), &workshop.path().join("steps"), &["target"]);
    let dockerfile = workshop.path().join("steps/step-5/solution/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(text.contains("FROM debian:bookworm-slim"), "{text}");
    std::fs::write(&dockerfile, text.replace("FROM debian:bookworm-slim", &format!("FROM {missing}"))).unwrap();

    let stub = Stub::new();
    let out = stub.doctor(workshop.path(), "pass", &["--format", "json"]).output().unwrap();
    let (code, report) = json_report(&out);
    assert_eq!(code, 1, "{report:#}");
    let name = format!("base-image:{missing}");
    assert_eq!(status(&report, &name), "fail", "{report:#}");
    assert!(fix(&report, &name).contains("scripts/base-images.sh"), "{report:#}");
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, [name.as_str()], "only the missing image fails:\n{report:#}");
    // The round trip still runs, on debian:bookworm-slim, which is there.
    assert_eq!(status(&report, "port-publish"), "ok", "{report:#}");
    let calls = stub.calls();
    assert_round_trip_as_the_checker_runs(&calls);
    common::assert_nothing_left(&round_trip_run(&calls));
}

#[test]
fn a_remote_docker_host_is_reported_before_the_engine_is_tried() {
    let stub = Stub::new();
    let started = Instant::now();
    let mut child = stub
        .doctor(common::workshop(), "gated", &[])
        .env("DOCKER_HOST", "tcp://203.0.113.1:2375")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The stub's `docker version` waits until the engine-host line has been printed.
    let mut text = String::new();
    for l in BufReader::new(child.stdout.take().unwrap()).lines() {
        let l = l.unwrap();
        if l.contains("engine-host") {
            std::fs::write(stub.gate(), "").unwrap();
        }
        text.push_str(&l);
        text.push('\n');
    }
    let status_code = child.wait().unwrap().code();
    let seen = std::fs::read_to_string(stub.dir.path().join("gate.seen")).unwrap_or_default();
    assert_eq!(seen.trim(), "released", "`docker version` ran before the remote host was reported:\n{text}");
    assert_eq!(status_code, Some(1), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20), "the doctor waited on the network: {:?}", started.elapsed());
    let host = text.lines().position(|l| l.contains(" engine-host ")).expect(&text);
    let engine = text.lines().position(|l| l.starts_with("  fail  engine ")).expect(&text);
    assert!(host < engine, "{text}");
    assert!(text.contains("203.0.113.1"), "{text}");

    // The JSON report: the warning with its fix, the engine lines failed.
    let out = stub
        .doctor(common::workshop(), "unreachable", &["--format", "json"])
        .env("DOCKER_HOST", "tcp://203.0.113.1:2375")
        .output()
        .unwrap();
    let (code, report) = json_report(&out);
    assert_eq!(code, 1, "{report:#}");
    // A remote engine is supported: its servers are requested from inside its network.
    assert_eq!(status(&report, "engine-host"), "ok", "{report:#}");
    let detail = line(&report, "engine-host")["detail"].as_str().unwrap();
    assert!(detail.contains("203.0.113.1") && detail.contains("helper container"), "{report:#}");
    for name in ENGINE_LINES {
        assert_eq!(status(&report, name), "fail", "`{name}`:\n{report:#}");
        assert!(fix(&report, name).contains("203.0.113.1"), "`{name}`'s fix names the host:\n{report:#}");
    }
    let calls = stub.calls();
    assert!(!calls.iter().any(|c| c[0] == "run"), "nothing is run on an engine that does not answer: {calls:?}");
}

#[test]
fn an_interrupted_round_trip_removes_its_container() {
    common::require_docker();
    let stub = Stub::new();
    let mut child = stub
        .doctor(common::workshop(), "hang-on-port", &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `docker port` hangs: the container runs once the stub logs that call.
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let calls = stub.calls();
        if calls.iter().any(|c| c[0] == "port") {
            break round_trip_run(&calls);
        }
        assert!(Instant::now() < deadline, "the doctor never reached `docker port`: {calls:?}");
        assert!(child.try_wait().unwrap().is_none(), "the doctor ended early: {calls:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let label = format!("label=dev.workshop.checker.run={run}");
    let listed = Command::new(common::docker_bin()).args(["ps", "-aq", "--filter", &label]).output().unwrap();
    assert!(!String::from_utf8_lossy(&listed.stdout).trim().is_empty(), "the round trip's container runs");
    common::interrupt(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "Ctrl-C exits 130: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    common::assert_nothing_left(&run);
}

//! End to end, on a real engine: the mistakes learners make each give exit 1, the right
//! failed check and a hint that names the cause — and leave nothing behind, also when
//! the run is interrupted.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_nothing_left, check, require_docker, root, run_json};
use serde_json::Value;

/// A temporary build context: `steps/<step>` with its solution laid over it, then the
/// named fixture folder (if any).
fn context(step: &str, fixture: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut layers = vec![root().join("steps").join(step), root().join("steps").join(step).join("solution")];
    if let Some(f) = fixture {
        layers.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(f));
    }
    for layer in layers {
        common::copy_tree(&layer, dir.path());
    }
    dir
}

/// Replaces `from` by `to` in the copied server source; the original must contain it.
fn patch_source(dir: &Path, from: &str, to: &str) {
    let path = dir.join("src/main.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the server source no longer contains `{from}`: update this test");
    fs::write(path, text.replace(from, to)).unwrap();
}

fn check_context(step: &str, dir: &Path) -> Value {
    let (code, report) = run_json(&[step, "--context", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "a broken input is a failed check (exit 1), not an error:\n{report:#}");
    assert_eq!(report["passed"], false);
    assert_nothing_left(report["run_id"].as_str().unwrap());
    report
}

fn text(c: &Value) -> String {
    format!("{} {} {}", c["message"], c["hint"], c["details"])
}

#[test]
fn a_dockerfile_that_does_not_build() {
    require_docker();
    let dir = context("step-6", None);
    patch_source(dir.path(), ".route(\"/\",", ".route(\"/health\", get(health)).route(\"/\",");
    let report = check_context("step-6", dir.path());
    let build = check(&report, "image-builds");
    assert_eq!(build["status"], "fail");
    assert!(
        text(build).contains("error[E0425]: cannot find value `health`"),
        "names the compiler's error: {}",
        text(build)
    );
    assert!(build["line"].as_u64().is_some(), "points at the failing Dockerfile line");
    for blocked in ["responds-on-port", "image-size", "static-binary", "dependency-cache"] {
        assert_eq!(check(&report, blocked)["blocked_by"], "image-builds", "{blocked}");
    }
}

#[test]
fn a_server_bound_to_127_0_0_1() {
    require_docker();
    let dir = context("step-6", None);
    patch_source(dir.path(), "\"0.0.0.0:3030\"", "\"127.0.0.1:3030\"");
    let report = check_context("step-6", dir.path());
    let responds = check(&report, "responds-on-port");
    assert_eq!(responds["status"], "fail");
    assert!(responds["message"].as_str().unwrap().contains("kept running"), "{}", text(responds));
    assert!(
        responds["hint"].as_str().unwrap().contains("127.0.0.1")
            && responds["hint"].as_str().unwrap().contains("0.0.0.0")
    );
    assert!(responds["details"].as_str().unwrap().contains("listening on 127.0.0.1:3030"), "shows the server's log");
}

#[test]
fn a_container_that_exits_at_once() {
    require_docker();
    let dir = context("step-1", Some("exits-at-once"));
    let report = check_context("step-1", dir.path());
    let responds = check(&report, "responds-on-port");
    assert_eq!(responds["status"], "fail");
    assert!(responds["message"].as_str().unwrap().contains("exited with code 3"), "{}", text(responds));
    assert!(
        responds["details"].as_str().unwrap().contains("missing configuration file"),
        "shows the container's last lines"
    );
    assert!(responds["hint"].as_str().unwrap().contains("exited with code 3"));
    assert_eq!(common::ids_with_status(&report, "fail"), ["responds-on-port"]);
}

#[test]
fn a_server_that_never_answers() {
    require_docker();
    let dir = context("step-1", Some("never-answers"));
    let started = Instant::now();
    let report = check_context("step-1", dir.path());
    let responds = check(&report, "responds-on-port");
    assert_eq!(responds["status"], "fail");
    assert!(
        responds["message"].as_str().unwrap().contains("nothing answered / on container port 3030 within 30 s"),
        "{}",
        text(responds)
    );
    assert!(responds["hint"].as_str().unwrap().contains("0.0.0.0:3030"));
    assert!(started.elapsed() < Duration::from_secs(120), "the timeout ends the wait");
}

#[test]
fn a_dynamically_linked_binary_in_scratch() {
    require_docker();
    // Step 3's dynamically linked build, its binary copied into a scratch stage.
    let dir = context("step-6", None);
    let step3 = fs::read_to_string(root().join("steps/step-3/solution/Dockerfile")).unwrap();
    let from = "FROM rust:1.95-slim-bookworm\n";
    assert!(step3.starts_with(from), "step 3's solution changed: update this test");
    let builder: Vec<&str> = step3[from.len()..].lines().filter(|l| !l.starts_with("CMD")).collect();
    let dockerfile = format!(
        "FROM rust:1.95-slim-bookworm AS builder\n{}\n\nFROM scratch\nCOPY --from=builder /app/target/release/server /server\nCMD [\"/server\"]\n",
        builder.join("\n")
    );
    fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let report = check_context("step-6", dir.path());
    let elf = check(&report, "static-binary");
    assert_eq!(elf["status"], "fail");
    let msg = elf["message"].as_str().unwrap();
    assert!(
        msg.contains("/server is dynamically linked") && msg.contains("libc.so.6") && msg.contains("ld-linux"),
        "{msg}"
    );
    let responds = check(&report, "responds-on-port");
    assert_eq!(responds["status"], "fail");
    assert!(responds["hint"].as_str().unwrap().contains("dynamically linked"), "{}", text(responds));
}

#[test]
fn a_server_that_ignores_sigterm() {
    require_docker();
    let dir = context("step-8", None);
    // Without its handler the server is a PID 1 with no default signal actions.
    patch_source(
        dir.path(),
        "axum::serve(listener, app)\n        .with_graceful_shutdown(shutdown())",
        "axum::serve(listener, app)",
    );
    let report = check_context("step-8", dir.path());
    assert_eq!(common::ids_with_status(&report, "fail"), ["graceful-stop"]);
    let stop = check(&report, "graceful-stop");
    assert!(stop["message"].as_str().unwrap().contains("still running 3 s after SIGTERM"), "{}", text(stop));
    assert!(stop["message"].as_str().unwrap().contains("ignored SIGTERM"), "{}", text(stop));
}

#[test]
fn a_context_without_a_dockerfile_exits_2() {
    require_docker();
    let empty = tempfile::tempdir().unwrap();
    let out = common::checker().args(["step-1", "--context"]).arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no Dockerfile at") && stderr.contains("--file"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_container_the_image_and_the_staged_context() {
    require_docker();
    let dir = context("step-1", Some("never-answers"));
    let tmp = tempfile::tempdir().unwrap();
    let mut child = common::checker()
        .args(["step-1", "--context", dir.path().to_str().unwrap()])
        .env("TMPDIR", tmp.path())
        .spawn()
        .unwrap();
    let pid = child.id();
    let runs = |what: &[&str]| common::runs_of(pid, what);
    // Wait until the container runs (the checker is then polling it), then interrupt.
    let deadline = Instant::now() + Duration::from_secs(120);
    while runs(&["ps", "-a"]).is_empty() {
        assert!(Instant::now() < deadline, "the checker never started its container");
        assert!(child.try_wait().unwrap().is_none(), "the checker ended before its container ran");
        std::thread::sleep(Duration::from_millis(200));
    }
    common::interrupt(pid);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted runs exit 130");
    assert!(runs(&["ps", "-a"]).is_empty(), "the container is gone");
    assert!(runs(&["images"]).is_empty(), "the image is gone");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "the staged context is gone");
}

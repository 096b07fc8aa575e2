//! End to end, on a real engine: the mistakes learners make each give exit 1, the right
//! failed check and a hint that names the cause — and leave nothing behind, also when
//! the run is interrupted.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_nothing_left, check, require_docker, root, run_json};
use serde_json::Value;

use common::{context, patch};

/// Replaces `from` by `to` in the copied server source; the original must contain it.
fn patch_source(dir: &Path, from: &str, to: &str) {
    patch(dir, "src/main.rs", from, to);
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
    // The container's own sockets say exactly what is wrong.
    let message = responds["message"].as_str().unwrap();
    assert!(message.contains("it listens on 127.0.0.1:3030 only, which a published port cannot reach"), "{message}");
    assert!(responds["hint"].as_str().unwrap().contains("Bind the server to 0.0.0.0:3030"), "{}", text(responds));
}

#[test]
fn a_server_on_another_port_is_named_with_it() {
    require_docker();
    let dir = context("step-6", None);
    patch_source(dir.path(), "\"0.0.0.0:3030\"", "\"0.0.0.0:8080\"");
    let report = check_context("step-6", dir.path());
    let message = check(&report, "responds-on-port")["message"].as_str().unwrap().to_string();
    assert!(message.contains("it listens on 0.0.0.0:8080, not on 3030"), "{message}");
}

#[test]
fn a_server_on_every_ipv6_address_passes() {
    require_docker();
    let dir = context("step-6", None);
    patch_source(dir.path(), "\"0.0.0.0:3030\"", "\"[::]:3030\"");
    let (code, report) = run_json(&["step-6", "--context", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "[::]:3030 also accepts IPv4 connections:\n{report:#}");
}

#[test]
fn a_container_that_listens_on_nothing_says_so() {
    require_docker();
    let dir = context("step-1", Some("never-answers"));
    let report = check_context("step-1", dir.path());
    let message = check(&report, "responds-on-port")["message"].as_str().unwrap().to_string();
    assert!(message.contains("the server listens on no TCP port"), "{message}");
}

#[test]
fn a_shell_as_pid_1_is_named() {
    require_docker();
    let dir = context("step-8", None);
    patch(dir.path(), "Dockerfile", "FROM scratch", "FROM debian:bookworm-slim");
    patch(dir.path(), "Dockerfile", "ENTRYPOINT [\"/server\"]", "ENTRYPOINT /server && echo stopped");
    let report = check_context("step-8", dir.path());
    let stop = check(&report, "graceful-stop")["message"].as_str().unwrap().to_string();
    assert!(
        stop.contains("PID 1 is `/bin/sh -c /server && echo stopped`, a shell; the server (`/server`) is its child"),
        "{stop}"
    );
    let entry = check(&report, "exec-entrypoint")["message"].as_str().unwrap().to_string();
    assert!(entry.contains("PID 1 is `/bin/sh -c /server && echo stopped`, a shell"), "{entry}");
}

#[test]
fn an_image_over_its_limit_names_the_instruction_and_the_folders() {
    require_docker();
    // The whole target/ folder instead of the binary alone.
    let dir = context("step-5", None);
    patch(
        dir.path(),
        "Dockerfile",
        "COPY --from=builder /app/server /usr/local/bin/server",
        "COPY --from=builder /app/target /target\nCOPY --from=builder /app/server /usr/local/bin/server",
    );
    let report = check_context("step-5", dir.path());
    let size = check(&report, "image-size");
    assert_eq!(size["status"], "fail", "{size:#}");
    let hint = size["hint"].as_str().unwrap();
    assert!(hint.contains("`COPY --from=builder /app/target /target` adds"), "{hint}");
    assert!(hint.contains("/target/") && hint.contains(" MB"), "names the largest folders: {hint}");
    assert!(size["details"].as_str().unwrap().contains("FROM debian:bookworm-slim"), "{size:#}");
    let layers = report["image"]["layers"].as_array().unwrap();
    assert!(layers.iter().any(|l| l["instruction"] == "COPY --from=builder /app/target /target" && l["line"].is_u64()));
}

#[test]
fn a_copied_toolchain_is_named_as_what_makes_the_image_big() {
    require_docker();
    let dir = context("step-5", None);
    patch(
        dir.path(),
        "Dockerfile",
        "COPY --from=builder /app/server /usr/local/bin/server",
        "COPY --from=builder /usr/local/rustup /usr/local/rustup\nCOPY --from=builder /app/server /usr/local/bin/server",
    );
    let report = check_context("step-5", dir.path());
    let hint = check(&report, "image-size")["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("`COPY --from=builder /usr/local/rustup /usr/local/rustup` adds"), "{hint}");
    assert!(hint.contains("/usr/local/rustup/toolchains"), "{hint}");
}

#[test]
fn the_shipped_placeholder_is_named() {
    require_docker();
    let dir = context("step-3", None);
    // No `touch`: cargo keeps the placeholder. The nonce keeps an earlier run's cache away.
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    patch(dir.path(), "Dockerfile", "RUN touch src/main.rs && cargo build", "RUN cargo build");
    patch(dir.path(), "Dockerfile", "echo \"fn main() {}\"", &format!("echo \"fn main() {{}} // {nonce}\""));
    let report = check_context("step-3", dir.path());
    let responds = check(&report, "responds-on-port");
    assert!(responds["message"].as_str().unwrap().contains("exited with code 0"), "{}", text(responds));
    let hint = responds["hint"].as_str().unwrap();
    assert!(hint.contains("ships the placeholder") && hint.contains("touch src/main.rs"), "{hint}");
}

#[test]
fn a_final_stage_without_a_command_is_told_where_its_command_comes_from() {
    require_docker();
    let dir = context("step-5", None);
    patch(dir.path(), "Dockerfile", "CMD [\"/usr/local/bin/server\"]", "");
    let report = check_context("step-5", dir.path());
    let hint = check(&report, "responds-on-port")["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("sets no CMD or ENTRYPOINT") && hint.contains("debian:bookworm-slim: `bash`"), "{hint}");
    assert!(check(&report, "responds-on-port").get("details").is_none(), "bash printed nothing: no empty log is shown");
    let elf = check(&report, "static-binary")["message"].as_str().unwrap().to_string();
    assert!(elf.contains("runs debian:bookworm-slim's `bash`, not the server"), "{elf}");
}

#[test]
fn a_wrong_cmd_path_is_told_apart_from_a_dynamic_binary() {
    require_docker();
    let dir = context("step-2", None);
    patch(dir.path(), "Dockerfile", "CMD [\"/app/target/release/server\"]", "CMD [\"/app/target/release/srever\"]");
    let report = check_context("step-2", dir.path());
    let hint = check(&report, "responds-on-port")["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("/app/target/release/srever is not in the final image"), "{hint}");
    assert!(!hint.contains("dynamically"), "no step-4 advice in step 2: {hint}");
}

#[test]
fn a_missing_stage_name_is_named() {
    require_docker();
    let dir = context("step-5", None);
    patch(dir.path(), "Dockerfile", "FROM rust:1.95-slim-bookworm AS builder", "FROM rust:1.95-slim-bookworm");
    let report = check_context("step-5", dir.path());
    let hint = check(&report, "image-builds")["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("No stage is named `builder`"), "{hint}");
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
    assert!(msg.contains("libc.so.6 (not in the image)") && msg.contains(".so.2 (not in the image)"), "{msg}");
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

/// A RUN that never ends is stopped at the build's time limit, and so is its process: on
/// Podman it runs in a session of its own, which the signals to the client's process
/// group miss, and a `sleep infinity` once outlived the checker. Twice, since it did not
/// stay behind every time.
#[test]
fn a_run_that_never_ends_is_stopped_and_leaves_no_process() {
    require_docker();
    // GNU sleep adds its arguments: the second only makes this RUN's process findable.
    let forever = format!("sleep infinity {}", std::process::id());
    let repo = common::student_repo(&[], &[(1, "Dockerfile", &format!("FROM debian:bookworm-slim\nRUN {forever}\n"))]);
    patch(repo.path(), "workshop.toml", "build_timeout_secs = 900", "build_timeout_secs = 10");
    for _ in 0..2 {
        let (code, report) = common::run_json_in(repo.path(), &["step-1"]);
        assert_eq!(code, 1, "{report:#}");
        let build = check(&report, "image-builds");
        assert!(text(build).contains("did not finish within 10 s"), "{}", text(build));
        std::thread::sleep(Duration::from_secs(1));
        let left = std::process::Command::new("pgrep").args(["-af", &forever]).output().expect("pgrep runs");
        let left = String::from_utf8_lossy(&left.stdout);
        assert!(left.trim().is_empty(), "the RUN's process outlived the checker:\n{left}");
        assert_nothing_left(report["run_id"].as_str().unwrap());
    }
}

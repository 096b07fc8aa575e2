//! A remote engine reached over TCP, as GitLab's `docker:dind` service is: its published
//! ports are on its own 127.0.0.1, out of this machine's reach, so the checker requests
//! the server from a helper container inside the engine's network; doctor's round trip
//! does the same; nothing is left on that engine.
//!
//! It needs an engine listening on TCP, which `bash scripts/engines.sh remote` starts in
//! a container on the host's engine before running this test with `--ignored` (CI does).

mod common;

use std::process::Command;

use serde_json::Value;

/// `tcp://IP:2375`: the engine under test, as scripts/engines.sh names it.
fn remote_host() -> String {
    std::env::var("CHECKER_TEST_REMOTE_HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| {
        panic!(
            "this test needs an engine reached over TCP: set CHECKER_TEST_REMOTE_HOST=tcp://IP:2375, or run `bash scripts/engines.sh remote`, which starts one and runs this test"
        )
    })
}

fn json_on(host: &str, args: &[&str]) -> (i32, Value) {
    let out = common::checker().args(args).args(["--format", "json"]).env("DOCKER_HOST", host).output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), report)
}

#[test]
#[ignore = "needs an engine reached over TCP: `bash scripts/engines.sh remote` runs it"]
fn a_step_is_checked_on_an_engine_reached_over_tcp() {
    let host = remote_host();
    let (code, report) = json_on(&host, &["step-8", "--solution"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["engine"]["remote"].as_str().is_some_and(|r| host.contains(r)), "{report:#}");
    let answered = common::check(&report, "responds-on-port");
    assert!(answered["message"].as_str().unwrap().contains("helper container"), "{answered:#}");
    for check in ["non-root-process", "graceful-stop"] {
        let c = common::check(&report, check);
        assert_eq!(c["status"], "pass", "{c:#}");
    }

    // One stage: the helper runs from the step's own base image.
    let (code, report) = json_on(&host, &["step-1", "--solution"]);
    assert_eq!(code, 0, "{report:#}");

    // A server that listens on 127.0.0.1 only answers no published port, and no helper:
    // the helper connects to the container's address, as a published port does.
    let dir = common::context("step-8", None);
    common::patch(dir.path(), "src/main.rs", "0.0.0.0:3030", "127.0.0.1:3030");
    let context = dir.path().to_str().unwrap();
    let (code, report) = json_on(&host, &["step-8", "--context", context]);
    assert_eq!(code, 1, "{report:#}");
    let probe = common::check(&report, "responds-on-port");
    assert_eq!(probe["status"], "fail", "{probe:#}");
    assert!(probe["message"].as_str().unwrap().contains("127.0.0.1:3030 only"), "{probe:#}");

    let (_, doctor) = json_on(&host, &["doctor"]);
    let line = |name: &str| doctor["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap();
    assert_eq!(line("engine-host")["status"], "ok", "{doctor:#}");
    assert_eq!(line("port-publish")["status"], "ok", "{doctor:#}");
    assert!(line("port-publish")["detail"].as_str().unwrap().contains("in the engine's network"), "{doctor:#}");

    for list in [&["ps", "-a"][..], &["images", "--filter", "dangling=false"][..]] {
        let out = Command::new(common::docker_bin())
            .args(list)
            .args(["-q", "--filter", "label=dev.workshop.checker"])
            .env("DOCKER_HOST", &host)
            .output()
            .unwrap();
        assert!(out.status.success() && out.stdout.is_empty(), "left on the remote engine: {out:?}");
    }
}

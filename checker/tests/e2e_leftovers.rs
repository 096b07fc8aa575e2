//! End to end: what a `kill -9`'d run left behind is removed by the next run, and only
//! that. A test binary of its own: any other checker running at the same time would sweep
//! the fake leftovers first and take this test's evidence.
#![cfg(unix)]

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::require_docker;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Finding 15: what a killed run left (a container, an image, a staged context) is
/// removed by the next run, which says so; a live run's resources are kept.
#[test]
fn a_killed_runs_leftovers_are_removed_by_the_next_run() {
    require_docker();
    let docker = common::docker_bin();
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let host = checker::docker::host_id();
    let labels = |run: &str| {
        vec![
            "--label".to_string(),
            "dev.workshop.checker".into(),
            "--label".into(),
            format!("dev.workshop.checker.run={run}"),
            "--label".into(),
            format!("dev.workshop.checker.host={host}"),
        ]
    };
    let dead_run = format!("{dead_pid}-killed");
    let live_run = format!("{}-alive", std::process::id());
    let create = |run: &str| {
        let out = Command::new(&docker)
            .args(["create", "--name", &format!("checker-leftover-{run}")])
            .args(labels(run))
            .arg("debian:bookworm-slim")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    create(&dead_run);
    create(&live_run);
    let build = Command::new(&docker)
        .args(["build", "-q", "-t", &format!("checker-local/leftover:{dead_run}")])
        .args(labels(&dead_run))
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"FROM debian:bookworm-slim\nLABEL leftover=1\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(build.status.success(), "{}", stderr(&build));
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join(format!("checker-context-{dead_run}-abc"));
    fs::create_dir_all(folder.join("src")).unwrap();
    // Any check starts with the sweep, even one that then fails on its context.
    let out =
        common::checker().args(["step-1", "--context", "/nonexistent"]).env("TMPDIR", tmp.path()).output().unwrap();
    let err = stderr(&out);
    assert!(err.contains("removed what killed runs left behind"), "{err}");
    assert!(err.contains(&format!("container of run {dead_run}")) && err.contains(&format!("image of run {dead_run}")));
    assert!(!folder.exists(), "the staged context is removed");
    let left = |run: &str, what: &[&str]| {
        let out = Command::new(&docker)
            .args(what)
            .args(["-q", "--filter", &format!("label=dev.workshop.checker.run={run}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert!(left(&dead_run, &["ps", "-a"]).is_empty() && left(&dead_run, &["images"]).is_empty());
    assert!(!left(&live_run, &["ps", "-a"]).is_empty(), "a live run's container is kept");
    let _ = Command::new(&docker).args(["rm", "-f", &format!("checker-leftover-{live_run}")]).output();
}

//! End to end: `--watch` checks again when the learner saves, and Ctrl-C ends it cleanly.
#![cfg(unix)] // it interrupts the checker with SIGINT

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{interrupt, require_docker, root, runs_of};

fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, seen: &mut String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => panic!("no `{needle}` in the watch output within 120 s:\n{seen}"),
        }
    }
}

#[test]
fn watch_checks_again_on_save_and_stops_on_ctrl_c() {
    require_docker();
    let dir = tempfile::tempdir().unwrap();
    let step1 = root().join("steps/step-1");
    for f in ["Dockerfile", ".dockerignore", "Cargo.toml", "Cargo.lock"] {
        std::fs::copy(step1.join(f), dir.path().join(f)).unwrap();
    }
    let mut child = common::checker()
        .args(["step-1", "--watch", "--context", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut seen = String::new();
    // The starting point has no instructions yet: the first check fails at once.
    wait_for(&rx, "The Dockerfile has no instructions yet", &mut seen);
    wait_for(&rx, "watching", &mut seen);
    // The learner saves a Dockerfile with a typo: the next check says so.
    std::fs::write(dir.path().join("Dockerfile"), "FORM rust:1.95-slim-bookworm\n").unwrap();
    wait_for(&rx, "`FORM` is not a Dockerfile instruction", &mut seen);
    wait_for(&rx, "watching", &mut seen);
    let pid = child.id();
    interrupt(pid);
    assert_eq!(child.wait().unwrap().code(), Some(130), "{seen}");
    assert!(runs_of(pid, &["ps", "-a"]).is_empty() && runs_of(pid, &["images"]).is_empty(), "nothing left behind");
}

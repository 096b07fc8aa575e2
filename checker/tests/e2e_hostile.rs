//! End to end, on a real engine: hostile and unusual input (links out of the context,
//! bytes that are not UTF-8, named pipes, signals at every phase, a killed run's
//! leftovers) gets the right verdict, writes nothing outside the context, and leaves
//! nothing behind. Each test names the finding of the hardening issue it covers.
#![cfg(unix)] // links, pipes and signals

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::{check, require_docker, root, runs_of, staged_of, student_repo};
use nix::sys::signal::Signal;
use serde_json::Value;

/// Copies a step's starting point (or, with `solved`, its solution) into a new folder.
fn step_context(step: &str, solved: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&root().join("steps").join(step), dir.path());
    if solved {
        common::copy_tree(&root().join("steps").join(step).join("solution"), dir.path());
    }
    dir
}

/// `checker STEP --context DIR --format json`, with its own temporary folder `tmp`.
fn run_context(step: &str, dir: &Path, tmp: &Path) -> (Output, Value) {
    let out = common::checker()
        .args([step, "--context", dir.to_str().unwrap(), "--format", "json"])
        .env("TMPDIR", tmp)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON ({e})\nstdout: {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), stderr(&out))
    });
    if let Some(run) = report["run_id"].as_str() {
        common::assert_nothing_left(run);
    }
    let staged: Vec<_> = fs::read_dir(tmp).unwrap().flatten().map(|e| e.path()).collect();
    assert!(staged.is_empty(), "staged contexts left: {staged:?}");
    (out, report)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const COPY_ALL: &str = "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\nCMD [\"true\"]\n";

/// Finding 1 (and 3): a source file that links out of the context is never written
/// through, and the rebuild check says why it cannot run.
#[test]
fn a_source_linked_out_of_the_context_is_never_written_through() {
    require_docker();
    let victim = tempfile::NamedTempFile::new().unwrap();
    fs::write(victim.path(), "precious\n").unwrap();
    let dir = step_context("step-3", false);
    fs::write(dir.path().join("Dockerfile"), COPY_ALL).unwrap();
    fs::remove_file(dir.path().join("src/main.rs")).unwrap();
    std::os::unix::fs::symlink(victim.path(), dir.path().join("src/main.rs")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (out, report) = run_context("step-3", dir.path(), tmp.path());
    assert_eq!(fs::read_to_string(victim.path()).unwrap(), "precious\n", "the host file is untouched");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let cache = check(&report, "dependency-cache");
    assert_eq!(cache["status"], "fail", "{cache:#}");
    let message = cache["message"].as_str().unwrap();
    assert!(message.contains("src/main.rs is a symbolic link") && message.contains("never writes through a link"));
}

/// Finding 1, as an instructor meets it: `grade --ci` on a student's repository.
#[test]
fn grading_never_writes_through_a_students_link() {
    require_docker();
    let victim = tempfile::NamedTempFile::new().unwrap();
    fs::write(victim.path(), "precious\n").unwrap();
    let repo = student_repo(&[], &[(3, "Dockerfile", COPY_ALL)]);
    let main = repo.path().join("steps/step-3/src/main.rs");
    fs::remove_file(&main).unwrap();
    std::os::unix::fs::symlink(victim.path(), &main).unwrap();
    let out = Command::cargo_bin("checker")
        .unwrap()
        .current_dir(repo.path())
        .args(["grade", "--ci", "--steps", "3", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(fs::read_to_string(victim.path()).unwrap(), "precious\n", "the host file is untouched");
    let grade: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(grade["steps"][0]["status"], "fail", "{grade:#}");
    let report = &grade["steps"][0]["report"];
    assert!(check(report, "dependency-cache")["message"].as_str().unwrap().contains("symbolic link"));
    common::assert_nothing_left(report["run_id"].as_str().unwrap());
}

/// Finding 3: a rebuild that compiled nothing is no evidence that the dependencies are
/// cached.
#[test]
fn a_rebuild_that_compiles_nothing_does_not_pass_dependency_cache() {
    require_docker();
    let dir = step_context("step-3", false);
    fs::write(dir.path().join("Dockerfile"), COPY_ALL).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, report) = run_context("step-3", dir.path(), tmp.path());
    let cache = check(&report, "dependency-cache");
    assert_eq!(cache["status"], "fail", "{cache:#}");
    assert!(cache["message"].as_str().unwrap().contains("compiled nothing"), "{cache:#}");
    assert!(cache["hint"].as_str().unwrap().contains("COPY src ./src"), "{cache:#}");
}

/// Finding 3: a quiet cargo hides what the rebuild compiled; the check says so.
#[test]
fn a_quiet_cargo_does_not_pass_dependency_cache() {
    require_docker();
    let dir = step_context("step-3", true);
    let path = dir.path().join("Dockerfile");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("cargo build --release --locked"), "update this test: {text}");
    fs::write(&path, text.replace("cargo build --release --locked", "cargo build -q --release --locked")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, report) = run_context("step-3", dir.path(), tmp.path());
    let cache = check(&report, "dependency-cache");
    assert_eq!(cache["status"], "fail", "{cache:#}");
    assert!(cache["message"].as_str().unwrap().contains("-q/--quiet"), "{cache:#}");
}

/// Findings 2 and 16: a build whose output is not UTF-8 is read to its end and judged
/// built; a container log with such bytes and terminal escapes is shown, minus the escapes.
#[test]
fn output_that_is_not_utf8_is_read_to_the_end_and_shown_without_escapes() {
    require_docker();
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = "FROM debian:bookworm-slim\nRUN printf \"a\\377b\\n\"; echo more; sleep 2\nCMD [\"sh\", \"-c\", \"printf 'x\\\\377y\\\\033[2J\\\\001z\\\\n'; exit 3\"]\n";
    fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, report) = run_context("step-1", dir.path(), tmp.path());
    assert_eq!(check(&report, "image-builds")["status"], "pass", "{report:#}");
    let log = fs::read(report["build_log"].as_str().unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&log).contains("more"), "the log goes on after the odd byte");
    let responds = check(&report, "responds-on-port");
    assert!(responds["message"].as_str().unwrap().contains("exited with code 3"), "{responds:#}");
    let details = responds["details"].as_str().unwrap();
    assert!(details.contains("x\u{fffd}y[2Jz"), "the log is shown lossily, without control bytes: {details:?}");
    // The human report on a pipe carries no escape at all: no colour, none of the container's.
    let human = common::checker()
        .args(["step-1", "--context", dir.path().to_str().unwrap()])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(!human.stdout.contains(&0x1b), "{}", String::from_utf8_lossy(&human.stdout));
    assert!(String::from_utf8_lossy(&human.stdout).contains("x\u{fffd}y[2Jz"));
}

/// Starts `checker ARGS` in `workshop` with its own temporary folder, stdout and stderr
/// captured.
fn spawn(workshop: &Path, args: &[&str], tmp: &Path) -> std::process::Child {
    Command::cargo_bin("checker")
        .unwrap()
        .arg("--workshop")
        .arg(workshop)
        .args(args)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `ready()` holds (the test's view of the checker's phase).
fn wait_until(child: &mut std::process::Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        if child.try_wait().unwrap().is_some() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("the checker ended before {what}: {err}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The checker exits 130 and has printed no report; nothing of it is left.
fn assert_stopped_cleanly(child: std::process::Child, tmp: &Path) -> String {
    let pid = child.id();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20), "it stops promptly");
    assert!(out.stdout.is_empty(), "no report after an interrupt: {}", String::from_utf8_lossy(&out.stdout));
    // A build that went on would tag its image after the exit: give it the time to.
    std::thread::sleep(Duration::from_secs(8));
    assert!(runs_of(pid, &["ps", "-a"]).is_empty(), "a container is left");
    assert!(runs_of(pid, &["images"]).is_empty(), "an image is left");
    assert!(staged_of(pid, tmp).is_empty(), "a staged context is left");
    stderr(&out)
}

/// A checker checking step 1 of a repository whose build sleeps 8 s, 3 s into it.
fn in_a_slow_build(tmp: &Path) -> (tempfile::TempDir, std::process::Child) {
    // Unique, so that no earlier run's cache serves the slow step.
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dockerfile = format!("FROM debian:bookworm-slim\nRUN echo {nonce} && sleep 8\nCMD [\"true\"]\n");
    let repo = student_repo(&[], &[(1, "Dockerfile", &dockerfile)]);
    let mut child = spawn(repo.path(), &["step-1"], tmp);
    let pid = child.id();
    wait_until(&mut child, "staging", || !staged_of(pid, tmp).is_empty());
    std::thread::sleep(Duration::from_secs(3));
    (repo, child)
}

/// Finding 4 (and 8's cleanup): SIGTERM during a build stops docker build before the
/// exit, so that it never tags an image afterwards; the staged context is gone too.
#[test]
fn sigterm_during_a_build_stops_docker_and_leaves_nothing() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let (repo, child) = in_a_slow_build(tmp.path());
    common::signal(child.id(), Signal::SIGTERM);
    assert_stopped_cleanly(child, tmp.path());
    assert!(!repo.path().join(".checker/state.json").exists(), "no result recorded");
}

/// SIGTERM after the parent that reads the checker's output is gone (a killed CI job,
/// `checker grade | tee` with tee killed): the checker still stops docker, removes what
/// it made and exits 130. Its message once panicked on the broken pipe, ending the
/// cleanup thread, and the checker slept forever.
#[test]
fn sigterm_with_the_output_pipes_closed_still_cleans_up_and_exits() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let (_repo, mut child) = in_a_slow_build(tmp.path());
    let pid = child.id();
    drop(child.stdout.take());
    drop(child.stderr.take());
    common::signal(pid, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the checker did not exit within 30 s of SIGTERM with its output pipes closed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(130), "{status:?}");
    std::thread::sleep(Duration::from_secs(8));
    assert!(runs_of(pid, &["ps", "-a"]).is_empty(), "a container is left");
    assert!(runs_of(pid, &["images"]).is_empty(), "an image is left");
    assert!(staged_of(pid, tmp.path()).is_empty(), "a staged context is left");
}

/// Finding 6: Ctrl-C while the checker waits for an answer prints no report, records no
/// result, and under --watch does not announce another round.
#[test]
fn ctrl_c_while_waiting_for_an_answer_prints_and_records_nothing() {
    require_docker();
    let never = "FROM debian:bookworm-slim\nCMD [\"sleep\", \"infinity\"]\n";
    for watch in [false, true] {
        let repo = student_repo(&[], &[(1, "Dockerfile", never)]);
        let tmp = tempfile::tempdir().unwrap();
        let args: &[&str] = if watch { &["step-1", "--watch"] } else { &["step-1"] };
        let mut child = spawn(repo.path(), args, tmp.path());
        let pid = child.id();
        wait_until(&mut child, "the container's start", || !runs_of(pid, &["ps", "-a"]).is_empty());
        std::thread::sleep(Duration::from_secs(1));
        common::interrupt(pid);
        let err = assert_stopped_cleanly(child, tmp.path());
        assert!(!err.contains("watching"), "no new round is announced: {err}");
        assert!(!err.contains("exited with code"), "no report on stderr either: {err}");
        assert!(!repo.path().join(".checker/state.json").exists(), "no result recorded");
    }
}

/// Finding 6 (and the leak once seen): Ctrl-C during the dependency-cache rebuild leaves
/// neither the first build's image nor the rebuild's, and prints no report.
#[test]
fn ctrl_c_during_the_rebuild_leaves_nothing() {
    require_docker();
    // The first build is quick; the rebuild, which sees the checker's change, sleeps.
    let slow_rebuild = "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY src ./src\nRUN if grep -q 'source-only change' src/main.rs; then sleep 30; fi\nCMD [\"true\"]\n";
    let repo = student_repo(&[], &[(3, "Dockerfile", slow_rebuild)]);
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn(repo.path(), &["step-3"], tmp.path());
    let pid = child.id();
    wait_until(&mut child, "the first image", || !runs_of(pid, &["images"]).is_empty());
    // The container exits at once (CMD true); the rebuild starts right after.
    std::thread::sleep(Duration::from_secs(4));
    common::interrupt(pid);
    assert_stopped_cleanly(child, tmp.path());
}

/// Finding 5: `{a,b}` is no alternation for Docker, so `{target,.git}` keeps neither out.
#[test]
fn a_brace_pattern_in_dockerignore_keeps_nothing_out_as_in_docker() {
    require_docker();
    let dir = step_context("step-2", true);
    fs::create_dir_all(dir.path().join("target/release")).unwrap();
    fs::write(dir.path().join("target/release/server"), vec![0u8; 4096]).unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(dir.path().join(".dockerignore"), "{target,.git}\n").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, report) = run_context("step-2", dir.path(), tmp.path());
    let clean = check(&report, "context-clean");
    assert_eq!(clean["status"], "fail", "{clean:#}");
    let message = clean["message"].as_str().unwrap();
    assert!(message.contains("target/") && message.contains(".git/"), "{message}");
}

/// Finding 8: a named pipe in the context no longer hangs the staging.
#[test]
fn a_named_pipe_in_the_context_is_left_out() {
    require_docker();
    let dir = step_context("step-1", true);
    assert!(Command::new("mkfifo").arg(dir.path().join("pipe")).status().unwrap().success());
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (out, report) = run_context("step-1", dir.path(), tmp.path());
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(300));
}

/// Finding 9: a Dockerfile with a Latin-1 comment is built, as docker builds it.
#[test]
fn a_dockerfile_that_is_not_utf8_is_checked() {
    require_docker();
    let dir = step_context("step-1", true);
    let path = dir.path().join("Dockerfile");
    let mut text = b"# r\xe9sum\xe9 of the step\n".to_vec();
    text.extend(fs::read(&path).unwrap());
    fs::write(&path, text).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (out, report) = run_context("step-1", dir.path(), tmp.path());
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{}", stderr(&out));
}

/// Finding 12: two runs of one step at once keep a build log each.
#[test]
fn two_runs_of_one_step_at_once_keep_a_log_each() {
    require_docker();
    let dir = step_context("step-1", true);
    let tmps = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let runs: Vec<_> = tmps
        .iter()
        .map(|tmp| {
            let (dir, tmp) = (dir.path().to_path_buf(), tmp.path().to_path_buf());
            std::thread::spawn(move || run_context("step-1", &dir, &tmp).1)
        })
        .collect();
    let logs: Vec<String> =
        runs.into_iter().map(|r| r.join().unwrap()["build_log"].as_str().unwrap().to_string()).collect();
    assert_ne!(logs[0], logs[1], "one log per run");
    for log in &logs {
        assert!(fs::read_to_string(log).unwrap().contains("DONE"), "{log} holds a build");
    }
}

/// Finding 14: a limit the engine refuses is quoted from the engine's first line.
#[test]
fn a_limit_the_engine_refuses_is_quoted() {
    require_docker();
    let repo = student_repo(&[1], &[]);
    let manifest = repo.path().join("workshop.toml");
    let text = fs::read_to_string(&manifest).unwrap().replace("cpus = 1.0", "cpus = 512.0");
    fs::write(&manifest, text).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("checker")
        .unwrap()
        .args(["--workshop", repo.path().to_str().unwrap(), "step-1", "--format", "json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let responds = check(&report, "responds-on-port");
    let message = responds["message"].as_str().unwrap();
    assert!(message.contains("CPUs") && !message.contains("--help"), "{message}");
    common::assert_nothing_left(report["run_id"].as_str().unwrap());
}

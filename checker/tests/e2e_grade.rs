//! End to end, on a real engine: `checker grade` over a student's repository gives the
//! expected points in every format, stops hostile Dockerfiles within their limits while
//! grading the other steps, and runs four times at once without a collision.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use base64::Engine as _;
use common::{require_docker, root, student_repo};
use serde_json::Value;

fn grade(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.current_dir(repo).arg("grade").args(args).env_remove("GITHUB_OUTPUT").env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e})\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Nothing of these grading runs is left on the engine (their run ids are in the JSON
/// report), and no staged context in their temporary folder.
fn assert_engine_clean(grade: &Value, tmp: &Path) {
    for step in grade["steps"].as_array().unwrap() {
        if let Some(run_id) = step["report"]["run_id"].as_str() {
            common::assert_nothing_left(run_id);
        }
    }
    let staged: Vec<_> = fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("checker-context-"))
        .collect();
    assert!(staged.is_empty(), "staged contexts left: {staged:?}");
}

const BROKEN: &str = "FROM rust:1.95-slim-bookworm\nWORKDIR /app\nCOPY . .\nRUN cargo biuld --release\n";

#[test]
fn a_student_repository_gets_its_points_in_every_format() {
    require_docker();
    // Steps 1 and 2 solved, 3 untouched (its lesson not done), 4 broken at line 4.
    let repo = student_repo(&[1, 2], &[(4, "Dockerfile", BROKEN)]);
    let tmp = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let at = |name: &str| files.path().join(name);
    let summary = at("summary.md");
    let out = grade(repo.path(), &["--steps", "1-4", "--jobs", "2"])
        .arg("--format")
        .arg(format!("json={}", at("grade.json").display()))
        .arg("--format")
        .arg(format!("junit={}", at("junit.xml").display()))
        .args(["--format", "github", "--format", "classroom"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", at("output"))
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed step is exit 1\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // json: per-check results of every step and the totals.
    let json: Value = serde_json::from_str(&fs::read_to_string(at("grade.json")).unwrap()).unwrap();
    assert_eq!((json["points"].as_u64(), json["max_points"].as_u64()), (Some(20), Some(50)), "{json:#}");
    let status: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["pass", "pass", "fail", "fail"]);
    let step3 = &json["steps"][2]["report"]["checks"];
    let failed3: Vec<&str> =
        step3.as_array().unwrap().iter().filter(|c| c["status"] == "fail").map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(failed3, ["dependency-cache"]);

    // junit: one testcase per check, classname = step, details in the body.
    let junit = quick_junit::Report::deserialize_from_str(&fs::read_to_string(at("junit.xml")).unwrap()).unwrap();
    assert_eq!(junit.test_suites.len(), 4);
    let cases: Vec<_> = junit.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    assert_eq!(cases.len(), 4 + 7 + 8 + 9, "the checks of steps 1 to 4");
    let dep = cases
        .iter()
        .find(|c| c.name.as_str() == "dependency-cache" && c.classname.as_ref().unwrap().as_str() == "step-3")
        .unwrap();
    match &dep.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Failure,
            description: Some(body),
            ..
        } => {
            assert!(
                body.as_str().contains("seen: after a change to src/main.rs alone") && body.as_str().contains("fix: "),
                "{}",
                body.as_str()
            )
        }
        other => panic!("dependency-cache of step-3 is {other:?}"),
    }

    // github: annotations on stdout pointing at the Dockerfile line, a summary appended.
    let build = stdout.lines().find(|l| l.contains("step-4 image-builds")).expect("an annotation for step 4's build");
    assert!(build.starts_with("::error file=steps/step-4/Dockerfile,line=4,title=step-4 image-builds%3A "), "{build}");
    assert!(!build.contains('\r') && build.contains("%0Aseen: "), "{build}");
    assert!(
        stdout.lines().any(|l| l.starts_with("::error file=steps/step-3/Dockerfile,title=step-3 dependency-cache%3A")),
        "{stdout}"
    );
    let md = fs::read_to_string(&summary).unwrap();
    assert!(md.contains("20 / 50 points") && md.contains("| step-3 Cache the dependencies | ❌ | 0/15 |"), "{md}");

    // classroom: a base64 version-1 result in $GITHUB_OUTPUT whose scores add up.
    let output = fs::read_to_string(at("output")).unwrap();
    let encoded = output.lines().find_map(|l| l.strip_prefix("result=")).expect("result= in GITHUB_OUTPUT");
    let result: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(
        (result["version"].as_u64(), result["status"].as_str(), result["max_score"].as_u64()),
        (Some(1), Some("fail"), Some(50))
    );
    let scores: u64 = result["tests"].as_array().unwrap().iter().map(|t| t["score"].as_u64().unwrap()).sum();
    assert_eq!(scores, 20);
    assert_eq!(result["tests"][3]["name"], "step-4: A static release binary");
    assert_engine_clean(&json, tmp.path());

    // --fail-under: the same repository passes a floor it reaches (steps 1 and 4: 10 points).
    let floor = grade(repo.path(), &["--steps", "1,4", "--fail-under", "10", "--format", "json"]).output().unwrap();
    assert_eq!(floor.status.code(), Some(0), "{}", String::from_utf8_lossy(&floor.stderr));
    assert_eq!(json_of(&floor)["points"], 10);
}

#[test]
fn hostile_steps_are_stopped_within_their_limits_and_the_rest_is_graded() {
    require_docker();
    let server = fs::read_to_string(root().join("steps/step-8/src/main.rs")).unwrap();
    let handler = "axum::serve(listener, app)\n        .with_graceful_shutdown(shutdown())";
    assert!(server.contains(handler), "the server no longer has its shutdown handler: update this test");
    // GNU sleep adds its arguments: the second one only makes this RUN's process the one
    // to look for afterwards (an engine's own container may idle with `sleep infinity`).
    let forever = format!("sleep infinity {}", std::process::id());
    let repo = student_repo(
        &[8],
        &[
            // A fork bomb: the pids limit holds it; nothing answers.
            (
                1,
                "Dockerfile",
                "FROM debian:bookworm-slim\nCMD [\"/bin/sh\", \"-c\", \"b() { b | b & }; b; sleep 600\"]\n",
            ),
            // A container that prints without end.
            (
                2,
                "Dockerfile",
                "FROM debian:bookworm-slim\nWORKDIR /app\nCMD [\"yes\", \"a line the container prints without end\"]\n",
            ),
            // A RUN that never finishes.
            (3, "Dockerfile", &format!("FROM debian:bookworm-slim\nRUN echo waiting && {forever}\n")),
            // A server that ignores SIGTERM (step 8's solution without the handler).
            (8, "src/main.rs", &server.replace(handler, "axum::serve(listener, app)")),
        ],
    );
    // A huge build context: a sparse file of 2 GB, over the 100 MB context limit.
    fs::File::create(repo.path().join("steps/step-4/data.bin")).unwrap().set_len(2_000_000_000).unwrap();
    // Lower limits so the test is quick; the repository's manifest is the one graded. The
    // build limit still leaves step 8 the time to compile its server on a loaded machine
    // (on Podman 5, beside three other grades, 20 s did not).
    common::patch(repo.path(), "workshop.toml", "build_timeout_secs = 900", "build_timeout_secs = 90");
    common::patch(repo.path(), "workshop.toml", "timeout_secs = 30", "timeout_secs = 8");

    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = grade(repo.path(), &["--steps", "1-4,8", "--jobs", "2", "--format", "json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let took = started.elapsed();
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "every hostile step is a failure, not an error:\n{json:#}");
    let step = |id: &str| json["steps"].as_array().unwrap().iter().find(|s| s["step"] == id).unwrap().clone();
    let check = |id: &str, check: &str| {
        step(id)["report"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == check).unwrap().clone()
    };
    let text = |c: &Value| format!("{} / {}", c["message"], c["hint"]);

    let bomb = check("step-1", "responds-on-port");
    assert_eq!(bomb["status"], "fail");
    assert!(bomb["hint"].as_str().unwrap().contains("process limit"), "{}", text(&bomb));
    let chatty = check("step-2", "responds-on-port");
    assert_eq!(chatty["status"], "fail", "{}", text(&chatty));
    assert!(chatty["details"].as_str().unwrap().len() < 6000, "the container's output is kept short");
    let endless = check("step-3", "image-builds");
    assert!(endless["message"].as_str().unwrap().contains("did not finish within 90 s"), "{}", text(&endless));
    assert_eq!(endless["line"], 2);
    let huge = check("step-4", "image-builds");
    assert!(
        huge["message"].as_str().unwrap().contains("over the limit of 100.0 MB")
            && huge["message"].as_str().unwrap().contains("data.bin"),
        "{}",
        text(&huge)
    );
    let stop = check("step-8", "graceful-stop");
    assert_eq!(stop["status"], "fail", "{} (image-builds: {})", text(&stop), text(&check("step-8", "image-builds")));
    let step8 = step("step-8");
    let failed8: Vec<&str> = step8["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed8, ["graceful-stop"], "the rest of step 8 is graded as usual");
    // Every limit held: the run took far less than an unbounded one (sleep infinity).
    assert!(took.as_secs() < 420, "grading the hostile steps took {took:?}");
    let stuck = Command::new("pgrep").args(["-f", &forever]).output().unwrap();
    let stuck: Vec<&str> = std::str::from_utf8(&stuck.stdout).unwrap().split_whitespace().collect();
    assert!(stuck.is_empty(), "the endless RUN is still running: {stuck:?}");
    assert_engine_clean(&json, tmp.path());
}

#[test]
fn four_grades_at_once_do_not_collide() {
    require_docker();
    let repo = student_repo(&[1, 2], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            grade(repo.path(), &["--steps", "1-2", "--jobs", "2", "--format", "json"])
                .env("TMPDIR", tmp.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let mut run_ids = std::collections::BTreeSet::new();
    for out in &outputs {
        let json = json_of(out);
        assert_eq!(out.status.code(), Some(0), "{json:#}\n{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json["points"], 20);
        for s in json["steps"].as_array().unwrap() {
            assert!(run_ids.insert(s["report"]["run_id"].as_str().unwrap().to_string()), "two runs share a run id");
            let log = s["report"]["build_log"].as_str().unwrap();
            assert!(Path::new(log).is_file(), "{log}");
        }
    }
    let logs: std::collections::BTreeSet<String> = outputs
        .iter()
        .flat_map(|o| {
            json_of(o)["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["report"]["build_log"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(logs.len(), 8, "every run of every step has its own build log");
    for out in &outputs {
        assert_engine_clean(&json_of(out), tmp.path());
    }
}

#[test]
fn ci_mode_grades_with_the_built_in_manifest_not_the_students() {
    require_docker();
    let repo = student_repo(&[1], &[]);
    let manifest = fs::read_to_string(repo.path().join("workshop.toml")).unwrap();
    let generous = manifest.replacen("points = 10", "points = 1000", 1);
    assert_ne!(generous, manifest, "step 1's points moved: update this test");
    fs::write(repo.path().join("workshop.toml"), generous).unwrap();
    let points = |args: &[&str]| {
        let out = grade(repo.path(), args).output().unwrap();
        let json = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{json:#}");
        (json["points"].as_u64().unwrap(), json["manifest"].as_str().unwrap().to_string())
    };
    assert_eq!(points(&["--steps", "1", "--format", "json"]), (1000, "workshop.toml".to_string()));
    assert_eq!(points(&["--steps", "1", "--ci", "--format", "json"]), (10, "built-in".to_string()));
    // Nor can a student stop the grading by deleting the manifest.
    fs::remove_file(repo.path().join("workshop.toml")).unwrap();
    assert_eq!(points(&["--steps", "1", "--ci", "--format", "json"]), (10, "built-in".to_string()));
}

#[test]
fn a_step_that_cannot_be_checked_is_an_error_and_the_others_are_graded() {
    require_docker();
    let repo = student_repo(&[1], &[]);
    fs::remove_file(repo.path().join("steps/step-2/Dockerfile")).unwrap();
    let out = grade(repo.path(), &["--steps", "1-2", "--format", "json"]).output().unwrap();
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(2), "a step that could not be checked is exit 2:\n{json:#}");
    assert_eq!(
        (json["points"].as_u64(), json["errors"].as_u64(), json["passed"].as_u64()),
        (Some(10), Some(1), Some(1))
    );
    let step2 = &json["steps"][1];
    assert_eq!(step2["status"], "error");
    assert!(step2["error"].as_str().unwrap().contains("no Dockerfile at"), "{step2:#}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_parallel_grade_removes_what_every_step_created() {
    require_docker();
    let never = "FROM debian:bookworm-slim\nWORKDIR /app\nCMD [\"sleep\", \"infinity\"]\n";
    let repo = student_repo(&[], &[(1, "Dockerfile", never), (2, "Dockerfile", never)]);
    let tmp = tempfile::tempdir().unwrap();
    let mut child = grade(repo.path(), &["--steps", "1-2", "--jobs", "2", "--format", "json"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let runs = |what: &[&str]| common::runs_of(pid, what);
    // Both steps' containers run (each waits for an answer that never comes): interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while runs(&["ps", "-a"]).len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the two steps' containers never ran together");
        assert!(child.try_wait().unwrap().is_none(), "grading ended before its containers ran");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    common::interrupt(pid);
    assert_eq!(child.wait().unwrap().code(), Some(130), "an interrupted grade exits 130");
    assert!(runs(&["ps", "-a"]).is_empty(), "every step's container is gone");
    assert!(runs(&["images"]).is_empty(), "every step's image is gone");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "every staged context is gone");
}

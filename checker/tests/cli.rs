//! The command line without an engine: usage errors, `list`, `hint`, and the clear exit 2
//! when docker is missing or its engine does not answer.

mod common;

use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;
use std::process::Command;

fn checker() -> assert_cmd::Command {
    assert_cmd::Command::from_std(common::checker())
}

#[test]
fn list_shows_every_step_with_its_title() {
    let out = checker().arg("list").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for step in common::manifest().steps {
        assert!(text.contains(&step.id) && text.contains(&step.title), "{}: {text}", step.id);
    }
}

#[test]
fn list_shows_the_last_results_and_where_to_go_next() {
    let workshop = tempfile::tempdir().unwrap();
    std::fs::copy(common::root().join("workshop.toml"), workshop.path().join("workshop.toml")).unwrap();
    std::fs::create_dir_all(workshop.path().join(".checker")).unwrap();
    let state = r#"{"step-1": {"passed": true, "at": 1, "failed": []},
                    "step-2": {"passed": false, "at": 2, "failed": ["workdir-set"]}}"#;
    std::fs::write(workshop.path().join(".checker/state.json"), state).unwrap();
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.arg("--workshop").arg(workshop.path()).arg("list");
    let out = assert_cmd::Command::from_std(cmd).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let line = |step: &str| text.lines().find(|l| l.starts_with(step)).unwrap_or_default().to_string();
    assert!(line("step-1").contains("✓ passed") && !line("step-1").contains("next"), "{text}");
    assert!(line("step-2").contains("✗ failed: workdir-set") && line("step-2").contains("← next"), "{text}");
    assert!(line("step-3").contains("not checked yet") && !line("step-3").contains("next"), "{text}");
}

#[test]
fn list_as_json_has_titles_limits_and_checks() {
    let out = checker().args(["list", "--format", "json"]).assert().success();
    let steps: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let manifest = common::manifest();
    assert_eq!(steps.as_array().unwrap().len(), manifest.steps.len());
    for (i, step) in manifest.steps.iter().enumerate() {
        assert_eq!(steps[i]["size_limit_bytes"], step.size_limit.0, "{}", step.id);
        assert_eq!((&steps[i]["id"], &steps[i]["title"]), (&step.id.as_str().into(), &step.title.as_str().into()));
        assert_eq!(steps[i]["checks"], serde_json::json!(step.checks), "the checks {} introduces", step.id);
    }
    assert_eq!(steps[0]["checks"][0], "image-builds");
}

#[test]
fn hint_prints_the_step_hint_and_its_chapter() {
    checker()
        .args(["hint", "step-6"])
        .assert()
        .success()
        .stdout(predicate::str::contains("FROM scratch").and(predicate::str::contains("step-6.html")));
    checker().args(["hint", "4"]).assert().success().stdout(predicate::str::contains("crt-static"));
}

/// The step after the manifest's last: unknown.
fn past_the_last() -> usize {
    common::manifest().steps.len() + 1
}

#[test]
fn an_unknown_step_exits_2_and_lists_the_steps() {
    let unknown = format!("step-{}", past_the_last());
    checker().arg(&unknown).assert().code(2).stderr(
        predicate::str::contains(format!("unknown step `{unknown}`")).and(predicate::str::contains("step-1, step-2")),
    );
    checker().args(["hint", "nine"]).assert().code(2).stderr(predicate::str::contains("unknown step"));
}

#[test]
fn no_step_exits_2_with_an_example() {
    checker().assert().code(2).stderr(predicate::str::contains("checker step-1"));
}

#[test]
fn a_bad_flag_exits_2_with_usage() {
    checker().args(["step-1", "--frobnicate"]).assert().code(2).stderr(predicate::str::contains("--frobnicate"));
    checker().args(["step-1", "--format", "xml"]).assert().code(2).stderr(predicate::str::contains("xml"));
    checker().args(["step-1", "--file", "Dockerfile"]).assert().code(2).stderr(predicate::str::contains("--context"));
    checker().args(["step-1", "--solution", "--context", "."]).assert().code(2);
}

#[test]
fn outside_a_workshop_exits_2_and_says_where_to_go() {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.current_dir(empty.path()).env_remove("CHECKER_WORKSHOP").arg("list");
    assert_cmd::Command::from_std(cmd)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not inside a workshop").and(predicate::str::contains("--workshop")));
}

#[test]
fn the_workshop_is_found_from_a_step_folder() {
    let mut cmd = Command::cargo_bin("checker").unwrap();
    let step = common::manifest().steps.pop().unwrap();
    cmd.current_dir(common::workshop().join(&step.dir).join("src"))
        .env_remove("CHECKER_WORKSHOP")
        .args(["hint", &step.id]);
    assert_cmd::Command::from_std(cmd).assert().success().stdout(predicate::str::contains(step.book));
}

#[test]
fn a_missing_docker_client_exits_2_and_names_the_variable() {
    checker()
        .env("CHECKER_DOCKER", "/nonexistent/docker")
        .arg("step-1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such program").and(predicate::str::contains("CHECKER_DOCKER")));
}

#[test]
fn an_engine_that_does_not_answer_exits_2_and_says_to_start_it() {
    let sock = tempfile::tempdir().unwrap();
    checker()
        .env("DOCKER_HOST", format!("unix://{}/no.sock", sock.path().display()))
        .args(["step-1", "--format", "json"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("\"error\""))
        .stderr(predicate::str::contains("does not answer").and(predicate::str::contains("Start it")));
}

#[test]
fn a_bad_manifest_exits_2_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("workshop.toml"), "format_version = 7\n").unwrap();
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.args(["--workshop"]).arg(dir.path()).arg("list");
    assert_cmd::Command::from_std(cmd)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("workshop.toml").and(predicate::str::contains("update the checker")));
}

#[test]
fn grading_formats_are_checked_before_anything_is_built() {
    let with = |args: &[&str]| {
        let out = checker()
            .env("CHECKER_DOCKER", "/nonexistent/docker")
            .env_remove("GITHUB_OUTPUT")
            .args(args)
            .assert()
            .code(2);
        String::from_utf8_lossy(&out.get_output().stderr).into_owned()
    };
    assert!(with(&["grade", "--format", "classroom"]).contains("$GITHUB_OUTPUT"));
    assert!(with(&["grade", "--format", "json", "--format", "junit"]).contains("must be alone there"));
    assert!(with(&["grade", "--format", "junit", "--format", "github"]).contains("must be alone there"));
    assert!(with(&["grade", "--format", "xml"]).contains("unknown format `xml`"));
    assert!(with(&["grade", "--format", "junit="]).contains("names no file"));
    assert!(with(&["grade", "--steps", "4-2"]).contains("runs backwards"));
    let unknown = past_the_last().to_string();
    assert!(with(&["grade", "--steps", &unknown]).contains(&format!("unknown step `{unknown}`")));
    assert!(with(&["grade", "--jobs", "0"]).contains("--jobs"));
    assert!(with(&["step-1", "--format", "junit"]).contains("only `checker grade` writes junit"));
    // Valid formats get as far as the engine, which is missing here.
    assert!(with(&["grade", "--format", "junit=report.xml"]).contains("/nonexistent/docker"));
    let mixed = ["grade", "--format", "human", "--format", "github", "--format", "json=g.json"];
    assert!(with(&mixed).contains("/nonexistent/docker"));
}

/// Finding 10 of the hardening issue: a report path that cannot be written fails at once,
/// before minutes of grading, and names the path.
#[test]
fn a_report_path_that_cannot_be_written_fails_before_grading() {
    let ok = tempfile::tempdir().unwrap();
    let json = ok.path().join("ok.json");
    let started = std::time::Instant::now();
    let out = checker()
        .args(["grade", "--format", "junit=/nonexistent/dir/r.xml", "--format"])
        .arg(format!("json={}", json.display()))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("cannot write the report /nonexistent/dir/r.xml"), "{err}");
    assert!(!err.contains("grading"), "nothing was graded: {err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!json.exists(), "the check leaves no empty report behind");
}

/// Finding 13: with `--format json`, a usage error is JSON on stdout too.
#[test]
fn a_usage_error_with_format_json_is_json() {
    for args in [&["step-1", "--format", "json", "--bogus"][..], &["step-1", "--format=json", "--bogus"]] {
        let out = checker().args(args).assert().code(2);
        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON on stdout");
        assert!(v["error"].as_str().unwrap().contains("--bogus"), "{v}");
    }
    // Help is no error.
    checker().args(["--format", "json", "--help"]).assert().code(0).stdout(predicate::str::contains("Usage"));
}

/// Finding 7: without --ci, a manifest whose ids or paths would lead out of the workshop is
/// refused before anything is written.
#[test]
fn a_manifest_pointing_out_of_the_workshop_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let evil = tempfile::tempdir().unwrap();
    let log = evil.path().join("evil");
    let manifest = std::fs::read_to_string(common::root().join("workshop.toml")).unwrap().replacen(
        "id = \"step-1\"",
        &format!("id = \"{}\"", log.display()),
        1,
    );
    std::fs::write(dir.path().join("workshop.toml"), manifest).unwrap();
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.current_dir(dir.path()).args(["grade", "--steps", "all"]);
    let out = assert_cmd::Command::from_std(cmd).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("must be lowercase letters, digits and dashes"), "{err}");
    assert_eq!(std::fs::read_dir(evil.path()).unwrap().count(), 0, "nothing written there");
    let change = std::fs::read_to_string(common::root().join("workshop.toml"))
        .unwrap()
        .replace("change = \"src/main.rs\"", "change = \"/tmp/victim3\"");
    std::fs::write(dir.path().join("workshop.toml"), change).unwrap();
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.current_dir(dir.path()).args(["grade"]);
    let out = assert_cmd::Command::from_std(cmd).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("`change`") && err.contains("relative path inside the workshop"), "{err}");
}

/// A reader that went away (`checker list | head -0`, a killed CI job) is no panic (exit
/// 101): the output is lost and the checker ends with the code it would have had.
#[test]
fn a_closed_stdout_and_stderr_are_no_panic() {
    for (args, code) in
        [(&["list"][..], 0), (&["list", "--format", "json"], 0), (&["hint", "step-1"], 0), (&["step-99"], 2)]
    {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = common::checker().args(args).stdout(writer.try_clone().unwrap()).stderr(writer).status().unwrap();
        assert_eq!(status.code(), Some(code), "checker {args:?} with its output pipes closed: {status:?}");
    }
}

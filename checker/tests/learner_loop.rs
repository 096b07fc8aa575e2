//! The learner's loop around `checker step-N`: `list` draws each step's last image size
//! against its limit, `reset` puts a step's starting files back (from git) and keeps the
//! learner's, `explain` shows a check's page of the book offline. Only the last test
//! needs an engine.
#![cfg(unix)] // `script` for a terminal

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const GB: u64 = 1_000_000_000;
const MB: u64 = 1_000_000;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `checker --workshop DIR args…`, with no terminal and no colour preference.
fn run(workshop: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.arg("--workshop").arg(workshop).args(args).env_remove("NO_COLOR").env_remove("PAGER");
    cmd.output().expect("checker runs")
}

/// A workshop holding only the manifest and a state file with these last results.
fn workshop_with_state(state: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(common::root().join("workshop.toml"), dir.path().join("workshop.toml")).unwrap();
    fs::create_dir_all(dir.path().join(".checker")).unwrap();
    fs::write(dir.path().join(".checker/state.json"), serde_json::to_string(state).unwrap()).unwrap();
    dir
}

fn result(passed: bool, failed: &[&str], size: u64, limit: u64) -> Value {
    serde_json::json!({ "passed": passed, "at": 1, "failed": failed, "size_bytes": size, "size_limit_bytes": limit })
}

/// The workshop's journey: 1.16 GB four times, 75.7 MB, then 1.9 MB three times (step 8
/// failing two checks), each against its step's limit.
fn journey() -> Value {
    let mut state = serde_json::Map::new();
    for n in 1..=4 {
        state.insert(format!("step-{n}"), result(true, &[], 1_161_479_715, 3 * GB));
    }
    state.insert("step-5".into(), result(true, &[], 75_700_000, 150 * MB));
    for n in 6..=7 {
        state.insert(format!("step-{n}"), result(true, &[], 1_900_000, 20 * MB));
    }
    state.insert("step-8".into(), result(false, &["exposes-port", "exec-entrypoint"], 1_900_000, 20 * MB));
    Value::Object(state)
}

fn line<'a>(text: &'a str, step: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(&format!("{step} "))).unwrap_or_else(|| panic!("no line for {step}:\n{text}"))
}

/// The bar of a plain list line: its `#` blocks and where its `|` limit mark is, counted
/// from the bar's start.
fn bar(line: &str) -> (usize, usize) {
    let status = line.find("passed  ").or_else(|| line.find("failed  "));
    let start = status.unwrap_or_else(|| panic!("no bar in {line:?}")) + "passed  ".len();
    let bar = &line[start..];
    let mark = bar.find('|').unwrap_or_else(|| panic!("no limit mark in {line:?}"));
    (bar.chars().take_while(|&c| c != ' ').filter(|&c| c == '#').count(), mark)
}

#[test]
fn list_draws_each_size_against_its_limit_with_bars_that_grow_with_the_size() {
    let workshop = workshop_with_state(&journey());
    let out = run(workshop.path(), &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(['\x1b', '█', '│']), "a pipe gets plain characters, no colour:\n{text}");
    for l in text.lines() {
        assert!(l.chars().count() <= 100, "{} columns: {l:?}", l.chars().count());
    }
    let bars: Vec<(usize, usize)> = (1..=8).map(|n| bar(line(&text, &format!("step-{n}")))).collect();
    assert!(bars[1..4].iter().all(|b| *b == bars[0]), "steps 1-4 measured the same: {bars:?}\n{text}");
    assert!(bars[6..].iter().all(|b| *b == bars[5]), "steps 6-8 measured the same: {bars:?}\n{text}");
    let (toolchain, slim, scratch) = (bars[0].0, bars[4].0, bars[5].0);
    assert!(scratch >= 1, "the smallest image still shows: {bars:?}\n{text}");
    assert!(toolchain > slim + 2 && slim > scratch + 2, "the bars grow with the size: {bars:?}\n{text}");
    assert!(bars[0].1 > bars[4].1 && bars[4].1 > bars[5].1, "3 GB, 150 MB, 20 MB marks in order: {bars:?}");
    for (n, &(filled, mark)) in bars.iter().enumerate() {
        assert!(filled <= mark, "step-{} is under its limit, its bar stops before the mark: {text}", n + 1);
    }
    assert!(line(&text, "step-1").ends_with("1.16 GB / 3 GB"), "{text}");
    assert!(line(&text, "step-5").ends_with("75.7 MB / 150 MB"), "{text}");
    assert!(line(&text, "step-6").ends_with("1.9 MB / 20 MB"), "{text}");
    let eight = line(&text, "step-8");
    assert!(eight.contains("✗ failed") && eight.ends_with("1.9 MB / 20 MB  ← next"), "{text}");
    let below = text.lines().skip_while(|l| !l.starts_with("step-8")).nth(1).unwrap_or_default();
    assert_eq!(below.trim(), "failed: exposes-port, exec-entrypoint", "{text}");
    assert!(text.contains("log scale"), "the scale is named: {text}");
}

#[test]
fn an_image_over_its_limit_runs_past_the_mark_and_old_results_have_no_bar() {
    let mut state = journey();
    state["step-5"] = result(false, &["image-size", "multi-stage"], 1_161_479_715, 150 * MB);
    // Written by a checker that did not record sizes yet.
    state["step-6"] = serde_json::json!({ "passed": false, "at": 1, "failed": ["image-size"] });
    let workshop = workshop_with_state(&state);
    let text = stdout(&run(workshop.path(), &["list"]));
    let (filled, mark) = bar(line(&text, "step-5"));
    assert!(filled > mark, "1.16 GB passes the 150 MB mark: {text}");
    assert!(line(&text, "step-5").ends_with("1.16 GB / 150 MB  ← next"), "{text}");
    let six = line(&text, "step-6");
    assert!(six.ends_with("✗ failed: image-size") && !six.contains('|'), "{text}");
}

#[test]
fn list_as_json_has_the_recorded_size_and_limit() {
    let mut state = journey();
    state["step-6"] = serde_json::json!({ "passed": true, "at": 1, "failed": [] });
    let workshop = workshop_with_state(&state);
    let out = run(workshop.path(), &["list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let steps: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(steps[0]["last"]["size_bytes"], 1_161_479_715u64, "{steps:#}");
    assert_eq!(steps[0]["last"]["size_limit_bytes"], 3 * GB, "{steps:#}");
    assert_eq!(steps[4]["last"]["size_bytes"], 75_700_000u64, "{steps:#}");
    assert_eq!(steps[4]["last"]["size_limit_bytes"], 150 * MB, "{steps:#}");
    assert!(steps[5]["last"]["size_bytes"].is_null() && steps[5]["last"]["passed"] == true, "{steps:#}");
    assert_eq!(steps[7]["last"]["failed"], serde_json::json!(["exposes-port", "exec-entrypoint"]));
}

/// Runs `checker --workshop DIR args` in a pseudo-terminal (`script`); returns what it showed.
fn in_a_terminal(workshop: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let checker = Command::cargo_bin("checker").unwrap();
    let quote = |w: &str| format!("'{}'", w.replace('\'', "'\\''"));
    let mut words = vec![quote(checker.get_program().to_str().unwrap()), "--workshop".into()];
    words.push(quote(workshop.to_str().unwrap()));
    words.extend(args.iter().map(|a| quote(a)));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &words.join(" "), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("COLUMNS", "120")
        .env_remove("NO_COLOR")
        .env_remove("PAGER")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("`script` (util-linux) runs");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    stdout(&out)
}

#[test]
fn a_terminal_gets_block_bars_and_no_color_gets_plain_ones() {
    let workshop = workshop_with_state(&journey());
    let fancy = in_a_terminal(workshop.path(), &["list"], &[]);
    assert!(fancy.contains('█') && fancy.contains('│') && fancy.contains('\x1b'), "{fancy:?}");
    let shown = console::strip_ansi_codes(&fancy).into_owned();
    for l in shown.lines() {
        assert!(l.trim_end().chars().count() <= 100, "{} columns: {l:?}", l.chars().count());
    }
    let plain = in_a_terminal(workshop.path(), &["list"], &[("NO_COLOR", "1")]);
    assert!(
        !plain.contains('\x1b') && !plain.contains('█') && plain.contains("#.") && plain.contains('|'),
        "{plain:?}"
    );
}

/// A copy of the workshop (manifest and steps) in a new temporary folder, where no git
/// repository above it can be found.
fn workshop_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("workshop");
    fs::create_dir_all(&root).unwrap();
    fs::copy(common::root().join("workshop.toml"), root.join("workshop.toml")).unwrap();
    common::copy_tree_without(&common::root().join("steps"), &root.join("steps"), &["target"]);
    (parent, root)
}

fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=Learner", "-c", "user.email=learner@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// `checker reset` in `root`, where git looks no further up than `root`'s parent.
fn reset(root: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.arg("--workshop").arg(root).arg("reset").args(args);
    cmd.env("GIT_CEILING_DIRECTORIES", root.parent().unwrap());
    cmd.output().expect("checker runs")
}

fn backups(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak-"))
        .collect();
    names.sort();
    names
}

#[test]
fn reset_restores_the_starting_files_from_git_and_keeps_the_learners() {
    let (_parent, root) = workshop_copy();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "the workshop"]);
    let step = root.join("steps/step-2");
    let (dockerfile, ignore) = (fs::read_to_string(step.join("Dockerfile")).unwrap(), step.join(".dockerignore"));
    let ignore_text = fs::read_to_string(&ignore).unwrap();
    let mine = format!("{dockerfile}WORKDIR /app\nCOPY . .\n");
    fs::write(step.join("Dockerfile"), &mine).unwrap();
    fs::write(&ignore, "target/\n").unwrap();

    let out = reset(&root, &["step-2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    let names = backups(&step);
    assert_eq!(names.len(), 2, "{names:?}\n{said}");
    let kept = names.iter().find(|n| n.starts_with("Dockerfile.bak-")).expect("the Dockerfile kept");
    let stamp = &kept["Dockerfile.bak-".len()..];
    assert!(
        stamp.len() == 15 && stamp.as_bytes()[8] == b'-' && stamp.chars().filter(char::is_ascii_digit).count() == 14,
        "Dockerfile.bak-YYYYMMDD-HHMMSS: {kept}"
    );
    assert!(names.contains(&format!(".dockerignore.bak-{stamp}")), "{names:?}");
    assert_eq!(fs::read_to_string(step.join(kept)).unwrap(), mine, "the learner's version is kept");
    assert_eq!(fs::read_to_string(step.join(format!(".dockerignore.bak-{stamp}"))).unwrap(), "target/\n");
    assert_eq!(fs::read_to_string(step.join("Dockerfile")).unwrap(), dockerfile, "the original is back");
    assert_eq!(fs::read_to_string(&ignore).unwrap(), ignore_text);
    assert!(said.contains(&format!("kept your steps/step-2/Dockerfile as steps/step-2/{kept}")), "{said}");
    assert!(said.contains("restored steps/step-2/Dockerfile from git (HEAD)"), "{said}");

    // Again: nothing to do, and it says so.
    let out = reset(&root, &["2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));
    assert_eq!(backups(&step), names, "no new backup");

    // A step whose .dockerignore is untouched keeps no copy of it; a deleted Dockerfile
    // comes back without a backup.
    let three = root.join("steps/step-3");
    let original = fs::read(three.join("Dockerfile")).unwrap();
    fs::remove_file(three.join("Dockerfile")).unwrap();
    let out = reset(&root, &["step-3", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files"][0]["status"], "restored", "{json:#}");
    assert_eq!(json["files"][1]["status"], "unchanged", "{json:#}");
    assert_eq!(fs::read(three.join("Dockerfile")).unwrap(), original);
    assert!(backups(&three).is_empty(), "{:?}", backups(&three));
}

#[test]
fn reset_outside_git_is_a_clear_exit_2_that_changes_nothing() {
    let (_parent, root) = workshop_copy();
    let step = root.join("steps/step-4");
    let mine = "FROM scratch\n# my work\n";
    fs::write(step.join("Dockerfile"), mine).unwrap();
    let before: Vec<String> =
        fs::read_dir(&step).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
    let out = reset(&root, &["step-4"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("is not a git checkout") && err.contains("your files were left as they are"), "{err}");
    assert!(err.contains("steps/step-3/solution/Dockerfile"), "it says where the step starts from: {err}");
    assert_eq!(fs::read_to_string(step.join("Dockerfile")).unwrap(), mine);
    let after: Vec<String> =
        fs::read_dir(&step).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
    assert_eq!(after.len(), before.len(), "no file added: {after:?}");
    let unknown = reset(&root, &["step-42"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stdout(&unknown));
}

#[test]
fn explain_shows_every_check_page_with_its_includes_resolved() {
    // Read-only: the pages and what they include, in the repository.
    let root = common::root();
    let manifest = common::manifest();
    for id in manifest.checks.keys() {
        let out = run(&root, &["explain", id]);
        assert_eq!(out.status.code(), Some(0), "{id}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains("{{#"), "{id}: a directive is left:\n{text}");
        assert!(!text.contains("cannot be read"), "{id}: an include is missing:\n{text}");
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with(&format!("{id}: ")), "{id}: the page's title comes first: {first:?}");
        assert!(text.contains("Introduced in:"), "{id}: the generated facts are included:\n{text}");
        assert!(!text.contains("](") && !text.contains("\x1b"), "{id}: links are rendered, no colour in a pipe");
    }
    // The pages that show a solution show all of it.
    for (id, solution) in [("dependency-cache", 3), ("multi-stage", 5), ("exec-entrypoint", 8)] {
        let text = stdout(&run(&root, &["explain", id]));
        let dockerfile = fs::read_to_string(root.join(format!("steps/step-{solution}/solution/Dockerfile"))).unwrap();
        assert!(text.contains(dockerfile.trim_end()), "{id} shows step {solution}'s solution:\n{text}");
    }
    let text = stdout(&run(&root, &["explain", "dependency-cache"]));
    assert!(text.contains("responds-on-port (checker explain responds-on-port)"), "{text}");
    assert!(text.contains("Step 3 (checker explain step-3)"), "{text}");
    let chapter = run(&root, &["explain", "step-3"]);
    assert_eq!(chapter.status.code(), Some(0), "{}", stderr(&chapter));
    assert!(!stdout(&chapter).contains("{{#") && stdout(&chapter).starts_with("Step 3"), "{}", stdout(&chapter));
    let json: Value =
        serde_json::from_slice(&run(&root, &["explain", "image-size", "--format", "json"]).stdout).unwrap();
    assert!(json["markdown"].as_str().unwrap().starts_with("# image-size"), "{json:#}");
}

#[test]
fn explain_of_an_unknown_id_exits_2_listing_the_known_ones() {
    let out = run(&common::root(), &["explain", "image-sise"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("unknown check `image-sise`"), "{err}");
    for id in common::manifest().checks.keys() {
        assert!(err.contains(id.as_str()), "{id} is not listed: {err}");
    }
    // A workshop without its book says where to read the page instead.
    let bookless = workshop_with_state(&serde_json::json!({}));
    let out = run(bookless.path(), &["explain", "image-size"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Read it online at http://localhost:3000/checks/image-size.html"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_pages_through_the_pager_in_a_terminal_only() {
    let root = common::root();
    let paged = in_a_terminal(&root, &["explain", "image-size"], &[("PAGER", "sed s/^/PAGED:/")]);
    assert!(paged.lines().next().unwrap_or_default().starts_with("PAGED:image-size: "), "{paged:?}");
    assert!(!paged.contains('\x1b'), "a pager other than less gets no colour: {paged:?}");
    let fallback = in_a_terminal(&root, &["explain", "image-size"], &[("PAGER", "/nonexistent/pager")]);
    assert!(console::strip_ansi_codes(&fallback).starts_with("image-size: "), "printed instead: {fallback:?}");
    let mut cmd = Command::cargo_bin("checker").unwrap();
    let piped = cmd.arg("--workshop").arg(&root).args(["explain", "image-size"]).env("PAGER", "sed s/^/PAGED:/");
    let text = stdout(&piped.output().unwrap());
    assert!(text.starts_with("image-size: ") && !text.contains("PAGED:"), "no pager in a pipe: {text:?}");
}

/// The one engine test: a real check of step 1 (its learner's files are the solution)
/// records the image's size and limit, which `list` then shows.
#[test]
fn a_real_check_records_the_size_that_list_shows() {
    common::require_docker();
    let repo = common::student_repo(&[1], &[]);
    let out = run(repo.path(), &["step-1", "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}): {}\n{}", stdout(&out), stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    common::assert_nothing_left(report["run_id"].as_str().unwrap());
    let size = report["image"]["size_bytes"].as_u64().expect("a size");
    let steps: Value = serde_json::from_slice(&run(repo.path(), &["list", "--format", "json"]).stdout).unwrap();
    assert_eq!(steps[0]["last"]["size_bytes"], size, "{steps:#}");
    assert_eq!(steps[0]["last"]["size_limit_bytes"], 3 * GB, "{steps:#}");
    let text = stdout(&run(repo.path(), &["list"]));
    let one = line(&text, "step-1");
    // As docker prints sizes (decimal units), without trailing zeros.
    let number =
        if size >= GB { format!("{:.2} GB", size as f64 / 1e9) } else { format!("{:.1} MB", size as f64 / 1e6) };
    let (digits, unit) = number.split_once(' ').unwrap();
    let label = format!("{} {unit} / 3 GB", digits.trim_end_matches('0').trim_end_matches('.'));
    assert!(one.contains("✓ passed") && one.ends_with(&label), "{label}: {text}");
    let (filled, mark) = bar(one);
    assert!(filled > 0 && filled <= mark, "{text}");
    assert!(line(&text, "step-2").ends_with("not checked yet  ← next"), "{text}");
}

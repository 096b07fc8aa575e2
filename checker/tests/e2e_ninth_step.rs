//! A step is data: a workshop that adds a ninth step in its manifest and its folder, with no
//! change to the checker, is checked, fails and graded like the shipped ones.
//!
//! The fixture is the real workshop plus one step after its last: a copy of the last step's
//! folder and solution, whose manifest entry introduces one more check of a kind an earlier
//! step already uses (`files-absent`, with other patterns: no `Cargo.lock` in the final
//! image), and whose starting point is the last step's solution with the one mistake that
//! check is about.

mod common;

use std::path::Path;

use checker::manifest::{FILE_NAME, Kind, Manifest};
use common::{assert_nothing_left, checker_in, ids_with_status, require_docker, run_json_in};

/// The new check: a second `files-absent`, with a pattern of its own.
const CHECK: &str = "no-lockfile-in-final";

/// What the starting point adds to the last step's solution: the lock file, copied into
/// the final stage from the builder (whose WORKDIR holds it).
const MISTAKE: &str = "\n# TODO: the lock file came along; the final image needs only the binary.\n\
                       COPY --from=builder /app/Cargo.lock /Cargo.lock\n";

/// The new step's id and number: the one after the manifest's last.
fn next_step() -> (String, usize) {
    let n = common::manifest().steps.len() + 1;
    (format!("step-{n}"), n)
}

/// The manifest entry of the new step and its check, appended to the real manifest.
fn entry(id: &str, size_limit: &str) -> String {
    format!(
        r#"
[[steps]]
id = "{id}"
title = "Nothing but the binary"
concept = "final image contents"
dir = "steps/{id}"
solution = "steps/{id}/solution"
book = "{id}.html"
points = 5
size_limit = "{size_limit}"
checks = ["{CHECK}"]
start_fails = ["{CHECK}"]
hint = """
Copy the binary alone into the final stage: not the lock file."""

[checks.{CHECK}]
kind = "files-absent"
title = "The final image holds no Cargo.lock"
patterns = ["**/Cargo.lock"]
why = "The lock file lists every dependency and its version: an inventory for an attacker, and nothing the server reads."
fix = "Remove the COPY that brings Cargo.lock into the final stage."
"#
    )
}

/// A temporary workshop: the real one plus the new step, with its starting point, or with
/// its solution laid over it when `solved`.
fn fixture(solved: bool) -> tempfile::TempDir {
    let (id, _) = next_step();
    let real = common::manifest();
    let last = real.steps.last().expect("the workshop has steps");
    let (root, dir) = (common::root(), tempfile::tempdir().unwrap());
    let text = std::fs::read_to_string(root.join(FILE_NAME)).unwrap();
    std::fs::write(dir.path().join(FILE_NAME), text + &entry(&id, &last.size_limit.to_string())).unwrap();
    common::copy_tree_without(&root.join("steps"), &dir.path().join("steps"), &["target"]);
    let step = dir.path().join("steps").join(&id);
    common::copy_tree_without(&root.join(&last.dir), &step, &["target"]);
    let solution = std::fs::read_to_string(step.join("solution/Dockerfile")).unwrap();
    let dockerfile = if solved { solution } else { solution + MISTAKE };
    std::fs::write(step.join("Dockerfile"), dockerfile).unwrap();
    dir
}

fn load(dir: &Path) -> Manifest {
    Manifest::load(&dir.join(FILE_NAME)).expect("the manifest with a ninth step loads")
}

#[test]
fn the_fixture_adds_a_second_check_of_an_existing_kind() {
    let dir = fixture(false);
    let manifest = load(dir.path());
    let (id, _) = next_step();
    let step = manifest.step(&id).unwrap();
    assert_eq!(manifest.steps.len(), common::manifest().steps.len() + 1);
    let absent = manifest.checks_for(step).into_iter().filter(|(_, c)| matches!(c.kind, Kind::FilesAbsent { .. }));
    assert!(absent.count() >= 2, "{id} adds a check of a kind an earlier step already uses");
    assert_eq!(step.start_fails, [CHECK]);
}

#[test]
fn a_ninth_step_passes_fails_and_scores_with_no_change_to_the_checker() {
    require_docker();
    let (id, n) = next_step();
    let (start, solved) = (fixture(false), fixture(true));
    let manifest = load(start.path());
    let step = manifest.step(&id).unwrap();
    let runs = manifest.checks_for(step).len();
    // The three runs at once, each on its own build: the solution, the starting point, and
    // the grade of a repository where the learner solved the step.
    let ((code, solution), (start_code, started), grade) = std::thread::scope(|s| {
        let solution = s.spawn(|| run_json_in(start.path(), &[&id, "--solution"]));
        let started = s.spawn(|| run_json_in(start.path(), &[&id]));
        let grade = s.spawn(|| {
            checker_in(solved.path())
                .args(["grade", "--steps", &n.to_string(), "--format", "json"])
                .env_remove("GITHUB_OUTPUT")
                .env_remove("GITHUB_STEP_SUMMARY")
                .output()
                .expect("checker grade runs")
        });
        (solution.join().unwrap(), started.join().unwrap(), grade.join().unwrap())
    });

    assert_eq!(ids_with_status(&solution, "fail"), Vec::<String>::new(), "{id}'s solution fails:\n{solution:#}");
    assert_eq!(code, 0, "{id} --solution: exit {code}\n{solution:#}");
    assert_eq!(ids_with_status(&solution, "pass").len(), runs, "every check of {id} ran and passed:\n{solution:#}");
    assert_eq!(common::check(&solution, CHECK)["status"], "pass");
    assert_nothing_left(solution["run_id"].as_str().unwrap());

    assert_eq!(ids_with_status(&started, "fail"), step.start_fails, "{id}'s starting point:\n{started:#}");
    assert_eq!(start_code, 1, "{id}: exit {start_code}\n{started:#}");
    let failed = common::check(&started, CHECK);
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("Cargo.lock"), "the failure names the file: {failed:#}");
    assert!(failed["book"].as_str().unwrap().ends_with(&format!("checks/{CHECK}.html")), "{failed:#}");
    assert_nothing_left(started["run_id"].as_str().unwrap());

    let stdout = String::from_utf8_lossy(&grade.stdout);
    let graded: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("grade printed no JSON ({e}):\n{stdout}\n{}", String::from_utf8_lossy(&grade.stderr))
    });
    assert_eq!(grade.status.code(), Some(0), "{graded:#}");
    assert_eq!(graded["steps"].as_array().unwrap().len(), 1, "{graded:#}");
    assert_eq!(graded["steps"][0]["step"], id.as_str());
    assert_eq!(graded["steps"][0]["status"], "pass", "{graded:#}");
    let points = serde_json::Value::from(step.points);
    assert_eq!((&graded["points"], &graded["max_points"]), (&points, &points), "{id} scores its points:\n{graded:#}");
    let report = &graded["steps"][0]["report"];
    assert_eq!(common::check(report, CHECK)["status"], "pass", "{report:#}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

//! End to end, on a real engine, for every step of the manifest: every reference solution
//! passes every check of its step, stays under the step's size limit and measures what the
//! book records (within 1%, on every engine of the matrix); every starting point fails
//! exactly the checks its `start_fails` lists; and no run leaves a container or image
//! behind. No step is named here: the steps, their checks and what each starting point
//! fails come from `workshop.toml`, so a step added there is tested too.

mod common;

use std::sync::{Condvar, Mutex};

use checker::manifest::{Kind, Manifest, Step};
use common::{assert_nothing_left, ids_with_status, require_docker, run_json};

/// The most checker runs this test binary has at once: each build wants a core, and the
/// engine is shared with the other tests (and on CI, with two cores).
const PARALLEL: usize = 3;

/// The free places for a checker run, shared by every test of this binary.
static FREE: Mutex<usize> = Mutex::new(PARALLEL);
static FREED: Condvar = Condvar::new();

/// A place for one checker run, given back when dropped (also when its test panics).
struct Place;

fn place() -> Place {
    let mut free = FREED.wait_while(FREE.lock().unwrap_or_else(|e| e.into_inner()), |f| *f == 0).unwrap();
    *free -= 1;
    Place
}

impl Drop for Place {
    fn drop(&mut self) {
        *FREE.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        FREED.notify_one();
    }
}

/// Runs `test` on every step of the manifest, at most [`PARALLEL`] at once, and fails with
/// what failed for each step that did. `CHECKER_TEST_STEPS=step-1,step-5` (when set and not
/// empty) runs those steps only: the engine matrix (`scripts/engines.sh`) tests a few.
fn for_every_step(what: &str, test: fn(&Manifest, &Step)) {
    require_docker();
    let manifest = common::manifest();
    let only: Option<Vec<String>> = std::env::var("CHECKER_TEST_STEPS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|id| id.trim().to_string()).filter(|id| !id.is_empty()).collect());
    if let Some(only) = &only {
        let unknown: Vec<&String> = only.iter().filter(|id| !manifest.steps.iter().any(|s| s.id == **id)).collect();
        assert!(unknown.is_empty(), "CHECKER_TEST_STEPS names steps the manifest has not: {unknown:?}");
    }
    let steps: Vec<&Step> =
        manifest.steps.iter().filter(|s| only.as_ref().is_none_or(|only| only.contains(&s.id))).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = steps
            .iter()
            .map(|&step| {
                let manifest = &manifest;
                (step, scope.spawn(move || test(manifest, step)))
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(step, run)| run.join().err().map(|panic| format!("--- {}:\n{}", step.id, message(&*panic))))
            .collect()
    });
    assert!(failures.is_empty(), "{what}: {} of {} steps failed\n{}", failures.len(), steps.len(), failures.join("\n"));
}

fn message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The ids of the step's checks that `start_fails` lists, in the order they run.
fn start_fails(manifest: &Manifest, step: &Step) -> Vec<String> {
    manifest
        .checks_for(step)
        .into_iter()
        .map(|(id, _)| id.to_string())
        .filter(|id| step.start_fails.contains(id))
        .collect()
}

/// The id of the first check of the step with a kind `is`, if it runs one.
fn check_of(manifest: &Manifest, step: &Step, is: fn(&Kind) -> bool) -> Option<String> {
    manifest.checks_for(step).into_iter().find(|(_, c)| is(&c.kind)).map(|(id, _)| id.to_string())
}

fn solution_passes(manifest: &Manifest, step: &Step) {
    let (code, report) = {
        let _place = place();
        run_json(&[&step.id, "--solution"])
    };
    let id = &step.id;
    assert_eq!(ids_with_status(&report, "fail"), Vec::<String>::new(), "{id}'s solution fails:\n{report:#}");
    assert_eq!(code, 0, "{id}'s solution: exit {code}\n{report:#}");
    assert_eq!(report["passed"], true);
    let expected = manifest.checks_for(step).len();
    assert_eq!(ids_with_status(&report, "pass").len(), expected, "every check of {id} ran and passed:\n{report:#}");
    let size = report["image"]["size_bytes"].as_u64().expect("a measured size");
    let limit = report["image"]["size_limit_bytes"].as_u64().unwrap();
    assert!(size > 0 && size <= limit, "{id}: {size} bytes over the limit {limit}");
    if let Some(recorded) = recorded_size(id) {
        let off = (size as f64 - recorded as f64).abs() / recorded as f64;
        assert!(
            off <= SIZE_AGREEMENT,
            "{id}: the checker measures {size} B on this engine ({}), the book {recorded} B \
             (bench/results.json, Docker 20.10): {:.2}% apart, over the {:.0}% that one size \
             figure allows across engines",
            report["engine"],
            off * 100.0,
            SIZE_AGREEMENT * 100.0
        );
    }
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

/// How far a solution's size may stray from the book's on any engine: the size is the
/// files in the image's layers (checker/README.md), which no image store changes.
const SIZE_AGREEMENT: f64 = 0.01;

/// The size bench/bench.py recorded for a step's solution, which the book quotes.
fn recorded_size(id: &str) -> Option<u64> {
    let path = common::root().join("bench/results.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    results["steps"].as_array()?.iter().find(|s| s["step"] == id)?["size_bytes"].as_u64()
}

fn starting_point_fails(manifest: &Manifest, step: &Step) {
    let (code, report) = {
        let _place = place();
        run_json(&[&step.id])
    };
    let id = &step.id;
    let expected = start_fails(manifest, step);
    assert_eq!(
        ids_with_status(&report, "fail"),
        expected,
        "{id}'s starting point fails other checks than its start_fails in workshop.toml:\n{report:#}"
    );
    let passed = expected.is_empty();
    assert_eq!(code, if passed { 0 } else { 1 }, "{id}'s starting point: exit {code}\n{report:#}");
    assert_eq!(report["passed"], passed);
    // A step's lesson: the checks it introduces, and the size check when it lowers the limit.
    let index = manifest.steps.iter().position(|s| s.id == *id).unwrap();
    let mut own = step.checks.clone();
    if index > 0 && step.size_limit < manifest.steps[index - 1].size_limit {
        own.extend(check_of(manifest, step, |k| matches!(k, Kind::ImageSize {})));
    }
    assert!(
        expected.iter().any(|id| own.contains(id)),
        "{id}'s starting point fails none of the checks the step introduces ({own:?}): it fails {expected:?}"
    );
    for failed in &expected {
        let c = common::check(&report, failed);
        assert!(!c["message"].as_str().unwrap().is_empty() && !c["hint"].as_str().unwrap().is_empty(), "{id}: {c:#}");
        assert!(c["book"].as_str().unwrap().ends_with(&format!("checks/{failed}.html")), "{id}: {c:#}");
    }
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

#[test]
fn every_solution_passes_every_check_of_its_step() {
    for_every_step("every solution passes", solution_passes);
}

#[test]
fn every_starting_point_fails_exactly_its_start_fails() {
    for_every_step("every starting point fails exactly its start_fails", starting_point_fails);
}

#[test]
fn a_failed_build_skips_what_it_blocks() {
    require_docker();
    let manifest = common::manifest();
    // The first starting point that does not build.
    let (step, build) = manifest
        .steps
        .iter()
        .find_map(|s| {
            let build = check_of(&manifest, s, |k| matches!(k, Kind::Build {}))?;
            s.start_fails.contains(&build).then_some((s, build))
        })
        .expect("a starting point that does not build");
    let (_, report) = {
        let _place = place();
        run_json(&[&step.id])
    };
    let others: Vec<String> =
        manifest.checks_for(step).into_iter().map(|(id, _)| id.to_string()).filter(|id| *id != build).collect();
    assert!(!others.is_empty(), "{} runs more than its build check", step.id);
    for id in &others {
        let c = common::check(&report, id);
        assert_eq!(c["status"], "skip", "{id}: {report:#}");
        assert_eq!(c["blocked_by"], build.as_str(), "{id}");
    }
    let failed = common::check(&report, &build);
    let log = report["build_log"].as_str().unwrap();
    assert!(std::path::Path::new(log).is_file(), "the build log {log} is kept");
    assert!(failed["details"].as_str().unwrap().contains(log), "the failure names its log");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

#[test]
fn a_cold_build_gives_the_source_only_rebuild_ratio() {
    require_docker();
    let manifest = common::manifest();
    // The first step that checks a rebuild.
    let (step, rebuild) = manifest
        .steps
        .iter()
        .find_map(|s| Some((s, check_of(&manifest, s, |k| matches!(k, Kind::Rebuild { .. }))?)))
        .expect("a step with a `rebuild` check");
    // --no-cache makes the first build cold; the rebuild must still use the cache.
    let (code, report) = {
        let _place = place();
        run_json(&[&step.id, "--solution", "--no-cache"])
    };
    assert_eq!(code, 0, "{report:#}");
    let cold = report["image"]["build_seconds"].as_f64().unwrap();
    let again = report["image"]["rebuild_seconds"].as_f64().unwrap();
    assert!(again < cold, "a source-only rebuild ({again} s) is faster than a cold build ({cold} s)");
    let message = common::check(&report, &rebuild)["message"].as_str().unwrap().to_string();
    assert!(message.contains("% of the first build's"), "{message}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

#[test]
fn any_context_with_its_own_dockerfile_is_checked_against_a_step() {
    require_docker();
    let manifest = common::manifest();
    let workshop = common::workshop();
    // The last step whose solution is its Dockerfile alone: the learner's folder, built with
    // the solution's Dockerfile given by --file, is then the solution.
    let step = manifest
        .steps
        .iter()
        .rev()
        .find(|s| {
            let overlay: Vec<_> = std::fs::read_dir(workshop.join(&s.solution)).unwrap().flatten().collect();
            overlay.len() == 1 && overlay[0].file_name() == "Dockerfile"
        })
        .expect("a step whose solution changes only the Dockerfile");
    let context = workshop.join(&step.dir);
    let dockerfile = workshop.join(&step.solution).join("Dockerfile");
    let (code, report) = {
        let _place = place();
        run_json(&[&step.id, "--context", context.to_str().unwrap(), "--file", dockerfile.to_str().unwrap()])
    };
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["source"], "context");
    let named = format!("{}/Dockerfile", step.solution);
    assert!(report["dockerfile"].as_str().unwrap().ends_with(&named), "{report:#}");
    // The context: every file of the folder but the solution/ folder, which .dockerignore
    // keeps out.
    let files = walk_files(&context).into_iter().filter(|f| !f.starts_with(context.join("solution"))).count();
    assert!(files > 1, "{}: {files} files", context.display());
    assert_eq!(report["image"]["context_files"], files, "the solution/ folder is not part of the context:\n{report:#}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            files.extend(walk_files(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

//! End to end, on a real engine: every reference solution passes every check of its step
//! and stays under the step's size limit; every starting point fails, on the checks its
//! step introduces; and no run leaves a container or image behind.

mod common;

use checker::manifest::{FILE_NAME, Manifest};
use common::{assert_nothing_left, ids_with_status, require_docker, run_json};

/// What each starting point must fail: the checks its step introduces (and, where the
/// step lowers it, the size limit).
const START_FAILS: [(&str, &[&str]); 8] = [
    ("step-1", &["image-builds"]),
    ("step-2", &["workdir-set", "context-clean"]),
    ("step-3", &["dependency-cache"]),
    ("step-4", &["static-binary"]),
    ("step-5", &["image-size", "multi-stage", "no-toolchain-in-final"]),
    ("step-6", &["image-size"]),
    ("step-7", &["non-root-user", "non-root-process"]),
    ("step-8", &["exposes-port", "exec-entrypoint"]),
];

fn solution_passes(step: &str) {
    require_docker();
    let (code, report) = run_json(&[step, "--solution"]);
    assert_eq!(ids_with_status(&report, "fail"), Vec::<String>::new(), "{step}'s solution fails:\n{report:#}");
    assert_eq!(code, 0, "{step}'s solution: exit {code}\n{report:#}");
    assert_eq!(report["passed"], true);
    let manifest = Manifest::load(&common::root().join(FILE_NAME)).unwrap();
    let expected = manifest.checks_for(manifest.step(step).unwrap()).len();
    assert_eq!(ids_with_status(&report, "pass").len(), expected, "every check of {step} ran and passed");
    let size = report["image"]["size_bytes"].as_u64().expect("a measured size");
    let limit = report["image"]["size_limit_bytes"].as_u64().unwrap();
    assert!(size > 0 && size <= limit, "{step}: {size} bytes over the limit {limit}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

fn starting_point_fails(step: &str) {
    require_docker();
    let (code, report) = run_json(&[step]);
    assert_eq!(code, 1, "{step}'s starting point: exit {code}\n{report:#}");
    assert_eq!(report["passed"], false);
    let expected = START_FAILS.iter().find(|(s, _)| *s == step).unwrap().1;
    assert_eq!(
        ids_with_status(&report, "fail"),
        expected,
        "{step}'s starting point fails on its own lesson:\n{report:#}"
    );
    let manifest = Manifest::load(&common::root().join(FILE_NAME)).unwrap();
    // A step's lesson: the checks it introduces, and the size check when it lowers the limit.
    let index = manifest.steps.iter().position(|s| s.id == step).unwrap();
    let mut own = manifest.steps[index].checks.clone();
    if index > 0 && manifest.steps[index].size_limit < manifest.steps[index - 1].size_limit {
        own.push("image-size".into());
    }
    assert!(expected.iter().any(|id| own.iter().any(|o| o == id)), "{step} fails on a check it introduces");
    for failed in expected {
        let c = common::check(&report, failed);
        assert!(!c["message"].as_str().unwrap().is_empty() && !c["hint"].as_str().unwrap().is_empty());
        assert!(c["book"].as_str().unwrap().ends_with(&format!("checks/{failed}.html")));
    }
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

macro_rules! step_tests {
    ($($solution:ident, $start:ident, $step:literal;)*) => {$(
        #[test]
        fn $solution() {
            solution_passes($step);
        }
        #[test]
        fn $start() {
            starting_point_fails($step);
        }
    )*};
}

step_tests! {
    step_1_solution_passes, step_1_start_fails, "step-1";
    step_2_solution_passes, step_2_start_fails, "step-2";
    step_3_solution_passes, step_3_start_fails, "step-3";
    step_4_solution_passes, step_4_start_fails, "step-4";
    step_5_solution_passes, step_5_start_fails, "step-5";
    step_6_solution_passes, step_6_start_fails, "step-6";
    step_7_solution_passes, step_7_start_fails, "step-7";
    step_8_solution_passes, step_8_start_fails, "step-8";
}

#[test]
fn step_1_skips_what_a_failed_build_blocks() {
    require_docker();
    let (_, report) = run_json(&["step-1"]);
    for id in ["responds-on-port", "base-image-pinned", "image-size"] {
        let c = common::check(&report, id);
        assert_eq!(c["status"], "skip", "{id}");
        assert_eq!(c["blocked_by"], "image-builds", "{id}");
    }
    let build = common::check(&report, "image-builds");
    let log = report["build_log"].as_str().unwrap();
    assert!(std::path::Path::new(log).is_file(), "the build log {log} is kept");
    assert!(build["details"].as_str().unwrap().contains(log), "the failure names its log");
}

#[test]
fn a_cold_build_gives_the_source_only_rebuild_ratio() {
    require_docker();
    // --no-cache makes the first build cold; the rebuild must still use the cache.
    let (code, report) = run_json(&["step-3", "--solution", "--no-cache"]);
    assert_eq!(code, 0, "{report:#}");
    let cold = report["image"]["build_seconds"].as_f64().unwrap();
    let rebuild = report["image"]["rebuild_seconds"].as_f64().unwrap();
    assert!(rebuild < cold, "a source-only rebuild ({rebuild} s) is faster than a cold build ({cold} s)");
    let message = common::check(&report, "dependency-cache")["message"].as_str().unwrap().to_string();
    assert!(message.contains("% of the first build's"), "{message}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

#[test]
fn any_context_with_its_own_dockerfile_is_checked_against_a_step() {
    require_docker();
    // The learner's step-6 folder, built with the solution's Dockerfile given by --file.
    let root = common::root();
    let context = root.join("steps/step-6");
    let dockerfile = root.join("steps/step-6/solution/Dockerfile");
    let (code, report) =
        run_json(&["step-6", "--context", context.to_str().unwrap(), "--file", dockerfile.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["source"], "context");
    assert!(report["dockerfile"].as_str().unwrap().ends_with("steps/step-6/solution/Dockerfile"), "{report:#}");
    assert_eq!(
        report["image"]["context_files"], 5,
        "the solution/ folder is not part of the context: .dockerignore keeps it out"
    );
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

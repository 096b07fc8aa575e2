//! End to end, on a real engine: the classic cache-mount mistake, a `COPY --from` of the
//! binary's path in `target/` when `target/` is a cache mount, is named as the cause both
//! by the static check and by the failed build's fix.

mod common;

use checker::manifest::Kind;
use common::{assert_nothing_left, require_docker, run_json};

#[test]
fn a_binary_copied_from_a_cache_mount_is_named_as_the_cause() {
    require_docker();
    let manifest = common::manifest();
    // The step that introduces a cache-mount-reads check: its solution uses cache mounts.
    let (step, id) = manifest
        .steps
        .iter()
        .find_map(|s| {
            let id = s.checks.iter().find(|id| matches!(manifest.checks[*id].kind, Kind::CacheMountReads {}))?;
            Some((s, id.clone()))
        })
        .expect("a step with a `cache-mount-reads` check");
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree_without(&common::root().join(&step.dir), dir.path(), &["target", "solution"]);
    let solution = std::fs::read_to_string(common::root().join(&step.solution).join("Dockerfile")).unwrap();
    let cp = " \\\n && cp \"target/$(uname -m)-unknown-linux-gnu/release/server\" /app/server";
    let copy = "COPY --from=builder --chmod=0555 /app/server /server";
    assert!(solution.contains(cp) && solution.contains(copy), "{} changed: update this test", step.solution);
    let wrong = "COPY --from=builder --chmod=0555 /app/target/x86_64-unknown-linux-gnu/release/server /server";
    let mistake = solution.replace(cp, "").replace(copy, wrong);
    std::fs::write(dir.path().join("Dockerfile"), &mistake).unwrap();
    let line = mistake.lines().position(|l| l == wrong).unwrap() + 1;

    let (code, report) = run_json(&[&step.id, "--context", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{report:#}");
    let build = common::check(&report, "image-builds");
    assert_eq!(build["status"], "fail", "{report:#}");
    assert_eq!(build["line"], line, "{build:#}");
    let fix = build["hint"].as_str().unwrap();
    assert!(
        fix.contains("under /app/target: the cache mount of the RUN on line")
            && fix.contains("within the RUN that mounts it"),
        "the failed build's fix names the cache mount: {build:#}"
    );
    let reads = common::check(&report, &id);
    assert_eq!(reads["status"], "fail", "{reads:#}");
    assert_eq!(reads["line"], line, "{reads:#}");
    assert!(reads["message"].as_str().unwrap().contains("reads /app/target/x86_64"), "{reads:#}");
    assert!(reads["book"].as_str().unwrap().ends_with(&format!("checks/{id}.html")), "{reads:#}");
    assert_nothing_left(report["run_id"].as_str().unwrap());
}

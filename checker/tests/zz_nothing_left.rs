//! Runs last (cargo runs test binaries in name order): after every other test of the
//! checker, nothing the checker labels is left on the engine, no checker process is still
//! running, and the tests wrote no `.checker/` into the repository. A test that leaks shows
//! up here even when its own assertions missed it.

mod common;

use std::process::Command;

#[test]
fn the_whole_suite_left_nothing_behind() {
    common::require_docker();
    let listings = [
        ("container", &["ps", "-a"][..], "{{.ID}} {{.Names}}"),
        // Untagged images are a builder's cache (Podman's intermediate images), not a run's.
        ("image", &["images", "--filter", "dangling=false"][..], "{{.ID}} {{.Repository}}:{{.Tag}}"),
    ];
    for (what, list, format) in listings {
        let out = Command::new(common::docker_bin())
            .args(list)
            .args(["--filter", "label=dev.workshop.checker", "--format", format])
            .output()
            .expect("docker runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let left = String::from_utf8_lossy(&out.stdout);
        assert!(
            left.trim().is_empty(),
            "a {what} labelled dev.workshop.checker is left on the engine after the tests (or a checker you ran yourself is still running):\n{left}"
        );
    }
    let checker = std::path::Path::new(env!("CARGO_BIN_EXE_checker")).canonicalize().unwrap();
    let running: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("exe")).is_ok_and(|exe| exe == checker))
        .map(|p| p.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(running.is_empty(), "checker processes of the tests still run: pids {running:?}");
    let repo = common::root().join(".checker");
    assert!(!repo.exists(), "the tests wrote {} into the repository", repo.display());
}

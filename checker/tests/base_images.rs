//! scripts/base-images.sh on a real engine: idempotent, and a stand-in Rust image must
//! match its tag.

mod common;

use std::process::Command;

use common::{docker_bin, require_docker, root};

fn script(envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/base-images.sh")).env("CHECKER_DOCKER", docker_bin());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("bash runs")
}

#[test]
fn a_second_run_finds_both_images_and_changes_nothing() {
    require_docker();
    let out = script(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("debian:bookworm-slim: present"), "{stdout}");
    assert!(stdout.contains("rust:1.95-slim-bookworm: present"), "{stdout}");
}

#[test]
fn a_stand_in_whose_version_does_not_match_its_tag_is_refused() {
    require_docker();
    // A tag no registry has: the pull fails, and the host's toolchain is not 0.0.
    let out = script(&[("RUST_TAG", "rust:0.0-checker-test")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the script must refuse");
    assert!(stderr.contains("but the tag is rust:0.0-checker-test: a stand-in must match its tag"), "{stderr}");
    let inspect = Command::new(docker_bin()).args(["image", "inspect", "rust:0.0-checker-test"]).output().unwrap();
    assert!(!inspect.status.success(), "no image was made under the wrong tag");
}

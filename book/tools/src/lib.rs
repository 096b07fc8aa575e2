//! Everything in `book/src/generated/` comes from here, so that the book shows only what
//! the repository really holds and measured: diffs and line attributions of the step
//! Dockerfiles, the facts of each check from the manifest, the size chart, numbers and
//! layer pictures from `bench/results.json`, and the checker's output recorded from real
//! runs.

pub mod bench;
pub mod chart;
pub mod engines;
pub mod generate;
pub mod lines;
pub mod picture;
pub mod record;

use std::path::PathBuf;

/// The repository's root (this crate lives in `book/tools`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

/// Where the generated includes live, relative to the root.
pub const GENERATED: &str = "book/src/generated";

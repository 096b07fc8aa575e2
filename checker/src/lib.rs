//! The workshop checker: builds a learner's Dockerfile for one step, runs it, measures
//! it and explains every failed check. `main.rs` is the CLI over this library.

pub mod cleanup;
pub mod context;
pub mod docker;
pub mod dockerfile;
pub mod dockerignore;
pub mod elf;
pub mod grade;
pub mod grade_report;
pub mod manifest;
pub mod outcome;
pub mod report;
pub mod rules;
pub mod runner;
pub mod state;
pub mod watch;

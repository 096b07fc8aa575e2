//! The workshop checker: builds a learner's Dockerfile for one step, runs it, measures
//! it and explains every failed check. `main.rs` is the CLI over this library.

pub mod buildkit;
pub mod checks;
pub mod cleanup;
pub mod context;
pub mod dev;
pub mod diagnosis;
pub mod docker;
pub mod dockerfile;
pub mod dockerignore;
pub mod doctor;
pub mod elf;
pub mod engine;
pub mod engine_info;
pub mod explain;
pub mod grade;
pub mod grade_report;
pub mod layers;
pub mod manifest;
pub mod names;
pub mod outcome;
pub mod progress;
pub mod report;
pub mod runner;
pub mod state;
pub mod watch;

//! The workshop checker: builds a learner's Dockerfile for one step, runs it, measures
//! it and explains every failed check. `main.rs` is the CLI over this library.

/// `println!` that ignores a closed stdout: when the reader has gone (`checker list |
/// head -1`, a killed CI job), the checker must go on to clean up, not panic.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that ignores a closed stdout (see [`outln!`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr (see [`outln!`]).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

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

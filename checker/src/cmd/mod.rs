//! One module per subcommand (as in mdBook's `src/cmd/`); `main.rs` finds the workshop
//! and dispatches to them.

pub mod check;
pub mod dev;
pub mod doctor;
pub mod explain;
pub mod grade;
pub mod hint;
pub mod list;
pub mod reset;

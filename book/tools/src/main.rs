//! `book-tools generate` rewrites the book's generated includes from the repository;
//! `book-tools record` runs the checker (needs the engine) and records its output.

mod stamp;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Keeps book/src/generated/ in step with the repository and real runs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the chart, the size numbers, the diffs, the check facts and the parts of
    /// the whole Dockerfile (from workshop.toml, steps/, bench/results.json and
    /// book/parts.toml), and stamp those inputs for `checker dev check`.
    Generate,
    /// Run the checker on every step's starting point and on each mistake of
    /// book/mistakes.toml, and record its output (needs Docker; takes minutes).
    Record {
        /// Record only these steps' starting points and mistakes (by step id or mistake
        /// name), e.g. `step-9 step-9-copy-from-cache-mount`; everything when none.
        only: Vec<String>,
        /// Use target/release/checker as it is instead of building it first: for a run
        /// inside another engine's container, which has no cargo
        /// (`scripts/engines.sh exec docker-trixie target/release/book-tools record --no-build`).
        #[arg(long)]
        no_build: bool,
    },
}

fn main() -> Result<()> {
    let root = book_tools::repo_root();
    match Cli::parse().command {
        Command::Generate => {
            let files = book_tools::generate::generate(&root)?;
            let changed = book_tools::generate::write(&root, &files)?;
            let stamped = stamp::write(&root)?;
            println!(
                "{} generated files, {changed} changed, in {}{}",
                files.len(),
                book_tools::GENERATED,
                if stamped { "; the stamp of their inputs updated" } else { "" }
            );
        }
        Command::Record { only, no_build } => book_tools::record::record_all(&root, &only, !no_build)?,
    }
    Ok(())
}

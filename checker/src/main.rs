//! `checker`: verifies a workshop step for real — builds the learner's Dockerfile, runs
//! the container, measures the image — and explains each failure.
//!
//! This file finds the workshop, dispatches to a subcommand (`cmd/`, one file each) and
//! turns errors into exit codes; the command line itself is in `cli.rs`.

mod cli;
mod cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use checker::manifest::{self, Manifest};
use checker::state;

use cli::{Cli, Command, Format};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli.command {
        // Nothing to clean up, and a pager that must get Ctrl-C to itself.
        Some(Command::Explain { .. }) => cmd::explain::install_signal_handler(),
        _ => checker::cleanup::install_signal_handler(),
    }
    let result = run(&cli);
    // After a signal the handler removes what the runs created and exits with 130: a run
    // that ended because its container vanished must not exit (or report) first.
    while checker::cleanup::interrupted() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&format!("{e:#}"), cli.single_format().ok() == Some(Format::Json)),
    }
}

/// Exit 2 with the error on stderr, and as `{"error": …}` on stdout when JSON was asked for.
fn fail(error: &str, json: bool) -> ExitCode {
    let error = checker::report::plain(error);
    if json {
        let err = serde_json::json!({ "error": error });
        checker::outln!("{}", serde_json::to_string_pretty(&err).expect("json"));
    }
    checker::errln!("error: {error}");
    ExitCode::from(2)
}

/// A command line clap refused: its message, as JSON too when `--format json` was given
/// (a script reading stdout gets its `{"error": …}` for every exit 2). Help and version
/// are not errors.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    let json =
        args.iter().any(|a| a == "--format=json") || args.windows(2).any(|w| w[0] == "--format" && w[1] == "json");
    if !json {
        e.exit();
    }
    fail(e.render().to_string().trim().trim_start_matches("error: "), true)
}

/// Removes what runs killed without cleaning up (`kill -9`) left behind, and says so.
fn sweep_leftovers() {
    let docker = checker::docker::Docker::from_env();
    let removed = checker::cleanup::sweep_dead_runs(&docker, &std::env::temp_dir());
    if !removed.is_empty() {
        checker::errln!("checker: removed what killed runs left behind: {}", removed.join(", "));
    }
}

/// The workshop root: `--workshop`, or the first folder upward holding workshop.toml.
fn find_root(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        if !dir.join(manifest::FILE_NAME).is_file() {
            bail!(
                "{} holds no {}: point --workshop (or CHECKER_WORKSHOP) at the workshop's root folder",
                dir.display(),
                manifest::FILE_NAME
            );
        }
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    cwd.ancestors().find(|d| d.join(manifest::FILE_NAME).is_file()).map(Path::to_path_buf).with_context(|| {
        format!(
            "not inside a workshop: no {} in {} or any folder above it. cd into the workshop you cloned, or pass --workshop DIR",
            manifest::FILE_NAME,
            cwd.display()
        )
    })
}

fn run(cli: &Cli) -> Result<u8> {
    // The doctor works outside a workshop too: it reports a missing one as a line of its own.
    if let Some(Command::Doctor) = &cli.command {
        return Ok(cmd::doctor::run(find_root(cli.workshop.as_deref()), cli.single_format()?));
    }
    if let Some(Command::Grade(args)) = &cli.command {
        // Under --ci the repository's workshop.toml is not read, and a student who deleted
        // it must not stop the grading: the repository is then --workshop or this folder.
        let root = match find_root(cli.workshop.as_deref()) {
            Err(_) if args.ci => match &cli.workshop {
                Some(dir) => dir.clone(),
                None => std::env::current_dir().context("cannot read the current folder")?,
            },
            found => found?,
        };
        sweep_leftovers();
        return cmd::grade::run(cli, &root, args);
    }
    let root = find_root(cli.workshop.as_deref())?;
    let format = cli.single_format()?;
    let manifest = Manifest::load(&root.join(manifest::FILE_NAME))?;
    let state_path = root.join(".checker").join("state.json");
    match &cli.command {
        Some(Command::List) => {
            cmd::list::run(&manifest, &state::load(&state_path), format);
            Ok(0)
        }
        Some(Command::Hint { step }) => cmd::hint::run(&manifest, step, format),
        Some(Command::Reset { step }) => cmd::reset::run(&root, &manifest, step, format),
        Some(Command::Explain { id }) => cmd::explain::run(&root, &manifest, id, format),
        Some(Command::Dev(dev)) => cmd::dev::run(dev, &root, &manifest, format),
        Some(Command::Grade(_)) => unreachable!("graded above"),
        Some(Command::Doctor) => unreachable!("examined above"),
        None => {
            sweep_leftovers();
            cmd::check::run(cli, format, &root, &manifest, &state_path)
        }
    }
}

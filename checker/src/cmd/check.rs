//! `checker step-N`: checks one step once, or again on every save with `--watch`.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Result, bail};

use checker::manifest::Manifest;
use checker::report::Status;
use checker::runner::{self, Source, Target};
use checker::state::{self, LastResult};
use checker::watch;

use crate::cli::{Cli, Format};

pub fn run(cli: &Cli, format: Format, root: &Path, manifest: &Manifest, state_path: &Path) -> Result<u8> {
    let args = &cli.check;
    let Some(name) = &args.step else {
        bail!("name the step to check, e.g. `checker step-1` (`checker list` shows them all)");
    };
    let step = manifest.step(name)?;
    let mut target = Target::learner(manifest, step, root);
    match (&args.context, args.solution) {
        (Some(dir), _) => {
            target.source = Source::Context;
            target.layers = vec![dir.clone()];
            target.skip = vec![];
            target.label = dir.display().to_string();
        }
        (None, true) => {
            target.source = Source::Solution;
            target.layers.push(root.join(&step.solution));
            target.label = format!("{} with {} overlaid", step.dir, step.solution);
        }
        (None, false) => {}
    }
    if let Some(file) = &args.file
        && !file.is_file()
    {
        bail!("--file {}: no such file", file.display());
    }
    target.dockerfile = args.file.as_ref().map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()));
    let options = runner::Options {
        no_cache: args.no_cache,
        progress: format == Format::Human && std::io::stderr().is_terminal(),
        log_dir: root.join(".checker").join("logs"),
    };
    if !args.watch {
        return check_once(format, root, &target, &options, state_path);
    }
    // Like `rustlings watch`: a save in the editor starts the next check. A run that
    // cannot check (no Dockerfile yet, say) is reported and the watch goes on.
    let mut watched = target.layers.clone();
    watched.extend(target.dockerfile.clone());
    let mut last = None;
    loop {
        let now = watch::fingerprint(&watched);
        if last.as_ref() != Some(&now) {
            last = Some(now);
            // Clearing is for a terminal; in a pipe it would only be bytes in the output.
            if format == Format::Human && std::io::stdout().is_terminal() {
                let _ = console::Term::stdout().clear_screen();
            }
            let result = check_once(format, root, &target, &options, state_path);
            if checker::cleanup::interrupted() {
                return result;
            }
            if let Err(e) = result {
                checker::errln!("error: {}", checker::report::plain(&format!("{e:#}")));
            }
            checker::errln!("\nwatching {} for changes (Ctrl-C to stop)…", target.label);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The terminal's width; when the output is not a terminal, `COLUMNS` if set (the book
/// records reports at a fixed width), else 100.
fn report_width() -> usize {
    let columns = console::Term::stdout().size_checked().map(|(_, c)| usize::from(c));
    let columns = columns.or_else(|| std::env::var("COLUMNS").ok()?.parse().ok()).unwrap_or(100);
    columns.clamp(60, 120)
}

/// Checks once, prints the report, records the learner's result; returns the exit code.
fn check_once(
    format: Format,
    root: &Path,
    target: &Target<'_>,
    options: &runner::Options,
    state_path: &Path,
) -> Result<u8> {
    let (manifest, step, source) = (target.manifest, target.step, target.source);
    let mut report = runner::run(target, options)?;
    // An interrupted run's report would blame the learner for what the signal did.
    if checker::cleanup::interrupted() {
        return Ok(130);
    }
    if let Ok(inside) = Path::new(&report.dockerfile).strip_prefix(root) {
        report.dockerfile = inside.display().to_string();
    }
    if format == Format::Json {
        checker::outln!("{}", report.to_json());
    } else {
        checker::out!("{}", report.to_human(report_width()));
    }
    if source == Source::Learner && report.passed && format == Format::Human {
        let index = manifest.steps.iter().position(|s| s.id == step.id).unwrap_or(0);
        match manifest.steps.get(index + 1) {
            Some(next) => checker::outln!("  next: {} — {}: open {}/Dockerfile", next.id, next.title, next.dir),
            None => checker::outln!("  that was the last step: the whole multi-stage build is yours"),
        }
    }
    if source == Source::Learner {
        let failed = report
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Error))
            .map(|c| c.id.clone())
            .collect();
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Losing the "last result" column is not worth failing a check run over.
        let result = LastResult {
            passed: report.passed,
            at,
            failed,
            size_bytes: report.image.size_bytes,
            size_limit_bytes: Some(report.image.size_limit_bytes),
        };
        let _ = state::record(state_path, &step.id, result);
    }
    Ok(report.exit_code() as u8)
}

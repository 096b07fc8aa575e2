//! The build: the image builds within its time limit from a context within its size limit.
//! A failed build says why, from the log (the engine's error, the compiler's first error,
//! the Dockerfile line), with a fix for the common causes.

use anyhow::Result;

use crate::buildkit;
use crate::context::OverLimit;
use crate::diagnosis;
use crate::manifest::ByteSize;
use crate::outcome::Outcome;
use crate::runner::Run;

/// Builds the image once; every build check of the step gets the result.
pub fn evaluate(run: &mut Run<'_, '_>, ids: &[&str]) -> Result<()> {
    let outcome = match &run.staged.report.over_limit {
        Some(over) => refused(run, over),
        None => build(run)?,
    };
    for id in ids {
        run.set(id, outcome.clone());
    }
    Ok(())
}

/// An oversized context is not sent to the engine at all: the build fails at once.
fn refused(run: &Run<'_, '_>, over: &OverLimit) -> Outcome {
    let report = &run.staged.report;
    let largest: Vec<String> = over.largest.iter().map(|(p, b)| format!("{p} ({})", ByteSize(*b))).collect();
    Outcome::fail(format!(
        "the build context holds {} in {} files, over the limit of {}; it was not sent to the engine. Largest: {}",
        ByteSize(report.bytes),
        report.files,
        ByteSize(over.limit),
        largest.join(", ")
    ))
    .hint("List what the build does not need in .dockerignore (build output, data, archives, .git/), or move it out of the step's folder: everything else is sent to the engine before the first instruction runs.")
}

fn build(run: &mut Run<'_, '_>) -> Result<Outcome> {
    let image = run.names.image.clone();
    let outcome = run.build_image(&image, "building", run.options.no_cache)?;
    let seconds = outcome.duration.as_secs_f64();
    let log_path = run.save_log(&outcome.log, "build")?;
    let result = if outcome.success {
        Outcome::pass(format!("built in {seconds:.1} s"))
    } else if outcome.timed_out {
        timed_out(run, &outcome.log, &log_path)
    } else {
        let failed = Outcome::fail(format!("docker build failed: {}", buildkit::build_error(&outcome.log)))
            .line(buildkit::build_error_line(&outcome.log, &run.dockerfile_text))
            .details(format!("{}\n(full log: {log_path})", buildkit::telling_lines(&outcome.log, 12)));
        match diagnosis::diagnose_build(&outcome.log, &run.dockerfile_text) {
            Some(hint) => failed.hint(hint),
            None => failed,
        }
    };
    let facts = &mut run.facts;
    (facts.build_ok, facts.build_log, facts.build_log_path, facts.build_seconds) =
        (outcome.success, outcome.log, log_path, seconds);
    Ok(result)
}

/// A build stopped at the step's time limit, with the step it was stuck in.
pub fn timed_out(run: &Run<'_, '_>, log: &str, log_path: &str) -> Outcome {
    let limit = run.target.step.build_timeout(&run.target.manifest.limits).as_secs();
    let stuck = buildkit::running_step(log)
        .map(|step| format!(" (it was running `{}`)", step.chars().take(120).collect::<String>()));
    Outcome::fail(format!(
        "the build did not finish within {limit} s, the step's build time limit, and was stopped{}",
        stuck.unwrap_or_default()
    ))
    .line(buildkit::running_step_line(log, &run.dockerfile_text))
    .hint("A RUN instruction never ended: a build must not start a server, sleep, or wait for input. Start the server with CMD or ENTRYPOINT, which run when the container starts, not during the build.")
    .details(format!("{}\n(full log: {log_path})", buildkit::telling_lines(log, 12)))
}

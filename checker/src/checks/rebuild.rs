//! The dependency-cache check: after a source-only change, the rebuild compiles the
//! server and no dependency.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::buildkit::{self, build_step, compiled};
use crate::checks::build::timed_out;
use crate::context;
use crate::outcome::Outcome;
use crate::report::Status;
use crate::runner::Run;

/// Each check changes its own file in the staged copy and rebuilds from the cache.
pub fn evaluate(run: &mut Run<'_, '_>, checks: &[(&str, &str)]) -> Result<()> {
    for (id, change) in checks {
        let outcome = rebuild(run, change)?;
        run.set(id, outcome);
    }
    Ok(())
}

fn rebuild(run: &mut Run<'_, '_>, change: &str) -> Result<Outcome> {
    // Only a regular file inside the staged copy is changed: a link could lead the
    // write to any file of this machine.
    let file = match context::inside(run.staged.path(), Path::new(change)) {
        Ok(file) if file.is_file() => file,
        Ok(_) => return Ok(Outcome::fail(format!("the context has no {change} to change"))),
        Err(e) => {
            return Ok(Outcome::fail(format!("the checker cannot change {change}: {e}")).hint(format!(
                "Make {change} a regular file of the build context: docker sends a link as a link, so the image does not get what it points to either."
            )));
        }
    };
    // A change only the compiler sees: a comment with this run's id, so that no
    // earlier run's cache can serve it.
    append_no_follow(&file, format!("\n// checker: source-only change {}\n", run.names.run).as_bytes())
        .with_context(|| format!("cannot change {}", file.display()))?;
    let tag = format!("{}-rebuild", run.names.image);
    let outcome = run.build_image(&tag, &format!("rebuilding after a change to {change}"), false)?;
    let log_path = run.save_log(&outcome.log, "rebuild")?;
    let rebuilt = outcome.duration.as_secs_f64();
    if outcome.success {
        run.facts.rebuild_seconds = Some(rebuilt);
    }
    if outcome.timed_out {
        return Ok(timed_out(run, &outcome.log, &log_path));
    }
    if !outcome.success {
        return Ok(Outcome::fail(format!(
            "the rebuild after a change to {change} failed: {}",
            buildkit::build_error(&outcome.log)
        ))
        .details(format!("{}\n(full log: {log_path})", buildkit::telling_lines(&outcome.log, 12))));
    }
    let facts = &run.facts;
    let cold = compiled(&facts.build_log).iter().any(|c| !c.local);
    let ratio = if cold {
        format!("{:.0}% of the first build's {:.1} s", 100.0 * rebuilt / facts.build_seconds, facts.build_seconds)
    } else {
        "first build came from the layer cache: `--no-cache` measures the ratio".to_string()
    };
    let verdict = dependency_cache(change, &outcome.log, rebuilt, &ratio);
    Ok(match verdict.status {
        Status::Pass => verdict,
        _ => verdict.details(format!("full rebuild log: {log_path}")),
    })
}

/// Whether a build step ran cargo with `-q`/`--quiet`, which hides what it compiled.
fn quiet_cargo(log: &str) -> bool {
    log.lines().filter_map(build_step).any(|step| {
        step.contains("cargo") && step.split_whitespace().any(|w| w == "-q" || w == "--quiet" || w.starts_with("-q"))
    })
}

/// The dependency-cache verdict on a rebuild after a change to `change` alone: it passes
/// only on positive evidence, the server's own crate compiled and no dependency.
pub fn dependency_cache(change: &str, log: &str, rebuilt: f64, ratio: &str) -> Outcome {
    let crates = compiled(log);
    let deps: Vec<&str> = crates.iter().filter(|c| !c.local).map(|c| c.crate_.as_str()).collect();
    if !deps.is_empty() {
        let shown: Vec<_> = deps.iter().take(4).copied().collect();
        return Outcome::fail(format!(
            "after a change to {change} alone, the rebuild compiled {} dependencies ({}{}) in {rebuilt:.1} s",
            deps.len(),
            shown.join(", "),
            if deps.len() > 4 { ", …" } else { "" }
        ));
    }
    if crates.is_empty() && quiet_cargo(log) {
        return Outcome::fail(format!(
            "the rebuild after a change to {change} printed no `Compiling` line: cargo ran with -q/--quiet, so nothing shows that only the server was compiled again"
        ))
        .hint("Drop -q/--quiet from the cargo build: the check reads cargo's `Compiling` lines to tell the server from its dependencies.");
    }
    if crates.is_empty() {
        return Outcome::fail(format!(
            "the rebuild after a change to {change} compiled nothing: no instruction built the changed source, so nothing shows that the dependencies stay cached while the server is rebuilt"
        ))
        .hint(format!(
            "Copy the source after the dependency build (`COPY src ./src`) and run `cargo build --release --locked` after that copy: a change to {change} must rebuild the server, and only the server."
        ));
    }
    Outcome::pass(format!("rebuilt in {rebuilt:.1} s after a change to {change}, no dependency compiled ({ratio})"))
}

/// Appends to a regular file, refusing (on Unix) to follow a link in its last part.
fn append_no_follow(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, nix::fcntl::OFlag::O_NOFOLLOW.bits());
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn dependency_cache_passes_only_when_the_server_alone_was_compiled() {
        let server = "#9 [builder 6/6] RUN touch src/main.rs && cargo build --release --locked\n#9 1.2    Compiling server v0.1.0 (/app)\n";
        assert_eq!(dependency_cache("src/main.rs", server, 1.9, "9%").status, Status::Pass);
        let deps = format!("{server}#9 3.0    Compiling tokio v1.48.0\n");
        let o = dependency_cache("src/main.rs", &deps, 30.0, "90%");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled 1 dependencies (tokio v1.48.0)"), "{}", o.message);
        // Nothing compiled at all: no evidence, no pass.
        let cached = "#6 [2/3] COPY . .\n#6 DONE 0.1s\n#7 exporting to image\n";
        let o = dependency_cache("src/main.rs", cached, 0.2, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled nothing"), "{}", o.message);
        assert!(o.hint.unwrap().contains("COPY src ./src"));
        // A quiet cargo hides what it compiled.
        let quiet = "#9 [builder 6/6] RUN cargo build -q --release --locked\n#9 DONE 1.5s\n";
        let o = dependency_cache("src/main.rs", quiet, 1.5, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("-q/--quiet"), "{}", o.message);
    }
}

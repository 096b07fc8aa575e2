//! The rebuild checks: after a change to the staged copy of the context, the rebuild
//! compiles the workshop's own crate and no other crate but those the change adds. The
//! change is files of the workshop laid over the context's (new Cargo files: only the
//! crates they add may compile), and/or a comment naming the run appended to one file (a
//! source-only change: no dependency may compile). The comment makes every run's change
//! its own: an earlier run's layer cache never serves the rebuild.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::buildkit::{self, Compiled, build_step, compiled};
use crate::checks::build::timed_out;
use crate::context;
use crate::manifest::ByteSize;
use crate::outcome::Outcome;
use crate::report::Status;
use crate::runner::Run;

/// A `rebuild` check's parameters (see `Kind::Rebuild`).
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The file of the context that gets a comment appended.
    pub change: Option<&'a str>,
    /// A folder of the workshop whose files replace the context's files of the same names.
    pub overlay: Option<&'a str>,
    /// The crates the change adds, which the rebuild may compile.
    pub may_compile: &'a [String],
}

/// Each check changes the staged copy (the changes add up, in the manifest's order) and
/// rebuilds from the cache.
pub fn evaluate(run: &mut Run<'_, '_>, checks: &[(&str, Check<'_>)]) -> Result<()> {
    for (i, (id, check)) in checks.iter().enumerate() {
        // Each rebuild keeps its own log: `rebuild` for the first, as every step had one.
        let log = if i == 0 { "rebuild".to_string() } else { format!("rebuild-{id}") };
        let outcome = rebuild(run, check, &log)?;
        run.set(id, outcome);
    }
    Ok(())
}

/// Appends `text` to `file` (the staged copy of the manifest's `change`) as a comment in
/// that file's own syntax, never through a link.
fn mark(file: &Path, change: &str, text: &str) -> Result<()> {
    let comment = crate::manifest::comment_start(change).unwrap_or("//");
    append_no_follow(file, format!("\n{comment} checker: {text}\n").as_bytes())
        .with_context(|| format!("cannot change {}", file.display()))
}

fn rebuild(run: &mut Run<'_, '_>, check: &Check<'_>, log_name: &str) -> Result<Outcome> {
    let mut files = Vec::new();
    if let Some(overlay) = check.overlay {
        match lay_over(run, overlay)? {
            Ok(laid) => files.extend(laid),
            Err(outcome) => return Ok(outcome),
        }
    }
    let mut changed = None;
    if let Some(change) = check.change {
        let file = match writable(run.staged.path(), change, "change") {
            Ok(file) => file,
            Err(outcome) => return Ok(outcome),
        };
        // A change only the compiler sees: a comment with this run's id, so that no
        // earlier run's layer cache can serve it (the manifest knows the file's comments).
        let what = if check.overlay.is_some() { "change" } else { "source-only change" };
        mark(&file, change, &format!("{what} {}", run.names.run))?;
        if !files.iter().any(|f| f == change) {
            files.push(change.to_string());
        }
        changed = Some((file, change));
    }
    let change = Change { files: &listed(&files), adds: check.may_compile };
    let tag = format!("{}-rebuild", run.names.image);
    let what = format!("rebuilding after a change to {}", change.files);
    let mut outcome = run.build_image(&tag, &what, false)?;
    // The engine lost its cache (another build of the same steps ran): measure again,
    // after one more change, from the cache the rebuild just filled.
    if outcome.success
        && buildkit::lost_cache(&outcome.log)
        && let Some((file, change)) = &changed
    {
        mark(file, change, "again, the cache was lost")?;
        outcome = run.build_image(&tag, &what, false)?;
    }
    let log_path = run.save_log(&outcome.log, log_name)?;
    let rebuilt = outcome.duration.as_secs_f64();
    // The report's rebuild time is the first rebuild's: the source-only one, when a step
    // checks several.
    if outcome.success && run.facts.rebuild_seconds.is_none() {
        run.facts.rebuild_seconds = Some(rebuilt);
    }
    if outcome.timed_out {
        return Ok(timed_out(run, &outcome.log, &log_path));
    }
    if !outcome.success {
        return Ok(Outcome::fail(format!(
            "the rebuild after a change to {} failed: {}",
            change.files,
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
    let verdict = verdict(&change, &outcome.log, rebuilt, &ratio);
    Ok(match verdict.status {
        Status::Pass => verdict,
        _ => verdict.details(format!("full rebuild log: {log_path}")),
    })
}

/// The regular file `rel` of the staged context, which the checker may write; a failure
/// otherwise: a link could lead the write to any file of this machine.
fn writable(staged: &Path, rel: &str, what: &str) -> Result<PathBuf, Outcome> {
    match context::inside(staged, Path::new(rel)) {
        Ok(file) if std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()) => Ok(file),
        Ok(_) => Err(Outcome::fail(format!("the context has no {rel} to {what}"))),
        Err(e) => Err(Outcome::fail(format!("the checker cannot {what} {rel}: {e}")).hint(format!(
            "Make {rel} a regular file of the build context: docker sends a link as a link, so the image does not get what it points to either."
        ))),
    }
}

/// Lays the files of the workshop's folder `overlay` over the staged context's files of
/// the same names. Returns the files replaced, or the outcome of a check that cannot be
/// made: an error when the workshop's folder is unusable (no link is ever read, and no
/// file larger than the context limit), a failure when the context has no such file.
fn lay_over(run: &Run<'_, '_>, overlay: &str) -> Result<Result<Vec<String>, Outcome>> {
    let workshop = &run.target.workshop;
    let dir = match context::inside(workshop, Path::new(overlay)) {
        Ok(dir) if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) => dir,
        Ok(_) => {
            return Ok(Err(Outcome::error(format!("the workshop has no folder {overlay} to lay over the context"))));
        }
        Err(e) => return Ok(Err(Outcome::error(format!("the checker cannot read {overlay}: {e}")))),
    };
    let limit = run.target.manifest.limits.context_size.0;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in walkdir::WalkDir::new(&dir).follow_links(false).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot walk {overlay}"))?;
        let kind = entry.file_type();
        let rel = entry.path().strip_prefix(&dir).expect("below the overlay").to_string_lossy().replace('\\', "/");
        if kind.is_symlink() {
            return Ok(Err(Outcome::error(format!(
                "{overlay}/{rel} is a symbolic link: the checker never reads through a link"
            ))));
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        if size > limit {
            return Ok(Err(Outcome::error(format!(
                "{overlay}/{rel} is larger than the context limit of {}",
                ByteSize(limit)
            ))));
        }
        files.push((rel, entry.into_path()));
    }
    if files.is_empty() {
        return Ok(Err(Outcome::error(format!(
            "the workshop's folder {overlay} holds no file to lay over the context"
        ))));
    }
    let mut laid = Vec::new();
    for (rel, source) in files {
        let target = match writable(run.staged.path(), &rel, "replace") {
            Ok(target) => target,
            Err(outcome) => return Ok(Err(outcome)),
        };
        let bytes = read_no_follow(&source).with_context(|| format!("cannot read {}", source.display()))?;
        write_no_follow(&target, &bytes).with_context(|| format!("cannot replace {}", target.display()))?;
        laid.push(rel);
    }
    Ok(Ok(laid))
}

/// `a`, `a and b`, `a, b and c`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Whether a build step ran cargo with `-q`/`--quiet`, which hides what it compiled.
fn quiet_cargo(log: &str) -> bool {
    log.lines().filter_map(build_step).any(|step| {
        step.contains("cargo") && step.split_whitespace().any(|w| w == "-q" || w == "--quiet" || w.starts_with("-q"))
    })
}

/// What changed before a rebuild, as the verdict words it.
pub struct Change<'a> {
    /// The files changed, e.g. `src/main.rs` or `Cargo.lock and Cargo.toml`.
    pub files: &'a str,
    /// The crates the change adds, which the rebuild may compile.
    pub adds: &'a [String],
}

/// The verdict on a rebuild after `change`: it passes only on positive evidence, the
/// workshop's own crate compiled (so the rebuild did build the change) and no crate
/// besides it and those the change adds.
pub fn verdict(change: &Change<'_>, log: &str, rebuilt: f64, ratio: &str) -> Outcome {
    let files = change.files;
    let crates = compiled(log);
    let name = |c: &Compiled| c.crate_.split(' ').next().unwrap_or_default().to_string();
    let (own, deps): (Vec<&Compiled>, Vec<&Compiled>) = crates.iter().partition(|c| c.local);
    let (added, others): (Vec<&Compiled>, Vec<&Compiled>) =
        deps.into_iter().partition(|c| change.adds.contains(&name(c)));
    let adds = listed(change.adds);
    let names = |list: &[&Compiled]| list.iter().map(|c| c.crate_.clone()).collect::<Vec<_>>();
    if !others.is_empty() {
        let shown: Vec<String> = names(&others).into_iter().take(4).collect();
        let more = if others.len() > 4 { ", …" } else { "" };
        let n = others.len();
        return Outcome::fail(if change.adds.is_empty() {
            format!(
                "after a change to {files} alone, the rebuild compiled {n} dependencies ({}{more}) in {rebuilt:.1} s",
                shown.join(", ")
            )
        } else {
            format!(
                "after a change to {files} alone, which adds {adds}, the rebuild compiled {n} other dependencies again ({}{more}) in {rebuilt:.1} s: only {adds} and the server needed compiling",
                shown.join(", ")
            )
        });
    }
    if crates.is_empty() && quiet_cargo(log) {
        return Outcome::fail(format!(
            "the rebuild after a change to {files} printed no `Compiling` line: cargo ran with -q/--quiet, so nothing shows that only the server was compiled again"
        ))
        .hint("Drop -q/--quiet from the cargo build: the check reads cargo's `Compiling` lines to tell the server from its dependencies.");
    }
    if own.is_empty() {
        let what = if crates.is_empty() { "nothing".to_string() } else { listed(&names(&added)) };
        let outcome = Outcome::fail(format!(
            "the rebuild after a change to {files} compiled {what}: no instruction built the server with the changed files, so nothing shows that the other crates stay cached while the server is rebuilt"
        ));
        return outcome.hint(if change.adds.is_empty() {
            format!(
                "Copy the source after the dependency build (`COPY src ./src`) and run `cargo build --release --locked` after that copy: a change to {files} must rebuild the server, and only the server."
            )
        } else {
            format!(
                "Copy {files} into the build stage before the RUN that builds the server: a change to them must rebuild the server and compile {adds}, and nothing else."
            )
        });
    }
    if change.adds.is_empty() {
        return Outcome::pass(format!(
            "rebuilt in {rebuilt:.1} s after a change to {files}, no dependency compiled ({ratio})"
        ));
    }
    let missing: Vec<String> = change.adds.iter().filter(|a| !added.iter().any(|c| name(c) == **a)).cloned().collect();
    let mut done = names(&added);
    done.extend(names(&own));
    let kept = if missing.is_empty() {
        String::new()
    } else {
        let (it, was) = if missing.len() == 1 { ("it", "was") } else { ("them", "were") };
        format!("; {} {was} compiled already, by an earlier build whose cache kept {it}", listed(&missing))
    };
    Outcome::pass(format!(
        "rebuilt in {rebuilt:.1} s after a change to {files}, which adds {adds}: compiled {} and no other crate{kept} ({ratio})",
        listed(&done)
    ))
}

/// Appends to a regular file, refusing (on Unix) to follow a link in its last part.
fn append_no_follow(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.append(true);
    no_follow(&mut options).open(path)?.write_all(bytes)
}

/// Replaces a regular file's content, refusing (on Unix) to follow a link in its last part.
fn write_no_follow(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).truncate(true);
    no_follow(&mut options).open(path)?.write_all(bytes)
}

/// Reads a regular file, refusing (on Unix) to follow a link in its last part.
fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    let mut bytes = Vec::new();
    no_follow(&mut options).open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, nix::fcntl::OFlag::O_NOFOLLOW.bits());
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    fn source(change: &str) -> Change<'_> {
        Change { files: change, adds: &[] }
    }

    #[test]
    fn dependency_cache_passes_only_when_the_server_alone_was_compiled() {
        let server = "#9 [builder 6/6] RUN touch src/main.rs && cargo build --release --locked\n#9 1.2    Compiling server v0.1.0 (/app)\n";
        assert_eq!(verdict(&source("src/main.rs"), server, 1.9, "9%").status, Status::Pass);
        let deps = format!("{server}#9 3.0    Compiling tokio v1.48.0\n");
        let o = verdict(&source("src/main.rs"), &deps, 30.0, "90%");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled 1 dependencies (tokio v1.48.0)"), "{}", o.message);
        // Nothing compiled at all: no evidence, no pass.
        let cached = "#6 [2/3] COPY . .\n#6 DONE 0.1s\n#7 exporting to image\n";
        let o = verdict(&source("src/main.rs"), cached, 0.2, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled nothing"), "{}", o.message);
        assert!(o.hint.unwrap().contains("COPY src ./src"));
        // A quiet cargo hides what it compiled.
        let quiet = "#9 [builder 6/6] RUN cargo build -q --release --locked\n#9 DONE 1.5s\n";
        let o = verdict(&source("src/main.rs"), quiet, 1.5, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("-q/--quiet"), "{}", o.message);
    }

    #[test]
    fn a_new_dependency_may_compile_with_the_server_and_nothing_else() {
        let adds = ["fnv".to_string()];
        let change = Change { files: "Cargo.lock and Cargo.toml", adds: &adds };
        let new = "#9 [builder 5/5] RUN --mount=type=cache,target=/app/target cargo build\n#9 0.4    Compiling fnv v1.0.7\n#9 0.9    Compiling server v0.1.0 (/app)\n";
        let o = verdict(&change, new, 4.2, "9%");
        assert_eq!(o.status, Status::Pass, "{}", o.message);
        assert!(
            o.message.contains("which adds fnv: compiled fnv v1.0.7 and server v0.1.0 and no other crate (9%)"),
            "{}",
            o.message
        );
        // The new crate already in a cache mount from an earlier build: the server alone.
        let kept = "#9 0.9    Compiling server v0.1.0 (/app)\n";
        let o = verdict(&change, kept, 2.0, "5%");
        assert_eq!(o.status, Status::Pass, "{}", o.message);
        assert!(
            o.message.contains("compiled server v0.1.0 and no other crate; fnv was compiled already"),
            "{}",
            o.message
        );
        // The layer trick: the Cargo files changed, so every dependency compiles again.
        let all = format!("#8 1.0    Compiling libc v0.2.191\n#8 2.0    Compiling tokio v1.54.1\n{new}");
        let o = verdict(&change, &all, 40.0, "95%");
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.message.contains("which adds fnv, the rebuild compiled 2 other dependencies again (libc v0.2.191, tokio v1.54.1) in 40.0 s: only fnv and the server needed compiling"),
            "{}",
            o.message
        );
        // The new crate without the server: nothing shows the server was built with it.
        let o = verdict(&change, "#9 0.4    Compiling fnv v1.0.7\n", 1.0, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled fnv v1.0.7: no instruction built the server"), "{}", o.message);
        let o = verdict(&change, "#9 DONE 0.1s\n", 0.3, "");
        assert!(o.message.contains("compiled nothing") && o.hint.unwrap().contains("Copy Cargo.lock and Cargo.toml"));
    }

    #[test]
    fn files_are_listed_in_words() {
        let list = |items: &[&str]| listed(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["Cargo.lock", "Cargo.toml"]), "Cargo.lock and Cargo.toml");
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
    }
}

//! `checker reset step-N`: puts back a step's starting `Dockerfile` and `.dockerignore`,
//! taken from git's HEAD (the learner edits them in place, so git holds the originals),
//! after keeping the learner's own version beside each as `<file>.bak-<UTC time>`.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use checker::manifest::{Manifest, Step};

use crate::cli::Format;

/// The files a step starts with and the learner edits.
const FILES: [&str; 2] = ["Dockerfile", ".dockerignore"];

#[derive(Serialize)]
struct Outcome {
    /// The file, relative to the workshop root.
    file: String,
    /// `restored`, `unchanged` (it already was the original) or `not-in-git` (HEAD has
    /// no such file: left as it is).
    status: &'static str,
    /// Where the learner's version was kept.
    backup: Option<String>,
}

pub fn run(root: &Path, manifest: &Manifest, name: &str, format: Format) -> Result<u8> {
    let step = manifest.step(name)?;
    // Read every original first: a failure then changes nothing.
    let originals = originals(root, manifest, step)?;
    let stamp = utc_stamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs());
    let mut outcomes = Vec::new();
    for (file, original) in FILES.iter().zip(originals) {
        let rel = format!("{}/{file}", step.dir);
        let path = root.join(&rel);
        let Some(original) = original else {
            outcomes.push(Outcome { file: rel, status: "not-in-git", backup: None });
            continue;
        };
        let current = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => bail!("cannot read {rel}: {e}; nothing was changed"),
        };
        if current.as_deref() == Some(&original[..]) {
            outcomes.push(Outcome { file: rel, status: "unchanged", backup: None });
            continue;
        }
        let backup = match &current {
            Some(bytes) => Some(keep(&path, &stamp, bytes).with_context(|| format!("cannot keep a copy of {rel}"))?),
            None => None,
        };
        // A link is replaced by the file, never written through.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&path).with_context(|| format!("cannot replace the link {rel}"))?;
        }
        std::fs::write(&path, &original).with_context(|| format!("cannot write {rel}"))?;
        let backup = backup.map(|b| format!("{}/{b}", step.dir));
        outcomes.push(Outcome { file: rel, status: "restored", backup });
    }
    if format == Format::Json {
        let json = serde_json::json!({ "step": step.id, "files": outcomes });
        checker::outln!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(0);
    }
    let mut out = format!("checker reset {} — {}\n", step.id, step.title);
    for o in &outcomes {
        match (o.status, &o.backup) {
            ("restored", Some(backup)) => {
                out.push_str(&format!("  kept your {} as {backup}\n  restored {} from git (HEAD)\n", o.file, o.file))
            }
            ("restored", None) => out.push_str(&format!("  restored {} from git (HEAD): it was missing\n", o.file)),
            ("unchanged", _) => out.push_str(&format!("  {} already matches git (HEAD): left as it is\n", o.file)),
            _ => out.push_str(&format!("  {} is not in git (HEAD): left as it is\n", o.file)),
        }
    }
    if outcomes.iter().any(|o| o.status == "restored") {
        out.push_str(&format!("{} is back at its starting point: `checker {}` checks it\n", step.dir, step.id));
    } else {
        out.push_str(&format!("{} already holds its starting files: nothing changed\n", step.dir));
    }
    checker::out!("{out}");
    Ok(0)
}

/// The original of each of [`FILES`] in the step's folder at git's HEAD, as `git
/// checkout` would write it (`cat-file --filters` applies the line-ending and other
/// checkout filters); `None` for a file HEAD does not have. The Dockerfile must be there.
fn originals(root: &Path, manifest: &Manifest, step: &Step) -> Result<Vec<Option<Vec<u8>>>> {
    let git = |args: &[&str]| Command::new("git").arg("-C").arg(root).args(args).output();
    let previous = manifest.steps.iter().position(|s| s.id == step.id).and_then(|i| i.checked_sub(1));
    let start_over = match previous.map(|i| &manifest.steps[i]) {
        Some(prev) => format!(
            "or start again from {}/Dockerfile, the previous step's solution, which is where {} starts \
             (its chapter, `checker explain {}`, says what to add)",
            prev.solution, step.id, step.id
        ),
        None => format!(
            "or start again from an empty Dockerfile (its chapter, `checker explain {}`, says what to write)",
            step.id
        ),
    };
    let way_back = |why: &str| {
        format!(
            "cannot reset {}: {why}, so the checker has no original of {}/Dockerfile, and your files were left \
             as they are. Get the file back from the workshop's repository (in a `git clone` of it, \
             `checker reset` works), {start_over}",
            step.id, step.dir
        )
    };
    let inside = match git(&["rev-parse", "--is-inside-work-tree"]) {
        Err(e) => bail!(way_back(&format!("git cannot run ({e})"))),
        Ok(out) => out.status.success() && out.stdout.starts_with(b"true"),
    };
    if !inside {
        bail!(way_back(&format!("{} is not a git checkout", root.display())));
    }
    let head = git(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?;
    if !head.status.success() {
        bail!(way_back(&format!("the git repository at {} has no commit yet", root.display())));
    }
    let mut originals = Vec::new();
    for file in FILES {
        let object = format!("HEAD:./{}/{file}", step.dir);
        let exists = git(&["cat-file", "-e", &object])?.status.success();
        if !exists {
            if file == "Dockerfile" {
                bail!(way_back(&format!("git's HEAD has no {}/Dockerfile", step.dir)));
            }
            originals.push(None);
            continue;
        }
        let out = git(&["cat-file", "--filters", &object])?;
        if !out.status.success() {
            bail!("`git cat-file --filters {object}` failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        originals.push(Some(out.stdout));
    }
    Ok(originals)
}

/// Writes `bytes` beside `path` as `<name>.bak-<stamp>` (or `-2`, `-3`… when that exists,
/// never overwriting a backup); returns the backup's file name.
fn keep(path: &Path, stamp: &str, bytes: &[u8]) -> Result<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 1.. {
        let backup = if n == 1 { format!("{name}.bak-{stamp}") } else { format!("{name}.bak-{stamp}-{n}") };
        let target = path.with_file_name(&backup);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&target) {
            Ok(mut f) => {
                f.write_all(bytes)?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("some backup name is free")
}

/// `YYYYMMDD-HHMMSS` of `secs` since the Unix epoch, in UTC.
fn utc_stamp(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_735_689_599), "20241231-235959");
        assert_eq!(utc_stamp(1_709_210_096), "20240229-123456");
    }

    #[test]
    fn a_backup_never_overwrites_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        assert_eq!(keep(&path, "20240101-000000", b"one").unwrap(), "Dockerfile.bak-20240101-000000");
        assert_eq!(keep(&path, "20240101-000000", b"two").unwrap(), "Dockerfile.bak-20240101-000000-2");
        assert_eq!(std::fs::read(dir.path().join("Dockerfile.bak-20240101-000000")).unwrap(), b"one");
        assert_eq!(std::fs::read(dir.path().join("Dockerfile.bak-20240101-000000-2")).unwrap(), b"two");
    }
}

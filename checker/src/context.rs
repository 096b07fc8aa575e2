//! The build context: which files `.dockerignore` lets through to the engine, and a staged
//! copy of exactly those files that the checker builds from. Staging keeps the reference
//! solution out of the learner's image, overlays it for `--solution`, and gives the
//! dependency-cache check a copy to edit without touching the learner's files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use globset::GlobMatcher;
use tempfile::TempDir;

/// `.dockerignore` rules, with Docker's semantics: patterns are relative to the context
/// root, `*` stops at `/`, `**` crosses directories, `!` re-includes, the last matching
/// rule wins, and a rule that matches a directory matches everything below it.
pub struct IgnoreRules {
    rules: Vec<(GlobMatcher, bool)>,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Result<Self> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            let glob = globset::GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .build()
                .with_context(|| format!(".dockerignore: `{line}` is not a valid pattern"))?;
            rules.push((glob.compile_matcher(), exception));
        }
        Ok(Self { rules })
    }

    /// Whether the relative path `rel` (with `/` separators) stays out of the context.
    pub fn excludes(&self, rel: &str) -> bool {
        let parents: Vec<&str> = rel.match_indices('/').map(|(i, _)| &rel[..i]).chain(std::iter::once(rel)).collect();
        let mut excluded = false;
        for (glob, exception) in &self.rules {
            if parents.iter().any(|p| glob.is_match(p)) {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// Docker cleans each pattern like a path: no leading `/` or `./`, no trailing `/`.
fn clean(pattern: &str) -> String {
    pattern.split('/').filter(|part| !part.is_empty() && *part != ".").collect::<Vec<_>>().join("/")
}

/// What a build context sends to the engine.
#[derive(Debug, Default)]
pub struct ContextReport {
    pub files: usize,
    pub bytes: u64,
    /// Paths that are sent although a check wants them out, e.g. `target/` (one entry per
    /// top-level offender, with the bytes below it).
    pub offenders: BTreeMap<String, u64>,
    /// Set when the context is larger than allowed; it was then not staged.
    pub over_limit: Option<OverLimit>,
}

#[derive(Debug)]
pub struct OverLimit {
    pub limit: u64,
    /// The biggest top-level entries of the context, with their bytes.
    pub largest: Vec<(String, u64)>,
}

/// A build context staged in a temporary folder, removed on drop.
pub struct Staged {
    pub dir: TempDir,
    pub report: ContextReport,
    /// The `.dockerignore` rules the context was staged with.
    rules: IgnoreRules,
}

impl Staged {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Which of `paths` the context's rules would let through if they existed: a context
    /// may be clean today and still send `target/` after the learner's first local
    /// `cargo build`.
    pub fn unguarded(&self, paths: &[String]) -> Vec<String> {
        paths.iter().filter(|p| !self.rules.excludes(&format!("{}/checker-probe", clean(p)))).cloned().collect()
    }
}

/// Copies into a new temporary folder the files of `layers` (later layers win) that the
/// resulting `.dockerignore` lets through. `skip` names top-level entries of the first
/// layer that are never part of the context (a step's `solution/`). `watch` lists the
/// paths whose presence `ContextReport::offenders` reports. A context of more than
/// `max_bytes` is measured but not copied (see `ContextReport::over_limit`).
pub fn stage(layers: &[&Path], skip: &[&str], watch: &[String], max_bytes: u64) -> Result<Staged> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        collect(layer, if i == 0 { skip } else { &[] }, &mut files)?;
    }
    let rules = match files.get(".dockerignore") {
        Some(path) => IgnoreRules::parse(&fs::read_to_string(path).context("cannot read .dockerignore")?)?,
        None => IgnoreRules::parse("")?,
    };
    let mut report = ContextReport::default();
    let watched: Vec<String> = watch.iter().map(|w| clean(w)).collect();
    let mut kept = Vec::new();
    let mut by_top: BTreeMap<String, u64> = BTreeMap::new();
    for (rel, src) in &files {
        // The engine always receives the Dockerfile and .dockerignore themselves.
        let always = rel == ".dockerignore" || rel == "Dockerfile";
        if !always && rules.excludes(rel) {
            continue;
        }
        let meta = fs::symlink_metadata(src).with_context(|| format!("cannot read {}", src.display()))?;
        report.files += 1;
        report.bytes += meta.len();
        if let Some(w) = watched.iter().find(|w| rel == *w || rel.starts_with(&format!("{w}/"))) {
            *report.offenders.entry(format!("{w}/")).or_default() += meta.len();
        }
        let top = rel.split_once('/').map_or(rel.clone(), |(t, _)| format!("{t}/"));
        *by_top.entry(top).or_default() += meta.len();
        kept.push((rel, src, always, meta.file_type().is_symlink()));
    }
    // An oversized context is measured, never copied: only the Dockerfile is staged.
    if report.bytes > max_bytes {
        let mut largest: Vec<(String, u64)> = by_top.into_iter().collect();
        largest.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        largest.truncate(3);
        report.over_limit = Some(OverLimit { limit: max_bytes, largest });
    }
    let dir =
        tempfile::Builder::new().prefix("checker-context-").tempdir().context("cannot create a temporary folder")?;
    for (rel, src, always, link) in kept {
        if report.over_limit.is_some() && !always {
            continue;
        }
        let dest = dir.path().join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if link {
            copy_link(src, &dest).with_context(|| format!("cannot copy the link {rel}"))?;
        } else {
            fs::copy(src, &dest).with_context(|| format!("cannot copy {rel} into the staged context"))?;
        }
    }
    Ok(Staged { dir, report, rules })
}

/// The engine receives a link as a link; Windows cannot always make one, so there the
/// staged copy holds what it points to.
#[cfg(unix)]
fn copy_link(src: &Path, dest: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(fs::read_link(src)?, dest)
}

#[cfg(not(unix))]
fn copy_link(src: &Path, dest: &Path) -> std::io::Result<()> {
    fs::copy(src, dest).map(|_| ())
}

/// Lists the files below `root` as relative paths. Directories are walked whole: the
/// ignore rules are applied once every layer is known.
fn collect(root: &Path, skip: &[&str], files: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    let walker = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name();
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = entry.with_context(|| format!("cannot walk the build context {}", root.display()))?;
        let rel = entry.path().strip_prefix(root).expect("walkdir yields paths below its root");
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.is_empty() {
            continue;
        }
        if entry.depth() == 1 && skip.contains(&rel.as_str()) {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            continue;
        }
        if !entry.file_type().is_dir() {
            files.insert(rel, entry.path().to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text).unwrap()
    }

    #[test]
    fn a_folder_rule_covers_everything_below_it() {
        let r = rules("target/\n.git\n");
        assert!(r.excludes("target"));
        assert!(r.excludes("target/release/server"));
        assert!(r.excludes(".git/HEAD"));
        assert!(!r.excludes("src/main.rs"));
        // Patterns are anchored at the context root, unlike .gitignore.
        assert!(!r.excludes("src/target/x"));
    }

    #[test]
    fn star_stops_at_a_slash_and_double_star_crosses() {
        let r = rules("*.md\n**/*.log\n");
        assert!(r.excludes("README.md"));
        assert!(!r.excludes("docs/README.md"));
        assert!(r.excludes("a/b/c.log"));
        assert!(r.excludes("c.log"));
    }

    #[test]
    fn the_last_matching_rule_wins() {
        let r = rules("# comment\n*.md\n!README.md\n");
        assert!(r.excludes("NOTES.md"));
        assert!(!r.excludes("README.md"));
        let r = rules("!README.md\n*.md\n");
        assert!(r.excludes("README.md"));
    }

    #[test]
    fn leading_slash_and_dot_are_cleaned() {
        let r = rules("/target\n./.git/\n");
        assert!(r.excludes("target/debug/x"));
        assert!(r.excludes(".git/config"));
    }

    #[test]
    fn staging_skips_ignored_files_and_the_solution_and_overlays() -> Result<()> {
        let learner = tempfile::tempdir()?;
        let p = learner.path();
        fs::create_dir_all(p.join("src"))?;
        fs::create_dir_all(p.join("target/release"))?;
        fs::create_dir_all(p.join("solution"))?;
        fs::write(p.join("src/main.rs"), "fn main() {}")?;
        fs::write(p.join("target/release/server"), vec![0u8; 1000])?;
        fs::write(p.join("Dockerfile"), "FROM scratch")?;
        fs::write(p.join("solution/Dockerfile"), "FROM solution")?;
        fs::write(p.join(".dockerignore"), "solution/\n")?;

        let staged = stage(&[p], &["solution"], &["target/".into(), ".git/".into()], u64::MAX)?;
        assert!(staged.path().join("src/main.rs").exists());
        assert!(!staged.path().join("solution").exists(), "the solution must never reach the context");
        assert_eq!(staged.report.offenders.get("target/"), Some(&1000));
        assert_eq!(fs::read_to_string(staged.path().join("Dockerfile"))?, "FROM scratch");
        assert_eq!(staged.unguarded(&["target/".into(), ".git/".into()]), ["target/", ".git/"]);

        let overlay = stage(&[p, &p.join("solution")], &["solution"], &[], u64::MAX)?;
        assert_eq!(fs::read_to_string(overlay.path().join("Dockerfile"))?, "FROM solution");

        fs::write(p.join(".dockerignore"), "target/\n.git/\nsolution/\n")?;
        let clean = stage(&[p], &["solution"], &["target/".into()], u64::MAX)?;
        assert!(clean.report.offenders.is_empty());
        assert!(!clean.path().join("target").exists());
        assert!(clean.unguarded(&["target/".into(), ".git/".into()]).is_empty());

        // Over the limit: measured, the biggest entries named, nothing but the Dockerfile copied.
        fs::write(p.join("big.bin"), vec![0u8; 5000])?;
        let big = stage(&[p], &["solution"], &[], 4000)?;
        let over = big.report.over_limit.as_ref().expect("over the limit");
        assert_eq!(over.largest[0], ("big.bin".to_string(), 5000));
        assert!(big.report.bytes > 5000);
        assert!(big.path().join("Dockerfile").exists() && !big.path().join("big.bin").exists());
        assert!(!big.path().join("src").exists());
        Ok(())
    }
}

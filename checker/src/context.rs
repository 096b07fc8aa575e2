//! The build context: which files `.dockerignore` lets through to the engine, and a staged
//! copy of exactly those files that the checker builds from. Staging keeps the reference
//! solution out of the learner's image, overlays it for `--solution`, and gives the
//! dependency-cache check a copy to edit without touching the learner's files.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tempfile::TempDir;

use crate::dockerignore::{IgnoreRules, clean};

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
        paths
            .iter()
            .filter(|p| !self.rules.excludes(format!("{}/checker-probe", clean(p)).as_bytes()))
            .cloned()
            .collect()
    }
}

/// A file of a layer: where it is, and the layer's root (a link must not lead out of it).
struct Source<'a> {
    path: PathBuf,
    layer: &'a Path,
}

/// Copies into a new temporary folder the files of `layers` (later layers win) that the
/// resulting `.dockerignore` lets through. `skip` names top-level entries of the first
/// layer that are never part of the context (a step's `solution/`). `watch` lists the
/// paths whose presence `ContextReport::offenders` reports. A context of more than
/// `max_bytes` is measured but not copied (see `ContextReport::over_limit`). The folder
/// is named after the run (`run`) and registered for cleanup as soon as it exists.
///
/// Links are copied as links (the engine receives them so) and never followed: nothing
/// outside the layers is read or written. Named pipes, sockets and devices are left out.
pub fn stage(layers: &[&Path], skip: &[&str], watch: &[String], max_bytes: u64, run: &str) -> Result<Staged> {
    let mut files: BTreeMap<PathBuf, Source<'_>> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        collect(layer, if i == 0 { skip } else { &[] }, i > 0, &mut files)?;
    }
    let rules = match files.get(Path::new(".dockerignore")) {
        Some(src) => IgnoreRules::parse(&read_inside(src.layer, &src.path)?)?,
        None => IgnoreRules::parse(b"")?,
    };
    let mut report = ContextReport::default();
    let watched: Vec<String> = watch.iter().map(|w| clean(w)).collect();
    let mut kept = Vec::new();
    let mut by_top: BTreeMap<String, u64> = BTreeMap::new();
    for (rel, src) in &files {
        // The engine always receives the Dockerfile and .dockerignore themselves.
        let always = rel == Path::new(".dockerignore") || rel == Path::new("Dockerfile");
        let name = slash_path(rel);
        if !always && rules.excludes(&name) {
            continue;
        }
        let meta = fs::symlink_metadata(&src.path).with_context(|| format!("cannot read {}", src.path.display()))?;
        report.files += 1;
        report.bytes += meta.len();
        let shown = String::from_utf8_lossy(&name);
        if let Some(w) = watched.iter().find(|w| shown == **w || shown.starts_with(&format!("{w}/"))) {
            *report.offenders.entry(format!("{w}/")).or_default() += meta.len();
        }
        let top = shown.split_once('/').map_or(shown.to_string(), |(t, _)| format!("{t}/"));
        *by_top.entry(top).or_default() += meta.len();
        kept.push((rel, &src.path, always, meta.file_type().is_symlink()));
    }
    // An oversized context is measured, never copied: only the Dockerfile is staged.
    if report.bytes > max_bytes {
        let mut largest: Vec<(String, u64)> = by_top.into_iter().collect();
        largest.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        largest.truncate(3);
        report.over_limit = Some(OverLimit { limit: max_bytes, largest });
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}{run}-", crate::cleanup::TEMP_PREFIX))
        .tempdir()
        .with_context(|| {
            format!(
                "cannot create a temporary folder in {} (the system's temporary folder, set by TMPDIR): make it exist and be writable, or point TMPDIR elsewhere",
                std::env::temp_dir().display()
            )
        })?;
    crate::cleanup::dir(dir.path().to_path_buf());
    for (rel, src, always, link) in kept {
        if report.over_limit.is_some() && !always {
            continue;
        }
        // A link staged earlier must not lead a later copy out of the folder.
        let dest = inside(dir.path(), rel)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if link {
            copy_link(src, &dest).with_context(|| format!("cannot copy the link {}", rel.display()))?;
        } else {
            fs::copy(src, &dest).with_context(|| format!("cannot copy {} into the staged context", rel.display()))?;
        }
    }
    Ok(Staged { dir, report, rules })
}

/// A relative path with `/` separators, as Docker matches it: raw bytes where the system
/// has them, so that two names differing only in bytes that are not UTF-8 stay two.
fn slash_path(rel: &Path) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        Cow::Borrowed(std::os::unix::ffi::OsStrExt::as_bytes(rel.as_os_str()))
    }
    #[cfg(not(unix))]
    {
        Cow::Owned(rel.to_string_lossy().replace('\\', "/").into_bytes())
    }
}

/// `root/rel`, after making sure that no part of it below `root` is a link: what is
/// written there then stays inside `root`.
pub fn inside(root: &Path, rel: &Path) -> Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.components() {
        let Component::Normal(name) = part else {
            bail!("{} is not a plain relative path", rel.display());
        };
        path.push(name);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            let to = fs::read_link(&path).map(|t| t.display().to_string()).unwrap_or_default();
            bail!(
                "{} is a symbolic link (to {to}): the checker never writes through a link",
                path.strip_prefix(root).unwrap_or(&path).display()
            );
        }
    }
    Ok(path)
}

/// Reads a file of the context that is a regular file or a link to one inside `root`; a
/// link that leads out of the context is refused, so that a grader never reads (and
/// never shows) another file of its machine.
pub fn read_inside(root: &Path, path: &Path) -> Result<Vec<u8>> {
    let real = fs::canonicalize(path).with_context(|| format!("cannot read {}", path.display()))?;
    let top = fs::canonicalize(root).with_context(|| format!("cannot read {}", root.display()))?;
    if !real.starts_with(&top) {
        bail!(
            "{} is a symbolic link to {}, outside the build context: the checker reads the Dockerfile and .dockerignore only inside the context. Replace the link with the file itself",
            path.display(),
            real.display()
        );
    }
    fs::read(&real).with_context(|| format!("cannot read {}", path.display()))
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

/// Lists the files and links below `root` as relative paths. Directories are walked
/// whole: the ignore rules are applied once every layer is known. An `overlay`'s file
/// replaces whatever the layers below had at that path, above it or below it.
fn collect<'a>(root: &'a Path, skip: &[&str], overlay: bool, files: &mut BTreeMap<PathBuf, Source<'a>>) -> Result<()> {
    let walker = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name();
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = entry.with_context(|| format!("cannot walk the build context {}", root.display()))?;
        let rel = entry.path().strip_prefix(root).expect("walkdir yields paths below its root").to_path_buf();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let kind = entry.file_type();
        if entry.depth() == 1 && rel.to_str().is_some_and(|r| skip.contains(&r)) {
            if kind.is_dir() {
                it.skip_current_dir();
            }
            continue;
        }
        // A pipe, a socket or a device has no content to send; copying a pipe would block.
        if kind.is_dir() || !(kind.is_file() || kind.is_symlink()) {
            continue;
        }
        if overlay {
            for ancestor in rel.ancestors().skip(1) {
                files.remove(ancestor);
            }
            // Paths sort by component, so what lies below `rel` follows it.
            let below: Vec<PathBuf> =
                files.range(rel.clone()..).map(|(p, _)| p).take_while(|p| p.starts_with(&rel)).cloned().collect();
            for path in below {
                files.remove(&path);
            }
        }
        files.insert(rel, Source { path: entry.path().to_path_buf(), layer: root });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

        let staged = stage(&[p], &["solution"], &["target/".into(), ".git/".into()], u64::MAX, "test")?;
        assert!(staged.path().join("src/main.rs").exists());
        assert!(!staged.path().join("solution").exists(), "the solution must never reach the context");
        assert_eq!(staged.report.offenders.get("target/"), Some(&1000));
        assert_eq!(fs::read_to_string(staged.path().join("Dockerfile"))?, "FROM scratch");
        assert_eq!(staged.unguarded(&["target/".into(), ".git/".into()]), ["target/", ".git/"]);

        let overlay = stage(&[p, &p.join("solution")], &["solution"], &[], u64::MAX, "test")?;
        assert_eq!(fs::read_to_string(overlay.path().join("Dockerfile"))?, "FROM solution");

        fs::write(p.join(".dockerignore"), "target/\n.git/\nsolution/\n")?;
        let clean = stage(&[p], &["solution"], &["target/".into()], u64::MAX, "test")?;
        assert!(clean.report.offenders.is_empty());
        assert!(!clean.path().join("target").exists());
        assert!(clean.unguarded(&["target/".into(), ".git/".into()]).is_empty());

        // Over the limit: measured, the biggest entries named, nothing but the Dockerfile copied.
        fs::write(p.join("big.bin"), vec![0u8; 5000])?;
        let big = stage(&[p], &["solution"], &[], 4000, "test")?;
        let over = big.report.over_limit.as_ref().expect("over the limit");
        assert_eq!(over.largest[0], ("big.bin".to_string(), 5000));
        assert!(big.report.bytes > 5000);
        assert!(big.path().join("Dockerfile").exists() && !big.path().join("big.bin").exists());
        assert!(!big.path().join("src").exists());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn links_are_staged_as_links_and_never_lead_a_copy_outside() -> Result<()> {
        let outside = tempfile::tempdir()?;
        let learner = tempfile::tempdir()?;
        let p = learner.path();
        fs::create_dir_all(p.join("solution/src"))?;
        fs::write(p.join("Dockerfile"), "FROM scratch")?;
        // The learner's src is a link out of the context; the overlay has a real src/.
        std::os::unix::fs::symlink(outside.path(), p.join("src"))?;
        std::os::unix::fs::symlink("/etc/passwd", p.join("passwd"))?;
        fs::write(p.join("solution/src/main.rs"), "fn main() {}")?;
        let staged = stage(&[p], &["solution"], &[], u64::MAX, "test")?;
        assert_eq!(fs::read_link(staged.path().join("passwd"))?, Path::new("/etc/passwd"), "sent as a link");
        assert!(fs::symlink_metadata(staged.path().join("src"))?.file_type().is_symlink());
        let overlay = stage(&[p, &p.join("solution")], &["solution"], &[], u64::MAX, "test")?;
        assert!(overlay.path().join("src/main.rs").is_file(), "the overlay's folder replaces the link");
        assert!(!fs::symlink_metadata(overlay.path().join("src"))?.file_type().is_symlink());
        assert_eq!(fs::read_dir(outside.path())?.count(), 0, "nothing was written outside");

        let err = inside(staged.path(), Path::new("src/main.rs")).unwrap_err().to_string();
        assert!(err.contains("src is a symbolic link") && err.contains("never writes through a link"), "{err}");
        assert!(inside(staged.path(), Path::new("Dockerfile")).is_ok());
        assert!(inside(staged.path(), Path::new("../x")).is_err());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_dockerignore_or_dockerfile_linked_outside_is_refused_and_inside_is_read() -> Result<()> {
        let ctx = tempfile::tempdir()?;
        let p = ctx.path();
        fs::write(p.join("Dockerfile"), "FROM scratch")?;
        std::os::unix::fs::symlink("/etc/passwd", p.join(".dockerignore"))?;
        let err = format!("{:#}", stage(&[p], &[], &[], u64::MAX, "test").err().expect("refused"));
        assert!(err.contains("outside the build context") && err.contains("/etc/passwd"), "{err}");
        assert!(!err.contains("root:"), "the file's content is never shown: {err}");
        fs::remove_file(p.join(".dockerignore"))?;
        fs::write(p.join("ignore.txt"), "secret\n")?;
        std::os::unix::fs::symlink("ignore.txt", p.join(".dockerignore"))?;
        let staged = stage(&[p], &[], &[], u64::MAX, "test")?;
        assert!(!staged.path().join("secret").exists());
        assert_eq!(read_inside(p, &p.join(".dockerignore"))?, b"secret\n");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn pipes_are_left_out_and_names_that_are_not_utf8_stay_apart() -> Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let ctx = tempfile::tempdir()?;
        let p = ctx.path();
        fs::write(p.join("Dockerfile"), "FROM scratch")?;
        let made = std::process::Command::new("mkfifo").arg(p.join("pipe")).status()?;
        assert!(made.success(), "mkfifo");
        fs::write(p.join(std::ffi::OsStr::from_bytes(b"a\xff.txt")), "ff")?;
        fs::write(p.join(std::ffi::OsStr::from_bytes(b"a\xfe.txt")), "fe")?;
        let staged = stage(&[p], &[], &[], u64::MAX, "test")?;
        assert!(!staged.path().join("pipe").exists(), "a pipe has no content to stage");
        assert_eq!(fs::read(staged.path().join(std::ffi::OsStr::from_bytes(b"a\xff.txt")))?, b"ff");
        assert_eq!(fs::read(staged.path().join(std::ffi::OsStr::from_bytes(b"a\xfe.txt")))?, b"fe");
        assert_eq!(staged.report.files, 3);
        Ok(())
    }
}

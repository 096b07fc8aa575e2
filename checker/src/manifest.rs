//! The workshop manifest (`workshop.toml`): steps, their checks, size limits, hints and
//! book links. Everything the checker verifies is data here; the code only knows kinds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The manifest format this checker reads. Bump it when a change would make an older
/// checker misread a newer manifest.
pub const FORMAT_VERSION: u32 = 1;

/// The workshop's manifest as this checker was built with it: `checker grade --ci` grades
/// with these points and limits, which a student cannot edit.
pub const BUILTIN: &str = include_str!("../../workshop.toml");

/// The manifest's file name, which also marks the workshop's root folder.
pub const FILE_NAME: &str = "workshop.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    /// Base URL of the book; check and step pages are relative to it.
    pub book_url: String,
    /// What an untrusted Dockerfile may use; `[limits]` may be left out for the defaults.
    #[serde(default)]
    pub limits: Limits,
    pub steps: Vec<Step>,
    pub checks: BTreeMap<String, Check>,
}

/// Bounds on what a Dockerfile and its container may take, so that a class of thirty
/// cannot hang, flood or escape the grader. A learner's own runs get the same, so that
/// what passes locally passes in CI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// A build (and the dependency-cache rebuild) is stopped after this many seconds; a
    /// step may set its own `build_timeout_secs`.
    pub build_timeout_secs: u64,
    /// The most the build context may hold once .dockerignore has filtered it.
    pub context_size: ByteSize,
    /// The container's memory, swap included.
    pub memory: ByteSize,
    /// The most processes and threads the container may have (stops fork bombs).
    pub pids: u32,
    /// CPUs the container may use.
    pub cpus: f64,
    /// The most of a build's output the checker keeps (head and tail), and of a
    /// container's output the engine keeps.
    pub log_size: ByteSize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            build_timeout_secs: 900,
            context_size: ByteSize(100_000_000),
            memory: ByteSize(256_000_000),
            pids: 64,
            cpus: 1.0,
            log_size: ByteSize(1_000_000),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `step-N`: what the learner types.
    pub id: String,
    pub title: String,
    /// The article's concept this step teaches.
    pub concept: String,
    /// The learner's build context, relative to the workshop root.
    pub dir: String,
    /// An overlay over `dir` holding the files the reference solution changes.
    pub solution: String,
    /// The step's chapter, relative to `book_url`.
    pub book: String,
    pub size_limit: ByteSize,
    /// The checks this step introduces; earlier steps' checks run too.
    pub checks: Vec<String>,
    pub hint: String,
    /// What `checker grade` gives for this step when all its checks pass.
    pub points: u32,
    /// This step's own build time limit, instead of `[limits]`'s.
    pub build_timeout_secs: Option<u64>,
    /// Run the container with a writable root filesystem: off unless the step's server
    /// must write outside its volumes.
    #[serde(default)]
    pub writable_rootfs: bool,
    /// The ids of the checks that the step's untouched starting point (its `dir`, without
    /// the solution) fails: each one of the step's accumulated checks. The checker itself
    /// never reads it; the workshop's tests hold every starting point to exactly this
    /// list, so that each step starts with its own lesson to learn. Empty when left out.
    #[serde(default)]
    pub start_fails: Vec<String>,
}

impl Step {
    pub fn build_timeout(&self, limits: &Limits) -> std::time::Duration {
        std::time::Duration::from_secs(self.build_timeout_secs.unwrap_or(limits.build_timeout_secs))
    }
}

#[derive(Debug)]
pub struct Check {
    pub title: String,
    pub why: String,
    pub fix: String,
    pub kind: Kind,
}

/// By hand rather than `#[serde(flatten)]`, which would silently accept a misspelt
/// parameter: the texts are taken out and every other key must belong to the kind.
impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let mut text = |key: &str| match table.remove(key) {
            Some(toml::Value::String(s)) => Ok(s),
            Some(_) => Err(D::Error::custom(format!("`{key}` must be a string"))),
            None => Err(D::Error::custom(format!("missing `{key}`"))),
        };
        let (title, why, fix) = (text("title")?, text("why")?, text("fix")?);
        let kind = Kind::deserialize(toml::Value::Table(table)).map_err(D::Error::custom)?;
        Ok(Check { title, why, fix, kind })
    }
}

/// What a check does; each variant is implemented once, generically, in `checks` (which
/// phase evaluates it: `Kind::needs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Kind {
    /// The image builds.
    Build {},
    /// The container answers `path` on container `port` with a 200 within the timeout.
    Http { port: u16, path: String, timeout_secs: u64 },
    /// Every `FROM` other than scratch and earlier stages names a tag other than latest.
    BaseImagePinned {},
    /// The image's layers add up to less than the step's size limit.
    ImageSize {},
    /// Each stage that copies from the build context sets an absolute WORKDIR other than /.
    Workdir {},
    /// The context sent to the engine holds none of these paths (and .dockerignore keeps
    /// them out even once they exist).
    Context { exclude: Vec<String> },
    /// No `ADD` of local files.
    CopyNotAdd {},
    /// After a change to the context, the rebuild compiles the workshop's own crates and
    /// no other crate but those `may_compile` names. The change: the files of the folder
    /// `overlay` (relative to the workshop) laid over the context's files of the same
    /// names, and/or a comment naming the run appended to the file `change` (so that no
    /// earlier run's layer cache can serve the rebuild).
    Rebuild {
        #[serde(default)]
        change: Option<String>,
        #[serde(default)]
        overlay: Option<String>,
        /// Crates (by name) that the change adds, which the rebuild may compile.
        #[serde(default)]
        may_compile: Vec<String>,
    },
    /// The binary the image runs has no ELF interpreter and no needed libraries.
    StaticBinary {},
    /// The Dockerfile has at least `min` stages.
    MinStages { min: usize },
    /// No file of the final image matches these globs.
    FilesAbsent { patterns: Vec<String> },
    /// The image's configured user is not root.
    UserNotRoot {},
    /// The running container's main process does not run as uid 0.
    ProcessUid {},
    /// The image's ExposedPorts holds `port` (e.g. `3030/tcp`).
    Exposes { port: String },
    /// The image has an ENTRYPOINT that is not a `/bin/sh -c` wrapper.
    ExecEntrypoint {},
    /// `docker stop` ends the container within `within_secs`.
    Stop { within_secs: u64 },
    /// No `COPY --from` and no later `RUN` reads a path under a cache mount
    /// (`RUN --mount=type=cache`): its files are never part of the image.
    CacheMountReads {},
}

/// A size in bytes, written in the manifest as `"150 MB"` (decimal units, as docker
/// prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 =
            num.parse().map_err(|_| format!("`{text}` is not a size: write a number and a unit, e.g. \"150 MB\""))?;
        let factor = match unit.trim() {
            "B" | "" => 1.0,
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            other => return Err(format!("unknown size unit `{other}` in `{text}`: use B, kB, MB or GB")),
        };
        let bytes = (num * factor).round();
        // Past 2^64 a cast would quietly give the largest u64 instead of an error.
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("`{text}` is too large a size"));
        }
        Ok(ByteSize(bytes as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        match self.0 {
            n if n >= 1_000_000_000 => write!(f, "{:.2} GB", b / 1e9),
            n if n >= 1_000_000 => write!(f, "{:.1} MB", b / 1e6),
            n if n >= 1_000 => write!(f, "{:.1} kB", b / 1e3),
            n => write!(f, "{n} B"),
        }
    }
}

/// Lowercase letters, digits and dashes, starting with a letter or digit: safe in a file
/// name, a URL and an image tag.
fn is_slug(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// How a line comment starts in the file `path`, which a `rebuild` check's `change`
/// appends to: `//` in Rust (and C-like) source, `#` in TOML, a Dockerfile or a shell
/// script; `None` for a file whose comments the checker does not know.
pub fn comment_start(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("rs" | "c" | "h" | "cc" | "cpp" | "go" | "js" | "ts" | "java" | "kt" | "swift") => Some("//"),
        Some("toml" | "yaml" | "yml" | "sh" | "py" | "rb" | "pl" | "conf" | "cfg") => Some("#"),
        _ if name == "Dockerfile" || name.starts_with("Dockerfile.") => Some("#"),
        _ => None,
    }
}

/// A crate's name as cargo prints it: ASCII letters, digits, `-` and `_`.
fn is_crate_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A path the checker reads or writes below the workshop (or the build context): relative,
/// with no `..`, so that a manifest cannot point it at another file of the machine.
fn relative_inside(path: &str) -> Result<()> {
    let p = Path::new(path);
    let plain = p.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
    if path.is_empty() || !plain || path.contains('\\') {
        bail!("`{path}` must be a relative path inside the workshop, without `..`, e.g. steps/step-1");
    }
    Ok(())
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the workshop manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid workshop manifest {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<u32>,
        }
        // Read the version first: a newer manifest deserves "upgrade the checker", not a
        // confusing complaint about a field this checker does not know.
        let version: Version = toml::from_str(text)?;
        match version.format_version {
            Some(FORMAT_VERSION) => {}
            Some(v) => bail!(
                "format_version {v} is not supported: this checker reads format_version {FORMAT_VERSION}; update the checker (or the manifest)"
            ),
            None => bail!("format_version is missing: add `format_version = {FORMAT_VERSION}` at the top"),
        }
        let manifest: Manifest = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<()> {
        if self.steps.is_empty() {
            bail!("the manifest declares no [[steps]]");
        }
        let mut seen_steps = std::collections::HashSet::new();
        let mut introduced = std::collections::HashSet::new();
        for step in &self.steps {
            if !is_slug(&step.id) {
                bail!(
                    "step id `{}` must be lowercase letters, digits and dashes, e.g. step-9: it names log files and is typed on the command line",
                    step.id
                );
            }
            if !seen_steps.insert(step.id.as_str()) {
                bail!("step `{}` is declared twice", step.id);
            }
            for (key, path) in [("dir", &step.dir), ("solution", &step.solution)] {
                relative_inside(path).with_context(|| format!("step `{}`: `{key}`", step.id))?;
            }
            for id in &step.checks {
                if !self.checks.contains_key(id) {
                    bail!("step `{}` names the check `{id}`, which has no [checks.{id}] table", step.id);
                }
                if !introduced.insert(id.as_str()) {
                    bail!(
                        "check `{id}` is introduced by two steps: checks accumulate, so list it only in the first step that needs it"
                    );
                }
            }
        }
        // Every step's accumulated checks must be runnable: a build before anything that
        // reads the image, an http check to start the container the process checks need.
        for step in &self.steps {
            let kinds: Vec<&Kind> = self.checks_for(step).into_iter().map(|(_, c)| &c.kind).collect();
            let has = |f: fn(&Kind) -> bool| kinds.iter().any(|k| f(k));
            if !has(|k| matches!(k, Kind::Build {})) && kinds.iter().any(|k| !k.is_static()) {
                bail!("step `{}` has checks that need the image but no `build` check", step.id);
            }
            if has(|k| matches!(k, Kind::ProcessUid {} | Kind::Stop { .. })) && !has(|k| matches!(k, Kind::Http { .. }))
            {
                bail!("step `{}` checks a running container but has no `http` check to start it", step.id);
            }
            // What the starting point fails can only be a check the step runs.
            let runs: Vec<&str> = self.checks_for(step).into_iter().map(|(id, _)| id).collect();
            let mut listed = std::collections::HashSet::new();
            for id in &step.start_fails {
                if !runs.contains(&id.as_str()) {
                    bail!(
                        "step `{}` lists `{id}` in `start_fails`, but runs no such check: its checks are {}",
                        step.id,
                        runs.join(", ")
                    );
                }
                if !listed.insert(id.as_str()) {
                    bail!("step `{}` lists `{id}` twice in `start_fails`", step.id);
                }
            }
        }
        let l = &self.limits;
        if l.build_timeout_secs < 10 || self.steps.iter().any(|s| s.build_timeout_secs.is_some_and(|t| t < 10)) {
            bail!("a build timeout under 10 s would stop every build: raise `build_timeout_secs`");
        }
        if l.memory.0 < 16_000_000
            || l.pids < 8
            || l.cpus.is_nan()
            || l.cpus < 0.1
            || l.log_size.0 < 10_000
            || l.context_size.0 < 100_000
        {
            bail!(
                "[limits] too low to run a server: memory >= 16 MB, pids >= 8, cpus >= 0.1, log_size >= 10 kB, context_size >= 100 kB"
            );
        }
        // Past these, a limit is a typo: the engine would refuse every container, or the
        // checker would keep gigabytes of log in memory.
        let day = 24 * 3600;
        if l.memory.0 > 1_000_000_000_000
            || l.pids > 4_194_304
            || !matches!(l.cpus.partial_cmp(&1024.0), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal))
            || l.log_size.0 > 1_000_000_000
            || l.context_size.0 > 100_000_000_000
            || l.build_timeout_secs > day
            || self.steps.iter().any(|s| s.build_timeout_secs.is_some_and(|t| t > day))
        {
            bail!(
                "[limits] too high: memory <= 1000 GB, pids <= 4194304, cpus <= 1024, log_size <= 1 GB, context_size <= 100 GB, build_timeout_secs <= 86400"
            );
        }
        for (id, check) in &self.checks {
            if !is_slug(id) {
                bail!("check id `{id}` must be lowercase letters, digits and dashes: it names a book page");
            }
            if let Kind::Rebuild { change, overlay, may_compile } = &check.kind {
                if change.is_none() && overlay.is_none() {
                    bail!(
                        "check `{id}`: a `rebuild` check needs a `change` (a file to append to) or an `overlay` (a folder of files to lay over the context), or both"
                    );
                }
                for (key, path) in [("change", change), ("overlay", overlay)] {
                    if let Some(path) = path {
                        relative_inside(path).with_context(|| format!("check `{id}`: `{key}`"))?;
                    }
                }
                if let Some(change) = change.as_deref().filter(|c| comment_start(c).is_none()) {
                    bail!(
                        "check `{id}`: the checker does not know how to write a comment in `{change}`: make `change` a Rust source (.rs) or TOML file (.toml), or a Dockerfile"
                    );
                }
                if let Some(name) = may_compile.iter().find(|c| !is_crate_name(c)) {
                    bail!(
                        "check `{id}`: `may_compile` names `{name}`, which is not a crate name (letters, digits, `-` and `_`)"
                    );
                }
            }
            if !introduced.contains(id.as_str()) {
                bail!("check `{id}` is not introduced by any step: add it to a step's `checks`");
            }
            if check.why.trim().is_empty() || check.fix.trim().is_empty() {
                bail!("check `{id}` needs a non-empty `why` and `fix`: they are what a learner reads on failure");
            }
            if let Kind::FilesAbsent { patterns } = &check.kind {
                for p in patterns {
                    globset::Glob::new(p).with_context(|| format!("check `{id}`: bad pattern `{p}`"))?;
                }
            }
        }
        Ok(())
    }

    /// The step with this id; `5` is accepted for `step-5`.
    pub fn step(&self, name: &str) -> Result<&Step> {
        let wanted = if name.chars().all(|c| c.is_ascii_digit()) { format!("step-{name}") } else { name.to_string() };
        self.steps.iter().find(|s| s.id == wanted).with_context(|| {
            let known: Vec<_> = self.steps.iter().map(|s| s.id.as_str()).collect();
            format!("unknown step `{name}`: the steps are {}", known.join(", "))
        })
    }

    /// The checks step `step` runs: those of every step up to and including it, in order.
    pub fn checks_for(&self, step: &Step) -> Vec<(&str, &Check)> {
        let upto = self.steps.iter().position(|s| s.id == step.id).map_or(0, |i| i + 1);
        self.steps[..upto].iter().flat_map(|s| s.checks.iter()).map(|id| (id.as_str(), &self.checks[id])).collect()
    }

    /// The book URL of a page such as `step-5.html` or `checks/image-size.html`.
    pub fn book_link(&self, page: &str) -> String {
        format!("{}/{page}", self.book_url.trim_end_matches('/'))
    }

    pub fn check_link(&self, id: &str) -> String {
        self.book_link(&format!("checks/{id}.html"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
format_version = 1
book_url = "http://localhost:3000/"
[[steps]]
id = "step-1"
title = "t"
concept = "c"
dir = "steps/step-1"
solution = "steps/step-1/solution"
book = "step-1.html"
size_limit = "3 GB"
checks = ["image-builds"]
hint = "h"
points = 10
[[steps]]
id = "step-2"
title = "t2"
concept = "c"
dir = "steps/step-2"
solution = "steps/step-2/solution"
book = "step-2.html"
size_limit = "20 MB"
checks = ["image-size"]
hint = "h"
points = 10
[checks.image-builds]
kind = "build"
title = "builds"
why = "w"
fix = "f"
[checks.image-size]
kind = "image-size"
title = "size"
why = "w"
fix = "f"
"#;

    #[test]
    fn the_shipped_manifest_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(FILE_NAME);
        let m = Manifest::load(&path).unwrap();
        let tables = std::fs::read_to_string(&path).unwrap().lines().filter(|l| l.trim() == "[[steps]]").count();
        assert_eq!(m.steps.len(), tables, "every [[steps]] table is a step");
        let last = m.steps.last().unwrap();
        // The image only shrinks: the last step has the lowest size limit.
        assert_eq!(Some(last.size_limit), m.steps.iter().map(|s| s.size_limit).min());
        // The last step runs every check of the workshop: checks accumulate.
        assert_eq!(m.checks_for(last).len(), m.checks.len());
        // Every starting point has something to learn.
        for step in &m.steps {
            assert!(!step.start_fails.is_empty(), "{}'s starting point fails no check: set its start_fails", step.id);
        }
    }

    #[test]
    fn start_fails_name_checks_the_step_runs() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert!(m.steps[0].start_fails.is_empty(), "start_fails may be left out");
        let with = |step: usize, list: &str| {
            let mut parts: Vec<&str> = MINIMAL.split("[[steps]]").collect();
            let entry = parts[step + 1].replacen("points = 10\n", &format!("points = 10\nstart_fails = {list}\n"), 1);
            parts[step + 1] = &entry;
            Manifest::parse(&parts.join("[[steps]]"))
        };
        // Step 2 runs its own check and step 1's, in that order.
        let m = with(1, r#"["image-size", "image-builds"]"#).unwrap();
        assert_eq!(m.steps[1].start_fails, ["image-size", "image-builds"]);
        // A later step's check does not run in step 1.
        let err = format!("{:#}", with(0, r#"["image-size"]"#).unwrap_err());
        assert!(err.contains("step `step-1` lists `image-size` in `start_fails`, but runs no such check"), "{err}");
        assert!(err.contains("its checks are image-builds"), "{err}");
        let err = format!("{:#}", with(1, r#"["nope"]"#).unwrap_err());
        assert!(err.contains("`nope` in `start_fails`"), "{err}");
        let err = format!("{:#}", with(1, r#"["image-size", "image-size"]"#).unwrap_err());
        assert!(err.contains("lists `image-size` twice"), "{err}");
        let err = format!("{:#}", with(1, r#""image-size""#).unwrap_err());
        assert!(err.contains("start_fails"), "a list, not a string: {err}");
    }

    #[test]
    fn checks_accumulate_in_step_order() {
        let m = Manifest::parse(MINIMAL).unwrap();
        let ids: Vec<_> = m.checks_for(m.step("step-2").unwrap()).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["image-builds", "image-size"]);
        let ids: Vec<_> = m.checks_for(m.step("1").unwrap()).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["image-builds"]);
        assert_eq!(m.check_link("image-size"), "http://localhost:3000/checks/image-size.html");
    }

    #[test]
    fn unknown_step_lists_the_known_ones() {
        let m = Manifest::parse(MINIMAL).unwrap();
        let err = m.step("step-9").unwrap_err().to_string();
        assert!(err.contains("unknown step `step-9`") && err.contains("step-1, step-2"), "{err}");
    }

    #[test]
    fn newer_format_asks_for_a_newer_checker() {
        let err = Manifest::parse(&MINIMAL.replace("format_version = 1", "format_version = 2")).unwrap_err();
        assert!(err.to_string().contains("update the checker"), "{err}");
        let err = Manifest::parse(&MINIMAL.replace("format_version = 1", "")).unwrap_err();
        assert!(err.to_string().contains("format_version is missing"), "{err}");
    }

    #[test]
    fn a_step_naming_an_undeclared_check_is_rejected() {
        let err = Manifest::parse(&MINIMAL.replace(r#"checks = ["image-size"]"#, r#"checks = ["image-size", "nope"]"#))
            .unwrap_err();
        assert!(err.to_string().contains("`nope`, which has no [checks.nope]"), "{err}");
    }

    #[test]
    fn a_check_no_step_introduces_is_rejected() {
        let err = Manifest::parse(&MINIMAL.replace(r#"checks = ["image-size"]"#, "checks = []")).unwrap_err();
        assert!(err.to_string().contains("not introduced by any step"), "{err}");
    }

    #[test]
    fn unknown_kind_and_bad_size_are_rejected() {
        let err = Manifest::parse(&MINIMAL.replace(r#"kind = "build""#, r#"kind = "telepathy""#)).unwrap_err();
        assert!(format!("{err:#}").contains("telepathy"), "{err:#}");
        let err = Manifest::parse(&MINIMAL.replace("3 GB", "3 parsecs")).unwrap_err();
        assert!(format!("{err:#}").contains("unknown size unit `parsecs`"), "{err:#}");
        let typo = MINIMAL.replace("kind = \"image-size\"", "kind = \"image-size\"\nlimitt = 3");
        let err = Manifest::parse(&typo).unwrap_err();
        assert!(format!("{err:#}").contains("limitt"), "a misspelt parameter is an error, not ignored: {err:#}");
    }

    #[test]
    fn ids_are_slugs_and_paths_stay_inside_the_workshop() {
        let err = |text: String| format!("{:#}", Manifest::parse(&text).unwrap_err());
        let evil_id = MINIMAL.replace(r#"id = "step-1""#, r#"id = "/tmp/evil""#);
        assert!(err(evil_id).contains("step id `/tmp/evil` must be lowercase letters"));
        for (from, to) in [
            (r#"dir = "steps/step-1""#, r#"dir = "/etc""#),
            (r#"dir = "steps/step-1""#, r#"dir = "steps/../../etc""#),
            (r#"solution = "steps/step-1/solution""#, r#"solution = "/tmp/x""#),
            (r#"dir = "steps/step-1""#, r#"dir = """#),
        ] {
            let e = err(MINIMAL.replace(from, to));
            assert!(e.contains("must be a relative path inside the workshop"), "{to}: {e}");
        }
        let rebuild = |change: &str| {
            format!(
                "{MINIMAL}\n[checks.cache]\nkind = \"rebuild\"\nchange = \"{change}\"\ntitle = \"c\"\nwhy = \"w\"\nfix = \"f\"\n"
            )
            .replace(r#"checks = ["image-size"]"#, r#"checks = ["image-size", "cache"]"#)
        };
        assert!(Manifest::parse(&rebuild("src/main.rs")).is_ok());
        let overlay = |params: &str| {
            format!(
                "{MINIMAL}\n[checks.added]\nkind = \"rebuild\"\n{params}\ntitle = \"c\"\nwhy = \"w\"\nfix = \"f\"\n"
            )
            .replace(r#"checks = ["image-size"]"#, r#"checks = ["image-size", "added"]"#)
        };
        let m = Manifest::parse(&overlay("overlay = \"steps/step-2/added\"\nmay_compile = [\"fnv\"]")).unwrap();
        let Kind::Rebuild { change, overlay: folder, may_compile } = &m.checks["added"].kind else { panic!() };
        assert_eq!(
            (change, folder.as_deref(), may_compile.as_slice()),
            (&None, Some("steps/step-2/added"), &["fnv".to_string()][..])
        );
        let e = err(overlay("overlay = \"/etc\""));
        assert!(e.contains("check `added`: `overlay`") && e.contains("relative path"), "{e}");
        assert!(err(overlay("overlay = \"a/../../b\"")).contains("without `..`"));
        assert!(err(overlay("may_compile = [\"fnv\"]")).contains("needs a `change`"), "a rebuild with no change");
        assert!(err(overlay("overlay = \"o\"\nmay_compile = [\"fnv v1\"]")).contains("not a crate name"));
        assert!(Manifest::parse(&overlay("overlay = \"o\"\nchange = \"Cargo.toml\"")).is_ok());
        let e = err(overlay("overlay = \"o\"\nchange = \"Cargo.lock\""));
        assert!(e.contains("does not know how to write a comment in `Cargo.lock`"), "{e}");
        assert_eq!(
            ["src/main.rs", "Cargo.toml", "Dockerfile", "a/b.YML", "README"].map(comment_start),
            [Some("//"), Some("#"), Some("#"), Some("#"), None]
        );
        let e = err(rebuild("/tmp/victim3"));
        assert!(e.contains("check `cache`: `change`") && e.contains("relative path"), "{e}");
        assert!(err(rebuild("../victim")).contains("without `..`"));
    }

    #[test]
    fn limits_past_what_an_engine_takes_are_rejected() {
        let with = |limits: &str| {
            MINIMAL.replace("[[steps]]\nid = \"step-1\"", &format!("[limits]\n{limits}\n[[steps]]\nid = \"step-1\""))
        };
        for limits in [
            "cpus = inf",
            "cpus = nan",
            "cpus = 5000.0",
            "pids = 99999999",
            "memory = \"2000 GB\"",
            "build_timeout_secs = 9999999",
        ] {
            let e = format!("{:#}", Manifest::parse(&with(limits)).unwrap_err());
            assert!(e.contains("[limits] too") || e.contains("cpus"), "{limits}: {e}");
        }
        let huge = format!("{:#}", Manifest::parse(&with("memory = \"99999999999999999999999 GB\"")).unwrap_err());
        assert!(huge.contains("too large a size"), "{huge}");
        assert!(Manifest::parse(&with("cpus = 2.0\nmemory = \"1 GB\"")).is_ok());
    }

    #[test]
    fn limits_default_when_absent_and_too_low_ones_are_rejected() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.limits.pids, Limits::default().pids);
        assert_eq!(m.steps[0].build_timeout(&m.limits).as_secs(), 900);
        let set = MINIMAL.replace(
            "[[steps]]\nid = \"step-1\"",
            "[limits]\npids = 32\nbuild_timeout_secs = 60\n[[steps]]\nid = \"step-1\"",
        );
        let m = Manifest::parse(&set).unwrap();
        assert_eq!((m.limits.pids, m.limits.memory), (32, Limits::default().memory));
        assert_eq!(m.steps[1].build_timeout(&m.limits).as_secs(), 60);
        let low = set.replace("pids = 32", "pids = 2");
        assert!(Manifest::parse(&low).unwrap_err().to_string().contains("pids >= 8"));
        let typo = set.replace("pids = 32", "pid = 32");
        assert!(format!("{:#}", Manifest::parse(&typo).unwrap_err()).contains("unknown field `pid`"));
        let no_points = MINIMAL.replacen("points = 10\n", "", 1);
        assert!(format!("{:#}", Manifest::parse(&no_points).unwrap_err()).contains("missing field `points`"));
    }

    #[test]
    fn a_step_that_cannot_run_its_checks_is_rejected() {
        // Step 1 reads the image, but the build check only comes with step 2.
        let no_build = MINIMAL
            .replace(r#"checks = ["image-builds"]"#, "checks = [SWAP]")
            .replace(r#"checks = ["image-size"]"#, r#"checks = ["image-builds"]"#)
            .replace("checks = [SWAP]", r#"checks = ["image-size"]"#);
        let err = Manifest::parse(&no_build).unwrap_err();
        assert!(err.to_string().contains("step `step-1` has checks that need the image but no `build` check"), "{err}");
        let no_http =
            format!("{MINIMAL}\n[checks.uid]\nkind = \"process-uid\"\ntitle = \"u\"\nwhy = \"w\"\nfix = \"f\"\n")
                .replace(r#"checks = ["image-size"]"#, r#"checks = ["image-size", "uid"]"#);
        let err = Manifest::parse(&no_http).unwrap_err();
        assert!(err.to_string().contains("has no `http` check"), "{err}");
    }

    #[test]
    fn sizes_parse_and_print_in_decimal_units() {
        assert_eq!("150 MB".parse::<ByteSize>().unwrap(), ByteSize(150_000_000));
        assert_eq!("1.5GB".parse::<ByteSize>().unwrap(), ByteSize(1_500_000_000));
        assert_eq!(ByteSize(2_345_678).to_string(), "2.3 MB");
        assert_eq!(ByteSize(1_160_981_420).to_string(), "1.16 GB");
        assert!("MB".parse::<ByteSize>().is_err());
    }
}

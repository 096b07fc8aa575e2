//! `checker dev check`: checks the workshop's own content, as rustlings' `dev check` checks
//! its exercises, so that a broken step is found by its author and CI, not by a learner.
//!
//! [`check`] returns every [`Problem`] it finds (what, where, how to fix it); an empty list
//! means the step folders match the manifest, each starting point is the previous step's
//! solution plus a TODO block, every step builds the same server with `--locked` and on any
//! CPU architecture, step files have LF endings, every check has a book page, and the
//! book's generated pages were made from the current inputs ([`inputs_stamp`]), and the
//! release-profile knobs were measured on the current step and knob list ([`knobs_stamp`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::manifest::{Kind, Manifest, Step};

/// Where `book-tools generate` records [`inputs_stamp`], relative to the workshop root.
pub const STAMP: &str = "book/src/generated/inputs.sha256";

/// The release-profile knobs that `bench/knobs.py` measures, each a build of one step.
pub const KNOBS: &str = "bench/knobs.toml";

/// What `bench/knobs.py` measured, with the [`knobs_stamp`] of what it built (`inputs`).
pub const KNOBS_RESULTS: &str = "bench/knobs.json";
/// What `bench/engines.py` measures on each engine, for the setup chapter\'s table.
pub const ENGINES_RESULTS: &str = "bench/engines.json";

/// The files every step's build context holds.
const STEP_FILES: [&str; 5] = ["Dockerfile", "Cargo.toml", "Cargo.lock", "src/main.rs", ".dockerignore"];

/// The server's files, identical in every step (checked by `same-server`).
const SERVER_FILES: [&str; 2] = ["src/main.rs", "Cargo.lock"];

/// What `check` found wrong in the workshop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The rule broken: `step-folder`, `todo-block`, `starting-point`, `same-server`,
    /// `locked`, `architecture`, `line-endings`, `check-files`, `book-page`, `generated` or
    /// `measured`.
    pub rule: &'static str,
    /// What is wrong.
    pub what: String,
    /// Where: a path relative to the workshop root, with `:LINE` when one line is at fault.
    pub at: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]\n    fix: {}", self.at, self.what, self.rule, self.fix)
    }
}

/// Every problem of the workshop at `root`, whose manifest is `manifest`; none when it is
/// ready for learners.
pub fn check(root: &Path, manifest: &Manifest) -> Vec<Problem> {
    let mut found = Found { root, problems: Vec::new() };
    step_folders(&mut found, manifest);
    todo_blocks(&mut found, manifest);
    starting_points(&mut found, manifest);
    same_server(&mut found, manifest);
    let files = files_under(&root.join("steps"));
    for file in files.iter().filter(|f| f.file_name().is_some_and(|n| n == "Dockerfile")) {
        if let Ok(text) = std::fs::read_to_string(file) {
            locked_builds(&mut found, file, &text);
            architectures(&mut found, file, &text);
        }
    }
    line_endings(&mut found, &files);
    check_files(&mut found, manifest);
    book_pages(&mut found, manifest);
    generated(&mut found);
    measured(&mut found, manifest);
    found.problems
}

/// The hash of what `book-tools generate` reads — workshop.toml, every file under steps/
/// (but `target/` folders), bench/results.json and, when they exist, [`KNOBS_RESULTS`],
/// [`ENGINES_RESULTS`] and book/parts.toml — as the line `book-tools generate` writes to
/// [`STAMP`]: see [`hash`].
pub fn inputs_stamp(root: &Path) -> std::io::Result<String> {
    let optional = [root.join("book/parts.toml"), root.join(KNOBS_RESULTS), root.join(ENGINES_RESULTS)]
        .into_iter()
        .filter(|p| p.is_file());
    let inputs = files_under(&root.join("steps"))
        .into_iter()
        .chain([root.join("workshop.toml"), root.join("bench/results.json")])
        .chain(optional);
    Ok(format!("{}\n", hash(root, inputs)?))
}

/// The hash of what `bench/knobs.py` builds, which it records as `inputs` in
/// [`KNOBS_RESULTS`]: [`KNOBS`] and, of the step it names, the files that the step's
/// Dockerfile copies into the build (Cargo.toml, Cargo.lock and every file under src/),
/// each from the step's solution when that has it. An error says what is missing.
pub fn knobs_stamp(root: &Path, manifest: &Manifest) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Knobs {
        step: String,
    }
    let text = std::fs::read_to_string(root.join(KNOBS)).map_err(|e| format!("cannot read {KNOBS}: {e}"))?;
    let knobs: Knobs = toml::from_str(&text).map_err(|e| format!("{KNOBS} names no `step`: {e}"))?;
    let step = manifest
        .steps
        .iter()
        .find(|s| s.id == knobs.step)
        .ok_or_else(|| format!("{KNOBS} measures `{}`, a step the manifest does not have", knobs.step))?;
    let folders = [root.join(&step.solution), root.join(&step.dir)];
    let mut names = std::collections::BTreeSet::from(["Cargo.toml".to_string(), "Cargo.lock".to_string()]);
    for folder in &folders {
        names.extend(files_under(&folder.join("src")).iter().map(|file| relative(folder, file)));
    }
    let mut inputs = vec![root.join(KNOBS)];
    for name in names {
        let file = folders.iter().map(|f| f.join(&name)).find(|f| f.is_file());
        inputs.push(file.ok_or_else(|| format!("{} has no {name}", step.dir))?);
    }
    hash(root, inputs).map_err(|e| format!("cannot hash what {KNOBS} measures: {e}"))
}

/// FNV-1a 64 over each file's `/`-separated path from `root`, a NUL, its length (8 bytes,
/// little-endian) and its bytes, in sorted path order, as `fnv1a64:<16 hex digits>`.
/// (`bench/knobs.py` computes the same.)
fn hash(root: &Path, files: impl IntoIterator<Item = PathBuf>) -> std::io::Result<String> {
    let mut inputs: Vec<(String, PathBuf)> = files.into_iter().map(|path| (relative(root, &path), path)).collect();
    inputs.sort();
    let mut hash = Fnv1a64::new();
    for (name, path) in &inputs {
        let bytes = std::fs::read(path).map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))?;
        hash.write(name.as_bytes());
        hash.write(&[0]);
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    Ok(format!("fnv1a64:{:016x}", hash.0))
}

/// FNV-1a, 64 bits: small, dependency-free and stable, which is all a freshness stamp needs.
struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

struct Found<'a> {
    root: &'a Path,
    problems: Vec<Problem>,
}

impl Found<'_> {
    fn add(&mut self, rule: &'static str, at: impl Into<String>, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem { rule, what: what.into(), at: at.into(), fix: fix.into() });
    }

    fn rel(&self, path: &Path) -> String {
        relative(self.root, path)
    }
}

/// `path` relative to `root`, with `/` between its parts on every platform.
fn relative(root: &Path, path: &Path) -> String {
    let inside = path.strip_prefix(root).unwrap_or(path);
    inside.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Every file under `dir` (none when it does not exist), sorted, without `target/` folders
/// (a local `cargo build` in a step is no part of the workshop).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && e.file_name() == "target"))
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The number a step's TODO block and checker command use: its place in the manifest.
fn number(manifest: &Manifest, step: &Step) -> usize {
    manifest.steps.iter().position(|s| s.id == step.id).map_or(0, |i| i + 1)
}

/// Each step's folder and solution exist with their files, steps are numbered in order,
/// the solution stays out of a plain `docker build`, and steps/ holds no folder the
/// manifest does not name.
fn step_folders(found: &mut Found<'_>, manifest: &Manifest) {
    let root = found.root;
    for step in &manifest.steps {
        let n = number(manifest, step);
        if step.id != format!("step-{n}") {
            found.add(
                "step-folder",
                crate::manifest::FILE_NAME,
                format!("the manifest's step {n} is `{}`: steps are numbered step-1, step-2, … in order", step.id),
                format!("rename it `step-{n}` (its TODO block says `TODO step {n}`), or move its [[steps]] table"),
            );
        }
        let dir = root.join(&step.dir);
        if !dir.is_dir() {
            found.add(
                "step-folder",
                &step.dir,
                format!("{}'s folder does not exist", step.id),
                format!("create {} (from the previous step's folder and solution), or correct its `dir`", step.dir),
            );
        } else {
            for file in STEP_FILES.iter().filter(|f| !dir.join(f).is_file()) {
                found.add(
                    "step-folder",
                    format!("{}/{file}", step.dir),
                    format!("{}'s build context has no {file}", step.id),
                    format!(
                        "add {file}: every step folder is a complete build context, carried over from the previous step"
                    ),
                );
            }
        }
        let solution = root.join(&step.solution);
        if !solution.join("Dockerfile").is_file() {
            let what = if solution.is_dir() { "has no Dockerfile" } else { "does not exist" };
            found.add(
                "step-folder",
                &step.solution,
                format!("{}'s solution {what}", step.id),
                format!("write the reference solution's Dockerfile in {}, or correct its `solution`", step.solution),
            );
        }
        // The solution folder stays out of the context sent by a plain `docker build`.
        if let Ok(inside) = solution.strip_prefix(&dir) {
            let name = relative(Path::new(""), inside);
            let ignore = dir.join(".dockerignore");
            if let Ok(text) = std::fs::read_to_string(&ignore)
                && !text.lines().any(|l| l.trim().trim_matches('/') == name)
            {
                found.add(
                    "step-folder",
                    found.rel(&ignore),
                    format!(
                        "{}'s .dockerignore does not list {name}/: a plain `docker build` would send the solution",
                        step.id
                    ),
                    format!("add the line `{name}/`"),
                );
            }
        }
    }
    // A folder no step names is a step that was renamed, or one the manifest forgot.
    let named: Vec<PathBuf> = manifest
        .steps
        .iter()
        .flat_map(|s| [Path::new(&s.dir).to_path_buf(), Path::new(&s.solution).to_path_buf()])
        .collect();
    let Ok(entries) = std::fs::read_dir(root.join("steps")) else { return };
    let mut folders: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).map(|p| PathBuf::from(found.rel(&p))).collect();
    folders.sort();
    for folder in folders {
        if !named.iter().any(|n| n.starts_with(&folder)) {
            found.add(
                "step-folder",
                relative(Path::new(""), &folder),
                "no step of workshop.toml names this folder",
                "add a [[steps]] table with this `dir` to workshop.toml, or delete the folder",
            );
        }
    }
}

/// Each starting point states its task in a TODO block that says how to check it; each
/// solution is finished.
fn todo_blocks(found: &mut Found<'_>, manifest: &Manifest) {
    for step in &manifest.steps {
        let n = number(manifest, step);
        let path = found.root.join(&step.dir).join("Dockerfile");
        if let Ok(text) = std::fs::read_to_string(&path) {
            if !text.contains(&format!("# TODO step {n}:")) {
                found.add(
                    "todo-block",
                    found.rel(&path),
                    format!("{}'s Dockerfile has no TODO block (`# TODO step {n}: …`)", step.id),
                    "open it with a comment block `# TODO step N: <title>` that says what to do",
                );
            }
            if !text.contains(&format!("checker step-{n}")) {
                found.add(
                    "todo-block",
                    found.rel(&path),
                    format!("{}'s TODO block does not say how to check it", step.id),
                    format!(
                        "end the block with `#   Check your work:  checker step-{n}      Stuck?  checker hint step-{n}`"
                    ),
                );
            }
        }
        let path = found.root.join(&step.solution).join("Dockerfile");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(i) = text.lines().position(|l| l.contains("TODO"))
        {
            found.add(
                "todo-block",
                format!("{}:{}", found.rel(&path), i + 1),
                format!("{}'s solution still has a TODO", step.id),
                "finish the solution: it is what `checker step-N --solution` and the book show",
            );
        }
    }
}

/// The Dockerfile's lines outside its TODO block (a run of comment lines opened by
/// `# TODO step`), with their line numbers, without blank lines at either end.
fn without_todo(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_todo = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# TODO step")
            || (line.starts_with("# ====") && lines.get(i + 1).is_some_and(|n| n.starts_with("# TODO step")))
        {
            in_todo = true;
        }
        if in_todo {
            if !line.starts_with('#') {
                in_todo = false;
            } else {
                continue;
            }
        }
        out.push((i + 1, *line));
    }
    let blank = |(_, l): &(usize, &str)| l.trim().is_empty();
    let start = out.iter().position(|l| !blank(l)).unwrap_or(out.len());
    let end = out.iter().rposition(|l| !blank(l)).map_or(start, |i| i + 1);
    out[start..end].to_vec()
}

/// Step 1 starts from an empty Dockerfile; every later step from the previous step's
/// solution: its Dockerfile plus a TODO block, and its other files carried over.
fn starting_points(found: &mut Found<'_>, manifest: &Manifest) {
    let root = found.root;
    let Some(first) = manifest.steps.first() else { return };
    let path = root.join(&first.dir).join("Dockerfile");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Some((line, _)) = without_todo(&text).first()
    {
        found.add(
            "starting-point",
            format!("{}:{line}", found.rel(&path)),
            format!(
                "{} starts from an empty Dockerfile, but this one has instructions outside its TODO block",
                first.id
            ),
            "leave only the TODO block: writing the first instructions is the learner's task",
        );
    }
    for pair in manifest.steps.windows(2) {
        let (previous, step) = (&pair[0], &pair[1]);
        let solution = root.join(&previous.solution).join("Dockerfile");
        let start = root.join(&step.dir).join("Dockerfile");
        if let (Ok(solution_text), Ok(start_text)) =
            (std::fs::read_to_string(&solution), std::fs::read_to_string(&start))
        {
            let kept = without_todo(&start_text);
            let wanted: Vec<&str> = solution_text.trim().lines().collect();
            let have: Vec<&str> = kept.iter().map(|(_, l)| *l).collect();
            if have.join("\n").trim() != wanted.join("\n").trim() {
                let i = have.iter().zip(&wanted).position(|(a, b)| a != b).unwrap_or(have.len().min(wanted.len()));
                let line = kept.get(i).or(kept.last()).map_or(1, |(n, _)| *n);
                let shown =
                    |l: Option<&&str>| l.map_or("the end of the file".to_string(), |l| format!("`{}`", l.trim()));
                found.add(
                    "starting-point",
                    format!("{}:{line}", found.rel(&start)),
                    format!(
                        "outside its TODO block, {} is not {}'s solution ({}): here it has {} where the solution has {}",
                        step.id,
                        previous.id,
                        found.rel(&solution),
                        shown(have.get(i)),
                        shown(wanted.get(i))
                    ),
                    format!("make the lines after the TODO block a copy of {}", found.rel(&solution)),
                );
            }
        }
        carried_over(found, previous, step);
    }
}

/// The previous step's files, with its solution's laid over them, are in `step` unchanged
/// (the Dockerfile is compared above; the server's files by `same-server`).
fn carried_over(found: &mut Found<'_>, previous: &Step, step: &Step) {
    let root = found.root;
    let (from, solution, to) = (root.join(&previous.dir), root.join(&previous.solution), root.join(&step.dir));
    if !to.is_dir() {
        return;
    }
    let mut expected = std::collections::BTreeMap::new();
    for (base, files) in [(&from, files_under(&from)), (&solution, files_under(&solution))] {
        for file in files.into_iter().filter(|f| !f.starts_with(&solution) || base == &solution) {
            expected.insert(relative(base, &file), file);
        }
    }
    for (name, source) in expected {
        if name == "Dockerfile" || SERVER_FILES.contains(&name.as_str()) {
            continue;
        }
        let target = to.join(&name);
        let Ok(wanted) = std::fs::read(&source) else { continue };
        let what = match std::fs::read(&target) {
            Ok(have) if have == wanted => continue,
            Ok(_) => format!("{}'s {name} differs from {}", step.id, found.rel(&source)),
            Err(_) => format!("{} has no {name}, unlike {}", step.id, found.rel(&source)),
        };
        found.add(
            "starting-point",
            found.rel(&target),
            format!(
                "{what}: a starting point carries over {}'s files, with its solution's laid over them",
                previous.id
            ),
            format!("copy {} to {}", found.rel(&source), found.rel(&target)),
        );
    }
}

/// Every step builds the same server: src/main.rs and Cargo.lock as step 1's, Cargo.toml
/// with step 1's dependencies, listening on every interface on the port the checks request.
fn same_server(found: &mut Found<'_>, manifest: &Manifest) {
    let root = found.root;
    let Some(first) = manifest.steps.first() else { return };
    let first_dir = root.join(&first.dir);
    let dependencies = |dir: &Path| -> Option<Option<toml::Value>> {
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).ok()?).ok()?;
        Some(table.get("dependencies").cloned())
    };
    for step in &manifest.steps[1..] {
        let dir = root.join(&step.dir);
        for file in SERVER_FILES {
            if let (Ok(want), Ok(have)) = (std::fs::read(first_dir.join(file)), std::fs::read(dir.join(file)))
                && want != have
            {
                found.add(
                    "same-server",
                    found.rel(&dir.join(file)),
                    format!("{}'s {file} differs from {}'s: every step builds the same server", step.id, first.id),
                    format!("make it a copy of {}/{file} (change the server in every step at once)", first.dir),
                );
            }
        }
        if dir.join("Cargo.toml").is_file() && first_dir.join("Cargo.toml").is_file() {
            let (want, have) = (dependencies(&first_dir), dependencies(&dir));
            if want.is_none() || have.is_none() || want != have {
                found.add(
                    "same-server",
                    found.rel(&dir.join("Cargo.toml")),
                    format!(
                        "{}'s [dependencies] differ from {}'s (or its Cargo.toml is not valid TOML)",
                        step.id, first.id
                    ),
                    format!(
                        "copy the [dependencies] of {}/Cargo.toml (a step may change only other sections)",
                        first.dir
                    ),
                );
            }
        }
    }
    let main = first_dir.join("src/main.rs");
    let Ok(text) = std::fs::read_to_string(&main) else { return };
    for (id, check) in &manifest.checks {
        if let Kind::Http { port, .. } = check.kind
            && !text.contains(&format!("0.0.0.0:{port}"))
        {
            found.add(
                "same-server",
                found.rel(&main),
                format!("the server does not listen on 0.0.0.0:{port}, where the `{id}` check requests it"),
                format!(
                    "bind 0.0.0.0:{port}: inside a container 127.0.0.1 is reachable only from the container itself"
                ),
            );
        }
    }
}

/// Every `cargo build` of a Dockerfile uses `--locked`: the versions of Cargo.lock, as the
/// book and the checker's measurements did. A command runs to the shell's next `&&`, `||`,
/// `;` or `|`, across continuation lines.
fn locked_builds(found: &mut Found<'_>, file: &Path, text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| !is_comment(l)) {
        for (at, _) in line.match_indices("cargo build") {
            let mut command = String::new();
            let (mut j, mut rest) = (i, &line[at..]);
            loop {
                if let Some(end) = rest.find(['&', '|', ';']) {
                    command.push_str(&rest[..end]);
                    break;
                }
                let rest_trimmed = rest.trim_end();
                command.push_str(rest_trimmed.trim_end_matches('\\'));
                command.push(' ');
                if !rest_trimmed.ends_with('\\') {
                    break;
                }
                // Docker drops comment lines inside a continued instruction.
                j += 1;
                while lines.get(j).is_some_and(|l| is_comment(l)) {
                    j += 1;
                }
                let Some(next) = lines.get(j) else { break };
                rest = next;
            }
            if !command.split_whitespace().any(|w| w == "--locked") {
                found.add(
                    "locked",
                    format!("{}:{}", found.rel(file), i + 1),
                    format!("`{}` builds without --locked", command.trim()),
                    "add --locked: the build then uses exactly Cargo.lock's versions, and fails instead of changing them",
                );
            }
        }
    }
}

/// No instruction names a CPU architecture: the steps build on x86_64 and arm64 machines
/// alike, deriving the target from `uname -m` (or TARGETARCH). Comments may talk about them.
fn architectures(found: &mut Found<'_>, file: &Path, text: &str) {
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !is_comment(l)) {
        let lower = line.to_ascii_lowercase();
        let mut named: Vec<&str> =
            ["x86_64", "amd64", "aarch64", "arm64"].into_iter().filter(|a| lower.contains(a)).collect();
        // `--platform=$BUILDPLATFORM` follows the build; `--platform=linux/riscv64` pins one.
        if lower.split_whitespace().any(|w| w.strip_prefix("--platform=").is_some_and(|p| !p.starts_with('$'))) {
            named.push("--platform");
        }
        if !named.is_empty() {
            found.add(
                "architecture",
                format!("{}:{}", found.rel(file), i + 1),
                format!("`{}` hard-codes a CPU architecture ({})", line.trim(), named.join(", ")),
                "derive it from the build platform: `$(uname -m)` in RUN, or the TARGETARCH build argument",
            );
        }
    }
}

/// Step files have LF endings (a CRLF in a Dockerfile heredoc or a shell script breaks the
/// build), and .gitattributes keeps them so on Windows checkouts.
fn line_endings(found: &mut Found<'_>, files: &[PathBuf]) {
    for file in files {
        let Ok(bytes) = std::fs::read(file) else { continue };
        if let Some(at) = bytes.iter().position(|&b| b == b'\r') {
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            found.add(
                "line-endings",
                format!("{}:{line}", found.rel(file)),
                "has CRLF line endings (a carriage return before the newline)",
                "convert the file to LF, e.g. `sed -i 's/\\r$//' FILE` or your editor's line-ending setting",
            );
        }
    }
    let attributes = std::fs::read_to_string(found.root.join(".gitattributes")).unwrap_or_default();
    if !attributes.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["*", "text=auto", "eol=lf"]) {
        found.add(
            "line-endings",
            ".gitattributes",
            "no `* text=auto eol=lf` line: a Windows checkout would turn the step files to CRLF",
            "add the line `* text=auto eol=lf` to .gitattributes",
        );
    }
}

/// Every check has its page, book/src/checks/<id>.md, listed in SUMMARY.md (mdBook renders
/// only the pages listed there, and every failure links to its check's page).
/// The files a `rebuild` check changes are in the folder of the step that introduces it;
/// an `overlay` folder holds files, each replacing one of that folder's, and a Cargo.lock
/// there adds the crates `may_compile` names (the step's own Cargo.lock has none of them).
fn check_files(found: &mut Found<'_>, manifest: &Manifest) {
    let root = found.root;
    for step in &manifest.steps {
        let dir = root.join(&step.dir);
        for id in &step.checks {
            let Kind::Rebuild { change, overlay, may_compile } = &manifest.checks[id].kind else { continue };
            if let Some(change) = change
                && !dir.join(change).is_file()
            {
                found.add(
                    "check-files",
                    format!("{}/{change}", step.dir),
                    format!("the check `{id}` changes {change}, which {} does not have", step.id),
                    format!("correct the check's `change`, or add {change} to {}", step.dir),
                );
            }
            let Some(overlay) = overlay else { continue };
            let files = files_under(&root.join(overlay));
            if files.is_empty() {
                found.add(
                    "check-files",
                    overlay,
                    format!("the check `{id}` lays the files of {overlay} over the context, but there are none"),
                    format!("put the files that replace {}'s in {overlay}, or correct the check's `overlay`", step.id),
                );
            }
            for file in &files {
                let name = relative(&root.join(overlay), file);
                if !dir.join(&name).is_file() {
                    found.add(
                        "check-files",
                        found.rel(file),
                        format!("the check `{id}` would replace {name}, which {} does not have", step.id),
                        format!("name the file after the one of {} it replaces, or remove it", step.dir),
                    );
                }
            }
            let crates = |path: &Path| -> Vec<String> {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                text.lines().filter_map(|l| Some(l.strip_prefix("name = \"")?.strip_suffix('"')?.to_string())).collect()
            };
            let lock = root.join(overlay).join("Cargo.lock");
            if lock.is_file() {
                let (new, old) = (crates(&lock), crates(&dir.join("Cargo.lock")));
                for name in may_compile.iter().filter(|c| !new.contains(c) || old.contains(c)) {
                    found.add(
                        "check-files",
                        found.rel(&lock),
                        format!(
                            "the check `{id}` lets {name} compile, but {name} is not a crate this Cargo.lock adds to {}'s",
                            step.id
                        ),
                        format!("add {name} to the overlay's Cargo.toml and Cargo.lock, or correct `may_compile`"),
                    );
                }
            }
        }
    }
}

fn book_pages(found: &mut Found<'_>, manifest: &Manifest) {
    let summary = found.root.join("book/src/SUMMARY.md");
    let Ok(text) = std::fs::read_to_string(&summary) else {
        found.add(
            "book-page",
            found.rel(&summary),
            "the book has no SUMMARY.md",
            "write book/src/SUMMARY.md, the book's table of contents",
        );
        return;
    };
    let links: Vec<&str> = text
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|link| link.trim().trim_start_matches("./"))
        .collect();
    for id in manifest.checks.keys() {
        let page = format!("checks/{id}.md");
        if !found.root.join("book/src").join(&page).is_file() {
            found.add(
                "book-page",
                format!("book/src/{page}"),
                format!("the check `{id}` has no book page, and every failure of it links there"),
                format!("write book/src/{page} (the other pages under book/src/checks/ show what it holds)"),
            );
        }
        if !links.contains(&page.as_str()) {
            found.add(
                "book-page",
                found.rel(&summary),
                format!("SUMMARY.md does not list {page}: mdBook would not render the page of `{id}`"),
                format!("add `  - [{id}]({page})` under `[The checks](checks/index.md)`"),
            );
        }
    }
}

/// The generated pages were made from the current inputs: [`STAMP`] holds their hash.
fn generated(found: &mut Found<'_>) {
    let fix = "run `cargo run -p book-tools -- generate` and commit book/src/generated/";
    match inputs_stamp(found.root) {
        Err(e) => found.add("generated", STAMP, format!("cannot hash the generator's inputs: {e}"), fix),
        Ok(stamp) => match std::fs::read_to_string(found.root.join(STAMP)) {
            Ok(recorded) if recorded == stamp => {}
            Ok(_) => found.add(
                "generated",
                STAMP,
                "book/src/generated/ is out of date: workshop.toml, steps/, bench/results.json, bench/knobs.json, bench/engines.json or book/parts.toml changed since it was generated",
                fix,
            ),
            Err(_) => found.add("generated", STAMP, "book/src/generated/ has no stamp of its inputs", fix),
        },
    }
}

/// The knobs of [`KNOBS`] were measured on what it and its step hold now: the `inputs`
/// recorded in [`KNOBS_RESULTS`] are their [`knobs_stamp`]. No knob list, no rule.
fn measured(found: &mut Found<'_>, manifest: &Manifest) {
    if !found.root.join(KNOBS).is_file() {
        return;
    }
    let fix =
        "run `python3 bench/knobs.py` (a cold build per knob: minutes), then `cargo run -p book-tools -- generate`";
    let recorded = std::fs::read_to_string(found.root.join(KNOBS_RESULTS))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json.get("inputs").and_then(|v| v.as_str()).map(str::to_string));
    match (knobs_stamp(found.root, manifest), recorded) {
        (Err(e), _) => found.add("measured", KNOBS, e, format!("correct {KNOBS}, or the step it names")),
        (Ok(_), None) => found.add("measured", KNOBS_RESULTS, format!("no measurement of {KNOBS}'s knobs"), fix),
        (Ok(now), Some(then)) if now != then => found.add(
            "measured",
            KNOBS_RESULTS,
            format!(
                "the knobs table is stale: {KNOBS}, or its step's Cargo.toml, Cargo.lock or src/, changed since it was measured"
            ),
            fix,
        ),
        (Ok(_), Some(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const MANIFEST: &str = r#"
format_version = 1
book_url = "http://localhost:3000"

[[steps]]
id = "step-1"
title = "One"
concept = "one"
dir = "steps/step-1"
solution = "steps/step-1/solution"
book = "step-1.html"
points = 50
size_limit = "3 GB"
checks = ["image-builds", "responds-on-port"]
hint = "h"

[[steps]]
id = "step-2"
title = "Two"
concept = "two"
dir = "steps/step-2"
solution = "steps/step-2/solution"
book = "step-2.html"
points = 50
size_limit = "3 GB"
checks = ["workdir-set"]
hint = "h"

[checks.image-builds]
kind = "build"
title = "t"
why = "w"
fix = "f"

[checks.responds-on-port]
kind = "http"
title = "t"
port = 3030
path = "/"
timeout_secs = 30
why = "w"
fix = "f"

[checks.workdir-set]
kind = "workdir"
title = "t"
why = "w"
fix = "f"
"#;

    const SOLUTION_1: &str = "FROM rust:1.95-slim-bookworm\nCOPY . .\nRUN cargo build --release --locked\n";
    const SOLUTION_2: &str = "FROM rust:1.95-slim-bookworm\nWORKDIR /app\nCOPY . .\n\
        RUN cargo build --release --locked \\\n && cp target/release/server /app/server\nCMD [\"/app/server\"]\n";

    fn todo(n: usize) -> String {
        format!("# ====\n# TODO step {n}: do it\n#\n#   Check your work:  checker step-{n}\n# ====\n\n")
    }

    fn write(root: &Path, name: &str, text: &str) {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A sound two-step workshop: step 2 starts from step 1's solution, which also brings
    /// a new .dockerignore.
    fn workshop() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "workshop.toml", MANIFEST);
        write(root, ".gitattributes", "* text=auto eol=lf\n");
        write(root, "bench/results.json", "{}\n");
        for n in 1..=2 {
            let step = format!("steps/step-{n}");
            write(
                root,
                &format!("{step}/Cargo.toml"),
                "[package]\nname = \"server\"\n\n[dependencies]\naxum = \"0.8\"\n",
            );
            write(root, &format!("{step}/Cargo.lock"), "# lock\n");
            write(root, &format!("{step}/src/main.rs"), "const ADDR: &str = \"0.0.0.0:3030\";\n");
        }
        write(root, "steps/step-1/.dockerignore", "solution/\n");
        write(root, "steps/step-1/Dockerfile", &todo(1));
        write(root, "steps/step-1/solution/Dockerfile", SOLUTION_1);
        write(root, "steps/step-1/solution/.dockerignore", "target/\nsolution/\n");
        write(root, "steps/step-2/.dockerignore", "target/\nsolution/\n");
        write(root, "steps/step-2/Dockerfile", &(todo(2) + SOLUTION_1));
        write(root, "steps/step-2/solution/Dockerfile", SOLUTION_2);
        let mut summary = String::from("# Summary\n\n- [The checks](checks/index.md)\n");
        for id in ["image-builds", "responds-on-port", "workdir-set"] {
            write(root, &format!("book/src/checks/{id}.md"), "# page\n");
            summary += &format!("  - [{id}](checks/{id}.md)\n");
        }
        write(root, "book/src/SUMMARY.md", &summary);
        stamp(root);
        dir
    }

    fn stamp(root: &Path) {
        write(root, STAMP, &inputs_stamp(root).unwrap());
    }

    fn problems(root: &Path) -> Vec<Problem> {
        check(root, &Manifest::load(&root.join("workshop.toml")).unwrap())
    }

    /// The problems after `edit`, with the generated stamp made fresh again (so that only
    /// what the edit breaks is reported).
    fn after(edit: impl FnOnce(&Path)) -> Vec<Problem> {
        let dir = workshop();
        edit(dir.path());
        stamp(dir.path());
        problems(dir.path())
    }

    fn rules(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.rule).collect()
    }

    #[test]
    fn dev_a_sound_workshop_has_no_problem() {
        let dir = workshop();
        assert_eq!(problems(dir.path()), vec![]);
    }

    #[test]
    fn dev_finds_a_missing_step_folder_and_solution() {
        let found = after(|root| fs::remove_dir_all(root.join("steps/step-2")).unwrap());
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        assert_eq!(at, [("step-folder", "steps/step-2"), ("step-folder", "steps/step-2/solution")], "{found:#?}");
        let found = after(|root| fs::remove_file(root.join("steps/step-1/solution/Dockerfile")).unwrap());
        assert!(
            found.iter().any(|p| p.rule == "step-folder" && p.what.contains("solution has no Dockerfile")),
            "{found:#?}"
        );
    }

    #[test]
    fn dev_finds_a_missing_step_file_and_an_unignored_solution() {
        let found = after(|root| {
            fs::remove_file(root.join("steps/step-2/Cargo.lock")).unwrap();
            write(root, "steps/step-1/.dockerignore", "target/\n");
        });
        assert_eq!(rules(&found), ["step-folder", "step-folder"], "{found:#?}");
        assert_eq!(found[0].at, "steps/step-1/.dockerignore");
        assert_eq!(found[1].at, "steps/step-2/Cargo.lock");
    }

    #[test]
    fn dev_finds_a_folder_no_step_names() {
        let found = after(|root| write(root, "steps/step-3/Dockerfile", "FROM scratch\n"));
        assert_eq!(rules(&found), ["step-folder"], "{found:#?}");
        assert_eq!(found[0].at, "steps/step-3");
        assert!(found[0].fix.contains("[[steps]]"));
    }

    #[test]
    fn dev_finds_steps_out_of_order() {
        let found =
            after(|root| write(root, "workshop.toml", &MANIFEST.replace("id = \"step-2\"", "id = \"step-two\"")));
        assert_eq!(rules(&found), ["step-folder"], "{found:#?}");
        assert_eq!(found[0].at, "workshop.toml");
        assert!(found[0].what.contains("step 2 is `step-two`"), "{}", found[0].what);
    }

    #[test]
    fn dev_finds_a_missing_todo_block_and_an_unfinished_solution() {
        let found = after(|root| {
            write(root, "steps/step-1/Dockerfile", "");
            write(root, "steps/step-2/solution/Dockerfile", &format!("# TODO finish\n{SOLUTION_2}"));
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        assert!(at.contains(&("todo-block", "steps/step-1/Dockerfile")), "{found:#?}");
        assert!(at.contains(&("todo-block", "steps/step-2/solution/Dockerfile:1")), "{found:#?}");
    }

    #[test]
    fn dev_finds_a_starting_point_that_is_not_the_previous_solution() {
        let found = after(|root| {
            write(root, "steps/step-2/Dockerfile", &(todo(2) + &SOLUTION_1.replace("COPY . .", "COPY src src")))
        });
        assert_eq!(rules(&found), ["starting-point"], "{found:#?}");
        // The TODO block and a blank line are lines 1 to 6: the COPY is line 8.
        assert_eq!(found[0].at, "steps/step-2/Dockerfile:8");
        assert!(found[0].what.contains("`COPY src src` where the solution has `COPY . .`"), "{}", found[0].what);
    }

    #[test]
    fn dev_finds_instructions_in_the_first_starting_point() {
        let found = after(|root| write(root, "steps/step-1/Dockerfile", &(todo(1) + "FROM scratch\n")));
        assert_eq!(rules(&found), ["starting-point"], "{found:#?}");
        assert_eq!(found[0].at, "steps/step-1/Dockerfile:7");
    }

    #[test]
    fn dev_finds_a_file_of_the_previous_solution_not_carried_over() {
        let found = after(|root| write(root, "steps/step-2/.dockerignore", "solution/\n"));
        assert_eq!(rules(&found), ["starting-point"], "{found:#?}");
        assert_eq!(found[0].at, "steps/step-2/.dockerignore");
        assert!(found[0].fix.contains("copy steps/step-1/solution/.dockerignore"), "{}", found[0].fix);
    }

    #[test]
    fn dev_finds_a_rebuild_check_whose_files_do_not_fit_its_step() {
        let with_check = |params: &str| {
            MANIFEST.replace(r#"checks = ["workdir-set"]"#, r#"checks = ["workdir-set", "added"]"#)
                + &format!("\n[checks.added]\nkind = \"rebuild\"\n{params}\ntitle = \"t\"\nwhy = \"w\"\nfix = \"f\"\n")
        };
        let sound = |root: &Path| {
            write(root, "book/src/checks/added.md", "# page\n");
            let summary = fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap();
            write(root, "book/src/SUMMARY.md", &(summary + "  - [added](checks/added.md)\n"));
            for n in 1..=2 {
                write(root, &format!("steps/step-{n}/Cargo.lock"), "name = \"server\"\n");
            }
            write(root, "steps/step-2/added/Cargo.lock", "name = \"server\"\nname = \"fnv\"\n");
        };
        let params = "overlay = \"steps/step-2/added\"\nmay_compile = [\"fnv\"]\nchange = \"src/main.rs\"";
        let found = after(|root| {
            sound(root);
            write(root, "workshop.toml", &with_check(params));
        });
        assert_eq!(found, vec![], "a sound overlay");
        let found = after(|root| {
            sound(root);
            write(
                root,
                "workshop.toml",
                &with_check(&params.replace("fnv\"]", "fnv\", \"itoa\"]").replace("main.rs", "lib.rs")),
            );
            write(root, "steps/step-2/added/Cargo.tom", "[package]\n");
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        assert_eq!(
            at,
            [
                ("check-files", "steps/step-2/src/lib.rs"),
                ("check-files", "steps/step-2/added/Cargo.tom"),
                ("check-files", "steps/step-2/added/Cargo.lock")
            ],
            "{found:#?}"
        );
        assert!(found[2].what.contains("itoa is not a crate this Cargo.lock adds"), "{}", found[2].what);
        let found = after(|root| {
            sound(root);
            fs::remove_dir_all(root.join("steps/step-2/added")).unwrap();
            write(root, "workshop.toml", &with_check(params));
        });
        assert_eq!(rules(&found), ["check-files"], "{found:#?}");
        assert!(found[0].what.contains("there are none"), "{}", found[0].what);
    }

    #[test]
    fn dev_finds_a_different_server_lock_or_dependencies() {
        let found = after(|root| {
            write(root, "steps/step-2/src/main.rs", "const ADDR: &str = \"0.0.0.0:3030\"; // changed\n");
            write(root, "steps/step-2/Cargo.lock", "# another lock\n");
            write(root, "steps/step-2/Cargo.toml", "[package]\nname = \"server\"\n\n[dependencies]\naxum = \"0.7\"\n");
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        for file in ["src/main.rs", "Cargo.lock", "Cargo.toml"] {
            assert!(at.contains(&("same-server", &format!("steps/step-2/{file}"))), "{file}: {found:#?}");
        }
        // Cargo.toml is also what step 1's solution leaves for step 2 to start from.
        assert_eq!(found.len(), 3 + 1, "{found:#?}");
    }

    #[test]
    fn dev_allows_a_solution_to_change_cargo_toml_outside_its_dependencies() {
        let toml =
            "[package]\nname = \"server\"\n\n[dependencies]\naxum = \"0.8\"\n\n[profile.release]\nstrip = true\n";
        let found = after(|root| {
            write(root, "steps/step-1/solution/Cargo.toml", toml);
            write(root, "steps/step-2/Cargo.toml", toml);
        });
        assert_eq!(found, vec![]);
    }

    #[test]
    fn dev_finds_a_server_on_another_address() {
        let found = after(|root| {
            for n in 1..=2 {
                write(root, &format!("steps/step-{n}/src/main.rs"), "const ADDR: &str = \"127.0.0.1:3030\";\n");
            }
        });
        assert_eq!(rules(&found), ["same-server"], "{found:#?}");
        assert!(found[0].what.contains("0.0.0.0:3030") && found[0].what.contains("responds-on-port"));
    }

    #[test]
    fn dev_finds_a_cargo_build_without_locked_even_across_lines() {
        let found = after(|root| {
            let text = SOLUTION_2.replace("--release --locked \\", "--release \\\n# a comment\n --locked \\");
            write(root, "steps/step-2/solution/Dockerfile", &text);
        });
        assert_eq!(found, vec![], "--locked on a continuation line counts");
        let found = after(|root| {
            let text =
                SOLUTION_2.replace("--release --locked \\\n &&", "--release \\\n --locked; cargo build --release &&");
            write(root, "steps/step-2/solution/Dockerfile", &text);
        });
        assert_eq!(rules(&found), ["locked"], "{found:#?}");
        assert_eq!(found[0].at, "steps/step-2/solution/Dockerfile:5");
        assert_eq!(found[0].what, "`cargo build --release` builds without --locked");
    }

    #[test]
    fn dev_finds_a_hard_coded_architecture_but_not_in_comments() {
        let found = after(|root| {
            let text = SOLUTION_2.replace("target/release", "target/x86_64-unknown-linux-gnu/release")
                + "# on arm64 too\nFROM --platform=$BUILDPLATFORM scratch\nFROM --platform=linux/riscv64 scratch\n";
            write(root, "steps/step-2/solution/Dockerfile", &text);
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        assert_eq!(
            at,
            [
                ("architecture", "steps/step-2/solution/Dockerfile:5"),
                ("architecture", "steps/step-2/solution/Dockerfile:9")
            ],
            "{found:#?}"
        );
        assert!(found[0].what.contains("(x86_64)") && found[1].what.contains("(--platform)"));
    }

    #[test]
    fn dev_finds_crlf_endings_and_a_missing_gitattributes_rule() {
        let found = after(|root| {
            write(root, "steps/step-1/src/main.rs", "const ADDR: &str = \"0.0.0.0:3030\";\r\n");
            write(root, "steps/step-2/src/main.rs", "const ADDR: &str = \"0.0.0.0:3030\";\r\n");
            write(root, "steps/step-1/solution/Dockerfile", &SOLUTION_1.replace("COPY . .\n", "COPY . .\r\n"));
            write(root, "steps/step-2/Dockerfile", &(todo(2) + &SOLUTION_1.replace("COPY . .\n", "COPY . .\r\n")));
            write(root, ".gitattributes", "*.png binary\n");
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str())).collect();
        assert_eq!(
            at,
            [
                ("line-endings", "steps/step-1/solution/Dockerfile:2"),
                ("line-endings", "steps/step-1/src/main.rs:1"),
                ("line-endings", "steps/step-2/Dockerfile:8"),
                ("line-endings", "steps/step-2/src/main.rs:1"),
                ("line-endings", ".gitattributes"),
            ],
            "{found:#?}"
        );
    }

    #[test]
    fn dev_finds_a_check_without_its_book_page_or_summary_line() {
        let found = after(|root| {
            fs::remove_file(root.join("book/src/checks/workdir-set.md")).unwrap();
            let summary = fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap();
            write(root, "book/src/SUMMARY.md", &summary.replace("  - [image-builds](checks/image-builds.md)\n", ""));
        });
        let at: Vec<_> = found.iter().map(|p| (p.rule, p.at.as_str(), p.what.contains("SUMMARY"))).collect();
        assert_eq!(
            at,
            [("book-page", "book/src/SUMMARY.md", true), ("book-page", "book/src/checks/workdir-set.md", false)],
            "{found:#?}"
        );
    }

    #[test]
    fn dev_finds_stale_or_missing_generated_pages() {
        let dir = workshop();
        let root = dir.path();
        for input in ["workshop.toml", "bench/results.json", "steps/step-2/solution/Dockerfile"] {
            let before = fs::read(root.join(input)).unwrap();
            fs::write(root.join(input), [&before[..], b"\n"].concat()).unwrap();
            let found = problems(root);
            assert_eq!(rules(&found), ["generated"], "{input}: {found:#?}");
            assert!(found[0].fix.contains("cargo run -p book-tools -- generate"));
            fs::write(root.join(input), before).unwrap();
            assert_eq!(problems(root), vec![], "{input} restored");
        }
        // book/parts.toml counts once it exists.
        write(root, "book/parts.toml", "parts = []\n");
        assert_eq!(rules(&problems(root)), ["generated"], "book/parts.toml is an input");
        fs::remove_file(root.join("book/parts.toml")).unwrap();
        // A renamed file changes the stamp even though no byte changed.
        fs::rename(root.join("steps/step-1/Cargo.lock"), root.join("steps/step-1/Cargo.lock2")).unwrap();
        assert_ne!(inputs_stamp(root).unwrap(), fs::read_to_string(root.join(STAMP)).unwrap());
        fs::rename(root.join("steps/step-1/Cargo.lock2"), root.join("steps/step-1/Cargo.lock")).unwrap();
        fs::remove_file(root.join(STAMP)).unwrap();
        let found = problems(root);
        assert_eq!(rules(&found), ["generated"], "{found:#?}");
        assert!(found[0].what.contains("no stamp"));
    }

    #[test]
    fn dev_the_stamp_ignores_target_folders_and_is_fnv1a() {
        let dir = workshop();
        let root = dir.path();
        let before = inputs_stamp(root).unwrap();
        write(root, "steps/step-1/target/release/server", "binary");
        assert_eq!(inputs_stamp(root).unwrap(), before);
        // FNV-1a 64's published test vectors.
        let hash = |bytes: &[u8]| {
            let mut h = Fnv1a64::new();
            h.write(bytes);
            h.0
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// A knob list that measures step 2, and what `bench/knobs.py` records of it.
    fn measure_knobs(root: &Path) {
        write(root, KNOBS, "step = \"step-2\"\nrebuilds = 3\n");
        let manifest = Manifest::load(&root.join("workshop.toml")).unwrap();
        let inputs = knobs_stamp(root, &manifest).unwrap();
        write(root, KNOBS_RESULTS, &format!("{{\"inputs\": \"{inputs}\", \"rows\": []}}\n"));
    }

    /// What a test does to a workshop, and what that is.
    type Edit = (&'static str, fn(&Path));

    /// Where the `measured` rule found a problem after `edit` of freshly measured knobs.
    fn measured_after(edit: impl FnOnce(&Path)) -> Vec<String> {
        let found = after(|root| {
            measure_knobs(root);
            edit(root);
        });
        found.iter().filter(|p| p.rule == "measured").map(|p| format!("{}: {}", p.at, p.what)).collect()
    }

    #[test]
    fn dev_finds_knobs_measured_on_other_inputs() {
        assert_eq!(after(measure_knobs), vec![], "freshly measured knobs are no problem");
        let stale = format!("{KNOBS_RESULTS}: the knobs table is stale");
        let edits: [Edit; 5] = [
            ("the knob list", |root| write(root, KNOBS, "step = \"step-2\"\nrebuilds = 5\n")),
            ("the step's lock", |root| write(root, "steps/step-2/Cargo.lock", "# lock 2\n")),
            ("the step's source", |root| write(root, "steps/step-2/src/main.rs", "fn main() {}\n")),
            ("a new source file", |root| write(root, "steps/step-2/src/lib.rs", "\n")),
            ("a Cargo.toml in the solution", |root| write(root, "steps/step-2/solution/Cargo.toml", "[package]\n")),
        ];
        for (what, edit) in edits {
            let found = measured_after(edit);
            assert!(found.len() == 1 && found[0].starts_with(&stale), "{what}: {found:#?}");
        }
        // What the build does not read, or another step's files, leave the measurement be.
        let unread: [Edit; 3] = [
            ("another step's source", |root| write(root, "steps/step-1/src/main.rs", "fn main() {}\n")),
            ("the step's Dockerfile", |root| write(root, "steps/step-2/solution/Dockerfile", "FROM b\n")),
            ("the starting Cargo.toml once the solution has one", |root| {
                write(root, "steps/step-2/solution/Cargo.toml", "[package]\n");
                measure_knobs(root);
                write(root, "steps/step-2/Cargo.toml", "[package]\nname = \"other\"\n");
            }),
        ];
        for (what, edit) in unread {
            assert_eq!(measured_after(edit), Vec::<String>::new(), "{what}");
        }
        let found = measured_after(|root| fs::remove_file(root.join(KNOBS_RESULTS)).unwrap());
        assert_eq!(found, [format!("{KNOBS_RESULTS}: no measurement of {KNOBS}'s knobs")]);
        let found = measured_after(|root| write(root, KNOBS, "step = \"step-9\"\n"));
        assert_eq!(found, [format!("{KNOBS}: {KNOBS} measures `step-9`, a step the manifest does not have")]);
    }

    #[test]
    fn dev_the_generated_pages_are_stale_once_the_knobs_are_measured_again() {
        let dir = workshop();
        let root = dir.path();
        measure_knobs(root);
        assert_eq!(rules(&problems(root)), ["generated"], "bench/knobs.json counts once it exists");
        stamp(root);
        write(root, KNOBS_RESULTS, "{\"inputs\": \"other\"}\n");
        assert_eq!(rules(&problems(root)), ["generated", "measured"]);
    }
}

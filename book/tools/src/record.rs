//! Records the checker's real output for the book: on every step's untouched starting
//! point, and on each common mistake of `book/mistakes.toml`.

use anyhow::{Context, Result, bail};
use checker::context::Staged;
use checker::manifest::{Manifest, Step};
use serde::Deserialize;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistakes {
    pub mistakes: Vec<Mistake>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    pub name: String,
    pub step: String,
    /// The checks this mistake must fail, or the recording is refused.
    pub expect: Vec<String>,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub file: String,
    pub replace: String,
    pub with: String,
}

impl Mistakes {
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join("book/mistakes.toml");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))
    }
}

/// The width the reports are recorded at: what fits a book's code block (80 characters
/// fill its 750 px column).
const COLUMNS: usize = 80;

/// The sentence every page with a recorded output shows: which engine recorded it, since
/// another engine words a few lines differently.
fn engine_note() -> Result<String> {
    let docker = std::env::var("CHECKER_DOCKER").ok().filter(|d| !d.is_empty()).unwrap_or_else(|| "docker".into());
    let ask = |args: &[&str]| -> Result<String> {
        let out = Command::new(&docker).args(args).output().with_context(|| format!("cannot run {docker}"))?;
        if !out.status.success() {
            bail!("`{docker} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let version = ask(&["version", "--format", "{{.Server.Version}}"])?;
    let info = ask(&["info", "--format", "{{.Driver}} {{.Architecture}}"])?;
    let (driver, arch) = info.split_once(' ').unwrap_or((&info, "?"));
    Ok(format!(
        "*The checker's outputs on this page were recorded with Docker Engine {version} (BuildKit, the {driver} image store, {arch}). Another engine words a few lines differently.*\n"
    ))
}

/// Records everything, or only the steps and mistakes `only` names; `build` builds the
/// release checker first.
pub fn record_all(root: &Path, only: &[String], build: bool) -> Result<()> {
    let manifest = Manifest::load(&root.join("workshop.toml"))?;
    let mistakes = Mistakes::load(root)?.mistakes;
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if let Some(unknown) =
        only.iter().find(|o| !manifest.steps.iter().any(|s| s.id == **o) && !mistakes.iter().any(|m| m.name == **o))
    {
        bail!("`{unknown}` is neither a step nor a mistake of book/mistakes.toml");
    }
    if build {
        let status =
            Command::new("cargo").args(["build", "--release", "-q", "-p", "checker"]).current_dir(root).status()?;
        if !status.success() {
            bail!("cannot build the checker");
        }
    }
    let checker = root.join("target/release/checker");
    if !checker.is_file() {
        bail!("{} does not exist: build it with `cargo build --release -p checker`", checker.display());
    }
    save(root, "recorded-with.md", &engine_note()?)?;
    for step in manifest.steps.iter().filter(|s| wanted(&s.id)) {
        let output = run(&checker, root, &[&step.id])?;
        let text = format!("$ checker {}\n{}", step.id, relative(&output, root, None));
        save(root, &format!("{}/start-output.txt", step.id), &text)?;
    }
    for mistake in mistakes.into_iter().filter(|m| wanted(&m.name)) {
        let step = manifest.step(&mistake.step)?;
        let staged = stage(root, step, &mistake)?;
        let dir = staged.path();
        let context = format!("./{}", mistake.name);
        let output = run(&checker, root, &[&step.id, "--context", &dir.to_string_lossy()])?;
        for id in &mistake.expect {
            if !output.lines().any(|l| l.trim_start().starts_with(&format!("✗ {id} "))) {
                bail!("the mistake {} did not fail {id}; the checker said:\n{output}", mistake.name);
            }
        }
        let text =
            format!("$ checker {} --context {context}\n{}", step.id, relative(&output, root, Some((dir, &context))));
        save(root, &format!("mistakes/{}.txt", mistake.name), &text)?;
    }
    Ok(())
}

/// Runs the checker as a learner would; a report is expected (exit 0 or 1).
fn run(checker: &Path, root: &Path, args: &[&str]) -> Result<String> {
    eprintln!("recording: checker {}", args.join(" "));
    let out = Command::new(checker).args(args).current_dir(root).env("COLUMNS", COLUMNS.to_string()).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0 | 1) => Ok(stdout),
        _ => bail!("checker {} could not check:\n{stdout}{}", args.join(" "), String::from_utf8_lossy(&out.stderr)),
    }
}

/// Paths as the reader would see them: relative to the repository, the staged copy
/// under the name the recorded command gives it.
fn relative(output: &str, root: &Path, staged: Option<(&Path, &str)>) -> String {
    let mut text = output.to_string();
    if let Some((dir, name)) = staged {
        text = text.replace(&*dir.to_string_lossy(), name);
    }
    text.replace(&format!("{}/", root.display()), "")
}

/// The step's folder with its solution laid over it, staged as the checker's own
/// `--solution` stages it, then the mistake's edits.
fn stage(root: &Path, step: &Step, mistake: &Mistake) -> Result<Staged> {
    let layers = [root.join(&step.dir), root.join(&step.solution)];
    let staged =
        checker::context::stage(&[&layers[0], &layers[1]], &["solution"], &[], u64::MAX, &checker::names::run_id())?;
    let to = staged.path();
    for edit in &mistake.edits {
        let path = to.join(&edit.file);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}: no {}", mistake.name, edit.file))?;
        if !text.contains(&edit.replace) {
            bail!("{}: {} of {} does not contain {:?}", mistake.name, edit.file, step.id, edit.replace);
        }
        std::fs::write(&path, text.replace(&edit.replace, &edit.with))?;
    }
    Ok(staged)
}

fn save(root: &Path, name: &str, text: &str) -> Result<()> {
    let path = root.join(crate::GENERATED).join(name);
    std::fs::create_dir_all(path.parent().expect("a recorded file has a folder"))?;
    // The checker wraps its explanations but not the log excerpts and paths it quotes.
    let text = crate::lines::fit(text, COLUMNS);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("  wrote {}", path.strip_prefix(root)?.display());
    Ok(())
}

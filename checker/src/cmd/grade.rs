//! `checker grade`: grades a repository's steps and writes the grade in every format asked
//! for (human, json, junit, github, classroom), to stdout or to files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use checker::manifest::{self, Manifest};
use checker::runner;

use crate::cli::{Cli, Format, FormatSpec, GradeArgs};

/// `checker grade`: every output is checked before the grading starts, which takes
/// minutes; exit 0 when the grade passes, 1 when it does not, 2 when a step could not be
/// checked.
pub fn run(cli: &Cli, root: &Path, args: &GradeArgs) -> Result<u8> {
    use checker::grade_report as out;
    let (manifest, name) = if args.ci {
        (
            Manifest::parse(manifest::BUILTIN).context("the checker's built-in manifest is invalid")?,
            "built-in".to_string(),
        )
    } else {
        (Manifest::load(&root.join(manifest::FILE_NAME))?, manifest::FILE_NAME.to_string())
    };
    let steps = checker::grade::select(&manifest, &args.steps)?;
    let specs =
        if cli.format.is_empty() { vec![FormatSpec { format: Format::Human, path: None }] } else { cli.format.clone() };
    // JSON or XML on stdout must be alone there; the table and GitHub's annotations (which
    // always go to stdout, where the runner reads them) mix well.
    let documents =
        specs.iter().filter(|s| s.path.is_none() && matches!(s.format, Format::Json | Format::Junit)).count();
    let lines =
        specs.iter().filter(|s| s.format == Format::Github || (s.path.is_none() && s.format == Format::Human)).count();
    if documents > 1 || (documents == 1 && lines > 0) {
        bail!(
            "--format: json or junit on the terminal must be alone there (the human table and github's annotations print there too); send it to a file, e.g. --format junit=report.xml"
        );
    }
    let env_file = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    if specs.iter().any(|s| s.format == Format::Classroom && s.path.is_none()) && env_file("GITHUB_OUTPUT").is_none() {
        bail!(
            "--format classroom writes to $GITHUB_OUTPUT, which GitHub Actions sets: run it in a workflow, or give a file with --format classroom=PATH"
        );
    }
    // Each report's file is known now: a path that cannot be written fails before the
    // minutes of grading, not after.
    let file_of = |spec: &FormatSpec| match spec.format {
        Format::Github => spec.path.clone().or_else(|| env_file("GITHUB_STEP_SUMMARY")),
        Format::Classroom => spec.path.clone().or_else(|| env_file("GITHUB_OUTPUT")),
        _ => spec.path.clone(),
    };
    for path in specs.iter().filter_map(file_of) {
        writable(&path)?;
    }
    let grade_logs = root.join(".checker").join("grade");
    runner::prune(&grade_logs, runner::KEPT_LOGS);
    let options = checker::grade::Options {
        jobs: usize::from(args.jobs),
        no_cache: args.no_cache,
        log_dir: grade_logs.join(checker::names::run_id()),
        progress: true,
    };
    checker::errln!(
        "grading {} step(s) of {} with {} manifest, {} at a time",
        steps.len(),
        root.display(),
        if args.ci { "the checker's built-in" } else { "the repository's" },
        options.jobs
    );
    let grade = checker::grade::grade(&manifest, &name, root, &steps, &options)?;
    if checker::cleanup::interrupted() {
        return Ok(130);
    }
    // One report that cannot be written does not keep the others from being written.
    let mut failures = Vec::new();
    for spec in &specs {
        let text = match spec.format {
            Format::Human => out::human(&grade),
            Format::Json => out::json(&grade) + "\n",
            Format::Junit => out::junit(&grade),
            Format::Github => {
                checker::out!("{}", out::github_annotations(&grade));
                out::github_summary(&grade)
            }
            Format::Classroom => out::classroom_output(&grade),
        };
        // GitHub's summary and output files are shared by every step of a job: add to them.
        let append = matches!(spec.format, Format::Github | Format::Classroom);
        let written = match (file_of(spec), append) {
            (None, _) => {
                checker::out!("{text}");
                Ok(())
            }
            (Some(path), false) => {
                std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
            }
            (Some(path), true) => append_to(&path, &text),
        };
        if let Err(e) = written {
            failures.push(format!("{e:#}"));
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(if grade.errors > 0 {
        2
    } else if let Some(floor) = args.fail_under {
        u8::from(grade.points < floor)
    } else {
        u8::from(grade.failed > 0)
    })
}

/// Fails when `path` cannot be written, and leaves no empty file behind.
fn writable(path: &Path) -> Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| {
        format!(
            "cannot write the report {}: give a path in a folder that exists and that you can write",
            path.display()
        )
    })?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn append_to(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

//! `checker`: verifies a workshop step for real — builds the learner's Dockerfile, runs
//! the container, measures the image — and explains each failure.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use checker::manifest::{self, Manifest};
use checker::report::Status;
use checker::runner::{self, Source, Target};
use checker::state::{self, LastResult};
use checker::watch;

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Builds, runs and checks a step of the multi-stage Dockerfile workshop",
    override_usage = "checker [OPTIONS] <STEP>\n       checker list\n       checker hint <STEP>\n       checker grade [--steps 1-8] [--jobs N] [--ci] [--format FORMAT[=PATH]]...",
    after_help = "Examples:\n  checker step-5              check your steps/step-5\n  checker step-5 --solution   check the reference solution\n  checker list                the steps and your last results\n  checker hint step-5         a hint for step 5\n  checker grade --steps 1-5 -j 2 --format junit=report.xml\n                              grade a repository (for instructors)\n\nEnvironment:\n  CHECKER_DOCKER    the docker client to use (default: docker from PATH)\n  CHECKER_WORKSHOP  the workshop's root folder (default: found from the current folder upward)\n  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY  where `grade` writes the classroom and github formats"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
    /// The workshop's root folder (holding workshop.toml).
    #[arg(long, global = true, env = "CHECKER_WORKSHOP", value_name = "DIR")]
    workshop: Option<PathBuf>,
    /// Output format: human (default) or json. `checker grade` also writes junit, github
    /// and classroom, each to FORMAT=PATH if given, and takes --format several times.
    #[arg(long, global = true, value_name = "FORMAT[=PATH]", value_parser = parse_format)]
    format: Vec<FormatSpec>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Human,
    Json,
    Junit,
    Github,
    Classroom,
}

/// `--format NAME[=PATH]`.
#[derive(Clone, Debug)]
struct FormatSpec {
    format: Format,
    path: Option<PathBuf>,
}

fn parse_format(text: &str) -> Result<FormatSpec, String> {
    let (name, path) = match text.split_once('=') {
        Some((n, p)) if !p.is_empty() => (n, Some(PathBuf::from(p))),
        Some((n, _)) => return Err(format!("`{n}=` names no file: write {n}=PATH, or {n} alone")),
        None => (text, None),
    };
    let format = match name {
        "human" => Format::Human,
        "json" => Format::Json,
        "junit" => Format::Junit,
        "github" => Format::Github,
        "classroom" => Format::Classroom,
        other => return Err(format!("unknown format `{other}`: use human, json, junit, github or classroom")),
    };
    Ok(FormatSpec { format, path })
}

impl Cli {
    /// The one format of a command other than `grade`: human or json, to stdout.
    fn single_format(&self) -> Result<Format> {
        match self.format.as_slice() {
            [] => Ok(Format::Human),
            [FormatSpec { format: f @ (Format::Human | Format::Json), path: None }] => Ok(*f),
            _ => bail!(
                "--format: only `checker grade` writes junit, github or classroom, to a file, or in several formats; here use human or json"
            ),
        }
    }
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The step to check: step-N (or N).
    step: Option<String>,
    /// Check the step's reference solution instead of your files.
    #[arg(long, conflicts_with = "context")]
    solution: bool,
    /// Check this build context (any folder) against the step's checks.
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,
    /// The Dockerfile to build, when it is not DIR/Dockerfile.
    #[arg(long, value_name = "DOCKERFILE", requires = "context")]
    file: Option<PathBuf>,
    /// Build without the layer cache (measures a cold build).
    #[arg(long)]
    no_cache: bool,
    /// Check again whenever a file of the build context changes (Ctrl-C to stop).
    #[arg(long)]
    watch: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List the steps, their titles and your last result of each.
    List,
    /// Show the hint of a step.
    Hint {
        /// step-N (or N)
        step: String,
    },
    /// Grade every step of a student's repository (or some) and score it: for classroom CI.
    Grade(GradeArgs),
}

#[derive(clap::Args)]
struct GradeArgs {
    /// The steps to grade: all, N, N-M, or a comma list such as 1-3,5.
    #[arg(long, default_value = "all")]
    steps: String,
    /// How many steps to check at the same time (they share the engine's layer cache).
    #[arg(long, short = 'j', default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=32))]
    jobs: u16,
    /// Succeed when the total reaches POINTS (by default every graded step must pass).
    #[arg(long, value_name = "POINTS")]
    fail_under: Option<u32>,
    /// Take points and limits from the manifest built into this checker, not from the
    /// repository's workshop.toml (which a student can edit).
    #[arg(long)]
    ci: bool,
    /// Build without the layer cache.
    #[arg(long)]
    no_cache: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    checker::cleanup::install_signal_handler();
    let result = run(&cli);
    // After a signal the handler removes what the runs created and exits with 130: a run
    // that ended because its container vanished must not exit (or report) first.
    while checker::cleanup::interrupted() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&format!("{e:#}"), cli.single_format().ok() == Some(Format::Json)),
    }
}

/// Exit 2 with the error on stderr, and as `{"error": …}` on stdout when JSON was asked for.
fn fail(error: &str, json: bool) -> ExitCode {
    let error = checker::report::plain(error);
    if json {
        let err = serde_json::json!({ "error": error });
        println!("{}", serde_json::to_string_pretty(&err).expect("json"));
    }
    eprintln!("error: {error}");
    ExitCode::from(2)
}

/// A command line clap refused: its message, as JSON too when `--format json` was given
/// (a script reading stdout gets its `{"error": …}` for every exit 2). Help and version
/// are not errors.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        e.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    let json =
        args.iter().any(|a| a == "--format=json") || args.windows(2).any(|w| w[0] == "--format" && w[1] == "json");
    if !json {
        e.exit();
    }
    fail(e.render().to_string().trim().trim_start_matches("error: "), true)
}

/// Removes what runs killed without cleaning up (`kill -9`) left behind, and says so.
fn sweep_leftovers() {
    let docker = checker::docker::Docker::from_env();
    let removed = checker::cleanup::sweep_dead_runs(&docker, &std::env::temp_dir());
    if !removed.is_empty() {
        eprintln!("checker: removed what killed runs left behind: {}", removed.join(", "));
    }
}

/// The workshop root: `--workshop`, or the first folder upward holding workshop.toml.
fn find_root(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        if !dir.join(manifest::FILE_NAME).is_file() {
            bail!(
                "{} holds no {}: point --workshop (or CHECKER_WORKSHOP) at the workshop's root folder",
                dir.display(),
                manifest::FILE_NAME
            );
        }
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    cwd.ancestors().find(|d| d.join(manifest::FILE_NAME).is_file()).map(Path::to_path_buf).with_context(|| {
        format!(
            "not inside a workshop: no {} in {} or any folder above it. cd into the workshop you cloned, or pass --workshop DIR",
            manifest::FILE_NAME,
            cwd.display()
        )
    })
}

fn run(cli: &Cli) -> Result<u8> {
    if let Some(Command::Grade(args)) = &cli.command {
        // Under --ci the repository's workshop.toml is not read, and a student who deleted
        // it must not stop the grading: the repository is then --workshop or this folder.
        let root = match find_root(cli.workshop.as_deref()) {
            Err(_) if args.ci => match &cli.workshop {
                Some(dir) => dir.clone(),
                None => std::env::current_dir().context("cannot read the current folder")?,
            },
            found => found?,
        };
        sweep_leftovers();
        return grade(cli, &root, args);
    }
    let root = find_root(cli.workshop.as_deref())?;
    let format = cli.single_format()?;
    let manifest = Manifest::load(&root.join(manifest::FILE_NAME))?;
    let state_path = root.join(".checker").join("state.json");
    match &cli.command {
        Some(Command::List) => {
            list(&manifest, &state::load(&state_path), format);
            Ok(0)
        }
        Some(Command::Hint { step }) => {
            let step = manifest.step(step)?;
            if format == Format::Json {
                let hint = serde_json::json!({ "step": step.id, "hint": step.hint.trim(), "book": manifest.book_link(&step.book) });
                println!("{}", serde_json::to_string_pretty(&hint)?);
            } else {
                println!(
                    "{} — {}\n\n{}\n\nThe chapter: {}",
                    step.id,
                    step.title,
                    step.hint.trim(),
                    manifest.book_link(&step.book)
                );
            }
            Ok(0)
        }
        Some(Command::Grade(_)) => unreachable!("graded above"),
        None => {
            sweep_leftovers();
            check(cli, format, &root, &manifest, &state_path)
        }
    }
}

/// `checker grade`: every output is checked before the grading starts, which takes
/// minutes; exit 0 when the grade passes, 1 when it does not, 2 when a step could not be
/// checked.
fn grade(cli: &Cli, root: &Path, args: &GradeArgs) -> Result<u8> {
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
        log_dir: grade_logs.join(runner::run_id()),
        progress: true,
    };
    eprintln!(
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
                print!("{}", out::github_annotations(&grade));
                out::github_summary(&grade)
            }
            Format::Classroom => out::classroom_output(&grade),
        };
        // GitHub's summary and output files are shared by every step of a job: add to them.
        let append = matches!(spec.format, Format::Github | Format::Classroom);
        let written = match (file_of(spec), append) {
            (None, _) => {
                print!("{text}");
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

fn check(cli: &Cli, format: Format, root: &Path, manifest: &Manifest, state_path: &Path) -> Result<u8> {
    let args = &cli.check;
    let Some(name) = &args.step else {
        bail!("name the step to check, e.g. `checker step-1` (`checker list` shows them all)");
    };
    let step = manifest.step(name)?;
    let mut target = Target::learner(manifest, step, root);
    match (&args.context, args.solution) {
        (Some(dir), _) => {
            target.source = Source::Context;
            target.layers = vec![dir.clone()];
            target.skip = vec![];
            target.label = dir.display().to_string();
        }
        (None, true) => {
            target.source = Source::Solution;
            target.layers.push(root.join(&step.solution));
            target.label = format!("{} with {} overlaid", step.dir, step.solution);
        }
        (None, false) => {}
    }
    if let Some(file) = &args.file
        && !file.is_file()
    {
        bail!("--file {}: no such file", file.display());
    }
    target.dockerfile = args.file.as_ref().map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()));
    let options = runner::Options {
        no_cache: args.no_cache,
        progress: format == Format::Human && std::io::stderr().is_terminal(),
        log_dir: root.join(".checker").join("logs"),
    };
    if !args.watch {
        return check_once(format, root, &target, &options, state_path);
    }
    // Like `rustlings watch`: a save in the editor starts the next check. A run that
    // cannot check (no Dockerfile yet, say) is reported and the watch goes on.
    let mut watched = target.layers.clone();
    watched.extend(target.dockerfile.clone());
    let mut last = None;
    loop {
        let now = watch::fingerprint(&watched);
        if last.as_ref() != Some(&now) {
            last = Some(now);
            // Clearing is for a terminal; in a pipe it would only be bytes in the output.
            if format == Format::Human && std::io::stdout().is_terminal() {
                let _ = console::Term::stdout().clear_screen();
            }
            let result = check_once(format, root, &target, &options, state_path);
            if checker::cleanup::interrupted() {
                return result;
            }
            if let Err(e) = result {
                eprintln!("error: {}", checker::report::plain(&format!("{e:#}")));
            }
            eprintln!("\nwatching {} for changes (Ctrl-C to stop)…", target.label);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The terminal's width; when the output is not a terminal, `COLUMNS` if set (the book
/// records reports at a fixed width), else 100.
fn report_width() -> usize {
    let columns = console::Term::stdout().size_checked().map(|(_, c)| usize::from(c));
    let columns = columns.or_else(|| std::env::var("COLUMNS").ok()?.parse().ok()).unwrap_or(100);
    columns.clamp(60, 120)
}

/// Checks once, prints the report, records the learner's result; returns the exit code.
fn check_once(
    format: Format,
    root: &Path,
    target: &Target<'_>,
    options: &runner::Options,
    state_path: &Path,
) -> Result<u8> {
    let (manifest, step, source) = (target.manifest, target.step, target.source);
    let mut report = runner::run(target, options)?;
    // An interrupted run's report would blame the learner for what the signal did.
    if checker::cleanup::interrupted() {
        return Ok(130);
    }
    if let Ok(inside) = Path::new(&report.dockerfile).strip_prefix(root) {
        report.dockerfile = inside.display().to_string();
    }
    if format == Format::Json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_human(report_width()));
    }
    if source == Source::Learner && report.passed && format == Format::Human {
        let index = manifest.steps.iter().position(|s| s.id == step.id).unwrap_or(0);
        match manifest.steps.get(index + 1) {
            Some(next) => println!("  next: {} — {}: open {}/Dockerfile", next.id, next.title, next.dir),
            None => println!("  that was the last step: the whole multi-stage build is yours"),
        }
    }
    if source == Source::Learner {
        let failed = report
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Error))
            .map(|c| c.id.clone())
            .collect();
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Losing the "last result" column is not worth failing a check run over.
        let _ = state::record(state_path, &step.id, LastResult { passed: report.passed, at, failed });
    }
    Ok(report.exit_code() as u8)
}

fn list(manifest: &Manifest, state: &state::State, format: Format) {
    if format == Format::Json {
        let steps: Vec<_> = manifest
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "title": s.title, "concept": s.concept, "size_limit_bytes": s.size_limit.0,
                    "checks": s.checks, "last": state.get(&s.id),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&steps).expect("json"));
        return;
    }
    let width = manifest.steps.iter().map(|s| s.title.len()).max().unwrap_or(0);
    // The first step not passed yet is where the learner is.
    let current = manifest.steps.iter().position(|s| !state.get(&s.id).is_some_and(|r| r.passed));
    for (i, s) in manifest.steps.iter().enumerate() {
        let last = match state.get(&s.id) {
            None => console::style("not checked yet".to_string()).dim(),
            Some(r) if r.passed => console::style("✓ passed".to_string()).green(),
            Some(r) => console::style(format!("✗ failed: {}", r.failed.join(", "))).red(),
        };
        let here = if Some(i) == current { console::style("  ← next").bold().to_string() } else { String::new() };
        println!("{:<7} {:<width$}  {}{here}", s.id, s.title, last);
    }
}

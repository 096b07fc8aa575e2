//! The command line: clap's types for `checker step-N` and its subcommands, and the
//! `--format` values they share.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Builds, runs and checks a step of the multi-stage Dockerfile workshop",
    override_usage = "checker [OPTIONS] <STEP>\n       checker doctor\n       checker list\n       checker hint <STEP>\n       checker reset <STEP>\n       checker explain <CHECK>\n       checker grade [--steps 1-8] [--jobs N] [--ci] [--format FORMAT[=PATH]]...\n       checker dev check",
    after_help = "Examples:\n  checker doctor              is this machine ready? (paste it into a bug report)\n  checker step-5              check your steps/step-5\n  checker step-5 --solution   check the reference solution\n  checker list                the steps, your last results and image sizes\n  checker hint step-5         a hint for step 5\n  checker reset step-5        put back step 5's starting files (yours kept as .bak-*)\n  checker explain image-size  a check's page of the book, offline\n  checker grade --steps 1-5 -j 2 --format junit=report.xml\n                              grade a repository (for instructors)\n  checker dev check           check the workshop's own content (for its authors)\n\nEnvironment:\n  CHECKER_DOCKER    the docker client to use (default: docker from PATH)\n  CHECKER_WORKSHOP  the workshop's root folder (default: found from the current folder upward)\n  PAGER             the pager of `explain` in a terminal (default: less)\n  NO_COLOR          no colours, and plain characters in the bars of `list`\n  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY  where `grade` writes the classroom and github formats"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
    /// The workshop's root folder (holding workshop.toml).
    #[arg(long, global = true, env = "CHECKER_WORKSHOP", value_name = "DIR")]
    pub workshop: Option<PathBuf>,
    /// Output format: human (default) or json. `checker grade` also writes junit, github
    /// and classroom, each to FORMAT=PATH if given, and takes --format several times.
    #[arg(long, global = true, value_name = "FORMAT[=PATH]", value_parser = parse_format)]
    pub format: Vec<FormatSpec>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Human,
    Json,
    Junit,
    Github,
    Classroom,
}

/// `--format NAME[=PATH]`.
#[derive(Clone, Debug)]
pub struct FormatSpec {
    pub format: Format,
    pub path: Option<PathBuf>,
}

pub fn parse_format(text: &str) -> Result<FormatSpec, String> {
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
    pub fn single_format(&self) -> Result<Format> {
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
pub struct CheckArgs {
    /// The step to check: step-N (or N).
    pub step: Option<String>,
    /// Check the step's reference solution instead of your files.
    #[arg(long, conflicts_with = "context")]
    pub solution: bool,
    /// Check this build context (any folder) against the step's checks.
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// The Dockerfile to build, when it is not DIR/Dockerfile.
    #[arg(long, value_name = "DOCKERFILE", requires = "context")]
    pub file: Option<PathBuf>,
    /// Build without the layer cache (measures a cold build).
    #[arg(long)]
    pub no_cache: bool,
    /// Check again whenever a file of the build context changes (Ctrl-C to stop).
    #[arg(long)]
    pub watch: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check that this machine can run the workshop: run it first, paste it into bug reports.
    ///
    /// The docker client and engine, BuildKit, the image store, rootless or not, the CPU
    /// architecture, free disk, a remote engine, each base image, a real port-publish round
    /// trip on 127.0.0.1, the workshop. Each line is ok, warn or fail, and every problem
    /// comes with its fix; it never pulls, and works outside a workshop too. Exit 0 when
    /// nothing fails, 1 otherwise. `--format json` prints
    /// {"ok": bool, "checks": [{"name", "status", "detail", "fix"}]}.
    Doctor,
    /// List the steps, your last result of each, and its image size against the step's limit.
    ///
    /// Each step you have checked gets a bar on a log scale with a mark at the step's size
    /// limit, so the drop from the toolchain image to a few megabytes shows at a glance.
    /// `--format json` adds `size_bytes` and `size_limit_bytes` to each step's `last`.
    List,
    /// Show the hint of a step.
    Hint {
        /// step-N (or N)
        step: String,
    },
    /// Put back a step's starting Dockerfile and .dockerignore, from git's HEAD.
    ///
    /// Your own version is kept beside it as Dockerfile.bak-YYYYMMDD-HHMMSS (UTC), and
    /// the same for .dockerignore when it differs. Needs the workshop to be a git clone.
    Reset {
        /// step-N (or N)
        step: String,
    },
    /// Show a check's page of the book in the terminal, offline (like `rustc --explain`).
    ///
    /// Pages through $PAGER (default: less) when the output is a terminal.
    /// `checker explain step-N` shows a step's chapter.
    Explain {
        /// A check id as the report names it (e.g. image-size), or step-N for a chapter.
        id: String,
    },
    /// Grade every step of a student's repository (or some) and score it: for classroom CI.
    Grade(GradeArgs),
    /// Tools for the workshop's authors.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(clap::Args)]
pub struct GradeArgs {
    /// The steps to grade: all, N, N-M, or a comma list such as 1-3,5.
    #[arg(long, default_value = "all")]
    pub steps: String,
    /// How many steps to check at the same time (they share the engine's layer cache).
    #[arg(long, short = 'j', default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
    /// Succeed when the total reaches POINTS (by default every graded step must pass).
    #[arg(long, value_name = "POINTS")]
    pub fail_under: Option<u32>,
    /// Take points and limits from the manifest built into this checker, not from the
    /// repository's workshop.toml (which a student can edit).
    #[arg(long)]
    pub ci: bool,
    /// Build without the layer cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Subcommand)]
pub enum DevCommand {
    /// Check the workshop's own content, for its authors and CI: exit 1 on a problem.
    ///
    /// Step folders against the manifest, each starting point against the previous
    /// solution, the same server everywhere, --locked builds, no hard-coded CPU
    /// architecture, LF endings, a book page per check, fresh generated pages. Each
    /// problem says what, where and how to fix it. Exit 0 when there is none, 1 otherwise.
    Check,
}

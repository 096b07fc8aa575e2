//! Runs a step's checks against one build context: stage the context, read the
//! Dockerfile, build, inspect the image, run the container, rebuild after a source-only
//! change — each only if some check needs it — then clean up whatever was created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cleanup;
use crate::context::{self, Staged};
use crate::docker::{BuildRequest, Docker, ImageInfo};
use crate::dockerfile::Dockerfile;
use crate::elf;
use crate::manifest::{ByteSize, Check, Kind, Manifest, Step};
use crate::outcome::{Outcome, tail};
use crate::report::{CheckResult, ImageReport, Report, Status, plain};
use crate::rules;

/// Whose files are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Learner,
    Solution,
    /// Any folder given with `--context`.
    Context,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Learner => "learner",
            Source::Solution => "solution",
            Source::Context => "context",
        }
    }
}

pub struct Target<'m> {
    pub manifest: &'m Manifest,
    pub step: &'m Step,
    pub source: Source,
    /// Folders whose files make the context, later ones overriding earlier ones.
    pub layers: Vec<PathBuf>,
    /// Top-level entries of the first layer that never reach the engine (`solution`).
    pub skip: Vec<&'static str>,
    /// A Dockerfile outside the context (`--file`); the context's own otherwise.
    pub dockerfile: Option<PathBuf>,
    /// How the report names the context, e.g. `steps/step-5 + solution/`.
    pub label: String,
}

impl<'m> Target<'m> {
    /// The learner's own files of `step` in the workshop at `root`: what `checker step-N`
    /// and `checker grade` check.
    pub fn learner(manifest: &'m Manifest, step: &'m Step, root: &Path) -> Self {
        Target {
            manifest,
            step,
            source: Source::Learner,
            layers: vec![root.join(&step.dir)],
            skip: vec!["solution"],
            dockerfile: None,
            label: step.dir.clone(),
        }
    }
}

pub struct Options {
    pub no_cache: bool,
    /// Show a spinner with the current build step on stderr.
    pub progress: bool,
    /// Where build logs are kept.
    pub log_dir: PathBuf,
}

/// What the checker learned about the image; each part is filled in only when needed.
struct Facts {
    build_ok: bool,
    build_log: String,
    build_log_path: String,
    build_seconds: f64,
    rebuild_seconds: Option<f64>,
    info: Option<ImageInfo>,
    size: Option<u64>,
    first_response: Option<Duration>,
}

impl Facts {
    /// What is known once the build is over; the rest is filled in by the later checks.
    fn after_build(build_ok: bool, build_log: String, build_log_path: String, build_seconds: f64) -> Self {
        Self {
            build_ok,
            build_log,
            build_log_path,
            build_seconds,
            rebuild_seconds: None,
            info: None,
            size: None,
            first_response: None,
        }
    }
}

/// One run's unique names, so that parallel runs on one engine never collide.
struct Names {
    run: String,
    image: String,
    container: String,
}

/// An id no other run on this machine has now: the process id (which tests use to find a
/// process's leftovers) and the time.
pub fn run_id() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // The count keeps two ids of one process apart even within one clock tick.
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{:x}{count}", std::process::id(), nanos % 0xffff_ffff_ffff)
}

impl Names {
    fn new(step: &str) -> Self {
        let run = run_id();
        let step = step.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
        Self { image: format!("checker-local/{step}:{run}"), container: format!("checker-{step}-{run}"), run }
    }
}

struct Spinner(Option<ProgressBar>);

impl Spinner {
    fn new(enabled: bool) -> Self {
        Self(enabled.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        }))
    }

    fn say(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            let mut m: String = message.into();
            if m.chars().count() > 100 {
                m = m.chars().take(99).collect::<String>() + "…";
            }
            bar.set_message(m);
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Checks one build context against a step's checks. An `Err` means the checks could
/// not run at all (no engine, no Dockerfile...): the CLI's exit code 2.
pub fn run(target: &Target<'_>, options: &Options) -> Result<Report> {
    let docker = Docker::from_env();
    docker.ping()?;
    let _cleanup = cleanup::Guard;
    let checks = target.manifest.checks_for(target.step);
    let watch = watched(&checks);
    let layers: Vec<&Path> = target.layers.iter().map(PathBuf::as_path).collect();
    for layer in &layers {
        if !layer.is_dir() {
            bail!("the build context {} does not exist or is not a folder", layer.display());
        }
    }
    let names = Names::new(&target.step.id);
    let limit = target.manifest.limits.context_size.0;
    let staged = context::stage(&layers, &target.skip, &watch, limit, &names.run)?;
    let dockerfile_path = target.dockerfile.clone().unwrap_or_else(|| staged.path().join("Dockerfile"));
    // The Dockerfile as the learner knows it: the overlay's own when it has one.
    let shown_dockerfile = target.dockerfile.clone().unwrap_or_else(|| {
        let top = target.layers.iter().rev().find(|l| l.join("Dockerfile").is_file()).unwrap_or(&target.layers[0]);
        top.join("Dockerfile")
    });
    if !dockerfile_path.is_file() {
        bail!(
            "no Dockerfile at {}: create it (the step's TODO block says what goes in it), or name another with --file",
            shown_dockerfile.display()
        );
    }
    // A Dockerfile is text to docker whatever its encoding: a Latin-1 comment must not stop
    // the checks. One inside the context may be a link, but never to a file outside it.
    let bytes = match &target.dockerfile {
        Some(file) => std::fs::read(file).with_context(|| format!("cannot read the Dockerfile {}", file.display()))?,
        None => context::read_inside(staged.path(), &dockerfile_path)
            .with_context(|| format!("cannot read the Dockerfile {}", shown_dockerfile.display()))?,
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let parsed = Dockerfile::parse(&text);

    let mut run = Run {
        docker: &docker,
        target,
        options,
        names,
        spinner: Spinner::new(options.progress),
        checks: &checks,
        results: HashMap::new(),
        staged: &staged,
        dockerfile: dockerfile_path,
        dockerfile_text: text,
        watch,
        dynamic_binary: None,
    };
    let facts = run.execute(&parsed)?;

    let checks_out: Vec<CheckResult> = checks
        .iter()
        .map(|(id, check)| {
            let outcome =
                run.results.remove(*id).unwrap_or_else(|| Outcome::error("the checker did not evaluate this check"));
            attach(target.manifest, id, check, outcome)
        })
        .collect();
    let passed = checks_out.iter().all(|c| c.status == Status::Pass);
    Ok(Report {
        schema_version: crate::report::JSON_SCHEMA_VERSION,
        step: target.step.id.clone(),
        title: target.step.title.clone(),
        source: target.source.name().into(),
        run_id: run.names.run.clone(),
        context: plain(&target.label),
        dockerfile: plain(&shown_dockerfile.display().to_string()),
        passed,
        checks: checks_out,
        image: ImageReport {
            size_bytes: facts.size,
            size_limit_bytes: target.step.size_limit.0,
            build_seconds: facts.build_ok.then_some(facts.build_seconds),
            rebuild_seconds: facts.rebuild_seconds,
            first_response_ms: facts.first_response.map(|d| d.as_millis() as u64),
            context_bytes: staged.report.bytes,
            context_files: staged.report.files,
        },
        build_log: (!facts.build_log_path.is_empty()).then_some(facts.build_log_path),
        book: target.manifest.book_link(&target.step.book),
    })
}

/// How many build logs (and grading runs' log folders) are kept; older ones are removed.
pub const KEPT_LOGS: usize = 40;

/// Removes all but the `keep` newest entries of `dir`. Another run's log, just written,
/// is among the newest, so runs at once never remove each other's.
pub fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> =
        entries.flatten().filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path()))).collect();
    entries.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in entries.into_iter().skip(keep) {
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
}

/// The paths the context checks want kept out of the context.
fn watched(checks: &[(&str, &Check)]) -> Vec<String> {
    checks
        .iter()
        .filter_map(|(_, c)| match &c.kind {
            Kind::Context { exclude } => Some(exclude.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn attach(manifest: &Manifest, id: &str, check: &Check, o: Outcome) -> CheckResult {
    CheckResult {
        id: id.to_string(),
        title: check.title.clone(),
        status: o.status,
        message: plain(&o.message),
        hint: plain(&o.hint.unwrap_or_else(|| check.fix.clone())),
        why: check.why.clone(),
        book: manifest.check_link(id),
        blocked_by: o.blocked_by,
        line: o.line,
        details: o.details.as_deref().map(plain),
    }
}

struct Run<'a, 'm> {
    docker: &'a Docker,
    target: &'a Target<'m>,
    options: &'a Options,
    names: Names,
    spinner: Spinner,
    checks: &'a [(&'m str, &'m Check)],
    results: HashMap<String, Outcome>,
    staged: &'a Staged,
    dockerfile: PathBuf,
    dockerfile_text: String,
    /// The paths the context checks want kept out (see `watched`).
    watch: Vec<String>,
    /// The image's binary, when the static-binary check found it dynamically linked: it
    /// explains a container that fails with "no such file" although the file is there.
    dynamic_binary: Option<String>,
}

impl Run<'_, '_> {
    /// The id of the first check of a kind, which blocks the checks that depend on it.
    fn id_of(&self, pred: impl Fn(&Kind) -> bool) -> Option<String> {
        self.checks.iter().find(|(_, c)| pred(&c.kind)).map(|(id, _)| id.to_string())
    }

    fn wants(&self, pred: impl Fn(&Kind) -> bool) -> bool {
        self.checks.iter().any(|(_, c)| pred(&c.kind))
    }

    fn set(&mut self, pred: impl Fn(&Kind) -> bool, mut f: impl FnMut(&Kind) -> Outcome) {
        for (id, check) in self.checks {
            if pred(&check.kind) {
                let outcome = f(&check.kind);
                self.results.insert(id.to_string(), outcome);
            }
        }
    }

    fn execute(&mut self, parsed: &Result<Dockerfile>) -> Result<Facts> {
        // The context and the Dockerfile's text need no engine.
        let unguarded = self.staged.unguarded(&self.watch);
        let report = &self.staged.report;
        self.set(|k| matches!(k, Kind::Context { .. }), |_| rules::context(report, &unguarded));

        // The Dockerfile checks; the context check (also static) is done above.
        let is_static = |k: &Kind| k.is_static() && !matches!(k, Kind::Context { .. });
        if let Ok(df) = parsed {
            self.set(is_static, |k| match k {
                Kind::BaseImagePinned {} => rules::base_image_pinned(df),
                Kind::Workdir {} => rules::workdir(df),
                Kind::CopyNotAdd {} => rules::copy_not_add(df),
                Kind::MinStages { min } => rules::min_stages(df, *min),
                _ => unreachable!(),
            });
        }

        let mut facts = match &report.over_limit {
            Some(over) => self.refuse_context(over),
            None => self.build()?,
        };
        let build_id = self.id_of(|k| matches!(k, Kind::Build {})).unwrap_or_else(|| "image-builds".into());
        if let Err(e) = parsed {
            let outcome = if facts.build_ok {
                Outcome::error(format!("the checker could not read this Dockerfile ({e}), although docker built it"))
            } else {
                Outcome::blocked(&build_id)
            };
            self.set(is_static, |_| outcome.clone());
        }
        if !facts.build_ok {
            let needs_image = |k: &Kind| !k.is_static() && !matches!(k, Kind::Build {});
            self.set(needs_image, |_| Outcome::blocked(&build_id));
            return Ok(facts);
        }
        self.image_checks(&mut facts)?;
        self.container_checks(&mut facts)?;
        self.rebuild_checks(&mut facts)?;
        Ok(facts)
    }

    fn save_log(&self, log: &str, what: &str) -> Result<String> {
        std::fs::create_dir_all(&self.options.log_dir)
            .with_context(|| format!("cannot create the log folder {}", self.options.log_dir.display()))?;
        let suffix = match self.target.source {
            Source::Learner => String::new(),
            other => format!("-{}", other.name()),
        };
        // One file per run, so that two runs at once never share one.
        let name = format!("{}{suffix}.{}.{what}.log", self.target.step.id, self.names.run);
        let path = self.options.log_dir.join(name);
        std::fs::write(&path, log).with_context(|| format!("cannot write {}", path.display()))?;
        prune(&self.options.log_dir, KEPT_LOGS);
        Ok(path.display().to_string())
    }

    /// `no_cache` is the user's `--no-cache` for the first build; a rebuild always uses
    /// the cache, since measuring what the cache saves is its point.
    fn docker_build(&self, tag: &str, what: &str, no_cache: bool) -> Result<crate::docker::BuildOutcome> {
        cleanup::image(self.docker, tag);
        let request = BuildRequest {
            context: self.staged.path(),
            dockerfile: &self.dockerfile,
            tag,
            run_label: &self.names.run,
            no_cache,
            timeout: self.target.step.build_timeout(&self.target.manifest.limits),
            log_bytes: self.target.manifest.limits.log_size.0 as usize,
        };
        self.spinner.say(format!("{what} {}…", self.target.step.id));
        self.docker.build(&request, |line| {
            if let Some(step) = rules::build_step(line) {
                self.spinner.say(format!("{what}: {step}"));
            } else if line.contains("Compiling ") {
                self.spinner.say(format!("{what}: {}", line.trim()));
            }
        })
    }

    /// An oversized context is not sent to the engine at all: the build fails at once.
    fn refuse_context(&mut self, over: &crate::context::OverLimit) -> Facts {
        let report = &self.staged.report;
        let largest: Vec<String> = over.largest.iter().map(|(p, b)| format!("{p} ({})", ByteSize(*b))).collect();
        let outcome = Outcome::fail(format!(
            "the build context holds {} in {} files, over the limit of {}; it was not sent to the engine. Largest: {}",
            ByteSize(report.bytes),
            report.files,
            ByteSize(over.limit),
            largest.join(", ")
        ))
        .hint("List what the build does not need in .dockerignore (build output, data, archives, .git/), or move it out of the step's folder: everything else is sent to the engine before the first instruction runs.");
        self.set(|k| matches!(k, Kind::Build {}), |_| outcome.clone());
        Facts::after_build(false, String::new(), String::new(), 0.0)
    }

    /// A build stopped at the step's time limit, with the step it was stuck in.
    fn timed_out(&self, log: &str, log_path: &str) -> Outcome {
        let limit = self.target.step.build_timeout(&self.target.manifest.limits).as_secs();
        let stuck = rules::running_step(log)
            .map(|step| format!(" (it was running `{}`)", step.chars().take(120).collect::<String>()));
        Outcome::fail(format!("the build did not finish within {limit} s, the step's build time limit, and was stopped{}", stuck.unwrap_or_default()))
            .line(rules::running_step_line(log, &self.dockerfile_text))
            .hint("A RUN instruction never ended: a build must not start a server, sleep, or wait for input. Start the server with CMD or ENTRYPOINT, which run when the container starts, not during the build.")
            .details(format!("{}\n(full log: {log_path})", rules::telling_lines(log, 12)))
    }

    fn build(&mut self) -> Result<Facts> {
        let outcome = self.docker_build(&self.names.image.clone(), "building", self.options.no_cache)?;
        let seconds = outcome.duration.as_secs_f64();
        let log_path = self.save_log(&outcome.log, "build")?;
        let result = if outcome.success {
            Outcome::pass(format!("built in {seconds:.1} s"))
        } else if outcome.timed_out {
            self.timed_out(&outcome.log, &log_path)
        } else {
            let failed = Outcome::fail(format!("docker build failed: {}", rules::build_error(&outcome.log)))
                .line(rules::build_error_line(&outcome.log, &self.dockerfile_text))
                .details(format!("{}\n(full log: {log_path})", rules::telling_lines(&outcome.log, 12)));
            match rules::diagnose_build(&outcome.log) {
                Some(hint) => failed.hint(hint),
                None => failed,
            }
        };
        self.set(|k| matches!(k, Kind::Build {}), |_| result.clone());
        Ok(Facts::after_build(outcome.success, outcome.log, log_path, seconds))
    }

    fn image_checks(&mut self, facts: &mut Facts) -> Result<()> {
        self.spinner.say("reading the image…");
        let image = self.names.image.clone();
        // A buildx builder of the docker-container kind keeps what it builds to itself.
        let info = self.docker.inspect_image(&image).with_context(|| {
            format!(
                "the build succeeded but the engine has no image {image}: if `docker buildx ls` marks a docker-container builder as the one in use, switch to the engine's own with `docker buildx use default`"
            )
        })?;
        let size = self.docker.image_size(&image)?;
        let limit = self.target.step.size_limit;
        let config = info.config.clone();
        self.set(
            |k| matches!(k, Kind::ImageSize {} | Kind::UserNotRoot {} | Kind::Exposes { .. } | Kind::ExecEntrypoint {}),
            |k| match k {
                Kind::ImageSize {} => rules::image_size(size, limit),
                Kind::UserNotRoot {} => rules::user_not_root(&config),
                Kind::Exposes { port } => rules::exposes(&config, port),
                Kind::ExecEntrypoint {} => rules::exec_entrypoint(&config),
                _ => unreachable!(),
            },
        );
        facts.info = Some(info);
        facts.size = Some(size);

        let needs_files = |k: &Kind| matches!(k, Kind::StaticBinary {} | Kind::FilesAbsent { .. });
        if self.wants(needs_files) {
            let name = format!("{}-files", self.names.container);
            cleanup::container(self.docker, &name);
            self.docker.create(&image, &name, &self.names.run)?;
            let mut file_list: Option<Vec<String>> = None;
            let mut outcomes = Vec::new();
            for (id, check) in self.checks {
                let outcome = match &check.kind {
                    Kind::StaticBinary {} => {
                        let (outcome, dynamic) = self.static_binary(&name, &config);
                        self.dynamic_binary = dynamic;
                        outcome
                    }
                    Kind::FilesAbsent { patterns } => {
                        if file_list.is_none() {
                            self.spinner.say("listing the image's files…");
                            file_list = Some(self.docker.list_files(&name)?);
                        }
                        let names = file_list.as_deref().expect("just listed");
                        let found = rules::files_present(names, patterns)?;
                        rules::files_absent(&found, patterns, names.len())
                    }
                    _ => continue,
                };
                outcomes.push((id.to_string(), outcome));
            }
            self.results.extend(outcomes);
            cleanup::remove_container(self.docker, &name);
        }
        Ok(())
    }

    /// The verdict, and the binary's path when it is dynamically linked.
    fn static_binary(&self, container: &str, config: &crate::docker::ImageConfig) -> (Outcome, Option<String>) {
        let Some(exe) = rules::executable(config) else {
            return (Outcome::fail("the image has neither ENTRYPOINT nor CMD: there is no binary to examine"), None);
        };
        let candidates: Vec<String> = if exe.starts_with('/') {
            vec![exe.clone()]
        } else {
            rules::search_path(config).iter().map(|d| format!("{}/{exe}", d.trim_end_matches('/'))).collect()
        };
        let mut last_err = String::new();
        for path in &candidates {
            match self.docker.read_file(container, path) {
                Ok(bytes) => {
                    return match elf::linkage(&bytes) {
                        Ok(l) => (rules::static_binary(path, &l), (!l.is_static()).then(|| path.clone())),
                        Err(e) => (Outcome::fail(format!("{path} is {e}")), None),
                    };
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        let outcome = Outcome::fail(format!("the image runs {exe}, which is not in the image ({last_err})"))
            .hint("Point CMD/ENTRYPOINT at the binary's real path in the final image.");
        (outcome, None)
    }

    fn container_checks(&mut self, facts: &mut Facts) -> Result<()> {
        let needs_container = |k: &Kind| matches!(k, Kind::Http { .. } | Kind::ProcessUid {} | Kind::Stop { .. });
        if !self.wants(needs_container) {
            return Ok(());
        }
        let Some((http_id, port, path, timeout)) = self.checks.iter().find_map(|(id, c)| match &c.kind {
            Kind::Http { port, path, timeout_secs } => Some((id.to_string(), *port, path.clone(), *timeout_secs)),
            _ => None,
        }) else {
            bail!(
                "the manifest asks for a running container but step {} has no `http` check to start it",
                self.target.step.id
            );
        };
        let config = facts.info.as_ref().map(|i| i.config.clone()).unwrap_or_default();
        let name = self.names.container.clone();
        cleanup::container(self.docker, &name);
        self.spinner.say(format!("starting the container and requesting {path} on port {port}…"));
        let (outcome, first) = self.respond(&name, port, &path, Duration::from_secs(timeout), &config);
        let up = outcome.status == Status::Pass;
        self.results.insert(http_id.clone(), outcome);
        facts.first_response = first;
        if !up {
            self.set(|k| matches!(k, Kind::ProcessUid {} | Kind::Stop { .. }), |_| Outcome::blocked(&http_id));
            cleanup::remove_container(self.docker, &name);
            return Ok(());
        }
        let uids = self.docker.process_uids(&name);
        self.set(
            |k| matches!(k, Kind::ProcessUid {}),
            |_| match &uids {
                Ok(list) if list.is_empty() => Outcome::error("docker top listed no process"),
                Ok(list) => match list.iter().find(|(uid, _)| *uid == 0) {
                    Some((_, cmd)) => Outcome::fail(format!("`{cmd}` runs as uid 0 (root)")),
                    None => Outcome::pass(format!("{} runs as uid {}", list[0].1, list[0].0)),
                },
                Err(e) => Outcome::error(format!("cannot list the container's processes: {e}")),
            },
        );
        // Last: it ends the container.
        let docker = self.docker;
        self.set(
            |k| matches!(k, Kind::Stop { .. }),
            |k| {
                let Kind::Stop { within_secs } = k else { unreachable!() };
                match docker.stop_within(&name, Duration::from_secs(*within_secs)) {
                    Ok(Some(took)) => Outcome::pass(format!("exited {:.2} s after SIGTERM", took.as_secs_f64())),
                    Ok(None) => {
                        let shell =
                            config.entrypoint.as_ref().is_some_and(|e| e.first().is_some_and(|p| p.ends_with("sh")));
                        let cause = if shell {
                            "a shell is PID 1 and does not pass SIGTERM on"
                        } else {
                            "the process ignored SIGTERM (PID 1 gets no default signal handling)"
                        };
                        Outcome::fail(format!("still running {within_secs} s after SIGTERM: {cause}"))
                    }
                    Err(e) => Outcome::error(format!("cannot send SIGTERM: {e}")),
                }
            },
        );
        cleanup::remove_container(self.docker, &name);
        Ok(())
    }

    /// Starts the container and polls until the first 200, a non-200 answer, the
    /// container's exit, or the timeout. Returns the outcome and the time to the first 200.
    fn respond(
        &self,
        name: &str,
        port: u16,
        path: &str,
        timeout: Duration,
        config: &crate::docker::ImageConfig,
    ) -> (Outcome, Option<Duration>) {
        let exe = rules::executable(config);
        let limits = &self.target.manifest.limits;
        let confined = crate::docker::RunLimits {
            memory_bytes: limits.memory.0,
            pids: limits.pids,
            cpus: limits.cpus,
            read_only: !self.target.step.writable_rootfs,
            log_bytes: limits.log_size.0,
        };
        if let Err(e) = self.docker.run_detached(&self.names.image, name, &self.names.run, port, &confined) {
            let reason = rules::engine_reason(&e.to_string());
            return (
                Outcome::fail(format!("the container did not start: {reason}")).hint(self.diagnose(
                    rules::NOT_STARTED,
                    false,
                    &reason,
                    "",
                    exe.as_deref(),
                )),
                None,
            );
        }
        let started = Instant::now();
        let host_port = self.docker.host_port(name, port).ok();
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_millis(500))
            .timeout(Duration::from_secs(2))
            .redirects(0)
            .build();
        let mut last_error = String::from("no connection yet");
        let mut polls = 0u32;
        while started.elapsed() < timeout {
            polls += 1;
            // The port is known once the container runs; an early exit is seen below.
            if let Some(hp) = host_port {
                let url = format!("http://127.0.0.1:{hp}{path}");
                match agent.get(&url).call() {
                    Ok(resp) if resp.status() == 200 => {
                        let took = started.elapsed();
                        return (
                            Outcome::pass(format!("first 200 on {path} after {} ms", took.as_millis())),
                            Some(took),
                        );
                    }
                    Ok(resp) => return (self.wrong_status(resp.status(), path), None),
                    Err(ureq::Error::Status(code, _)) => return (self.wrong_status(code, path), None),
                    Err(e) => last_error = e.to_string(),
                }
            }
            // Asking the engine costs more than a request: every eighth poll is enough.
            if polls % 8 == 1
                && let Ok(state) = self.docker.state(name)
                && !state.running
            {
                let log = self.docker.logs_tail(name, 15);
                let hint = self.diagnose(state.exit_code, state.oom_killed, &state.error, &log, exe.as_deref());
                return (
                    Outcome::fail(format!(
                        "the container exited with code {} after {:.1} s{}",
                        state.exit_code,
                        started.elapsed().as_secs_f64(),
                        if state.error.is_empty() { String::new() } else { format!(" ({})", state.error) }
                    ))
                    .hint(hint)
                    .details(format!("container log (last lines):\n{}", tail(&log, 15))),
                    None,
                );
            }
            // Short: the time to the first 200 is measured to about this.
            std::thread::sleep(Duration::from_millis(25));
        }
        let log = self.docker.logs_tail(name, 15);
        let listens_locally = log.contains("127.0.0.1") || log.contains("localhost");
        let pid_limit = self.target.manifest.limits.pids;
        let remote = rules::remote_engine(std::env::var("DOCKER_HOST").ok().as_deref());
        // A fork bomb hovers near the limit, and its shells complain when fork fails.
        let hint = if rules::forks_refused(&log) || self.docker.pids(name).is_some_and(|n| n * 10 >= pid_limit * 9) {
            rules::PROCESS_LIMIT_HINT.to_string()
        } else if let Some(host) = remote {
            format!(
                "DOCKER_HOST points at the engine on {host}: the checker publishes the container's port on that machine's 127.0.0.1, which this machine cannot reach. Run the checker on the machine the engine runs on (a docker:dind service does not work)."
            )
        } else if listens_locally {
            "The server's log shows 127.0.0.1/localhost: inside a container that address is reachable only from the container itself. Bind to 0.0.0.0:3030.".to_string()
        } else {
            "The container kept running but nothing answered on its port: the server most likely listens on 127.0.0.1 (unreachable from outside the container) or on another port. Bind to 0.0.0.0:3030.".to_string()
        };
        (
            Outcome::fail(format!(
                "nothing answered {path} on container port {port} within {} s although the container kept running (last error: {last_error})",
                timeout.as_secs()
            ))
            .hint(hint)
            .details(format!("container log (last lines):\n{}", tail(&log, 15))),
            None,
        )
    }

    /// Why the container did not start or stopped, sharpened by what the image checks saw.
    fn diagnose(&self, code: i64, oom: bool, engine_error: &str, log: &str, exe: Option<&str>) -> String {
        let missing = format!("{engine_error}\n{log}").contains("no such file");
        match &self.dynamic_binary {
            Some(path) if missing => format!(
                "{path} is dynamically linked and this image has no loader (ld-linux) or C library for it, so starting it fails with \"no such file\" although the file is there. Link it statically (step 4) or use a final stage that has glibc."
            ),
            _ => rules::diagnose_exit(code, oom, engine_error, log, exe),
        }
    }

    fn wrong_status(&self, code: u16, path: &str) -> Outcome {
        Outcome::fail(format!("GET {path} answered {code}, not 200"))
            .hint("The server answers, but not with the greeting: run the workshop's server unchanged (src/main.rs serves GET /).")
    }

    fn rebuild_checks(&mut self, facts: &mut Facts) -> Result<()> {
        let Some((id, change)) = self.checks.iter().find_map(|(id, c)| match &c.kind {
            Kind::Rebuild { change } => Some((id.to_string(), change.clone())),
            _ => None,
        }) else {
            return Ok(());
        };
        // Only a regular file inside the staged copy is changed: a link could lead the
        // write to any file of this machine.
        let file = match context::inside(self.staged.path(), Path::new(&change)) {
            Ok(file) if file.is_file() => file,
            Ok(_) => {
                self.results.insert(id, Outcome::fail(format!("the context has no {change} to change")));
                return Ok(());
            }
            Err(e) => {
                let outcome = Outcome::fail(format!("the checker cannot change {change}: {e}")).hint(format!(
                    "Make {change} a regular file of the build context: docker sends a link as a link, so the image does not get what it points to either."
                ));
                self.results.insert(id, outcome);
                return Ok(());
            }
        };
        // A change only the compiler sees: a comment with this run's id, so that no
        // earlier run's cache can serve it.
        append_no_follow(&file, format!("\n// checker: source-only change {}\n", self.names.run).as_bytes())
            .with_context(|| format!("cannot change {}", file.display()))?;
        let tag = format!("{}-rebuild", self.names.image);
        let outcome = self.docker_build(&tag, "rebuilding after a change to src/", false)?;
        let log_path = self.save_log(&outcome.log, "rebuild")?;
        let rebuilt = outcome.duration.as_secs_f64();
        facts.rebuild_seconds = outcome.success.then_some(rebuilt);
        let result = if outcome.timed_out {
            self.timed_out(&outcome.log, &log_path)
        } else if !outcome.success {
            Outcome::fail(format!(
                "the rebuild after a change to {change} failed: {}",
                rules::build_error(&outcome.log)
            ))
            .details(format!("{}\n(full log: {log_path})", rules::telling_lines(&outcome.log, 12)))
        } else {
            let cold = rules::compiled(&facts.build_log).iter().any(|c| !c.local);
            let ratio = if cold {
                format!(
                    "{:.0}% of the first build's {:.1} s",
                    100.0 * rebuilt / facts.build_seconds,
                    facts.build_seconds
                )
            } else {
                "first build came from the layer cache: `--no-cache` measures the ratio".to_string()
            };
            let verdict = rules::dependency_cache(&change, &outcome.log, rebuilt, &ratio);
            match verdict.status {
                Status::Pass => verdict,
                _ => verdict.details(format!("full rebuild log: {log_path}")),
            }
        };
        self.results.insert(id, result);
        Ok(())
    }
}

/// Appends to a regular file, refusing (on Unix) to follow a link in its last part.
fn append_no_follow(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, nix::fcntl::OFlag::O_NOFOLLOW.bits());
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_logs_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let now = std::time::SystemTime::now();
        for i in 0..6u64 {
            let path = dir.path().join(format!("step-1.{i}.build.log"));
            std::fs::write(&path, "log").unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(now - Duration::from_secs(100 - i)).unwrap();
        }
        std::fs::create_dir(dir.path().join("old-grade")).unwrap();
        std::fs::File::open(dir.path().join("old-grade"))
            .unwrap()
            .set_modified(now - Duration::from_secs(1000))
            .unwrap();
        prune(dir.path(), 3);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(left, ["step-1.3.build.log", "step-1.4.build.log", "step-1.5.build.log"]);
    }

    #[test]
    fn run_ids_start_with_the_pid_and_differ() {
        let (a, b) = (run_id(), run_id());
        assert!(a.starts_with(&format!("{}-", std::process::id())), "{a}");
        assert_ne!(a, b);
    }
}

//! Runs a step's checks against one build context, phase by phase: stage the context
//! and read the Dockerfile (the static checks), then, if any check needs the image, build
//! it, inspect it and measure it, read its files if a check needs them, run the container
//! if a check needs it running, and rebuild after a source-only change if a check asks.
//! A phase that fails blocks the checks of the phases after it. Whatever was created is
//! removed at the end. The checks themselves live in `checks`, one module per phase.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::buildkit;
use crate::checks::{self, Phases};
use crate::cleanup::{self, SharedEngine};
use crate::context::{self, Staged};
use crate::dockerfile::Dockerfile;
use crate::engine::{BuildOutcome, BuildRequest, ImageInfo};
use crate::manifest::{Check, Manifest, Step};
use crate::names::Names;
use crate::outcome::Outcome;
use crate::progress::Spinner;
use crate::report::{CheckResult, ImageReport, Report, Status, plain};

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
    /// The workshop's root folder, where the manifest's paths start (a `rebuild` check's
    /// `overlay`).
    pub workshop: PathBuf,
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
            workshop: root.to_path_buf(),
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

/// What the checker learned about the image; each phase fills in its part.
#[derive(Default)]
pub struct Facts {
    pub build_ok: bool,
    pub build_log: String,
    pub build_log_path: String,
    pub build_seconds: f64,
    pub rebuild_seconds: Option<f64>,
    pub info: Option<ImageInfo>,
    pub size: Option<u64>,
    /// The engine's own size figure, which it counts its own way.
    pub engine_size: Option<u64>,
    pub first_response: Option<Duration>,
    /// The image's binary, when the static-binary check found it dynamically linked: it
    /// explains a container that fails with "no such file" although the file is there.
    pub dynamic_binary: Option<String>,
    /// The final image's layers by instruction (empty when it was not built).
    pub layers: Vec<crate::layers::LayerReport>,
}

/// Checks one build context against a step's checks. An `Err` means the checks could
/// not run at all (no engine, no Dockerfile...): the CLI's exit code 2.
pub fn run(target: &Target<'_>, options: &Options) -> Result<Report> {
    let engine: SharedEngine = Arc::new(crate::docker::Docker::from_env());
    run_on(&engine, target, options)
}

/// `run` on any engine: the tests' fake one, or the docker CLI.
pub fn run_on(engine: &SharedEngine, target: &Target<'_>, options: &Options) -> Result<Report> {
    engine.ping()?;
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
        engine,
        target,
        options,
        names,
        spinner: Spinner::new(options.progress),
        results: HashMap::new(),
        staged: &staged,
        dockerfile: dockerfile_path,
        dockerfile_text: text,
        facts: Facts::default(),
    };
    run.execute(&Phases::of(&checks), &parsed)?;
    let facts = std::mem::take(&mut run.facts);

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
            engine_size_bytes: facts.engine_size,
            size_limit_bytes: target.step.size_limit.0,
            build_seconds: facts.build_ok.then_some(facts.build_seconds),
            rebuild_seconds: facts.rebuild_seconds,
            first_response_ms: facts.first_response.map(|d| d.as_millis() as u64),
            context_bytes: staged.report.bytes,
            context_files: staged.report.files,
            layers: facts.layers,
        },
        engine: (&engine.identity()).into(),
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
    Phases::of(checks).context.iter().flat_map(|(_, exclude)| exclude.iter().cloned()).collect()
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

/// One run's state, shared by the phases in `checks`.
pub struct Run<'a, 'm> {
    pub engine: &'a SharedEngine,
    pub target: &'a Target<'m>,
    pub options: &'a Options,
    pub names: Names,
    pub spinner: Spinner,
    pub results: HashMap<String, Outcome>,
    pub staged: &'a Staged,
    pub dockerfile: PathBuf,
    pub dockerfile_text: String,
    pub facts: Facts,
}

impl Run<'_, '_> {
    pub fn set(&mut self, id: &str, outcome: Outcome) {
        self.results.insert(id.to_string(), outcome);
    }

    /// Every check of `ids` is skipped, blocked by the failed check `by`.
    pub fn block<'i>(&mut self, ids: impl IntoIterator<Item = &'i str>, by: &str) {
        for id in ids {
            self.set(id, Outcome::blocked(by));
        }
    }

    /// The phases in order; each runs only if one of its checks is in the step.
    fn execute(&mut self, phases: &Phases<'_>, parsed: &Result<Dockerfile>) -> Result<()> {
        for (id, exclude) in &phases.context {
            let outcome = checks::context::evaluate(self.staged, exclude);
            self.set(id, outcome);
        }
        if let Ok(df) = parsed {
            for (id, check) in &phases.dockerfile {
                self.set(id, checks::dockerfile::evaluate(*check, df));
            }
        }
        // The manifest puts a build check in every step whose checks need the image.
        let Some(build_id) = phases.build.first().copied() else {
            if let Err(e) = parsed {
                let outcome = Outcome::fail(format!("the Dockerfile cannot be read: {e}"));
                for (id, _) in &phases.dockerfile {
                    self.set(id, outcome.clone());
                }
            }
            return Ok(());
        };
        checks::build::evaluate(self, &phases.build)?;
        if let Err(e) = parsed {
            let outcome = if self.facts.build_ok {
                Outcome::error(format!("the checker could not read this Dockerfile ({e}), although docker built it"))
            } else {
                Outcome::blocked(build_id)
            };
            for (id, _) in &phases.dockerfile {
                self.set(id, outcome.clone());
            }
        }
        if !self.facts.build_ok {
            self.block(phases.need_image(), build_id);
            return Ok(());
        }
        checks::image::evaluate(self, &phases.image)?;
        checks::files::evaluate(self, &phases.files)?;
        checks::container::evaluate(self, &phases.container)?;
        checks::rebuild::evaluate(self, &phases.rebuild)?;
        Ok(())
    }

    pub fn save_log(&self, log: &str, what: &str) -> Result<String> {
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
    pub fn build_image(&self, tag: &str, what: &str, no_cache: bool) -> Result<BuildOutcome> {
        cleanup::image(self.engine, tag);
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
        self.engine.build(&request, &mut |line| {
            if let Some(step) = buildkit::build_step(line) {
                self.spinner.say(format!("{what}: {step}"));
            } else if line.contains("Compiling ") {
                self.spinner.say(format!("{what}: {}", line.trim()));
            }
        })
    }
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

    use std::io::{Read as _, Write as _};
    use std::sync::Mutex;

    use crate::engine::{ContainerState, Engine, ImageConfig, RunLimits};

    /// An engine that builds and runs nothing: it answers from a script and records what
    /// it was asked, so that the runner's phase order, blocking and cleanup can be tested.
    struct Fake {
        calls: Mutex<Vec<String>>,
        build_ok: bool,
        config: ImageConfig,
        /// A port on 127.0.0.1 where a tiny server answers every request with `status`.
        http_port: u16,
    }

    impl Fake {
        fn new(build_ok: bool, status: u16) -> Self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let http_port = listener.local_addr().unwrap().port();
            std::thread::spawn(move || {
                for mut stream in listener.incoming().flatten() {
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf);
                    let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi");
                }
            });
            let mut exposed = std::collections::HashMap::new();
            exposed.insert("3030/tcp".to_string(), serde_json::json!({}));
            let config = ImageConfig {
                entrypoint: Some(vec!["/server".into()]),
                exposed_ports: Some(exposed),
                user: "10001:10001".into(),
                ..ImageConfig::default()
            };
            Fake { calls: Mutex::new(Vec::new()), build_ok, config, http_port }
        }

        fn log(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }

        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }

        /// The position of the first call that starts with `prefix`.
        fn first(&self, prefix: &str) -> usize {
            let calls = self.calls();
            calls.iter().position(|c| c.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {calls:?}"))
        }
    }

    impl Engine for Fake {
        fn ping(&self) -> Result<()> {
            Ok(())
        }
        fn build(&self, req: &BuildRequest<'_>, on_line: &mut dyn FnMut(&str)) -> Result<BuildOutcome> {
            self.log(format!("build {}", req.tag));
            if let Ok(text) = std::fs::read_to_string(req.context.join("Cargo.toml")) {
                self.log(format!("built with Cargo.toml {text:?}"));
            }
            let log = if self.build_ok {
                "#9 [2/2] RUN cargo build\n#9 1.0    Compiling server v0.1.0 (/app)\n"
            } else {
                "#9 ERROR: process did not complete successfully\n"
            };
            log.lines().for_each(&mut *on_line);
            Ok(BuildOutcome {
                success: self.build_ok,
                log: log.into(),
                duration: Duration::from_secs(1),
                timed_out: false,
            })
        }
        fn inspect_image(&self, image: &str) -> Result<ImageInfo> {
            self.log(format!("inspect {image}"));
            Ok(ImageInfo { config: self.config.clone(), size: 1_900_000 })
        }
        fn identity(&self) -> crate::engine_info::Info {
            crate::engine_info::Info { version: "fake".into(), ..Default::default() }
        }
        fn history_len(&self, image: &str) -> Result<usize> {
            self.log(format!("history {image}"));
            Ok(1)
        }
        fn has_image(&self, image: &str) -> bool {
            image != "scratch"
        }
        /// An image of one layer: a 1.9 MB /server.
        fn save(&self, image: &str, read: &mut dyn FnMut(&mut dyn std::io::Read) -> Result<()>) -> Result<()> {
            self.log(format!("size {image}"));
            let config = br#"{"history":[{"created_by":"COPY server /server # buildkit"},{"created_by":"ENTRYPOINT [\"/server\"]","empty_layer":true}]}"#;
            let layer = crate::layers::tar_of(&[("server", &vec![0; 1_900_000])]);
            let manifest = br#"[{"Config":"c.json","Layers":["l/layer.tar"]}]"#;
            let save =
                crate::layers::tar_of(&[("l/layer.tar", &layer), ("c.json", config), ("manifest.json", manifest)]);
            read(&mut save.as_slice())
        }
        fn peek(&self, container: &str, image: &str, _run: &str, argv: &[&str]) -> Result<String> {
            self.log(format!("peek {container} {image}"));
            match argv.last() {
                Some(script) if script.contains("walk 1") => Ok("10001 /server --port 3030\n".into()),
                _ => bail!("the fake engine runs no other helper"),
            }
        }
        fn create(&self, _image: &str, name: &str, _run: &str) -> Result<String> {
            self.log(format!("create {name}"));
            Ok(name.into())
        }
        fn read_file(&self, _container: &str, path: &str) -> Result<Vec<u8>> {
            self.log(format!("read {path}"));
            bail!("no such file")
        }
        fn list_files(&self, container: &str) -> Result<Vec<String>> {
            self.log(format!("list {container}"));
            Ok(vec!["/server".into(), "/usr/local/cargo/bin/cargo".into()])
        }
        fn run_detached(&self, _image: &str, name: &str, _run: &str, ports: &[u16], _: &RunLimits) -> Result<String> {
            self.log(format!("run {name} {ports:?}"));
            Ok(name.into())
        }
        fn address(&self, _container: &str) -> Result<String> {
            Ok("172.17.0.2".into())
        }
        fn host_port(&self, _container: &str, port: u16) -> Result<u16> {
            self.log(format!("port {port}"));
            Ok(self.http_port)
        }
        fn state(&self, _container: &str) -> Result<ContainerState> {
            Ok(ContainerState { running: true, exit_code: 0, oom_killed: false, error: String::new() })
        }
        fn logs_tail(&self, _container: &str, _lines: usize) -> String {
            String::new()
        }
        fn pids(&self, _container: &str) -> Option<u32> {
            Some(1)
        }
        fn process_uids(&self, container: &str) -> Result<Vec<(u32, String)>> {
            // Like an engine whose host has no `ps`: `docker top` fails there.
            self.log(format!("top {container}"));
            bail!("exec: \"ps\": executable file not found in $PATH")
        }
        fn stop_within(&self, container: &str, _limit: Duration) -> Result<Option<Duration>> {
            self.log(format!("stop {container}"));
            Ok(Some(Duration::from_millis(100)))
        }
        fn remove_container(&self, container: &str) {
            self.log(format!("rm {container}"));
        }
        fn remove_image(&self, image: &str) {
            self.log(format!("rmi {image}"));
        }
    }

    /// A one-step manifest with these checks (TOML tables without their `title`, `why`
    /// and `fix`, which are added).
    fn manifest(checks: &[(&str, &str)]) -> Manifest {
        let ids: Vec<String> = checks.iter().map(|(id, _)| format!("\"{id}\"")).collect();
        let mut text = format!(
            "format_version = 1\nbook_url = \"http://book\"\n[[steps]]\nid = \"step-1\"\ntitle = \"t\"\nconcept = \"c\"\ndir = \"d\"\nsolution = \"d/solution\"\nbook = \"b.html\"\nsize_limit = \"20 MB\"\nhint = \"h\"\npoints = 1\nchecks = [{}]\n",
            ids.join(", ")
        );
        for (id, table) in checks {
            text.push_str(&format!("[checks.{id}]\n{table}\ntitle = \"{id}\"\nwhy = \"w\"\nfix = \"f\"\n"));
        }
        Manifest::parse(&text).unwrap()
    }

    /// Runs the manifest's only step on a context holding `files`, on the fake engine.
    fn check(fake: Fake, manifest: &Manifest, files: &[(&str, &str)]) -> (Arc<Fake>, Report) {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), files);
        let logs = tempfile::tempdir().unwrap();
        run_in(fake, manifest, dir.path(), logs.path())
    }

    fn write_files(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    /// Runs the manifest's only step on the context `dir`, on the fake engine, with its
    /// logs in `logs`.
    fn run_in(fake: Fake, manifest: &Manifest, dir: &Path, logs: &Path) -> (Arc<Fake>, Report) {
        let mut target = Target::learner(manifest, &manifest.steps[0], dir);
        target.layers = vec![dir.to_path_buf()];
        let options = Options { no_cache: false, progress: false, log_dir: logs.to_path_buf() };
        let fake = Arc::new(fake);
        let engine: SharedEngine = fake.clone();
        let report = run_on(&engine, &target, &options).unwrap();
        (fake, report)
    }

    fn result<'r>(report: &'r Report, id: &str) -> &'r CheckResult {
        report.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
    }

    const DOCKERFILE: &str = "FROM scratch\nCOPY server /server\nENTRYPOINT [\"/server\"]\n";

    fn every_kind() -> Vec<(&'static str, &'static str)> {
        vec![
            ("pinned", "kind = \"base-image-pinned\""),
            ("builds", "kind = \"build\""),
            ("small", "kind = \"image-size\""),
            ("exposes", "kind = \"exposes\"\nport = \"3030/tcp\""),
            ("no-cargo", "kind = \"files-absent\"\npatterns = [\"**/bin/cargo\"]"),
            ("answers", "kind = \"http\"\nport = 3030\npath = \"/\"\ntimeout_secs = 2"),
            ("not-root", "kind = \"process-uid\""),
            ("stops", "kind = \"stop\"\nwithin_secs = 3"),
            ("cache", "kind = \"rebuild\"\nchange = \"src/main.rs\""),
        ]
    }

    #[test]
    fn a_failed_build_blocks_every_check_that_needs_the_image() {
        let m = manifest(&every_kind());
        let (fake, report) = check(Fake::new(false, 200), &m, &[("Dockerfile", DOCKERFILE)]);
        assert_eq!(result(&report, "builds").status, Status::Fail);
        assert_eq!(result(&report, "pinned").status, Status::Pass, "static checks need no build");
        for id in ["small", "exposes", "no-cargo", "answers", "not-root", "stops", "cache"] {
            let r = result(&report, id);
            assert_eq!((r.status, r.blocked_by.as_deref()), (Status::Skip, Some("builds")), "{id}");
        }
        let calls = fake.calls();
        assert!(!calls.iter().any(|c| c.starts_with("inspect") || c.starts_with("run")), "{calls:?}");
        assert!(
            calls.iter().any(|c| c.starts_with("rmi checker-local/step-1:")),
            "the image tag is removed: {calls:?}"
        );
    }

    #[test]
    fn the_phases_run_in_order_and_clean_up_what_they_made() {
        let m = manifest(&every_kind());
        let files = [("Dockerfile", DOCKERFILE), ("src/main.rs", "fn main() {}")];
        let (fake, report) = check(Fake::new(true, 200), &m, &files);
        for id in ["pinned", "builds", "small", "exposes", "answers", "not-root", "stops", "cache"] {
            assert_eq!(result(&report, id).status, Status::Pass, "{id}: {:?}", result(&report, id));
        }
        assert_eq!(result(&report, "no-cargo").status, Status::Fail, "the fake image holds cargo");
        let order = ["build", "inspect", "size", "create", "list", "run", "port", "peek", "stop"];
        let mut positions: Vec<usize> = order.iter().map(|c| fake.first(c)).collect();
        positions.push(fake.calls().iter().position(|c| c.starts_with("build") && c.ends_with("-rebuild")).unwrap());
        assert!(positions.windows(2).all(|w| w[0] <= w[1]), "{order:?} at {positions:?} in {:?}", fake.calls());
        let calls = fake.calls();
        for made in calls.iter().filter_map(|c| c.strip_prefix("create ").or_else(|| c.strip_prefix("run "))) {
            let name = made.split(' ').next().unwrap();
            assert!(calls.contains(&format!("rm {name}")), "container {name} removed: {calls:?}");
        }
        for tag in calls.iter().filter_map(|c| c.strip_prefix("build ")) {
            assert!(calls.contains(&format!("rmi {tag}")), "image {tag} removed: {calls:?}");
        }
        assert_eq!(report.image.size_bytes, Some(1_900_000));
        // The processes are read beside the container: the host's missing `ps` is no error.
        assert_eq!(result(&report, "not-root").message, "/server --port 3030 runs as uid 10001");
        assert!(!calls.iter().any(|c| c.starts_with("top")), "{calls:?}");
    }

    #[test]
    fn every_check_of_a_kind_gets_its_own_result() {
        let mut checks = every_kind();
        checks.push(("exposes-8080", "kind = \"exposes\"\nport = \"8080/tcp\""));
        checks.push(("no-rs", "kind = \"files-absent\"\npatterns = [\"**/*.rs\"]"));
        checks.push(("answers-health", "kind = \"http\"\nport = 8080\npath = \"/health\"\ntimeout_secs = 2"));
        checks.push(("stops-fast", "kind = \"stop\"\nwithin_secs = 0"));
        checks.push(("clean", "kind = \"context\"\nexclude = [\"target/\"]"));
        checks.push(("no-git", "kind = \"context\"\nexclude = [\".git/\"]"));
        let m = manifest(&checks);
        let files = [
            ("Dockerfile", DOCKERFILE),
            ("src/main.rs", "fn main() {}"),
            (".dockerignore", ".git/\n"),
            ("target/x", "built"),
        ];
        let (fake, report) = check(Fake::new(true, 200), &m, &files);
        let status = |id: &str| result(&report, id).status;
        assert_eq!((status("exposes"), status("exposes-8080")), (Status::Pass, Status::Fail));
        assert_eq!((status("no-cargo"), status("no-rs")), (Status::Fail, Status::Pass));
        assert_eq!((status("answers"), status("answers-health")), (Status::Pass, Status::Pass));
        assert!(result(&report, "answers-health").message.contains("/health"));
        assert_eq!((status("stops"), status("stops-fast")), (Status::Pass, Status::Fail));
        assert_eq!((status("clean"), status("no-git")), (Status::Fail, Status::Pass));
        assert!(
            fake.calls().iter().any(|c| c.starts_with("run ") && c.ends_with("[3030, 8080]")),
            "{:?}",
            fake.calls()
        );
    }

    #[test]
    fn a_container_that_does_not_answer_blocks_the_checks_that_need_it_running() {
        let m = manifest(&every_kind());
        let files = [("Dockerfile", DOCKERFILE), ("src/main.rs", "fn main() {}")];
        let (fake, report) = check(Fake::new(true, 500), &m, &files);
        assert!(result(&report, "answers").message.contains("answered 500"));
        for id in ["not-root", "stops"] {
            assert_eq!(result(&report, id).blocked_by.as_deref(), Some("answers"), "{id}");
        }
        assert_eq!(result(&report, "cache").status, Status::Pass, "the rebuild needs no running container");
        assert!(!fake.calls().iter().any(|c| c.starts_with("peek") || c.starts_with("stop")));
    }

    #[test]
    fn an_overlay_rebuild_lays_the_workshops_files_over_the_staged_copy_only() {
        let m = manifest(&[
            ("builds", "kind = \"build\""),
            ("added", "kind = \"rebuild\"\noverlay = \"added\"\nmay_compile = [\"fnv\"]"),
        ]);
        let files = [
            ("Dockerfile", DOCKERFILE),
            ("Cargo.toml", "[package]\n"),
            ("added/Cargo.toml", "[package]\n[dependencies]\nfnv = \"1\"\n"),
        ];
        let (fake, report) = check(Fake::new(true, 200), &m, &files);
        let added = result(&report, "added");
        assert_eq!(added.status, Status::Pass, "{added:?}");
        assert!(
            added.message.contains("after a change to Cargo.toml, which adds fnv: compiled server v0.1.0"),
            "{}",
            added.message
        );
        let builds: Vec<String> = fake.calls().into_iter().filter(|c| c.starts_with("built with")).collect();
        assert_eq!(
            builds,
            [
                "built with Cargo.toml \"[package]\\n\"",
                "built with Cargo.toml \"[package]\\n[dependencies]\\nfnv = \\\"1\\\"\\n\""
            ],
            "the build, then the rebuild with the overlay's Cargo.toml"
        );
        // The context has no such file: the learner's failure. The workshop's folder is
        // missing: the check cannot run.
        let (_, report) = check(Fake::new(true, 200), &m, &[files[0], files[2]]);
        assert_eq!(result(&report, "added").message, "the context has no Cargo.toml to replace");
        let (_, report) = check(Fake::new(true, 200), &m, &files[..2]);
        let r = result(&report, "added");
        assert_eq!(
            (r.status, r.message.as_str()),
            (Status::Error, "the workshop has no folder added to lay over the context")
        );
    }

    #[test]
    fn each_rebuild_keeps_its_own_log() {
        let m = manifest(&[
            ("builds", "kind = \"build\""),
            ("cache", "kind = \"rebuild\"\nchange = \"src/main.rs\""),
            ("added", "kind = \"rebuild\"\noverlay = \"added\"\nchange = \"Cargo.toml\"\nmay_compile = [\"fnv\"]"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[
                ("Dockerfile", DOCKERFILE),
                ("src/main.rs", "fn main() {}"),
                ("Cargo.toml", "[package]\n"),
                ("added/Cargo.toml", "[package]\n[dependencies]\nfnv = \"1\"\n"),
            ],
        );
        let logs = tempfile::tempdir().unwrap();
        let (fake, report) = run_in(Fake::new(true, 200), &m, dir.path(), logs.path());
        assert!(report.passed, "{:?}", report.checks);
        let mut names: Vec<String> = std::fs::read_dir(logs.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().split('.').nth(2).unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["build", "rebuild", "rebuild-added"]);
        // The overlay's Cargo.toml, then a comment naming the run in TOML's syntax.
        let built = fake.calls().into_iter().rfind(|c| c.starts_with("built with")).unwrap();
        assert!(built.contains("fnv = \\\"1\\\"\\n\\n# checker: change "), "{built}");
    }

    #[cfg(unix)]
    #[test]
    fn an_overlay_never_reads_or_writes_through_a_link() {
        let m = manifest(&[
            ("builds", "kind = \"build\""),
            ("added", "kind = \"rebuild\"\noverlay = \"added\"\nmay_compile = [\"fnv\"]"),
        ]);
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("Dockerfile"), DOCKERFILE).unwrap();
        std::fs::write(p.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::create_dir(p.join("added")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), p.join("added/Cargo.toml")).unwrap();
        let logs = tempfile::tempdir().unwrap();
        let run = |p: &Path| run_in(Fake::new(true, 200), &m, p, logs.path());
        let (fake, report) = run(p);
        let r = result(&report, "added");
        assert_eq!(r.status, Status::Error, "{r:?}");
        assert!(r.message.contains("added/Cargo.toml is a symbolic link"), "{}", r.message);
        assert!(!fake.calls().iter().any(|c| c.contains("secret")), "{:?}", fake.calls());
        // The overlay folder itself a link.
        std::fs::remove_dir_all(p.join("added")).unwrap();
        std::os::unix::fs::symlink(outside.path(), p.join("added")).unwrap();
        let (_, report) = run(p);
        assert!(
            result(&report, "added").message.contains("never writes through a link"),
            "{:?}",
            result(&report, "added")
        );
        // The context's file a link: never written through.
        std::fs::remove_file(p.join("added")).unwrap();
        std::fs::create_dir(p.join("added")).unwrap();
        std::fs::write(p.join("added/Cargo.toml"), "[package]\nchanged\n").unwrap();
        std::fs::remove_file(p.join("Cargo.toml")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), p.join("Cargo.toml")).unwrap();
        let (_, report) = run(p);
        let r = result(&report, "added");
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(
            r.message.contains("cannot replace Cargo.toml") && r.message.contains("symbolic link"),
            "{}",
            r.message
        );
        assert_eq!(std::fs::read_to_string(outside.path().join("secret")).unwrap(), "secret");
    }

    #[test]
    fn a_step_of_static_checks_needs_no_build() {
        let m = manifest(&[("pinned", "kind = \"base-image-pinned\"")]);
        let (fake, report) = check(Fake::new(true, 200), &m, &[("Dockerfile", "FROM rust\n")]);
        assert_eq!(result(&report, "pinned").status, Status::Fail);
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
        let (_, report) = check(Fake::new(true, 200), &m, &[("Dockerfile", "# nothing\n")]);
        assert!(result(&report, "pinned").message.contains("cannot be read"), "{:?}", result(&report, "pinned"));
    }
}

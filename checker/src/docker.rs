//! The Docker engine, driven through the `docker` CLI (JSON output parsed with serde) so
//! that the checker works wherever the learner's own `docker` works.

use std::ffi::OsString;
use std::io::Read;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cleanup;
use crate::engine::{BuildOutcome, BuildRequest, ContainerState, Engine, ImageInfo, RunLimits};
use crate::engine_info::{Info, parse_info};

/// Selects the docker binary; some machines have several clients, only some with BuildKit.
pub const DOCKER_ENV: &str = "CHECKER_DOCKER";

/// Every image and container the checker creates carries this label, so that a leak can
/// be found (and is tested for) and removed with `docker rm -f $(docker ps -aq --filter label=...)`.
pub const LABEL: &str = "dev.workshop.checker";

/// The `--label` arguments of everything a run creates: the checker's label, the run id,
/// and where the run's process lives (`host_id`), so that the next run on the same
/// machine can tell a killed run's leftovers from another machine's live run.
fn labels(run_label: &str) -> Vec<String> {
    [LABEL.to_string(), format!("{LABEL}.run={run_label}"), format!("{LABEL}.host={}", host_id())]
        .into_iter()
        .flat_map(|label| ["--label".to_string(), label])
        .collect()
}

/// Names the process id space this checker runs in: the kernel's boot and the pid
/// namespace on Linux, the host name elsewhere. A run id's pid means something only there.
pub fn host_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(read_host_id).clone()
}

fn read_host_id() -> String {
    #[cfg(target_os = "linux")]
    if let (Ok(boot), Ok(ns)) =
        (std::fs::read_to_string("/proc/sys/kernel/random/boot_id"), std::fs::read_link("/proc/self/ns/pid"))
    {
        return format!("{}/{}", boot.trim(), ns.display());
    }
    #[cfg(unix)]
    if let Ok(name) = nix::unistd::gethostname() {
        return name.to_string_lossy().into_owned();
    }
    "unknown".into()
}

#[derive(Debug, Clone)]
pub struct Docker {
    bin: OsString,
    /// What the engine is, read once (`docker info`) and shared by clones.
    identity: std::sync::Arc<std::sync::OnceLock<Info>>,
}

/// Reads a child's pipe to its end on a thread of its own, so that neither pipe can fill
/// up and block the child while the other is read.
fn read_all_in_background(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut bytes);
        }
        bytes
    })
}

impl Docker {
    /// The client named by `CHECKER_DOCKER`, or `docker` from PATH.
    pub fn from_env() -> Self {
        let bin = std::env::var_os(DOCKER_ENV).filter(|v| !v.is_empty()).unwrap_or_else(|| "docker".into());
        Self { bin, identity: Default::default() }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // BuildKit for every build: `RUN --mount` and `COPY --chmod` need it.
        cmd.env("DOCKER_BUILDKIT", "1").stdin(Stdio::null());
        cmd
    }

    fn name(&self) -> String {
        self.bin.to_string_lossy().into_owned()
    }

    /// Runs `docker args...` to its end as a child the signal handler can stop (see
    /// `cleanup::spawn`), whatever its exit status.
    fn run(&self, args: &[&str]) -> Result<std::process::Output> {
        let mut cmd = self.command();
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let (child, pipes) = cleanup::spawn(&mut cmd).map_err(|e| self.spawn_error(e))?;
        let stderr = read_all_in_background(pipes.stderr);
        let mut stdout = Vec::new();
        if let Some(mut out) = pipes.stdout {
            out.read_to_end(&mut stdout).context("reading docker's output")?;
        }
        let stderr = stderr.join().unwrap_or_default();
        let status = child.wait().context("waiting for docker")?;
        Ok(std::process::Output { status, stdout, stderr })
    }

    /// Runs `docker args...` and returns its stdout, or an error that quotes its stderr.
    pub fn output(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            bail!("`{} {}` failed: {}", self.name(), args.join(" "), stderr.trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn spawn_error(&self, e: std::io::Error) -> anyhow::Error {
        if e.kind() == std::io::ErrorKind::Interrupted {
            anyhow!("interrupted: `{}` was not started", self.name())
        } else if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!(
                "cannot run `{}`: no such program. Install Docker (https://docs.docker.com/get-docker/) or point {DOCKER_ENV} at your docker client; run `checker doctor` for details (the book's Troubleshooting page explains each case)",
                self.name()
            )
        } else {
            anyhow!(
                "cannot run `{}`: {e}; run `checker doctor` for details (the book's Troubleshooting page explains each case)",
                self.name()
            )
        }
    }

    /// The engine's host when DOCKER_HOST or the current docker context names another
    /// machine (Podman's client has no contexts: its remote mode needs `--remote`).
    fn remote(&self) -> Option<String> {
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            return crate::diagnosis::remote_engine(Some(&host));
        }
        let endpoint = self.run(&["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]).ok()?;
        crate::diagnosis::remote_engine(Some(String::from_utf8_lossy(&endpoint.stdout).trim()))
    }

    /// The containers and images that runs of the process id space `host` left on the
    /// engine: (container or image, its id, its run id).
    pub fn leftovers(&self, host: &str) -> Result<Vec<(&'static str, String, String)>> {
        let filter = format!("label={LABEL}.host={host}");
        let run = format!("{{{{index .Config.Labels \"{LABEL}.run\"}}}}");
        let mut found = Vec::new();
        // `docker images --format` has no labels: the images' own config has them.
        // Untagged images are a builder's cache (Podman's intermediate images), not a run's.
        for (what, list) in [("container", ["ps", "-a"]), ("image", ["images", "--filter=dangling=false"])] {
            let ids = self.output(&[list[0], list[1], "-q", "--no-trunc", "--filter", &filter])?;
            let mut ids: Vec<&str> = ids.split_whitespace().collect();
            ids.dedup();
            if ids.is_empty() {
                continue;
            }
            let format = format!("{{{{.Id}}}} {run}");
            let mut args = vec![what, "inspect", "--format", &format];
            args.extend(&ids);
            // One may be gone meanwhile: the others are still listed.
            let out = self.run(&args)?;
            found.extend(String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| {
                let (id, run) = l.trim().split_once(' ')?;
                Some((what, id.to_string(), run.to_string()))
            }));
        }
        Ok(found)
    }
}

impl Engine for Docker {
    /// Fails with a clear message when the client is missing or the engine is down.
    fn ping(&self) -> Result<()> {
        let out = self.run(&["version", "--format", "{{.Server.Version}}"])?;
        if out.status.success() && !out.stdout.trim_ascii().is_empty() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no answer");
        bail!(
            "the Docker engine does not answer ({last}). Start it (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd &` on Linux) and try again; `{} info` must work first; run `checker doctor` for details (the book's Troubleshooting page explains each case)",
            self.name()
        )
    }

    /// What differs between engines is decided from this, here and nowhere else.
    fn identity(&self) -> Info {
        self.identity
            .get_or_init(|| {
                let out = self.run(&["info", "--format", "{{json .}}"]);
                let mut info =
                    out.ok().and_then(|o| parse_info(&String::from_utf8_lossy(&o.stdout))).unwrap_or_default();
                info.remote = self.remote();
                info
            })
            .clone()
    }

    /// Builds with BuildKit's plain progress output, handing each output line to
    /// `on_line` as it arrives (for the spinner) and returning the whole log.
    fn build(&self, req: &BuildRequest<'_>, on_line: &mut dyn FnMut(&str)) -> Result<BuildOutcome> {
        let mut cmd = self.command();
        cmd.args(["build", "--progress=plain"])
            .args(labels(req.run_label))
            .arg("-t")
            .arg(req.tag)
            .arg("-f")
            .arg(req.dockerfile);
        if req.no_cache {
            cmd.arg("--no-cache");
        }
        if self.identity().podman {
            // Podman writes OCI images by default, which drop what only Docker's format
            // holds (HEALTHCHECK, SHELL): the checks read the image as Docker would.
            cmd.arg("--format=docker");
        }
        cmd.arg(req.context).stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let (child, pipes) = cleanup::spawn(&mut cmd).map_err(|e| self.spawn_error(e))?;
        let (tx, rx) = mpsc::channel::<String>();
        let streams: [Box<dyn Read + Send>; 2] =
            [Box::new(pipes.stdout.expect("piped")), Box::new(pipes.stderr.expect("piped"))];
        let readers: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                let tx = tx.clone();
                // Once the loop below stops listening, the reader still drains the pipe:
                // a closed pipe would kill docker in the middle of a valid build.
                std::thread::spawn(move || {
                    crate::buildkit::for_each_line(stream, crate::buildkit::MAX_LINE, |line| drop(tx.send(line)))
                })
            })
            .collect();
        drop(tx);
        let mut log = crate::buildkit::CappedLog::new(req.log_bytes);
        let mut timed_out = false;
        loop {
            let left = req.timeout.saturating_sub(start.elapsed());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    on_line(&line);
                    log.push(&line);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Killing the client ends its BuildKit session, which cancels the build.
                    timed_out = true;
                    child.stop();
                    break;
                }
            }
        }
        for r in readers {
            let _ = r.join();
        }
        let status = child.wait().context("waiting for docker build")?;
        let log = log.finish();
        if log.contains("buildx component is missing") || log.contains("BuildKit is enabled but the buildx") {
            bail!(
                "`{}` has no BuildKit (the buildx plugin is missing). Install docker-buildx, or point {DOCKER_ENV} at a docker client with BuildKit",
                self.name()
            );
        }
        Ok(BuildOutcome { success: status.success() && !timed_out, log, duration: start.elapsed(), timed_out })
    }

    fn inspect_image(&self, image: &str) -> Result<ImageInfo> {
        let out = self.output(&["image", "inspect", image])?;
        let mut list: Vec<ImageInfo> =
            serde_json::from_str(&out).context("unexpected `docker image inspect` output")?;
        list.pop().ok_or_else(|| anyhow!("`docker image inspect {image}` returned nothing"))
    }

    /// One line per entry (`-q`), whatever the entries' text holds.
    fn history_len(&self, image: &str) -> Result<usize> {
        Ok(self.output(&["history", "-q", "--no-trunc", image])?.lines().filter(|l| !l.trim().is_empty()).count())
    }

    fn has_image(&self, image: &str) -> bool {
        self.run(&["image", "inspect", "--format", "{{.Id}}", image]).is_ok_and(|o| o.status.success())
    }

    /// One save at a time per temporary folder: Docker 20.10 first writes the whole image to
    /// its own disk, a gigabyte for the steps that still hold the toolchain, and runs at
    /// the same time (`grade --jobs`, parallel tests) would each need that room at once.
    fn save(&self, image: &str, read: &mut dyn FnMut(&mut dyn Read) -> Result<()>) -> Result<()> {
        // The temporary folder itself is the lock: no file is left behind.
        let lock = std::fs::File::open(std::env::temp_dir()).ok();
        if let Some(lock) = &lock {
            let _ = lock.lock();
        }
        let mut cmd = self.command();
        cmd.args(["save", image]).stdout(Stdio::piped()).stderr(Stdio::piped());
        let (child, pipes) = cleanup::spawn(&mut cmd).map_err(|e| self.spawn_error(e))?;
        let stderr = read_all_in_background(pipes.stderr);
        let mut stdout = pipes.stdout.expect("piped");
        let result = read(&mut stdout);
        // What the reader left must be read for docker to finish.
        std::io::copy(&mut stdout, &mut std::io::sink()).context("reading docker save")?;
        let stderr = stderr.join().unwrap_or_default();
        if !child.wait().context("waiting for docker save")?.success() {
            bail!("docker save failed: {}", String::from_utf8_lossy(&stderr).trim());
        }
        result
    }

    fn peek(&self, container: &str, image: &str, run_label: &str, argv: &[&str]) -> Result<String> {
        let ns = format!("container:{container}");
        let labels = labels(run_label);
        let mut args = vec!["run", "--rm", "--network", &ns, "--pid", &ns, "--pull", "never"];
        args.extend(labels.iter().map(String::as_str));
        args.extend(["--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only", "--entrypoint"]);
        args.push(argv[0]);
        args.push(image);
        args.extend(&argv[1..]);
        self.output(&args)
    }

    /// Starts a confined container with `ports` published on random ports of 127.0.0.1
    /// only: no capabilities, no privilege gain, bounded memory, processes, CPU and log,
    /// and no environment from the host (nothing is passed with `-e`).
    fn run_detached(
        &self,
        image: &str,
        name: &str,
        run_label: &str,
        ports: &[u16],
        limits: &RunLimits,
    ) -> Result<String> {
        let labels = labels(run_label);
        let publish: Vec<String> = ports.iter().flat_map(|p| ["-p".to_string(), format!("127.0.0.1::{p}")]).collect();
        let memory = limits.memory_bytes.to_string();
        let (pids, cpus) = (limits.pids.to_string(), limits.cpus.to_string());
        let log_size = format!("max-size={}", limits.log_bytes);
        let mut args = vec!["run", "-d", "--name", name];
        args.extend(publish.iter().chain(&labels).map(String::as_str));
        args.extend(["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]);
        args.extend(["--memory", &memory, "--memory-swap", &memory, "--pids-limit", &pids, "--cpus", &cpus]);
        args.extend(["--log-driver", "json-file", "--log-opt", &log_size, "--log-opt", "max-file=1"]);
        if limits.read_only {
            args.push("--read-only");
        }
        args.push(image);
        Ok(self.output(&args)?.trim().to_string())
    }

    fn address(&self, container: &str) -> Result<String> {
        let format = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}";
        let out = self.output(&["container", "inspect", "--format", format, container])?;
        out.split_whitespace().next().map(str::to_string).ok_or_else(|| anyhow!("the container has no network address"))
    }

    /// The host port that container port `port`/tcp is published on.
    fn host_port(&self, container: &str, port: u16) -> Result<u16> {
        let out = self.output(&["port", container, &format!("{port}/tcp")])?;
        out.lines().find_map(|l| l.trim().rsplit(':').next()?.parse().ok()).ok_or_else(|| {
            anyhow!("docker did not publish port {port} of the container (`docker port` said: {})", out.trim())
        })
    }

    fn state(&self, container: &str) -> Result<ContainerState> {
        let out = self.output(&["container", "inspect", "--format", "{{json .State}}", container])?;
        serde_json::from_str(out.trim()).context("unexpected `docker container inspect` output")
    }

    /// The last `lines` lines of the container's output (stdout and stderr).
    fn logs_tail(&self, container: &str, lines: usize) -> String {
        match self.run(&["logs", "--tail", &lines.to_string(), container]) {
            // Lines are the container's to choose: keep the report readable whatever they are.
            Ok(out) => {
                let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                let keep = text.char_indices().rev().nth(4000).map_or(0, |(i, _)| i);
                text[keep..].to_string()
            }
            Err(e) => format!("(cannot read the container's log: {e})"),
        }
    }

    /// How many processes and threads the container has now.
    fn pids(&self, container: &str) -> Option<u32> {
        self.output(&["stats", "--no-stream", "--format", "{{.PIDs}}", container]).ok()?.trim().parse().ok()
    }

    /// The uids of the container's processes, as the kernel sees them.
    fn process_uids(&self, container: &str) -> Result<Vec<(u32, String)>> {
        // The engine needs the pid column to map processes to the container.
        let out = self.output(&["top", container, "-o", "pid,uid,comm"])?;
        Ok(out
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut parts = l.split_whitespace().skip(1);
                let uid = parts.next()?.parse().ok()?;
                Some((uid, parts.collect::<Vec<_>>().join(" ")))
            })
            .collect())
    }

    /// Sends SIGTERM (what `docker stop` sends) and waits up to `limit` for the container
    /// to exit. Returns how long it took, or `None` if it was still running.
    fn stop_within(&self, container: &str, limit: Duration) -> Result<Option<Duration>> {
        let start = Instant::now();
        self.output(&["kill", "--signal", "SIGTERM", container])?;
        while start.elapsed() < limit {
            if !self.state(container)?.running {
                return Ok(Some(start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(None)
    }

    /// Reads one file of a created container through `docker cp`, following links itself
    /// (Podman's `cp` has no `-L`).
    fn read_file(&self, container: &str, path: &str) -> Result<Vec<u8>> {
        let mut path = path.to_string();
        for _ in 0..16 {
            let out = self.run(&["cp", &format!("{container}:{path}"), "-"])?;
            if !out.status.success() {
                bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
            }
            let mut archive = tar::Archive::new(out.stdout.as_slice());
            let mut entry = archive.entries()?.next().ok_or_else(|| anyhow!("docker cp returned no file"))??;
            if entry.header().entry_type().is_symlink() {
                let target = entry.link_name()?.ok_or_else(|| anyhow!("{path} is a link to nothing"))?;
                let target = target.to_string_lossy();
                path = if target.starts_with('/') {
                    target.into_owned()
                } else {
                    format!("{}/{target}", path.rsplit_once('/').map_or("", |(dir, _)| dir))
                };
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            return Ok(bytes);
        }
        bail!("{path}: too many levels of links")
    }

    /// The paths of every file in a created container's filesystem (streamed through
    /// `docker export`, reading headers only).
    fn list_files(&self, container: &str) -> Result<Vec<String>> {
        let mut cmd = self.command();
        cmd.args(["export", container]).stdout(Stdio::piped()).stderr(Stdio::piped());
        let (child, pipes) = cleanup::spawn(&mut cmd).map_err(|e| self.spawn_error(e))?;
        let stderr = read_all_in_background(pipes.stderr);
        let mut stdout = pipes.stdout.expect("piped");
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(&mut stdout);
        for entry in archive.entries().context("reading docker export")? {
            let entry = entry.context("reading docker export")?;
            names.push(format!("/{}", entry.path()?.to_string_lossy().trim_start_matches("./")));
        }
        // What follows the archive's end (padding) must be read for docker to finish.
        std::io::copy(&mut stdout, &mut std::io::sink()).context("reading docker export")?;
        let stderr = stderr.join().unwrap_or_default();
        if !child.wait().context("waiting for docker export")?.success() {
            bail!("docker export failed: {}", String::from_utf8_lossy(&stderr).trim());
        }
        Ok(names)
    }

    /// Creates (without starting) a container of `image`, for reading its files.
    fn create(&self, image: &str, name: &str, run_label: &str) -> Result<String> {
        // An entrypoint is required by `create` for an image with neither CMD nor
        // ENTRYPOINT; it never runs.
        let labels = labels(run_label);
        let mut args = vec!["create", "--name", name, "--entrypoint", "/checker-never-runs"];
        args.extend(labels.iter().map(String::as_str));
        args.push(image);
        let out = self.output(&args)?;
        Ok(out.trim().to_string())
    }

    fn remove_container(&self, container: &str) {
        let _ = self.command().args(["rm", "-f", "-v", container]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }

    /// Podman's `rmi -f` also removes the containers that use the image, among them the
    /// working containers of builds running at the same time from the same cache: there
    /// the image is removed unforced, or else only untagged (it is Podman's build cache).
    fn remove_image(&self, image: &str) {
        let quiet = |args: &[&str]| {
            self.command().args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
        };
        if !self.identity().podman {
            quiet(&["rmi", "-f", image]);
        } else if !quiet(&["rmi", image]) {
            quiet(&["untag", image]);
        }
    }
}

//! `checker doctor`: whether this machine can run the workshop, line by line — the docker
//! client and its engine, BuildKit, the image store, the base images, a real port-publish
//! round trip, free disk, a remote engine, the workshop itself — each `ok`, `warn` or
//! `fail`, and every problem with its fix. It is the first command a learner runs and what
//! an instructor asks for in a bug report, so it never stops at the first problem: with no
//! client, the engine down or outside a workshop, it still reports everything it can.
//!
//! Every docker command it runs has a time limit, and it never pulls: a missing base image
//! is reported, not fetched.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::cleanup::{self, SharedEngine};
use crate::diagnosis;
use crate::docker::{DOCKER_ENV, Docker, LABEL};
use crate::dockerfile::Dockerfile;
use crate::engine_info::{Info, Side, Versions, parse_info, parse_short_version, parse_versions, text};
use crate::manifest::{self, Manifest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report: what was looked at, what was found, and how to fix a problem.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// What to do about a `warn` or `fail`; `None` on `ok`.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { name: name.into(), status: Status::Ok, detail: detail.into(), fix: None }
    }

    fn warn(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { name: name.into(), status: Status::Warn, detail: detail.into(), fix: Some(fix.into()) }
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { name: name.into(), status: Status::Fail, detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// What `--format json` prints: `ok` when no line failed (the workshop can run here).
#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

/// The names of the lines, in the order they are reported (a base image's line is
/// `base-image:<image>`). JSON readers and the tests rely on them.
pub const WORKSHOP: &str = "workshop";
pub const ENGINE_HOST: &str = "engine-host";
pub const CLIENT: &str = "client";
pub const ENGINE: &str = "engine";
pub const BUILDKIT: &str = "buildkit";
pub const IMAGE_STORE: &str = "image-store";
pub const ROOTLESS: &str = "rootless";
pub const ARCHITECTURE: &str = "architecture";
pub const DISK: &str = "disk";
pub const BASE_IMAGE: &str = "base-image";
pub const PORT_PUBLISH: &str = "port-publish";

/// What makes the steps' base images where no registry answers.
pub const BASE_IMAGES_SCRIPT: &str = "scripts/base-images.sh";

/// The image the port round trip runs when it is there (its perl-base can serve HTTP).
pub const PROBE_IMAGE: &str = "debian:bookworm-slim";
/// The container port the round trip's server listens on.
const PROBE_PORT: u16 = 8080;
/// A docker command that should answer at once (version, info, inspect, port, rm).
const QUICK: Duration = Duration::from_secs(10);
/// `docker run -d` of the probe: creating and starting a container.
const START: Duration = Duration::from_secs(60);
/// How long the probe's server has to answer once its container runs.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

const GB: u64 = 1_000_000_000;
/// Free disk where the engine keeps its images: a cold build of every step needs a few GB.
pub const DISK_WARN_BELOW: u64 = 5 * GB;
pub const DISK_FAIL_BELOW: u64 = 2 * GB;

/// Runs every check, handing each to `on_check` as soon as it is known (the terminal shows
/// them one by one), and returns them all. `workshop` is the workshop's root, or why it
/// was not found (a message whose last sentence or clause says what to do).
pub fn run(workshop: Result<PathBuf, String>, on_check: &mut dyn FnMut(&Check)) -> Report {
    let mut checks = Vec::new();
    let mut emit = |check: Check| {
        on_check(&check);
        checks.push(check);
    };
    let client = Client::from_env();

    let (check, manifest) = workshop_check(workshop);
    emit(check);
    let (base_images, unread) = match &manifest {
        Some((root, manifest)) => base_images(root, manifest),
        None => (Vec::new(), Vec::new()),
    };

    // Where the engine is, before anything tries to reach it: a remote engine that does
    // not answer must not hide why the checks cannot work with it.
    let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let context = if docker_host.is_none() { client.context() } else { None };
    let (check, remote) = engine_host(docker_host.as_deref(), context.as_ref());
    emit(check);

    let versions = client.versions();
    // When `version` waits on the engine, `--version` still names the client.
    let short = match &versions {
        Err(RunError::TimedOut(_)) => client.short_version(),
        Ok(_) | Err(_) => None,
    };
    let client_side = match &versions {
        Ok(v) => v.client.clone(),
        Err(_) => short.as_deref().and_then(parse_short_version),
    };
    emit(client_check(&client, &versions, short.as_deref()));
    let engine = engine_check(&versions, remote.as_deref());
    let down = match &engine {
        Ok((check, _)) => {
            emit(check.clone());
            None
        }
        Err(check) => {
            let why = match &versions {
                Err(RunError::Missing) => "not checked: there is no docker client to reach the engine with".to_string(),
                Ok(_) | Err(_) => format!("not checked: the engine did not answer (see `{ENGINE}`)"),
            };
            let fix = check.fix.clone().unwrap_or_default();
            emit(check.clone());
            Some((why, fix))
        }
    };
    let server_is_podman = engine.as_ref().is_ok_and(|(_, server)| server.as_ref().is_some_and(|s| s.podman));

    match &client_side {
        Some(side) => emit(buildkit(side, client.buildx().as_deref(), server_is_podman)),
        None => {
            let fix = down.as_ref().map(|(_, fix)| fix.clone()).unwrap_or_else(install_fix);
            emit(Check::fail(BUILDKIT, "not checked: the docker client did not say its version", fix));
        }
    }

    if let Some((why, fix)) = &down {
        for name in [IMAGE_STORE, ROOTLESS, ARCHITECTURE, DISK] {
            emit(Check::fail(name, why.clone(), fix.clone()));
        }
        for image in &base_images {
            emit(Check::fail(format!("{BASE_IMAGE}:{image}"), why.clone(), fix.clone()));
        }
        if manifest.is_none() {
            emit(no_workshop_base_images());
        }
        emit(Check::fail(PORT_PUBLISH, why.clone(), fix.clone()));
        return finish(checks);
    }

    match client.info() {
        Ok(info) => {
            emit(image_store(&info));
            emit(rootless(&info));
            emit(architecture(&info));
            emit(disk(&info, remote.is_some()));
        }
        Err(e) => {
            let fix = "Make `docker info` work (it lists the engine's settings), then run `checker doctor` again.";
            for name in [IMAGE_STORE, ROOTLESS, ARCHITECTURE, DISK] {
                emit(Check::fail(name, format!("not checked: {e}"), fix));
            }
        }
    }

    let mut present = Vec::new();
    for image in &base_images {
        let check = base_image(&client, image);
        if check.status == Status::Ok {
            present.push(image.clone());
        }
        emit(check);
    }
    for error in unread {
        emit(Check::warn(
            format!("{BASE_IMAGE}s"),
            error,
            "Fix that Dockerfile (`checker dev check` checks the workshop's files); its base images were not checked.",
        ));
    }
    if manifest.is_none() {
        emit(no_workshop_base_images());
    }

    // debian:bookworm-slim first (it is small), whether the steps use it or not.
    let mut candidates = Vec::new();
    if !present.iter().any(|i| i == PROBE_IMAGE) && client.has_image(PROBE_IMAGE) {
        candidates.push(PROBE_IMAGE.to_string());
    }
    candidates.extend(present.iter().filter(|i| *i == PROBE_IMAGE).cloned());
    candidates.extend(present.iter().filter(|i| *i != PROBE_IMAGE).cloned());
    emit(port_round_trip(&client, &candidates, remote.as_deref()));
    finish(checks)
}

fn finish(checks: Vec<Check>) -> Report {
    Report { ok: checks.iter().all(|c| c.status != Status::Fail), checks }
}

fn install_fix() -> String {
    format!(
        "Install Docker (https://docs.docker.com/get-docker/), or point {DOCKER_ENV} at your docker client (e.g. {DOCKER_ENV}=/usr/bin/docker)."
    )
}

fn no_workshop_base_images() -> Check {
    Check::warn(
        format!("{BASE_IMAGE}s"),
        "not checked: the steps' Dockerfiles, which name the base images, are in the workshop",
        "Run `checker doctor` inside the workshop (or with --workshop DIR) to check its base images.",
    )
}

/// Splits a message such as main.rs's "not inside a workshop: … . cd into …" into what
/// is wrong and what to do: the fix is its last sentence, or else its last clause.
pub fn split_fix(message: &str) -> (String, String) {
    let at = message.rfind(". ").map(|i| (i, 2)).or_else(|| message.rfind(": ").map(|i| (i, 2)));
    match at {
        Some((i, skip)) => {
            let mut fix = message[i + skip..].to_string();
            if !fix.ends_with('.') {
                fix.push('.');
            }
            (message[..i].to_string(), fix)
        }
        None => (message.to_string(), "Run the checker inside the workshop, or pass --workshop DIR.".into()),
    }
}

fn workshop_check(found: Result<PathBuf, String>) -> (Check, Option<(PathBuf, Manifest)>) {
    let root = match found {
        Ok(root) => root,
        Err(message) => {
            let (problem, fix) = split_fix(&message);
            return (Check::fail(WORKSHOP, problem, fix), None);
        }
    };
    let path = root.join(manifest::FILE_NAME);
    match Manifest::load(&path) {
        Ok(manifest) => {
            let detail = format!(
                "{}: {} with {} step{}",
                root.display(),
                manifest::FILE_NAME,
                manifest.steps.len(),
                if manifest.steps.len() == 1 { "" } else { "s" }
            );
            (Check::ok(WORKSHOP, detail), Some((root, manifest)))
        }
        Err(e) => (
            Check::fail(
                WORKSHOP,
                format!("{e:#}"),
                format!(
                    "Fix {} where the error says (`git diff {}` shows what changed; `git checkout {}` restores it).",
                    path.display(),
                    manifest::FILE_NAME,
                    manifest::FILE_NAME
                ),
            ),
            None,
        ),
    }
}

/// The images the steps build FROM, in the order the steps name them: every stage of each
/// step's reference solution (its `solution/Dockerfile`, or the step's own where the
/// solution does not change it), without `scratch`, earlier stages and unresolved
/// variables. Also returns the Dockerfiles that could not be read.
pub fn base_images(root: &Path, manifest: &Manifest) -> (Vec<String>, Vec<String>) {
    let mut images: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for step in &manifest.steps {
        let solution = root.join(&step.solution).join("Dockerfile");
        let path = if solution.is_file() { solution } else { root.join(&step.dir).join("Dockerfile") };
        let parsed =
            std::fs::read_to_string(&path).map_err(anyhow::Error::from).and_then(|text| Dockerfile::parse(&text));
        let dockerfile = match parsed {
            Ok(d) => d,
            Err(e) => {
                errors.push(format!("cannot read {}: {e:#}", path.display()));
                continue;
            }
        };
        for image in dockerfile.base_images() {
            if !images.iter().any(|known| known == image) {
                images.push(image.to_string());
            }
        }
    }
    (images, errors)
}

/// The docker context's name and endpoint (`docker context inspect`), when DOCKER_HOST is
/// not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub host: String,
}

/// Whether the engine runs on this machine: the check, and the remote host if not.
pub fn engine_host(docker_host: Option<&str>, context: Option<&Context>) -> (Check, Option<String>) {
    let (source, endpoint) = match (docker_host, context) {
        (Some(host), _) => (format!("DOCKER_HOST={host}"), host.to_string()),
        (None, Some(c)) => (format!("the docker context `{}` ({})", c.name, c.host), c.host.clone()),
        (None, None) => return (Check::ok(ENGINE_HOST, "this machine (the client's default engine)"), None),
    };
    match diagnosis::remote_engine(Some(&endpoint)) {
        Some(remote) => (
            Check::ok(
                ENGINE_HOST,
                format!(
                    "{source} names the engine on {remote}: its published ports are out of reach from here, so the checker requests each server from a helper container inside the engine's network"
                ),
            ),
            Some(remote),
        ),
        None => (Check::ok(ENGINE_HOST, format!("this machine: {source}")), None),
    }
}

fn client_check(client: &Client, versions: &Result<Versions, RunError>, short: Option<&str>) -> Check {
    let bin = client.name();
    match versions {
        Ok(Versions { client: Some(side), .. }) => {
            let what = if side.podman { "Podman" } else { "Docker client" };
            let api = if side.api.is_empty() { String::new() } else { format!(", API {}", side.api) };
            Check::ok(CLIENT, format!("{what} {}{api} (`{bin}`)", side.version))
        }
        Ok(Versions { client: None, error, .. }) => Check::fail(
            CLIENT,
            format!("`{bin} version` printed no version ({})", or_nothing(error)),
            format!("Point {DOCKER_ENV} at a docker (or podman) client, e.g. {DOCKER_ENV}=/usr/bin/docker."),
        ),
        Err(RunError::Missing) => Check::fail(CLIENT, format!("cannot run `{bin}`: no such program"), install_fix()),
        Err(RunError::TimedOut(limit)) => match short {
            Some(v) => Check::ok(CLIENT, format!("{v} (`{bin}`)")),
            None => Check::fail(
                CLIENT,
                format!("`{bin} version` did not finish within {} s", limit.as_secs()),
                format!("Check that `{bin} version` works, or point {DOCKER_ENV} at another docker client."),
            ),
        },
        Err(RunError::Other(e)) => Check::fail(CLIENT, format!("cannot run `{bin}`: {e}"), install_fix()),
    }
}

fn or_nothing(text: &str) -> &str {
    if text.trim().is_empty() { "no error message" } else { text.trim() }
}

/// What to do when the engine does not answer, from the client's reason.
fn engine_fix(reason: &str, remote: Option<&str>) -> String {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("permission denied") {
        "Let your user use the engine: `sudo usermod -aG docker $USER`, then log out and in again (or start Docker Desktop).".into()
    } else if lower.contains("too old") || lower.contains("too new") {
        format!(
            "The client and the engine speak different API versions: install a matching docker client, or point {DOCKER_ENV} at one."
        )
    } else if let Some(host) = remote {
        format!(
            "Check that the engine on {host} runs and that DOCKER_HOST is right, or unset DOCKER_HOST to use an engine on this machine."
        )
    } else {
        format!(
            "Start the engine (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd &` on Linux) until `docker info` works, or point {DOCKER_ENV} at a client whose engine runs."
        )
    }
}

/// The engine line, and the server's side when it answered; `Err` holds the failed line.
fn engine_check(versions: &Result<Versions, RunError>, remote: Option<&str>) -> Result<(Check, Option<Side>), Check> {
    let versions = match versions {
        Ok(v) => v,
        Err(RunError::Missing) => {
            return Err(Check::fail(ENGINE, "not reached: there is no docker client to reach it with", install_fix()));
        }
        Err(RunError::TimedOut(limit)) => {
            let reason = format!("the engine did not answer within {} s", limit.as_secs());
            return Err(Check::fail(ENGINE, reason.clone(), engine_fix(&reason, remote)));
        }
        Err(RunError::Other(e)) => return Err(Check::fail(ENGINE, format!("not reached: {e}"), install_fix())),
    };
    match (&versions.server, &versions.client) {
        (Some(server), _) if versions.answered || !server.version.is_empty() => {
            let min = if server.min_api.is_empty() { String::new() } else { format!(", minimum {}", server.min_api) };
            let on = if server.platform.is_empty() { String::new() } else { format!(" on {}", server.platform) };
            let detail = format!("{} {} (API {}{min}){on}", server.product, server.version, server.api);
            Ok((Check::ok(ENGINE, detail), Some(server.clone())))
        }
        // A local Podman has no daemon: the client runs the containers itself.
        (None, Some(client)) if client.podman && versions.answered => {
            let detail = format!("Podman {} runs the containers itself (no daemon)", client.version);
            Ok((Check::ok(ENGINE, detail), None))
        }
        _ => {
            let reason = or_nothing(&versions.error).to_string();
            let fix = engine_fix(&reason, remote);
            Err(Check::fail(ENGINE, format!("the engine does not answer ({reason})"), fix))
        }
    }
}

/// The major and minor version of a client (`20.10.24+dfsg1` → (20, 10)).
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split(['.', '-', '+', '~']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Whether `DOCKER_BUILDKIT=1 docker build` — how the checker builds — gets BuildKit:
/// through the buildx plugin, built into the client (18.09 to 22.x; Debian's docker.io
/// 20.10), or Buildah under Podman. A client that would refuse (23 and later without
/// buildx) or fall back to the legacy builder fails.
pub fn buildkit(client: &Side, buildx: Option<&str>, server_is_podman: bool) -> Check {
    let fix = format!(
        "Install the buildx plugin (`sudo apt-get install docker-buildx` on Debian and Ubuntu, docker-buildx-plugin from Docker's own packages, or Docker Desktop), or point {DOCKER_ENV} at a docker client with BuildKit."
    );
    if client.podman {
        return Check::ok(BUILDKIT, "Podman builds with Buildah (RUN --mount and COPY --chmod work)");
    }
    if server_is_podman {
        return Check::warn(
            BUILDKIT,
            "the docker client talks to a Podman engine, which builds with Buildah and has no BuildKit behind its Docker API",
            "If builds fail, run the checker with Podman's own client: CHECKER_DOCKER=podman.",
        );
    }
    if let Some(version) = buildx {
        return Check::ok(BUILDKIT, format!("the buildx plugin: {}", version.trim()));
    }
    match major_minor(&client.version) {
        Some((major, _)) if major >= 23 => Check::fail(
            BUILDKIT,
            format!(
                "docker {} has no buildx plugin: it refuses to build with BuildKit (\"BuildKit is enabled but the buildx component is missing or broken\"), and the steps need BuildKit",
                client.version
            ),
            fix,
        ),
        Some(v) if v >= (18, 9) => Check::ok(
            BUILDKIT,
            format!(
                "built into the docker {} client: DOCKER_BUILDKIT=1 builds with BuildKit, no buildx needed",
                client.version
            ),
        ),
        Some(_) => Check::fail(
            BUILDKIT,
            format!(
                "docker {} is older than 18.09: it has no BuildKit and would use the legacy builder",
                client.version
            ),
            fix,
        ),
        None => Check::warn(
            BUILDKIT,
            format!("no buildx plugin, and the client's version `{}` says nothing about BuildKit", client.version),
            fix,
        ),
    }
}

pub fn image_store(info: &Info) -> Check {
    let store = if info.podman {
        "Podman's containers-storage"
    } else if info.containerd_store {
        "the containerd image store"
    } else {
        "the classic image store"
    };
    match info.driver.as_str() {
        "" => Check::warn(
            IMAGE_STORE,
            "the engine names no storage driver",
            "Check `docker info`: its Storage Driver line should name one (overlay2 on Linux).",
        ),
        "vfs" => Check::warn(
            IMAGE_STORE,
            format!(
                "vfs ({store}): every layer is a full copy, so builds are slow and the toolchain images take many gigabytes"
            ),
            "Configure the overlay2 storage driver (the default on a kernel with overlayfs): https://docs.docker.com/engine/storage/drivers/select-storage-driver/",
        ),
        // The checker measures images from `docker save`, the same on every store.
        driver => Check::ok(IMAGE_STORE, format!("{driver} ({store})")),
    }
}

pub fn rootless(info: &Info) -> Check {
    match (info.rootless, info.cgroup_v1) {
        (false, _) => Check::ok(ROOTLESS, "no: the engine runs as root"),
        (true, false) => Check::ok(ROOTLESS, "yes: the engine runs as your user"),
        (true, true) => Check::warn(
            ROOTLESS,
            "yes, on cgroup v1: a rootless engine cannot apply the memory, process and CPU limits the checker sets on every container (they are discarded)",
            "Use cgroup v2 with delegation (https://docs.docker.com/engine/security/rootless/#limiting-resources); the checks still run without the limits.",
        ),
    }
}

pub fn architecture(info: &Info) -> Check {
    match info.arch.as_str() {
        "" => Check::warn(
            ARCHITECTURE,
            "the engine names no CPU architecture",
            "Check `docker info`: its Architecture line should name one.",
        ),
        arch => Check::ok(ARCHITECTURE, format!("{arch} (the steps build for the engine's own architecture)")),
    }
}

/// `ok` from 5 GB free, `warn` from 2 GB, `fail` below.
pub fn disk_status(free: u64) -> Status {
    if free < DISK_FAIL_BELOW {
        Status::Fail
    } else if free < DISK_WARN_BELOW {
        Status::Warn
    } else {
        Status::Ok
    }
}

/// Free bytes on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = nix::sys::statvfs::statvfs(dir).ok()?;
        Some((stat.blocks_available() as u64).saturating_mul(stat.fragment_size() as u64))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

fn this_host_name() -> Option<String> {
    #[cfg(unix)]
    {
        nix::unistd::gethostname().ok().map(|n| n.to_string_lossy().into_owned())
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok()
    }
}

fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / GB as f64)
}

/// Free disk where the engine keeps its images, measured only when that folder is on this
/// machine: not a remote engine, not Docker Desktop's VM, the same host name.
fn disk(info: &Info, remote: bool) -> Check {
    let dir = Path::new(&info.root_dir);
    let same_host = match this_host_name() {
        Some(me) if !info.host_name.is_empty() => me.eq_ignore_ascii_case(&info.host_name),
        _ => true,
    };
    let local = !remote
        && !info.operating_system.contains("Docker Desktop")
        && same_host
        && !info.root_dir.is_empty()
        && dir.is_dir();
    let free = if local { free_bytes(dir) } else { None };
    let Some(free) = free else {
        let at = if info.root_dir.is_empty() { "its data folder".to_string() } else { info.root_dir.clone() };
        return Check::ok(
            DISK,
            format!(
                "unknown: the engine keeps its images in {at} on another machine or VM; a cold build of every step needs about {} there",
                gb(DISK_WARN_BELOW)
            ),
        );
    };
    let detail = format!("{} free in {}", gb(free), info.root_dir);
    let fix = format!(
        "Free space on the disk of {}: `docker system prune` removes stopped containers, unused networks, dangling images and the build cache (`docker builder prune` the build cache alone). A cold build of every step needs about {}.",
        info.root_dir,
        gb(DISK_WARN_BELOW)
    );
    match disk_status(free) {
        Status::Ok => Check::ok(DISK, detail),
        Status::Warn => Check::warn(DISK, format!("only {detail}"), fix),
        Status::Fail => Check::fail(DISK, format!("only {detail}: builds will fail for lack of space"), fix),
    }
}

fn base_image(client: &Client, image: &str) -> Check {
    let name = format!("{BASE_IMAGE}:{image}");
    let fix = format!(
        "Run `{BASE_IMAGES_SCRIPT}` in the workshop's root folder: it pulls each base image, or builds a stand-in under the same tag where no registry answers (or `docker pull {image}`)."
    );
    match client.run(&["image", "inspect", "--format", "{{.Id}}", image], QUICK) {
        Ok(out) if out.success => Check::ok(name, "on the engine"),
        Ok(out) if ["no such image", "image not known"].iter().any(|m| out.stderr.to_ascii_lowercase().contains(m)) => {
            Check::fail(name, "not on the engine: the steps that build FROM it need it (the doctor never pulls)", fix)
        }
        Ok(out) => Check::fail(name, format!("cannot inspect it: {}", or_nothing(&out.stderr)), fix),
        Err(e) => Check::fail(name, format!("cannot inspect it: {e}"), fix),
    }
}

/// The round trip's server: perl (perl-base is in every Debian image, slim included)
/// answers every request with the token it was given, so that the answer proves it came
/// from this container.
const SERVER: &str = r#"my $token = shift;
my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 8080, Listen => 8, ReuseAddr => 1) or die "cannot listen on 8080: $!\n";
while (my $c = $s->accept) {
  while (my $line = <$c>) { last if $line =~ /^\r?\n$/ }
  print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " . length($token) . "\r\nConnection: close\r\n\r\n" . $token;
  close $c;
}"#;

/// Runs a tiny HTTP server in a container of the first of `images` that can run it, with
/// its port published on 127.0.0.1 only, requests it from here and removes the container.
fn port_round_trip(client: &Client, images: &[String], remote: Option<&str>) -> Check {
    let Some(first) = images.first() else {
        return Check::warn(
            PORT_PUBLISH,
            format!("not checked: no image to run it with ({PROBE_IMAGE} is not on the engine)"),
            format!("Run `{BASE_IMAGES_SCRIPT}` in the workshop's root folder, then `checker doctor` again."),
        );
    };
    let engine: SharedEngine = Arc::new(Docker::from_env());
    let mut last = None;
    for image in images.iter().take(3) {
        let run = crate::names::run_id();
        let name = format!("checker-doctor-{run}");
        // Registered before it exists: Ctrl-C while `docker run` starts it removes it too.
        cleanup::container(&engine, &name);
        let outcome = probe(client, image, &name, &run, remote);
        cleanup::remove_container(&engine, &name);
        match outcome {
            Probe::Answered { host_port, took } => {
                return Check::ok(
                    PORT_PUBLISH,
                    format!(
                        "a container of {image} published port {PROBE_PORT} on 127.0.0.1:{host_port}, whose server answered GET / {} {} ms after `docker run`; the container was removed",
                        if remote.is_some() { "in the engine's network" } else { "from here" },
                        took.as_millis()
                    ),
                );
            }
            // This image cannot run the server (no perl): the next may.
            Probe::NoServer(why) => last = Some((image.clone(), why)),
            Probe::Failed(check) => return *check,
        }
    }
    let (image, why) = last.unwrap_or_else(|| (first.clone(), "no image could run it".into()));
    Check::fail(
        PORT_PUBLISH,
        format!("no image on the engine could run the round trip's server (last, {image}: {why})"),
        format!(
            "Make {PROBE_IMAGE} available: run `{BASE_IMAGES_SCRIPT}` in the workshop's root folder, then `checker doctor` again."
        ),
    )
}

enum Probe {
    Answered {
        host_port: u16,
        took: Duration,
    },
    /// The image has no perl to serve with.
    NoServer(String),
    Failed(Box<Check>),
}

fn probe(client: &Client, image: &str, name: &str, run: &str, remote: Option<&str>) -> Probe {
    let fail = |detail: String, fix: String| Probe::Failed(Box::new(Check::fail(PORT_PUBLISH, detail, fix)));
    let labels =
        [LABEL.to_string(), format!("{LABEL}.run={run}"), format!("{LABEL}.host={}", crate::docker::host_id())];
    let publish = format!("127.0.0.1::{PROBE_PORT}");
    let mut args = vec!["run", "-d", "--name", name, "--pull", "never", "-p", &publish];
    for label in &labels {
        args.extend(["--label", label.as_str()]);
    }
    args.extend(["--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only", "--user", "65534:65534"]);
    args.extend(["--memory", "64m", "--pids-limit", "16", "--entrypoint", "perl", image]);
    args.extend(["-MIO::Socket::INET", "-e", SERVER, run]);
    let engine_fix =
        "Make `docker run` work on this engine (its error is above), then run `checker doctor` again.".to_string();
    let launched = Instant::now();
    match client.run(&args, START) {
        Ok(out) if out.success => {}
        Ok(out) => {
            let reason = diagnosis::engine_reason(&out.stderr);
            if reason.contains("executable file not found") || reason.contains("\"perl\"") {
                return Probe::NoServer(reason);
            }
            return fail(format!("`docker run` of {image} failed: {reason}"), engine_fix);
        }
        Err(e) => return fail(format!("`docker run` of {image} failed: {e}"), engine_fix),
    }
    let port = client.run(&["port", name, &format!("{PROBE_PORT}/tcp")], QUICK);
    let host_port = match &port {
        Ok(out) if out.success => out.stdout.lines().find_map(|l| l.trim().rsplit(':').next()?.parse::<u16>().ok()),
        Ok(_) | Err(_) => None,
    };
    let Some(host_port) = host_port else {
        let said = match port {
            Ok(out) => format!("{}{}", out.stdout.trim(), out.stderr.trim()),
            Err(e) => e.to_string(),
        };
        return fail(format!("the engine published no port for the container (`docker port`: {said})"), engine_fix);
    };
    let mut last_error = String::from("no connection yet");
    if remote.is_some() {
        // The engine's 127.0.0.1 is not this machine's: ask from inside the container's
        // network, as the checker does with every server on a remote engine.
        let script = format!(
            "for i in $(seq 1 {}); do if exec 3<>/dev/tcp/127.0.0.1/{PROBE_PORT}; then printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3; exit 0; fi 2>/dev/null; sleep 0.1; done; exit 1",
            ANSWER_WITHIN.as_secs() * 10
        );
        let ns = format!("container:{name}");
        let mut args = vec!["run", "--rm", "--network", &ns, "--pull", "never"];
        for label in &labels {
            args.extend(["--label", label.as_str()]);
        }
        args.extend(["--cap-drop", "ALL", "--read-only", "--entrypoint", "bash", image, "-c", &script]);
        match client.run(&args, START) {
            Ok(out) if out.success && out.stdout.ends_with(run) => {
                return Probe::Answered { host_port, took: launched.elapsed() };
            }
            Ok(out) => last_error = format!("from inside its network: {}{}", out.stdout.trim(), out.stderr.trim()),
            Err(e) => last_error = format!("from inside its network: {e}"),
        }
    } else {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_millis(500))
            .timeout(Duration::from_secs(2))
            .redirects(0)
            .build();
        let url = format!("http://127.0.0.1:{host_port}/");
        let started = Instant::now();
        while started.elapsed() < ANSWER_WITHIN {
            match agent.get(&url).call() {
                Ok(resp) => {
                    let status = resp.status();
                    let body = resp.into_string().unwrap_or_default();
                    if status == 200 && body == run {
                        return Probe::Answered { host_port, took: launched.elapsed() };
                    }
                    last_error =
                        format!("HTTP {status} with a body that is not the container's answer: another server?");
                }
                Err(e) => last_error = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let state = client
        .run(&["container", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name], QUICK)
        .map(|o| o.stdout.trim().to_string())
        .unwrap_or_default();
    let logs = client
        .run(&["logs", "--tail", "5", name], QUICK)
        .map(|o| format!("{}{}", o.stdout, o.stderr).trim().to_string())
        .unwrap_or_default();
    if state.starts_with("exited") && (logs.contains("Can't locate") || logs.contains("not found")) {
        return Probe::NoServer(logs);
    }
    let seen = if logs.is_empty() { String::new() } else { format!("; its output: {logs}") };
    let fix = match remote {
        Some(host) => format!(
            "The engine runs on {host}, and a helper container in the server's network could not reach it either: check that `docker run --network container:NAME` works on that engine."
        ),
        None => "Something between this program and 127.0.0.1 blocks the published port: a firewall, a VPN, or an engine in a VM that does not forward ports to this machine (Docker Desktop does). Run the checker where `curl http://127.0.0.1:PORT/` reaches a container published with `docker run -p 127.0.0.1::PORT`.".into(),
    };
    fail(
        format!(
            "nothing answered on 127.0.0.1:{host_port} (the container's port {PROBE_PORT}) within {} s: {last_error} (container {state}){seen}",
            ANSWER_WITHIN.as_secs()
        ),
        fix,
    )
}

/// Why a docker command did not give its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// No such program.
    Missing,
    TimedOut(Duration),
    Other(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Missing => write!(f, "no such program"),
            RunError::TimedOut(limit) => write!(f, "no answer within {} s", limit.as_secs()),
            RunError::Other(e) => write!(f, "{e}"),
        }
    }
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// The docker client, each command with a time limit (a remote or wedged engine must not
/// hang the doctor) and tracked by `cleanup`, so that Ctrl-C stops it.
struct Client {
    bin: OsString,
}

impl Client {
    /// The client named by `CHECKER_DOCKER`, or `docker` from PATH, as `Docker::from_env`.
    fn from_env() -> Self {
        Self { bin: std::env::var_os(DOCKER_ENV).filter(|v| !v.is_empty()).unwrap_or_else(|| "docker".into()) }
    }

    fn name(&self) -> String {
        self.bin.to_string_lossy().into_owned()
    }

    fn run(&self, args: &[&str], limit: Duration) -> Result<Output, RunError> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).env("DOCKER_BUILDKIT", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let (child, pipes) = cleanup::spawn(&mut cmd).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RunError::Missing,
            _ => RunError::Other(e.to_string()),
        })?;
        let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>();
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            pipes.stdout.map(|s| Box::new(s) as Box<dyn Read + Send>),
            pipes.stderr.map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for (i, stream) in streams.into_iter().enumerate() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut s) = stream {
                    let _ = s.read_to_end(&mut bytes);
                }
                let _ = tx.send((i, bytes));
            });
        }
        drop(tx);
        let deadline = Instant::now() + limit;
        let mut outs = [Vec::new(), Vec::new()];
        for _ in 0..2 {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((i, bytes)) => outs[i] = bytes,
                Err(_) => {
                    // A reader still blocked on a pipe a grandchild holds is left to end on its own.
                    child.stop();
                    let _ = child.wait();
                    return Err(RunError::TimedOut(limit));
                }
            }
        }
        let status = child.wait().map_err(|e| RunError::Other(e.to_string()))?;
        let [stdout, stderr] = outs;
        Ok(Output {
            success: status.success(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    fn versions(&self) -> Result<Versions, RunError> {
        // `{{json .}}`, not `json`: the 20.10 client prints the word `json` for that.
        let out = self.run(&["version", "--format", "{{json .}}"], QUICK)?;
        let (client, server) = parse_versions(&out.stdout);
        let error = out.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_string();
        Ok(Versions { client, server, answered: out.success, error })
    }

    /// `docker --version`: the client alone, when `version` waited on the engine.
    fn short_version(&self) -> Option<String> {
        let out = self.run(&["--version"], QUICK).ok()?;
        let line = out.stdout.lines().next()?.trim().to_string();
        (out.success && !line.is_empty()).then_some(line)
    }

    fn buildx(&self) -> Option<String> {
        let out = self.run(&["buildx", "version"], QUICK).ok()?;
        let line = out.stdout.lines().next()?.trim().to_string();
        (out.success && !line.is_empty()).then_some(line)
    }

    fn context(&self) -> Option<Context> {
        let out = self.run(&["context", "inspect"], QUICK).ok()?;
        if !out.success {
            return None;
        }
        let json: Value = serde_json::from_str(out.stdout.trim()).ok()?;
        let current = json.get(0)?;
        let host = text(&current["Endpoints"]["docker"], "Host");
        (!host.is_empty()).then(|| Context { name: text(current, "Name"), host })
    }

    fn info(&self) -> Result<Info, String> {
        let out = self.run(&["info", "--format", "{{json .}}"], QUICK).map_err(|e| format!("`docker info`: {e}"))?;
        let info = parse_info(&out.stdout);
        match info {
            Some(info) if out.success && info.errors.is_empty() => Ok(info),
            Some(info) if !info.errors.is_empty() => Err(format!("`docker info`: {}", info.errors.join("; "))),
            Some(_) | None => Err(format!("`docker info` failed: {}", or_nothing(&out.stderr))),
        }
    }

    fn has_image(&self, image: &str) -> bool {
        self.run(&["image", "inspect", "--format", "{{.Id}}", image], QUICK).is_ok_and(|o| o.success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER_20: &str = r#"{"Client":{"Platform":{"Name":""},"Version":"20.10.24+dfsg1","ApiVersion":"1.41","DefaultAPIVersion":"1.41","GitCommit":"297e128","GoVersion":"go1.19.8","Os":"linux","Arch":"amd64","BuildTime":"Thu May  7 21:09:36 2026","Context":"default","Experimental":true},"Server":{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1","Details":{"ApiVersion":"1.41"}}],"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","GitCommit":"5d6db84","GoVersion":"go1.19.8","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0"}}"#;
    const DOCKER_28_DOWN: &str = r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","DefaultAPIVersion":"1.50","GitCommit":"e6534b4","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Context":"default"},"Server":null}"#;
    const PODMAN: &str = r#"{"Client":{"APIVersion":"4.3.1","Version":"4.3.1","GoVersion":"go1.19.8","GitCommit":"","BuiltTime":"Thu Jan  1 00:00:00 1970","Built":0,"OsArch":"linux/amd64","Os":"linux"}}"#;
    const DOCKER_ON_PODMAN: &str = r#"{"Client":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","Os":"linux","Arch":"amd64"},"Server":{"Platform":{"Name":"linux/amd64/debian-12"},"Components":[{"Name":"Podman Engine","Version":"4.3.1"}],"Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"}}"#;

    #[test]
    fn docker_and_podman_versions_are_told_apart() {
        let (client, server) = parse_versions(DOCKER_20);
        let (client, server) = (client.unwrap(), server.unwrap());
        assert!(!client.podman && !server.podman);
        assert_eq!((client.version.as_str(), client.api.as_str()), ("20.10.24+dfsg1", "1.41"));
        assert_eq!((server.product.as_str(), server.min_api.as_str()), ("Docker Engine", "1.12"));
        assert_eq!(server.platform, "linux/amd64");

        let (client, server) = parse_versions(DOCKER_28_DOWN);
        assert_eq!(client.unwrap().version, "28.2.2");
        assert_eq!(server, None, "the engine did not answer");

        let (client, server) = parse_versions(&format!("Emulate Docker CLI using podman.\n{PODMAN}\n"));
        let client = client.unwrap();
        assert!(client.podman && client.product == "Podman", "{client:?}");
        assert_eq!((client.api.as_str(), client.platform.as_str()), ("4.3.1", "linux/amd64"));
        assert_eq!(server, None);

        let (client, server) = parse_versions(DOCKER_ON_PODMAN);
        assert!(!client.unwrap().podman);
        let server = server.unwrap();
        assert!(server.podman && server.product == "Podman Engine", "{server:?}");
        assert_eq!(parse_versions("not json"), (None, None));
    }

    #[test]
    fn the_short_version_names_the_client_when_the_engine_hangs() {
        let docker = parse_short_version("Docker version 20.10.24+dfsg1, build 297e128\n").unwrap();
        assert_eq!((docker.podman, docker.version.as_str()), (false, "20.10.24+dfsg1"));
        assert_eq!(buildkit(&docker, None, false).status, Status::Ok);
        let podman = parse_short_version("podman version 4.3.1").unwrap();
        assert!(podman.podman && podman.version == "4.3.1");
        assert_eq!(parse_short_version("garbage"), None);
    }

    #[test]
    fn an_engine_that_does_not_answer_fails_with_a_fix_that_fits() {
        let (client, server) = parse_versions(DOCKER_28_DOWN);
        let down = Versions {
            client,
            server,
            answered: false,
            error: "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?".into(),
        };
        let check = engine_check(&Ok(down.clone()), None).unwrap_err();
        assert_eq!(check.status, Status::Fail);
        assert!(check.detail.contains("Cannot connect"), "{check:?}");
        assert!(check.fix.unwrap().contains("systemctl start docker"));
        let denied = Versions { error: "permission denied while trying to connect".into(), ..down.clone() };
        assert!(engine_check(&Ok(denied), None).unwrap_err().fix.unwrap().contains("usermod -aG docker"));
        let remote = engine_check(&Ok(down), Some("203.0.113.1")).unwrap_err();
        assert!(remote.fix.unwrap().contains("203.0.113.1"));
        assert!(engine_check(&Err(RunError::Missing), None).unwrap_err().fix.unwrap().contains(DOCKER_ENV));
        let (client, server) = parse_versions(DOCKER_20);
        let up = Versions { client, server, answered: true, error: String::new() };
        let (check, _) = engine_check(&Ok(up), None).unwrap();
        assert_eq!(check.detail, "Docker Engine 20.10.24+dfsg1 (API 1.41, minimum 1.12) on linux/amd64");
    }

    #[test]
    fn buildkit_comes_from_buildx_the_20_10_client_or_buildah() {
        let docker = |version: &str| Side { version: version.into(), ..Side::default() };
        assert_eq!(buildkit(&docker("20.10.24+dfsg1"), None, false).status, Status::Ok);
        let new = buildkit(&docker("28.2.2"), None, false);
        assert_eq!(new.status, Status::Fail, "{new:?}");
        assert!(new.fix.as_deref().unwrap().contains("docker-buildx") && new.fix.unwrap().contains(DOCKER_ENV));
        let with = buildkit(&docker("28.2.2"), Some("github.com/docker/buildx v0.14.1 59582f7\n"), false);
        assert_eq!((with.status, with.detail.contains("v0.14.1")), (Status::Ok, true));
        assert_eq!(buildkit(&docker("17.06.0-ce"), None, false).status, Status::Fail, "legacy builder only");
        let podman = Side { podman: true, version: "4.3.1".into(), ..Side::default() };
        assert!(buildkit(&podman, None, false).detail.contains("Buildah"));
        assert_eq!(buildkit(&docker("20.10.24"), None, true).status, Status::Warn);
    }

    #[test]
    fn info_is_read_from_docker_and_from_podman() {
        let docker = r#"{"Driver":"overlayfs","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]],"SecurityOptions":["name=seccomp,profile=builtin","name=rootless","name=cgroupns"],"CgroupVersion":"2","Architecture":"aarch64","DockerRootDir":"/home/me/.local/share/docker","OperatingSystem":"Ubuntu 24.04","Name":"box"}"#;
        let info = parse_info(docker).unwrap();
        assert!(info.containerd_store && info.rootless && !info.cgroup_v1);
        assert_eq!((info.arch.as_str(), info.driver.as_str()), ("aarch64", "overlayfs"));
        assert!(image_store(&info).detail.contains("containerd image store"));
        assert_eq!(rootless(&info).status, Status::Ok);
        assert_eq!(rootless(&Info { cgroup_v1: true, ..info.clone() }).status, Status::Warn);
        let classic = r#"{"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"]],"SecurityOptions":["name=seccomp,profile=default"],"CgroupVersion":"1","Architecture":"x86_64"}"#;
        let info = parse_info(classic).unwrap();
        assert!(!info.containerd_store && !info.rootless);
        assert!(image_store(&info).detail.contains("classic image store"));
        assert_eq!(image_store(&Info { driver: "vfs".into(), ..info }).status, Status::Warn);
        let podman = r#"{"host":{"arch":"amd64","cgroupVersion":"v2","hostname":"box","security":{"rootless":true}},"store":{"graphDriverName":"overlay","graphRoot":"/home/me/.local/share/containers/storage"}}"#;
        let info = parse_info(podman).unwrap();
        assert!(info.rootless && info.driver == "overlay" && info.arch == "amd64", "{info:?}");
        let down = r#"{"ServerErrors":["Cannot connect to the Docker daemon"],"ClientInfo":{}}"#;
        assert_eq!(parse_info(down).unwrap().errors, vec!["Cannot connect to the Docker daemon".to_string()]);
    }

    #[test]
    fn disk_thresholds() {
        assert_eq!(disk_status(0), Status::Fail);
        assert_eq!(disk_status(2 * GB - 1), Status::Fail);
        assert_eq!(disk_status(2 * GB), Status::Warn);
        assert_eq!(disk_status(5 * GB - 1), Status::Warn);
        assert_eq!(disk_status(5 * GB), Status::Ok);
        // A remote engine's folder is never measured here, even when a folder of that name exists.
        let info = Info { root_dir: "/".into(), ..Info::default() };
        assert!(disk(&info, true).detail.starts_with("unknown"));
        let desktop = Info { operating_system: "Docker Desktop".into(), ..info.clone() };
        assert!(disk(&desktop, false).detail.starts_with("unknown"));
        assert!(disk(&info, false).detail.contains("free in /"), "{:?}", disk(&info, false));
    }

    #[test]
    fn a_remote_engine_is_named_from_docker_host_or_the_context() {
        let (check, remote) = engine_host(Some("tcp://203.0.113.1:2375"), None);
        // Supported: the checker requests servers from inside the engine's network.
        assert_eq!((check.status, remote.as_deref()), (Status::Ok, Some("203.0.113.1")));
        assert!(
            check.detail.contains("DOCKER_HOST=tcp://203.0.113.1:2375") && check.detail.contains("helper container")
        );
        let context = Context { name: "build".into(), host: "ssh://me@build.example.org".into() };
        let (check, remote) = engine_host(None, Some(&context));
        assert_eq!(remote.as_deref(), Some("build.example.org"));
        assert!(check.detail.contains("docker context `build`"), "{}", check.detail);
        let local = Context { name: "default".into(), host: "unix:///var/run/docker.sock".into() };
        assert_eq!(engine_host(None, Some(&local)).0.status, Status::Ok);
        assert_eq!(engine_host(Some("unix:///run/user/1000/docker.sock"), None).1, None);
    }

    #[test]
    fn the_fix_is_the_last_sentence_of_the_messages_of_find_root() {
        let (problem, fix) = split_fix(
            "not inside a workshop: no workshop.toml in /tmp/x. y or any folder above it. cd into the workshop you cloned, or pass --workshop DIR",
        );
        assert_eq!(problem, "not inside a workshop: no workshop.toml in /tmp/x. y or any folder above it");
        assert_eq!(fix, "cd into the workshop you cloned, or pass --workshop DIR.");
        let (problem, fix) = split_fix(
            "/tmp/a: b holds no workshop.toml: point --workshop (or CHECKER_WORKSHOP) at the workshop's root folder",
        );
        assert_eq!(problem, "/tmp/a: b holds no workshop.toml");
        assert!(fix.starts_with("point --workshop"), "{fix}");
    }

    #[test]
    fn base_images_come_from_every_solution_without_scratch_or_stages() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::parse(manifest::BUILTIN).unwrap();
        for step in &manifest.steps {
            std::fs::create_dir_all(dir.path().join(&step.solution)).unwrap();
        }
        let first = &manifest.steps[0];
        std::fs::write(
            dir.path().join(&first.solution).join("Dockerfile"),
            "ARG V=1.95\nFROM rust:${V}-slim AS builder\nFROM builder AS again\nFROM scratch\nFROM debian:bookworm-slim\n",
        )
        .unwrap();
        // A step whose solution keeps the step's own Dockerfile.
        let second = &manifest.steps[1];
        std::fs::write(
            dir.path().join(&second.dir).join("Dockerfile"),
            "FROM alpine:3.20\nFROM debian:bookworm-slim\n",
        )
        .unwrap();
        let (images, errors) = base_images(dir.path(), &manifest);
        assert_eq!(images, ["rust:1.95-slim", "debian:bookworm-slim", "alpine:3.20"]);
        assert_eq!(errors.len(), manifest.steps.len() - 2, "the other steps have no Dockerfile: {errors:?}");
    }
}

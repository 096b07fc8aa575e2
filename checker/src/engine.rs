//! The engine the checks run on, behind a small interface: the runner asks it to build,
//! inspect, create, run and remove, and never knows how. `docker::Docker` drives it
//! through the `docker` CLI; the runner's tests use a fake that records what it was asked.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;

/// The parts of `docker image inspect` the checks read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInfo {
    pub config: ImageConfig,
    /// The engine's own size figure (what `docker images` shows), which each engine and
    /// image store counts its own way: the report shows it beside the checker's.
    #[serde(default)]
    pub size: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    pub user: String,
    pub exposed_ports: Option<HashMap<String, serde_json::Value>>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: String,
    pub env: Option<Vec<String>>,
}

/// The parts of `docker container inspect .State` the checks read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub running: bool,
    pub exit_code: i64,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub error: String,
}

pub struct BuildRequest<'a> {
    pub context: &'a Path,
    pub dockerfile: &'a Path,
    pub tag: &'a str,
    pub run_label: &'a str,
    pub no_cache: bool,
    /// The build is stopped (its client killed, which cancels it) after this long.
    pub timeout: Duration,
    /// The most of the build's output kept in memory and in the log.
    pub log_bytes: usize,
}

pub struct BuildOutcome {
    pub success: bool,
    pub log: String,
    pub duration: Duration,
    /// The build was stopped at its time limit.
    pub timed_out: bool,
}

/// How a container is confined: the checker runs untrusted Dockerfiles.
pub struct RunLimits {
    pub memory_bytes: u64,
    pub pids: u32,
    pub cpus: f64,
    pub read_only: bool,
    pub log_bytes: u64,
}

/// What the runner needs of a container engine. Every method names images and
/// containers by the names the runner gave them.
pub trait Engine: Send + Sync {
    /// Fails with a clear message when the engine cannot be used at all.
    fn ping(&self) -> Result<()>;
    /// What the engine is (Docker or Podman, version, image store, rootless), read once.
    fn identity(&self) -> crate::engine_info::Info;
    /// Builds, handing each line of output to `on_line` as it arrives.
    fn build(&self, req: &BuildRequest<'_>, on_line: &mut dyn FnMut(&str)) -> Result<BuildOutcome>;
    fn inspect_image(&self, image: &str) -> Result<ImageInfo>;
    /// Creates (without starting) a container, for reading its files.
    fn create(&self, image: &str, name: &str, run_label: &str) -> Result<String>;
    /// One file of a created container, following links.
    fn read_file(&self, container: &str, path: &str) -> Result<Vec<u8>>;
    /// The paths of every file of a created container.
    fn list_files(&self, container: &str) -> Result<Vec<String>>;
    /// Starts a confined container with `ports` published on 127.0.0.1.
    fn run_detached(
        &self,
        image: &str,
        name: &str,
        run_label: &str,
        ports: &[u16],
        limits: &RunLimits,
    ) -> Result<String>;
    /// The container's address on its network, where a published port forwards to.
    fn address(&self, container: &str) -> Result<String>;
    /// The host port that container port `port`/tcp is published on.
    fn host_port(&self, container: &str, port: u16) -> Result<u16>;
    fn state(&self, container: &str) -> Result<ContainerState>;
    /// The last `lines` lines of the container's output.
    fn logs_tail(&self, container: &str, lines: usize) -> String;
    /// How many processes and threads the container has now.
    fn pids(&self, container: &str) -> Option<u32>;
    /// The uids of the container's processes with their commands.
    fn process_uids(&self, container: &str) -> Result<Vec<(u32, String)>>;
    /// Sends SIGTERM and waits up to `limit`: how long the container took to exit, or
    /// `None` if it still runs.
    fn stop_within(&self, container: &str, limit: Duration) -> Result<Option<Duration>>;
    /// Runs `argv` in a short-lived helper container of `image` (already on the engine:
    /// never pulled) that shares `container`'s network and process namespaces, and
    /// returns its output: how the checker reads a scratch container's sockets and PID 1.
    fn peek(&self, container: &str, image: &str, run_label: &str, argv: &[&str]) -> Result<String>;
    /// Whether `image` is on the engine.
    fn has_image(&self, image: &str) -> bool;
    /// How many entries the image's history has: a base image's tell its layers apart
    /// from those the Dockerfile made.
    fn history_len(&self, image: &str) -> Result<usize>;
    /// Streams the image as `docker save` writes it (a tar of its layers' tars) to `read`:
    /// what the checker measures, the same way on every engine (see `layers::read_save`).
    fn save(&self, image: &str, read: &mut dyn FnMut(&mut dyn std::io::Read) -> Result<()>) -> Result<()>;
    fn remove_container(&self, container: &str);
    fn remove_image(&self, image: &str);
}

/// One layer of an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// What made it, as the engine recorded it (`RUN /bin/sh -c …`, `COPY …`).
    pub created_by: String,
    pub size: u64,
}

//! `bench/results.json`, as `bench/bench.py` writes it.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
pub struct Results {
    pub measured_at: String,
    pub machine: Machine,
    pub steps: Vec<StepSize>,
    pub grade: GradeTimes,
    /// Plain docker builds of the first step whose rebuild check adds a dependency, and of
    /// the step before it; absent from results of a workshop without such a step.
    #[serde(default)]
    pub new_dependency: Option<NewDependency>,
}

/// `docker build`s of two steps' solutions, cold, after a source-only change and after
/// a rebuild check's files add a dependency.
#[derive(Debug, Deserialize)]
pub struct NewDependency {
    /// The step whose check adds the dependency, the step before it, and that check.
    pub step: String,
    pub previous: String,
    pub check: String,
    /// The crates the check's files add.
    pub adds: Vec<String>,
    /// By step id.
    pub builds: std::collections::BTreeMap<String, ThreeBuilds>,
    /// The step's solution built once more with `--no-cache`.
    pub no_cache_again: DockerBuild,
}

#[derive(Debug, Deserialize)]
pub struct ThreeBuilds {
    pub cold: DockerBuild,
    pub source_only: DockerBuild,
    pub new_dependency: DockerBuild,
}

/// One `docker build`: its seconds, and the crates cargo compiled (`name vX.Y.Z`).
#[derive(Debug, Deserialize)]
pub struct DockerBuild {
    pub seconds: f64,
    pub compiled: Vec<String>,
}

/// `checker grade --ci --jobs N` on a repository of every reference solution.
#[derive(Debug, Deserialize)]
pub struct GradeTimes {
    pub jobs: u32,
    pub cold: GradeRun,
    pub warm: GradeRun,
}

#[derive(Debug, Deserialize)]
pub struct GradeRun {
    pub seconds: f64,
    pub points: u32,
    pub max_points: u32,
}

#[derive(Debug, Deserialize)]
pub struct Machine {
    pub cpus: u32,
    pub arch: String,
    pub docker_server: String,
    pub rust_base_image_bytes: Option<u64>,
    /// The machine's 1-minute load average, lowest and highest, sampled before each
    /// measurement.
    #[serde(default)]
    pub load_average: Option<LoadAverage>,
}

#[derive(Debug, Deserialize)]
pub struct LoadAverage {
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Deserialize)]
pub struct StepSize {
    pub step: String,
    pub size_bytes: u64,
    pub size_limit_bytes: u64,
    pub first_response_ms: u64,
    /// The final image's layers, oldest first (absent from older results).
    #[serde(default)]
    pub layers: Vec<Layer>,
}

/// A layer of an image, as the checker's report names it.
#[derive(Debug, Deserialize)]
pub struct Layer {
    pub instruction: String,
    pub bytes: u64,
}

#[derive(Debug, Deserialize)]
pub struct Step3 {
    pub cold_build_seconds: f64,
    pub source_only_rebuild_seconds: f64,
    pub ratio: f64,
}

#[derive(Debug, Deserialize)]
pub struct Step8 {
    pub cold_build_seconds: f64,
    pub warm_build_seconds: f64,
    pub source_only_rebuild_seconds: f64,
}

impl Results {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}: run `python3 bench/bench.py` to measure", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not what bench/bench.py writes: run it again", path.display()))
    }

    /// The measured size of `step`, which every step of the manifest must have.
    pub fn step(&self, step: &str) -> Result<&StepSize> {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .with_context(|| format!("bench/results.json has no {step}: run `python3 bench/bench.py` again"))
    }
}

/// `bench/engines.json`, as `bench/engines.py` writes it: the workshop measured the same
/// way on each engine.
#[derive(Debug, Deserialize)]
pub struct Engines {
    pub measured_at: String,
    pub machine: EnginesMachine,
    pub engines: Vec<EngineRun>,
}

#[derive(Debug, Deserialize)]
pub struct EnginesMachine {
    pub cpus: u32,
    pub load_average: LoadAverage,
}

#[derive(Debug, Deserialize)]
pub struct EngineRun {
    /// `host`, or the engine's name in scripts/engines.sh.
    pub name: String,
    /// The engine as the checker's report names it.
    pub engine: EngineSeen,
    pub step_5: SolutionSize,
    pub step_8: SolutionSize,
    pub cold_grade: ColdGrade,
}

#[derive(Debug, Deserialize)]
pub struct EngineSeen {
    pub name: String,
    pub version: String,
    pub driver: String,
    pub containerd_store: bool,
    pub rootless: bool,
}

#[derive(Debug, Deserialize)]
pub struct SolutionSize {
    pub passed: bool,
    pub size_bytes: u64,
    pub engine_size_bytes: u64,
    /// A second run of the solution, every layer cached (measured for step 8).
    #[serde(default)]
    pub warm_seconds: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct ColdGrade {
    pub steps: String,
    pub seconds: f64,
    pub points: u32,
    pub max_points: u32,
}

impl Engines {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not what bench/engines.py writes: run it again", path.display()))
    }
}

/// `bench/knobs.json`, as `bench/knobs.py` writes it: the release-profile knobs of
/// `bench/knobs.toml`, each measured on a real build of one step.
#[derive(Debug, Deserialize)]
pub struct Knobs {
    pub command: String,
    pub measured_at: String,
    pub machine: KnobsMachine,
    pub loadavg: LoadAverages,
    /// The hash of what was built (`checker::dev::knobs_stamp`).
    pub inputs: String,
    pub step: String,
    pub target: String,
    pub rustflags: String,
    /// The step's own `[profile.release]`, as its Cargo.toml sets it.
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// How many source-only rebuilds each row's median is of.
    pub rebuilds: u32,
    pub rows: Vec<KnobRow>,
    pub glibc_in_binary: GlibcBytes,
}

#[derive(Debug, Deserialize)]
pub struct KnobsMachine {
    pub cpus: u32,
    pub arch: String,
    pub rustc: String,
    pub glibc: String,
}

/// The 1, 5 and 15 minute load averages when the measurement started and ended.
#[derive(Debug, Deserialize)]
pub struct LoadAverages {
    pub start: [f64; 3],
    pub end: [f64; 3],
}

/// One build: the step's profile with at most one knob changed.
#[derive(Debug, Deserialize)]
pub struct KnobRow {
    pub label: String,
    /// The keys of `[profile.release]` this row overrides.
    pub profile: serde_json::Map<String, serde_json::Value>,
    pub rustflags: String,
    /// The files of the build context this row patches.
    pub patched: Vec<String>,
    #[serde(rename = "static")]
    pub is_static: bool,
    pub size_bytes: u64,
    pub cold_build: BuildTime,
    /// The median of `rebuilds`.
    pub rebuild_seconds: f64,
    pub rebuilds: Vec<BuildTime>,
}

#[derive(Debug, Deserialize)]
pub struct BuildTime {
    pub seconds: f64,
    pub cpu_seconds: f64,
    /// A cold build's last step: the server's own crate compiled and the binary linked
    /// (from cargo's `--timings`; none when cargo's report could not be read).
    #[serde(default)]
    pub last_step_seconds: Option<f64>,
}

/// What the first row's link map attributes to glibc's archives and start files.
#[derive(Debug, Deserialize)]
pub struct GlibcBytes {
    pub bytes: u64,
    pub by_file: std::collections::BTreeMap<String, u64>,
}

impl Knobs {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}: run `python3 bench/knobs.py` to measure", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not what bench/knobs.py writes: run it again", path.display()))
    }
}

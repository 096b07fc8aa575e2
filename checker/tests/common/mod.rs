//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// The repository's root: read from, never written to (see [`workshop`]).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

/// The repository's manifest.
pub fn manifest() -> checker::manifest::Manifest {
    checker::manifest::Manifest::load(&root().join(checker::manifest::FILE_NAME)).expect("the workshop manifest loads")
}

/// What the copies of [`workshop`] are called in the temporary folder, before their pid.
const COPY_PREFIX: &str = "checker-tests-workshop-";

/// A copy of the workshop (`workshop.toml` and `steps/`, solutions included), made once
/// per test binary. The checker writes its logs and results into the workshop's
/// `.checker/`: pointed at this copy, the tests leave the repository as they found it,
/// and a learner's `checker list` never shows the tests' results.
///
/// The copy lives as long as the test binary (a static is never dropped); the next test
/// binary to make one removes those whose process has ended.
pub fn workshop() -> &'static Path {
    static COPY: OnceLock<tempfile::TempDir> = OnceLock::new();
    COPY.get_or_init(|| {
        remove_ended_copies();
        let copy = tempfile::Builder::new()
            .prefix(&format!("{COPY_PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("a temporary folder for the workshop");
        let manifest = checker::manifest::FILE_NAME;
        std::fs::copy(root().join(manifest), copy.path().join(manifest)).expect("the manifest copied");
        copy_tree_without(&root().join("steps"), &copy.path().join("steps"), &["target"]);
        copy
    })
    .path()
}

/// Removes the copies of the workshop that test binaries no longer running left behind.
fn remove_ended_copies() {
    #[cfg(unix)]
    for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(COPY_PREFIX).and_then(|rest| rest.split('-').next()?.parse::<i32>().ok())
        else {
            continue;
        };
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn docker_bin() -> String {
    std::env::var("CHECKER_DOCKER").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "docker".into())
}

/// The end-to-end tests need a real engine: say so plainly instead of skipping.
pub fn require_docker() {
    let out = Command::new(docker_bin()).args(["version", "--format", "{{.Server.Version}}"]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "this end-to-end test needs a running Docker engine, and `{} version` failed: {}\nStart dockerd (README: Running the tests), or run `bash .ci/run`.",
            docker_bin(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "this end-to-end test needs the docker client `{}`: {e}. Install Docker, or set CHECKER_DOCKER.",
            docker_bin()
        ),
    }
}

/// `checker` on this test binary's copy of the workshop ([`workshop`]), whatever the
/// test's working directory.
pub fn checker() -> Command {
    checker_in(workshop())
}

/// `checker --workshop DIR`.
pub fn checker_in(workshop: &Path) -> Command {
    let mut cmd = Command::cargo_bin("checker").expect("the checker binary");
    cmd.arg("--workshop").arg(workshop);
    cmd
}

/// Runs the checker with `--format json`; returns its exit code and report.
pub fn run_json(args: &[&str]) -> (i32, Value) {
    run_json_in(workshop(), args)
}

/// Runs `checker --workshop DIR` with `--format json`; returns its exit code and report.
pub fn run_json_in(workshop: &Path, args: &[&str]) -> (i32, Value) {
    let out = checker_in(workshop).args(args).args(["--format", "json"]).output().expect("checker runs");
    let code = out.status.code().expect("an exit code");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checker {args:?} printed no JSON ({e}); exit {code}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check `{id}` in the report:\n{report:#}"))
}

pub fn ids_with_status(report: &Value, status: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

/// Copies the tree `from` into `to`, leaving out every `solution/` and `target/` (what a
/// learner's build context never holds).
pub fn copy_tree(from: &Path, to: &Path) {
    copy_tree_without(from, to, &["solution", "target"]);
}

/// Copies the tree `from` into `to`, leaving out every file or folder named in `skip`.
pub fn copy_tree_without(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let dest: PathBuf = to.join(&name);
        if entry.path().is_dir() {
            copy_tree_without(&entry.path(), &dest, skip);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A student's repository: the workshop's manifest and steps (without their solutions),
/// with `solved` steps replaced by their reference solution and `files` written as
/// (step, file, text).
pub fn student_repo(solved: &[u32], files: &[(u32, &str, &str)]) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("workshop.toml"), repo.path().join("workshop.toml")).unwrap();
    copy_tree(&root().join("steps"), &repo.path().join("steps"));
    for n in solved {
        let step = format!("steps/step-{n}");
        copy_tree(&root().join(&step).join("solution"), &repo.path().join(&step));
    }
    for (n, file, text) in files {
        std::fs::write(repo.path().join(format!("steps/step-{n}/{file}")), text).unwrap();
    }
    repo
}

/// No container or image of the run remains on the engine.
pub fn assert_nothing_left(run_id: &str) {
    let label = format!("label=dev.workshop.checker.run={run_id}");
    // Untagged images are a builder's cache (Podman's intermediate images), not a run's.
    for what in [&["ps", "-aq", "--filter"][..], &["images", "-q", "--filter", "dangling=false", "--filter"][..]] {
        // Podman's listing fails when another test removes an image meanwhile: ask again.
        let list = || Command::new(docker_bin()).args(what).arg(&label).output().expect("docker runs");
        let out = (0..5).map(|_| list()).find(|o| o.status.success()).unwrap_or_else(list);
        assert!(out.status.success(), "docker {what:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        let left = String::from_utf8_lossy(&out.stdout);
        assert!(left.trim().is_empty(), "run {run_id} left {:?} behind: {left}", what[0]);
    }
}

/// The run ids of the containers (`what = ["ps", "-a"]`) or images (`["images"]`) that a
/// checker process `pid` still has on the engine: its run ids start with its pid.
pub fn runs_of(pid: u32, what: &[&str]) -> Vec<String> {
    let prefix = format!("{pid}-");
    let docker = |args: &[&str]| {
        let out = Command::new(docker_bin()).args(args).output().expect("docker runs");
        // Another test may remove one of the listed objects in between: that is no failure.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() || err.contains("No such"), "`docker {args:?}` failed: {err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut list = what.to_vec();
    list.extend(["-q", "--filter", "label=dev.workshop.checker"]);
    if what[0] == "images" {
        // Untagged images are a builder's cache (Podman's intermediate images), not a run's.
        list.extend(["--filter", "dangling=false"]);
    }
    let ids = docker(&list);
    let mut ids: Vec<&str> = ids.split_whitespace().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Vec::new();
    }
    // Neither listing prints labels for images: inspect them.
    let kind = if what[0] == "images" { "image" } else { "container" };
    let mut inspect = vec![kind, "inspect", "--format", "{{index .Config.Labels \"dev.workshop.checker.run\"}}"];
    inspect.extend(ids);
    docker(&inspect).lines().filter(|l| l.starts_with(&prefix)).map(str::to_string).collect()
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
#[cfg(unix)]
pub fn interrupt(pid: u32) {
    signal(pid, nix::sys::signal::Signal::SIGINT);
}

/// Sends `sig` to the process `pid` (a checker the test started).
#[cfg(unix)]
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("signal sent");
}

/// The staged contexts a checker process `pid` still has in the temporary folder `tmp`.
pub fn staged_of(pid: u32, tmp: &Path) -> Vec<PathBuf> {
    let prefix = format!("checker-context-{pid}-");
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// A temporary build context: `steps/<step>` with its solution laid over it, then the
/// named fixture folder (if any).
pub fn context(step: &str, fixture: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut layers = vec![root().join("steps").join(step), root().join("steps").join(step).join("solution")];
    if let Some(f) = fixture {
        layers.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(f));
    }
    for layer in layers {
        copy_tree(&layer, dir.path());
    }
    dir
}

/// Replaces `from` by `to` in the copied `file`; the original must contain it.
pub fn patch(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} no longer contains `{from}`: update this test");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

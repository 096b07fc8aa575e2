//! Hostile and unusual input that held up in the security review, kept as regression
//! tests: a context that is no folder, links and paths that lead out of the context,
//! Dockerfiles with a byte-order mark, nothing in them or 10 MB of comments, a student's
//! garbage manifest under `grade --ci`, and an odd environment (a corrupt state file, no
//! HOME, a TMPDIR that does not exist, NO_COLOR). Each test names the review's item.
//! The engine's images are tiny `debian:bookworm-slim` ones served by perl: no Rust build.
#![cfg(unix)] // links, and `script` for a terminal

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::{check, ids_with_status, require_docker, root, runs_of, student_repo};
use serde_json::Value;

/// A web server in the perl that every Debian image has: it answers every request with
/// 200, so that a `debian:bookworm-slim` image passes step 1's checks in seconds.
const SERVE_PL: &str = r#"use IO::Socket::INET;
$SIG{TERM} = sub { exit 0 };
my $server = IO::Socket::INET->new(LocalAddr => '0.0.0.0:3030', Listen => 16, ReuseAddr => 1)
    or die "cannot listen: $!";
while (my $client = $server->accept) {
    while (my $line = <$client>) { last if $line =~ /^\r?\n$/ }
    print $client "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    close $client;
}
"#;

/// The tiny image that passes step 1: Debian, the perl server, an exec-form CMD.
const SERVED: &str = "FROM debian:bookworm-slim\nCOPY serve.pl /serve.pl\nCMD [\"perl\", \"/serve.pl\"]\n";

/// Writes a build context into `dir`: `dockerfile`, serve.pl, and a .dockerignore that
/// keeps target/ and .git/ out (step 2's context check).
fn write_context(dir: &Path, dockerfile: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
    fs::write(dir.join("serve.pl"), SERVE_PL).unwrap();
    fs::write(dir.join(".dockerignore"), "target/\n.git/\n").unwrap();
}

fn context(dockerfile: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_context(dir.path(), dockerfile);
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); exit {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// A finished `checker STEP --context` run: its output, JSON report and build log.
struct Run {
    out: Output,
    report: Value,
    log: String,
}

impl Run {
    /// Everything the run showed: the report, stderr and the build log.
    fn everything(&self) -> String {
        format!("{}\n{}\n{}", self.report, stderr(&self.out), self.log)
    }
}

/// `checker STEP --context DIR ARGS... --format json` with a temporary folder of its own;
/// asserts that the run left nothing on the engine and no staged context.
fn run_context(step: &str, dir: &Path, args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let out = common::checker()
        .args([step, "--context"])
        .arg(dir)
        .args(args)
        .args(["--format", "json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let report = json_of(&out);
    if let Some(run) = report["run_id"].as_str() {
        common::assert_nothing_left(run);
    }
    let staged: Vec<_> = fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert!(staged.is_empty(), "staged contexts left: {staged:?}");
    let log = report["build_log"].as_str().map(|p| fs::read_to_string(p).unwrap()).unwrap_or_default();
    Run { out, report, log }
}

/// A string found nowhere but in the file a test hides outside the build context.
fn secret_token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("host-secret-{}-{nanos}", std::process::id())
}

/// Item 1: `--context` at a path that does not exist, or at a regular file, is exit 2
/// with a message naming that path (in JSON too), and stages nothing.
#[test]
fn a_context_that_is_missing_or_a_regular_file_exits_2_naming_it() {
    require_docker();
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("no-such-folder");
    let file = scratch.path().join("a-file");
    fs::write(&file, SERVED).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for path in [&missing, &file] {
        let expected = format!("the build context {} does not exist or is not a folder", path.display());
        let run = |json: bool| {
            let mut cmd = common::checker();
            cmd.args(["step-1", "--context"]).arg(path).env("TMPDIR", tmp.path());
            if json {
                cmd.args(["--format", "json"]);
            }
            cmd.output().unwrap()
        };
        let out = run(false);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&format!("error: {expected}")), "{}", stderr(&out));
        let out = run(true);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(json_of(&out)["error"], expected.as_str());
    }
    assert!(!missing.exists(), "the missing folder is not created");
    assert_eq!(fs::read_to_string(&file).unwrap(), SERVED, "the file is untouched");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing was staged");
}

/// The build proves, from inside, that every link arrived as a link with its target
/// unchanged, that none leads to anything (their targets are on the host, not in the
/// image), and that the context's only files are its own three. HOST is the folder
/// outside the context. The grep's pattern is split so that the Dockerfile (which is in
/// the context) does not hold it.
const LINKS_DOCKERFILE: &str = r#"FROM debian:bookworm-slim
COPY . /ctx
RUN set -eu; cd /ctx; ls -la; \
    for l in root passwd secret host up; do test -L "$l" || { echo "$l is no link"; exit 1; }; done; \
    [ "$(readlink root)" = / ]; \
    [ "$(readlink passwd)" = /etc/passwd ]; \
    [ "$(readlink secret)" = "HOST/secret.txt" ]; \
    [ "$(readlink host)" = "HOST" ]; \
    [ "$(readlink up)" = ../secret.txt ]; \
    ! test -e secret; ! test -e host; ! test -e up; \
    [ "$(find /ctx -type f | sort | tr '\n' ' ')" = "/ctx/.dockerignore /ctx/Dockerfile /ctx/serve.pl " ]; \
    ! grep -rqs "host""-secret" /ctx; \
    echo links-arrived-as-links
COPY serve.pl /serve.pl
CMD ["perl", "/serve.pl"]
"#;

/// Item 2: links to `/`, to `/etc/passwd` and to a secret beside the context are sent to
/// the engine as links; nothing outside the context is read, measured or shown.
#[test]
fn links_out_of_the_context_reach_the_engine_as_links_and_nothing_outside_is_read() {
    require_docker();
    let host = tempfile::tempdir().unwrap();
    let token = secret_token();
    let secret = host.path().join("secret.txt");
    fs::write(&secret, &token).unwrap();
    let ctx = host.path().join("ctx");
    let host_path = host.path().display().to_string();
    write_context(&ctx, LINKS_DOCKERFILE.replace("HOST", &host_path).as_bytes());
    let links = [
        ("root", "/".to_string()),
        ("passwd", "/etc/passwd".to_string()),
        ("secret", secret.display().to_string()),
        ("host", host_path.clone()),
        ("up", "../secret.txt".to_string()),
    ];
    for (name, target) in &links {
        std::os::unix::fs::symlink(target, ctx.join(name)).unwrap();
    }
    let run = run_context("step-1", &ctx, &[]);
    assert_eq!(run.out.status.code(), Some(0), "{:#}\n{}\n{}", run.report, stderr(&run.out), run.log);
    assert_eq!(check(&run.report, "image-builds")["status"], "pass");
    assert!(run.log.contains("links-arrived-as-links"), "the RUN's checks held:\n{}", run.log);
    // The checker measured the links themselves (the length of their target), not what
    // they point to.
    let bytes: u64 = fs::read_dir(&ctx).unwrap().flatten().map(|e| fs::symlink_metadata(e.path()).unwrap().len()).sum();
    assert_eq!(run.report["image"]["context_files"], 8, "3 files and 5 links");
    assert_eq!(run.report["image"]["context_bytes"], bytes);
    assert!(!run.everything().contains(&token), "the secret beside the context showed up:\n{}", run.everything());
    assert_eq!(fs::read_to_string(&secret).unwrap(), token, "the host's file is untouched");
}

/// Lines of the host's /etc/shadow (when this test may read it) that must never show up.
fn host_shadow_lines() -> Vec<String> {
    fs::read_to_string("/etc/shadow")
        .map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

/// Panics if `text` holds a line of the host's /etc/shadow, or anything shaped like one.
fn assert_no_shadow(what: &str, text: &str) {
    for line in host_shadow_lines() {
        assert!(!text.contains(&line), "{what}: a line of the host's /etc/shadow showed up:\n{text}");
    }
    let shaped = regex::Regex::new(r"(?m)^[^:\s]+:[^:\s]*:\d*:\d*:\d*:\d*:\d*:\d*:[^:\s]*$").unwrap();
    assert!(!shaped.is_match(text), "{what}: a shadow-like line showed up:\n{text}");
}

/// Item 3: three ways out of the build context, each checked through the checker.
/// - `COPY ../../ /x` builds, and /x holds the context itself: BuildKit resolves `..`
///   inside the context, whose root is its own parent.
/// - `RUN --mount=type=bind,source=/,...` mounts the context's root, not the host's: the
///   build fails because the context has no etc/shadow.
/// - `ADD file:///etc/shadow` is no URL to BuildKit but the context path
///   `file:/etc/shadow`, which does not exist: the build fails.
///
/// Nothing of the host's /etc/shadow, nor of a secret two folders up, shows up anywhere.
#[test]
fn escapes_from_the_context_read_no_file_of_the_host() {
    require_docker();
    let host = tempfile::tempdir().unwrap();
    let token = secret_token();
    fs::write(host.path().join("secret.txt"), &token).unwrap();
    // The context is two folders below the secret, so that `../../` would reach it.
    let ctx = host.path().join("a").join("ctx");
    write_context(&ctx, SERVED.as_bytes());
    let escapes = [
        (
            "copy-up",
            "FROM debian:bookworm-slim\nCOPY ../../ /x\nRUN set -eu; ls -la /x; test -f /x/serve.pl; test ! -e /x/secret.txt; test ! -e /x/a; [ \"$(find /x -type f | wc -l)\" = 6 ]; echo copy-up-stayed-in-the-context\nCOPY serve.pl /serve.pl\nCMD [\"perl\", \"/serve.pl\"]\n",
        ),
        (
            "bind-root",
            "FROM debian:bookworm-slim\nRUN --mount=type=bind,source=/,target=/h set -eu; test -f /h/serve.pl; echo the-bind-source-is-the-context >&2; cat /h/etc/shadow\nCMD [\"perl\", \"/serve.pl\"]\n",
        ),
        (
            "add-file-url",
            "FROM debian:bookworm-slim\nADD file:///etc/shadow /s\nRUN cat /s\nCMD [\"perl\", \"/serve.pl\"]\n",
        ),
    ];
    for (name, dockerfile) in &escapes {
        fs::write(ctx.join(format!("Dockerfile.{name}")), dockerfile).unwrap();
    }
    let mut seen = Vec::new();
    for (name, _) in &escapes {
        let file = ctx.join(format!("Dockerfile.{name}"));
        let run = run_context("step-1", &ctx, &["--file", file.to_str().unwrap()]);
        let build = check(&run.report, "image-builds").clone();
        let everything = run.everything();
        assert_no_shadow(name, &everything);
        assert!(!everything.contains(&token), "{name}: the secret two folders up showed up:\n{everything}");
        match *name {
            "copy-up" => {
                assert_eq!(run.out.status.code(), Some(0), "{name}: {:#}\n{}", run.report, run.log);
                assert!(run.log.contains("copy-up-stayed-in-the-context"), "{name}:\n{}", run.log);
            }
            "bind-root" => {
                assert_eq!(run.out.status.code(), Some(1), "{name}: {:#}", run.report);
                assert_eq!(build["status"], "fail", "{name}: {build:#}");
                assert_eq!(build["line"], 2, "{name}: {build:#}");
                let message = build["message"].as_str().unwrap();
                assert!(message.contains("cat /h/etc/shadow") && message.contains("exit code: 1"), "{name}: {message}");
                assert!(run.log.contains("the-bind-source-is-the-context"), "{name}: /h is the context:\n{}", run.log);
                assert!(run.log.contains("cat: /h/etc/shadow: No such file or directory"), "{name}:\n{}", run.log);
            }
            "add-file-url" => {
                assert_eq!(run.out.status.code(), Some(1), "{name}: {:#}", run.report);
                assert_eq!(build["status"], "fail", "{name}: {build:#}");
                assert_eq!(build["line"], 2, "{name}: {build:#}");
                let message = build["message"].as_str().unwrap();
                // Looked up in the context (BuildKit's mount of it), where it is not:
                // `"/file:/etc/shadow" not found`, or `failed to walk …/file:/etc: … no
                // such file or directory`, depending on the engine's cache.
                assert!(
                    message.contains("file:/etc")
                        && (message.contains("not found") || message.contains("no such file or directory")),
                    "{name}: {message}"
                );
            }
            _ => unreachable!(),
        }
        seen.push(format!("{name}: exit {:?}, image-builds {}", run.out.status.code(), build["status"]));
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

/// Item 4: a Dockerfile saved with a UTF-8 byte-order mark and CRLF line ends is built as
/// docker builds it, and read at the right lines: step 2's only failure is the COPY
/// without WORKDIR, on line 5. (Its ARG, stage name and stage reference are read without
/// the `\r`: base-image-pinned passes.)
#[test]
fn a_dockerfile_with_a_bom_and_crlf_line_ends_is_built_and_read_at_the_right_lines() {
    require_docker();
    let dockerfile = "\u{feff}# saved by an editor that adds a BOM and CRLF\r\nARG BASE=debian:bookworm-slim\r\nFROM ${BASE} AS base\r\nFROM base\r\nCOPY serve.pl /serve.pl\r\nCMD [\"perl\", \"/serve.pl\"]\r\n";
    let dir = context(dockerfile.as_bytes());
    let run = run_context("step-2", dir.path(), &[]);
    assert_eq!(ids_with_status(&run.report, "fail"), ["workdir-set"], "{:#}", run.report);
    assert_eq!(run.out.status.code(), Some(1));
    for id in ["image-builds", "responds-on-port", "base-image-pinned", "image-size", "context-clean", "copy-not-add"] {
        assert_eq!(check(&run.report, id)["status"], "pass", "{id}: {:#}", check(&run.report, id));
    }
    let workdir = check(&run.report, "workdir-set");
    assert_eq!(
        workdir["message"], "stage 2 (base) copies the build context with no WORKDIR set: the files land in /",
        "{workdir:#}"
    );
    assert_eq!(workdir["line"], 5, "the COPY is on line 5 of the file: {workdir:#}");
}

/// Item 4: an empty Dockerfile (0 bytes) is a failed build (exit 1), not an error, and
/// the hint says that it has no instructions yet.
#[test]
fn an_empty_dockerfile_fails_the_build_with_the_no_instructions_hint() {
    require_docker();
    let dir = context(b"");
    let run = run_context("step-1", dir.path(), &[]);
    assert_eq!(run.out.status.code(), Some(1), "{:#}\n{}", run.report, stderr(&run.out));
    let build = check(&run.report, "image-builds");
    assert_eq!(build["status"], "fail", "{build:#}");
    assert!(
        build["hint"].as_str().unwrap().contains("The Dockerfile has no instructions yet"),
        "the hint: {}\nthe message: {}",
        build["hint"],
        build["message"]
    );
    for id in ["responds-on-port", "base-image-pinned", "image-size"] {
        let c = check(&run.report, id);
        assert_eq!((c["status"].as_str(), c["blocked_by"].as_str()), (Some("skip"), Some("image-builds")), "{c:#}");
    }
}

/// Item 4: 10 MB of comments between the instructions do not hang the checker: it builds,
/// runs and passes within a generous bound (it takes seconds).
#[test]
fn ten_megabytes_of_comments_do_not_hang_the_checker() {
    require_docker();
    let comment = format!("# {}\n", "a comment that says nothing ".repeat(4));
    let mut dockerfile = String::from("FROM debian:bookworm-slim\n");
    while dockerfile.len() < 10_000_000 {
        dockerfile.push_str(&comment);
    }
    dockerfile.push_str("COPY serve.pl /serve.pl\nCMD [\"perl\", \"/serve.pl\"]\n");
    let dir = context(dockerfile.as_bytes());
    let started = Instant::now();
    let run = run_context("step-1", dir.path(), &[]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(180), "checking a Dockerfile of 10 MB of comments took {took:?}");
    assert_eq!(run.out.status.code(), Some(0), "after {took:?}: {:#}\n{}", run.report, stderr(&run.out));
    assert!(run.report["image"]["context_bytes"].as_u64().unwrap() > 10_000_000, "{:#}", run.report["image"]);
}

/// Item 6: under `grade --ci` a student's workshop.toml that is not TOML (nor UTF-8) is
/// never read: the step is graded with the built-in manifest. Without --ci the same file
/// is refused, naming it. (An edited and a deleted manifest: e2e_grade.rs,
/// `ci_mode_grades_with_the_built_in_manifest_not_the_students`.)
#[test]
fn ci_mode_grades_a_repository_whose_manifest_is_garbage() {
    require_docker();
    let repo = student_repo(&[], &[(1, "Dockerfile", SERVED), (1, "serve.pl", SERVE_PL)]);
    let manifest = repo.path().join("workshop.toml");
    fs::write(&manifest, b"[[steps]\nid = \"step-1\" points = \xff\xfe 1000\n\x00 not = = toml").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let grade = |args: &[&str]| {
        Command::cargo_bin("checker")
            .unwrap()
            .current_dir(repo.path())
            .arg("grade")
            .args(args)
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap()
    };
    let out = grade(&["--ci", "--steps", "1", "--format", "json"]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{json:#}\n{}", stderr(&out));
    assert_eq!(
        (json["points"].as_u64(), json["max_points"].as_u64(), json["manifest"].as_str()),
        (Some(10), Some(10), Some("built-in")),
        "{json:#}"
    );
    assert_eq!(json["steps"][0]["status"], "pass", "{json:#}");
    common::assert_nothing_left(json["steps"][0]["report"]["run_id"].as_str().unwrap());
    let out = grade(&["--steps", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot read the workshop manifest {}", manifest.display())), "{err}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no staged context left");
}

/// `checker --workshop DIR list`, stdout as text.
fn list(workshop: &Path, json: bool) -> String {
    let mut cmd = Command::cargo_bin("checker").unwrap();
    cmd.arg("--workshop").arg(workshop).arg("list");
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Item 8: a corrupt `.checker/state.json` only loses the "last result" column: `checker
/// list` works, every step is "not checked yet", step 1 is next, and the file is left as
/// it was.
#[test]
fn a_corrupt_state_file_only_loses_the_last_results() {
    let workshop = tempfile::tempdir().unwrap();
    fs::copy(root().join("workshop.toml"), workshop.path().join("workshop.toml")).unwrap();
    fs::create_dir_all(workshop.path().join(".checker")).unwrap();
    let state = workshop.path().join(".checker/state.json");
    for corrupt in
        [&b"{\"step-1\": {\"passed\": tru"[..], b"\xff\xfe\x00 not json", b"[1, 2, 3]", b"{\"step-1\": \"passed\"}"]
    {
        fs::write(&state, corrupt).unwrap();
        let text = list(workshop.path(), false);
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("step-")).collect();
        assert_eq!(lines.len(), common::manifest().steps.len(), "{text}");
        for line in &lines {
            assert!(line.contains("not checked yet"), "{line:?} with {:?}", String::from_utf8_lossy(corrupt));
        }
        assert!(lines[0].ends_with("← next") && !lines[1..].iter().any(|l| l.contains("next")), "{text}");
        let steps: Value = serde_json::from_str(&list(workshop.path(), true)).unwrap();
        assert!(steps.as_array().unwrap().iter().all(|s| s["last"].is_null()), "{steps:#}");
        assert_eq!(fs::read(&state).unwrap(), corrupt, "listing does not rewrite the state");
    }
}

/// Item 8: without HOME a learner's check runs as usual (docker finds its configuration
/// without it), and its result replaces a corrupt state file.
#[test]
fn without_home_a_check_runs_and_records_its_result() {
    require_docker();
    let repo = student_repo(&[], &[(1, "Dockerfile", SERVED), (1, "serve.pl", SERVE_PL)]);
    let state = repo.path().join(".checker/state.json");
    fs::create_dir_all(state.parent().unwrap()).unwrap();
    fs::write(&state, b"{\"step-1\": {\"pass").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("checker")
        .unwrap()
        .arg("--workshop")
        .arg(repo.path())
        .args(["step-1", "--format", "json"])
        .env_remove("HOME")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{}", stderr(&out));
    common::assert_nothing_left(report["run_id"].as_str().unwrap());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no staged context left");
    let recorded: Value = serde_json::from_slice(&fs::read(&state).unwrap()).expect("the state is JSON again");
    assert_eq!(recorded["step-1"]["passed"], true, "{recorded:#}");
    assert_eq!(recorded["step-1"]["failed"], serde_json::json!([]), "{recorded:#}");
    let text = list(repo.path(), false);
    let line = |step: &str| text.lines().find(|l| l.starts_with(step)).unwrap_or_default().to_string();
    assert!(line("step-1").contains("✓ passed") && line("step-2").ends_with("← next"), "{text}");
}

/// Item 8: TMPDIR naming a folder that does not exist is a clear exit 2 that names the
/// folder, creates nothing and leaves nothing on the engine.
#[test]
fn a_tmpdir_that_does_not_exist_is_a_clear_exit_2_that_leaves_nothing() {
    require_docker();
    let dir = context(SERVED.as_bytes());
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("no-such-tmp");
    let cause = format!(
        "cannot create a temporary folder in {} (the system's temporary folder, set by TMPDIR): make it exist and be writable, or point TMPDIR elsewhere: No such file or directory",
        missing.display()
    );
    for json in [false, true] {
        let child = common::checker()
            .args(["step-1", "--context"])
            .arg(dir.path())
            .args(if json { &["--format", "json"][..] } else { &[] })
            .env("TMPDIR", &missing)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&format!("error: {cause}")), "{}", stderr(&out));
        if json {
            assert!(json_of(&out)["error"].as_str().unwrap().starts_with(&cause), "{}", json_of(&out));
        }
        assert!(runs_of(pid, &["ps", "-a"]).is_empty() && runs_of(pid, &["images"]).is_empty(), "left on the engine");
    }
    assert!(!missing.exists(), "the missing TMPDIR is not created");
    assert_eq!(fs::read_dir(parent.path()).unwrap().count(), 0, "nothing was written beside it");
}

/// Runs the checker with `args` in a pseudo-terminal (`script`), where colours are on
/// unless NO_COLOR is set; returns what the terminal showed (stdout and stderr).
fn in_a_terminal(args: &[&str], no_color: bool) -> (Option<i32>, String) {
    let checker = common::checker();
    let words: Vec<OsString> =
        std::iter::once(checker.get_program().to_owned()).chain(checker.get_args().map(ToOwned::to_owned)).collect();
    let quote = |w: &OsString| format!("'{}'", w.to_str().unwrap().replace('\'', "'\\''"));
    let line: Vec<String> =
        words.iter().chain(args.iter().map(OsString::from).collect::<Vec<_>>().iter()).map(quote).collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().expect("`script` (util-linux) runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The escape sequences in `text` (`ESC [ params final`), and any other ESC use.
fn escapes(text: &str) -> Vec<String> {
    regex::Regex::new(r"\x1b(\[[0-9;?]*[@-~])?").unwrap().find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// Item 8: NO_COLOR=1 in a terminal: `list` prints no escape sequence at all, and a check
/// run no colour (its only sequences are the spinner's line erase and cursor moves). In
/// the same terminal without NO_COLOR, colours are on: the test can see them.
#[test]
fn no_color_leaves_no_colour_in_a_terminal() {
    require_docker();
    let (code, coloured) = in_a_terminal(&["list"], false);
    assert_eq!(code, Some(0), "{coloured}");
    assert!(escapes(&coloured).iter().any(|e| e.ends_with('m')), "the terminal gets colours: {coloured:?}");
    let (code, plain) = in_a_terminal(&["list"], true);
    assert_eq!(code, Some(0), "{plain}");
    assert!(plain.contains("not checked yet") || plain.contains("passed") || plain.contains("failed"), "{plain}");
    assert_eq!(escapes(&plain), Vec::<String>::new(), "{plain:?}");

    let dir = context(SERVED.as_bytes());
    let (code, shown) = in_a_terminal(&["step-1", "--context", dir.path().to_str().unwrap()], true);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("PASSED step-1"), "{shown}");
    let run_id = shown
        .lines()
        .find_map(|l| l.split("step-1-context.").nth(1)?.trim_end().strip_suffix(".build.log"))
        .unwrap_or_else(|| panic!("no build log line in {shown:?}"));
    common::assert_nothing_left(run_id);
    let colours: Vec<String> = escapes(&shown).into_iter().filter(|e| !e.ends_with(['K', 'A', 'B'])).collect();
    assert_eq!(colours, Vec::<String>::new(), "{shown:?}");
}

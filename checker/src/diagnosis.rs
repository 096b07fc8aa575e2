//! Why a build failed or a container stopped, in words a learner can act on: the fix
//! texts read from the build log, the engine's message and the container's exit.

use crate::buildkit::strip_step_prefix;

/// The first word of the Dockerfile that starts no instruction Docker knows.
fn unknown_instruction(dockerfile: &str) -> Option<String> {
    const KNOWN: &[&str] = &[
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ];
    crate::buildkit::logical_lines(dockerfile).into_iter().find_map(|(_, text)| {
        let word = text.split_whitespace().next()?.to_string();
        (!KNOWN.contains(&word.to_ascii_uppercase().as_str())).then_some(word)
    })
}

/// What `COPY --from=NAME` without a stage of that name is told, whatever the engine.
fn no_such_stage(name: &str) -> String {
    format!(
        "No stage is named `{name}`, so `--from={name}` asks the engine for an image called {name}. Name the build stage: `FROM rust:1.95-slim-bookworm AS {name}`."
    )
}

/// A fix for the common ways a build fails, read from its log and the Dockerfile; `None`
/// leaves the manifest's general advice.
pub fn diagnose_build(log: &str, dockerfile: &str) -> Option<String> {
    let has = |s: &str| log.contains(s);
    // Podman (Buildah) says so without trying a pull.
    if has("no stage or image found with that name")
        && let Some(name) = missing_stage(dockerfile)
    {
        return Some(no_such_stage(&name));
    }
    // BuildKit names the word; Buildah says only that no FROM was found.
    let unknown = log.lines().find_map(|l| l.split("unknown instruction: ").nth(1)).map(|w| w.trim().to_string());
    if let Some(word) =
        unknown.or_else(|| has("no FROM statement found").then(|| unknown_instruction(dockerfile)).flatten())
    {
        return Some(format!(
            "`{word}` is not a Dockerfile instruction: check its spelling (FROM, WORKDIR, COPY, RUN, USER, EXPOSE, ENTRYPOINT, CMD…)."
        ));
    }
    // BuildKit's, the classic builder's and Buildah's words for it.
    let empty = [
        "file with no instructions",
        "no build stage in current context",
        "Dockerfile cannot be empty",
        "no FROM statement found",
        "no stages to build",
    ];
    if empty.iter().any(|m| has(m)) {
        return Some(
            "The Dockerfile has no instructions yet: write what the TODO block asks, starting with FROM.".into(),
        );
    }

    if has("failed to do request") || has("pull access denied") || has("manifest unknown") || has("not found: manifest")
    {
        // Several bases load at once: the failing one is quoted (`> [internal] load
        // metadata for X:`) or has its step's `#N ERROR` line.
        let failed: Vec<&str> =
            log.lines().filter(|l| l.contains(" ERROR")).filter_map(|l| l.split_whitespace().next()).collect();
        let metadata = |l: &str| l.split("load metadata for ").nth(1).map(str::to_string);
        let image = log
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("> [internal] load metadata for ").map(str::to_string))
            .or_else(|| {
                log.lines()
                    .filter(|l| l.split_whitespace().next().is_some_and(|id| failed.contains(&id)))
                    .find_map(metadata)
            })
            .or_else(|| log.lines().find_map(metadata))
            .map(|i| i.trim().trim_end_matches(':').to_string())
            .unwrap_or_else(|| "a base image".into());
        // `COPY --from=builder` with no stage named builder asks for an image of that name
        // (its load may not be the one the error quotes: it fails with the others).
        if let Some(name) =
            missing_stage(dockerfile).filter(|n| log.contains(&format!("/{n}:")) || log.contains(&format!(" {n}:")))
        {
            return Some(no_such_stage(&name));
        }
        return Some(format!(
            "The engine could not fetch {image}: check the image name and tag in FROM. Without a registry only images already on the engine work (`docker images` lists them)."
        ));
    }
    // What one builder takes and another refuses: Podman's Buildah, or an older BuildKit.
    if has("Error parsing chmod") {
        return Some("Podman (Buildah) takes only octal modes in `COPY --chmod`: write `--chmod=0555`, which every engine reads the same, instead of a symbolic mode such as a+rx.".into());
    }
    if has("Unknown flag: link") || (has("COPY only supports the --chmod") && dockerfile.contains("--link")) {
        return Some("This engine's builder does not know `COPY --link` (Podman rejects it; Docker takes it from Engine 23 on): remove `--link`, which no step needs.".into());
    }
    if has("for field `sharing`") {
        return Some("Podman's cache mounts have no `sharing=private`: leave `sharing=` out (the default, shared, works on every engine), or use `sharing=locked`.".into());
    }
    // A COPY --from or a RUN that reads a cache mount's folder outside the RUN that
    // mounts it finds it empty: the build fails there, with a "not found" of its own.
    if let Some(read) = cache_mount_read(log, dockerfile) {
        return Some(format!(
            "{}. Copy what you need out of the cache mount within the RUN that mounts it (`&& cp target/<triple>/release/server /app/server`), then COPY --from that copy.",
            capitalized(&read)
        ));
    }
    if has("failed to compute cache key") || (has("COPY") && has("not found")) {
        return Some("A COPY names a path that is not in the build context (or in the stage it copies from): check the path, and that .dockerignore does not exclude it.".into());
    }
    if has("cannot update the lock file") || (has("lock file") && has("--locked")) {
        return Some("Cargo.lock does not match Cargo.toml, and --locked forbids changing it: copy Cargo.lock next to Cargo.toml, or run `cargo update --workspace` locally and copy the new lock file.".into());
    }
    if has("cannot produce proc-macro") {
        return Some("With `-C target-feature=+crt-static` in RUSTFLAGS, cargo must build for an explicit target, or it links the proc-macros statically too, which cannot work: add `--target \"$(uname -m)-unknown-linux-gnu\"` to the cargo build, and copy the binary from target/<that target>/release/.".into());
    }
    if log.lines().map(strip_step_prefix).any(|l| l.starts_with("error[") || l.starts_with("error: could not compile"))
    {
        return Some("The Rust compiler rejected the source: fix the error it reports (its file and line are in the log below) in src/.".into());
    }
    None
}

/// What a failed build read from a cache mount's folder outside its RUN: the finding at
/// the failing line, or, when the log names no line but says a file was missing, the
/// first finding.
fn cache_mount_read(log: &str, dockerfile: &str) -> Option<String> {
    let findings = crate::dockerfile::Dockerfile::parse(dockerfile).ok()?.cache_mount_findings();
    let failed_at = crate::buildkit::build_error_line(log, dockerfile);
    let missing = ["not found", "No such file", "no such file", "cannot stat"].iter().any(|m| log.contains(m));
    let found = match failed_at {
        Some(line) => findings.into_iter().find(|f| f.line == line),
        None if missing => findings.into_iter().next(),
        None => None,
    };
    found.map(|f| f.message)
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A stage that a `--from=` names but no `FROM … AS` declares.
fn missing_stage(dockerfile: &str) -> Option<String> {
    crate::dockerfile::Dockerfile::parse(dockerfile).ok()?.missing_stages().into_iter().next()
}

/// The engine's own words in a failed `docker run`: its first line, without the command
/// line, the client's closing "See 'docker run --help'" and the runtime's layers of
/// wrapping.
pub fn engine_reason(error: &str) -> String {
    let first = error
        .lines()
        .map(str::trim)
        .find(|l| !(l.is_empty() || (l.starts_with("See '") && l.contains("--help"))))
        .unwrap_or(error);
    let first = first.split_once("` failed: ").map_or(first, |(_, reason)| reason);
    let first = first.strip_prefix("docker: ").unwrap_or(first);
    let reason = first.rsplit("Error response from daemon: ").next().unwrap_or(first);
    let reason = reason.rsplit("unable to start container process: ").next().unwrap_or(reason);
    reason.trim().trim_end_matches(": unknown.").trim_end_matches('.').to_string()
}

/// The engine's host when `DOCKER_HOST` names another machine: ports the checker
/// publishes on that engine's 127.0.0.1 cannot be reached from here.
pub fn remote_engine(docker_host: Option<&str>) -> Option<String> {
    let rest = docker_host?.strip_prefix("tcp://").or_else(|| docker_host?.strip_prefix("ssh://"))?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(['/', ':']).next().unwrap_or_default(),
    };
    (!matches!(host, "" | "localhost" | "127.0.0.1" | "::1")).then(|| host.to_string())
}

/// What a container that exhausted its pids limit is told.
pub const PROCESS_LIMIT_HINT: &str = "The container reached its process limit: it keeps starting processes (a fork bomb, or a script that spawns without end). The image must run the server, one process.";

/// Whether a container's output shows fork being refused, as shells report it.
pub fn forks_refused(log: &str) -> bool {
    ["Cannot fork", "fork: retry", "Resource temporarily unavailable"].iter().any(|m| log.contains(m))
}

/// What the checker knows when a container stopped or did not start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exit<'a> {
    /// The exit code, or `NOT_STARTED`.
    pub code: i64,
    pub oom: bool,
    /// The engine's own message (for a container it could not start).
    pub engine_error: &'a str,
    /// The container's last lines of output.
    pub log: &'a str,
    /// The program the container runs.
    pub executable: Option<&'a str>,
    /// Whether that program is in the image, when the checker looked.
    pub present: Option<bool>,
    /// The base image whose command the final stage inherits, when it sets none itself.
    pub inherited_from: Option<&'a str>,
    /// The image starts with an ENTRYPOINT (so exec-form advice names ENTRYPOINT).
    pub entrypoint: bool,
    /// The Dockerfile builds a placeholder `main` and builds again without making the
    /// real source newer: cargo then keeps the placeholder.
    pub placeholder: bool,
}

/// Why a container stopped, in words a learner can act on: each fix fits what was seen.
pub fn diagnose_exit(exit: &Exit<'_>) -> String {
    let exe = exit.executable.unwrap_or("the command");
    let text = format!("{}\n{}", exit.engine_error, exit.log);
    let code = exit.code;
    let form = if exit.entrypoint { "ENTRYPOINT" } else { "CMD" };
    if exit.oom {
        return "The kernel killed the container for using too much memory.".into();
    }
    if forks_refused(&text) {
        return PROCESS_LIMIT_HINT.into();
    }
    if text.contains("unable to find user") || text.contains("no matching entries in passwd") {
        return "USER names a user that does not exist in the image (scratch has no /etc/passwd): use numbers, e.g. USER 10001:10001.".into();
    }
    if text.contains("exec format error") {
        return format!(
            "{exe} cannot be executed here: it was built for another CPU architecture, or it is a script without a #! line."
        );
    }
    if text.contains("/bin/sh") && (text.contains("no such file") || code == 127) {
        return format!(
            "The image runs its command through /bin/sh (shell form), and the image has no shell — scratch has none. Use the exec form, a JSON array: {form} [\"/server\"]."
        );
    }
    if text.contains("no such file or directory") || text.contains("not found") || code == 127 {
        return match exit.present {
            Some(false) => format!(
                "{exe} is not in the final image: check the path in {form} against the COPY that should put the binary there (`docker run --rm --entrypoint ls IMAGE /` does not work on scratch, but the COPY's destination is the path to use)."
            ),
            Some(true) => format!(
                "{exe} is in the image but cannot be started: it is dynamically linked and the image lacks its loader and C library (link it statically: step 4)."
            ),
            None => format!(
                "{exe} could not be started: either it is not in the final image (check the path in {form} and the COPY that should put it there), or it is dynamically linked and the image lacks its loader and C library."
            ),
        };
    }
    if text.contains("setting rlimit") {
        return "The engine could not set the container's resource limits: it runs without the right to raise them (CAP_SYS_RESOURCE), as Podman does inside a container. Your Dockerfile is not the cause: set `default_ulimits` for nofile and nproc in containers.conf to your hard limits (`ulimit -Hn`, `ulimit -Hu`); the book's Troubleshooting page shows how.".into();
    }
    if text.contains("permission denied") || code == 126 {
        return format!("{exe} is not executable for the container's user: set its mode with COPY --chmod=0555.");
    }
    if text.contains("Address already in use") {
        return "The server could not bind its port.".into();
    }
    if code == 0 {
        if let Some(base) = exit.inherited_from {
            return format!(
                "The final stage sets no CMD or ENTRYPOINT, so it inherits the command of its base image {base}: `{exe}`, which exits at once. Start the server in the final stage: {form} [\"/path/to/server\"], with the path your COPY gives it."
            );
        }
        if exit.placeholder {
            return "The image ships the placeholder `fn main() {}`, not the server: COPY keeps src/main.rs's modification time, older than the placeholder build's, so the second `cargo build` saw nothing to rebuild. Add `touch src/main.rs &&` before the second cargo build (or delete the placeholder's fingerprint, target/*/release/.fingerprint/server-*).".into();
        }
        return format!("{exe} exited successfully right away: the image must run the server, which keeps running.");
    }
    if code == NOT_STARTED {
        return format!("The engine could not start {exe}: its message above says why.");
    }
    format!("{exe} exited with code {code}: its log below says why.")
}

/// The exit code `diagnose_exit` is given for a container the engine could not start:
/// then only the engine's message tells what went wrong.
pub const NOT_STARTED: i64 = -1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildkit::build_error;

    #[test]
    fn build_failures_get_a_specific_fix() {
        assert!(
            diagnose_build("#3 ERROR: failed to solve: file with no instructions", "")
                .unwrap()
                .contains("no instructions yet")
        );
        assert!(
            diagnose_build("dockerfile parse error line 2: unknown instruction: FORM", "")
                .unwrap()
                .contains("`FORM` is not")
        );
        let pull =
            "#3 [internal] load metadata for docker.io/library/rust:latest\n#3 ERROR: failed to do request: Head ...";
        assert!(diagnose_build(pull, "").unwrap().contains("could not fetch docker.io/library/rust:latest"));
        let second = "#3 [internal] load metadata for docker.io/library/rust:1.95\n#4 [internal] load metadata for docker.io/library/debian:latest\n#4 ERROR: failed to do request: Head ...\n";
        assert!(
            diagnose_build(second, "").unwrap().contains("could not fetch docker.io/library/debian:latest"),
            "{:?}",
            diagnose_build(second, "")
        );
        assert!(
            diagnose_build("failed to compute cache key: \"/srcs\": not found", "")
                .unwrap()
                .contains("not in the build context")
        );
        assert!(diagnose_build("#9 4.21 error[E0425]: cannot find value", "").unwrap().contains("compiler rejected"));
        // Each engine's own words, as Podman 4.3 and Docker 20.10 print them.
        let engines = [
            ("Error: building at STEP \"COPY --chmod=a+rx f /f\": Error parsing chmod a+rx", "", "--chmod=0555"),
            (
                "Error: building at STEP \"COPY --link f /f\": COPY only supports the --chmod=<permissions> --chown=<uid:gid> and the --from=<image|stage> flags",
                "COPY --link f /f",
                "remove `--link`",
            ),
            ("dockerfile parse error line 2: Unknown flag: link", "", "remove `--link`"),
            ("Error: no FROM statement found", "# TODO\n", "no instructions yet"),
            (
                "Error: no FROM statement found",
                "# a typo\nFORM debian:bookworm-slim\n",
                "`FORM` is not a Dockerfile instruction",
            ),
            ("Error: building: no stages to build", "", "no instructions yet"),
            (
                "Error: COPY --from=builder: no stage or image found with that name",
                "FROM rust:1\nFROM scratch\nCOPY --from=builder /a /a\n",
                "No stage is named `builder`",
            ),
            (
                "resolving mountpoints for container \"91f4\": unrecognized value \"private\" for field `sharing`: %!w(<nil>)",
                "",
                "leave `sharing=` out",
            ),
        ];
        for (log, dockerfile, fix) in engines {
            let said = diagnose_build(log, dockerfile).unwrap_or_default();
            assert!(said.contains(fix), "{log}: {said}");
        }
        assert_eq!(diagnose_build("#5 RUN false\nERROR: exit code: 1", ""), None);
        let no_stage =
            "#4 [internal] load metadata for docker.io/library/builder:latest\n#4 ERROR: failed to do request\n";
        let df =
            "FROM rust:1.95-slim-bookworm\nRUN cargo build\nFROM scratch\nCOPY --from=builder /app/server /server\n";
        let fix = diagnose_build(no_stage, df).unwrap();
        assert!(fix.contains("No stage is named `builder`") && fix.contains("AS builder"), "{fix}");
        assert!(
            diagnose_build(no_stage, &df.replace("slim-bookworm", "slim-bookworm AS builder"))
                .unwrap()
                .contains("could not fetch")
        );
        let proc_macro = "#9 12.0 error: cannot produce proc-macro for `tokio-macros v2.6.0` as the target `x86_64-unknown-linux-gnu` does not support these crate types\n";
        assert!(diagnose_build(proc_macro, "").unwrap().contains("--target"));
        assert_eq!(build_error("#8 ERROR: \"/src\" not found: not found\n------\n"), "\"/src\" not found: not found");
    }

    #[test]
    fn a_build_that_reads_a_cache_mount_outside_its_run_is_told_why() {
        let df = "FROM rust:1 AS builder\nWORKDIR /app\nRUN --mount=type=cache,target=target cargo build\nFROM scratch\nCOPY --from=builder /app/target/release/server /server\n";
        let log = "#8 [stage-1 1/1] COPY --from=builder /app/target/release/server /server\n#8 ERROR: failed to walk /var/lib/docker/tmp/buildkit-mount1/app/target/release: lstat /var/lib/docker/tmp/buildkit-mount1/app/target/release: no such file or directory\n------\n > [stage-1 1/1] COPY --from=builder /app/target/release/server /server:\n------\nfailed to compute cache key: failed to walk /var/lib/docker/tmp/buildkit-mount1/app/target/release: lstat /var/lib/docker/tmp/buildkit-mount1/app/target/release: no such file or directory\n";
        let fix = diagnose_build(log, df).unwrap();
        assert!(fix.starts_with("`COPY --from=builder` on line 5 reads /app/target/release/server, under /app/target: the cache mount of the RUN on line 3"), "{fix}");
        assert!(fix.contains("within the RUN that mounts it"), "{fix}");
        let split = "FROM rust:1 AS builder\nWORKDIR /app\nRUN --mount=type=cache,target=/app/target cargo build\nRUN cp target/release/server /app/server\n";
        let log = "#7 0.3 cp: cannot stat 'target/release/server': No such file or directory\n------\n > [builder 4/4] RUN cp target/release/server /app/server:\n------\nexecutor failed running [/bin/sh -c cp target/release/server /app/server]: exit code: 1\n";
        assert!(
            diagnose_build(log, split)
                .unwrap()
                .starts_with("The RUN on line 4 reads target/release/server, under /app/target")
        );
        // Another failure of the same Dockerfile is not blamed on the cache mount.
        let other = "#6 4.21 error[E0425]: cannot find value `x`\n > [builder 3/4] RUN --mount=type=cache,target=/app/target cargo build:\n";
        assert!(diagnose_build(other, split).unwrap().contains("compiler rejected"));
    }

    #[test]
    fn the_engines_reason_is_kept_and_the_wrapping_dropped() {
        let e = "`docker run -d --name x img` failed: docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown.";
        assert_eq!(engine_reason(e), "exec: \"/bin/sh\": stat /bin/sh: no such file or directory");
        assert_eq!(
            engine_reason(
                "docker: Error response from daemon: unable to find user app: no matching entries in passwd file."
            ),
            "unable to find user app: no matching entries in passwd file"
        );
        // The engine refuses a limit: its first line says why, not the client's closing advice.
        let cpus = "`docker run -d --cpus 99 img` failed: docker: Error response from daemon: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available.\nSee 'docker run --help'.";
        assert_eq!(engine_reason(cpus), "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
    }

    #[test]
    fn a_remote_engine_is_recognised() {
        assert_eq!(remote_engine(Some("tcp://docker:2375")), Some("docker".into()));
        assert_eq!(remote_engine(Some("ssh://me@build.example.org")), Some("build.example.org".into()));
        assert_eq!(remote_engine(Some("tcp://127.0.0.1:2375")), None);
        assert_eq!(remote_engine(Some("tcp://localhost:2375")), None);
        assert_eq!(remote_engine(Some("tcp://[::1]:2375")), None);
        assert_eq!(remote_engine(Some("tcp://[2001:db8::1]:2375")), Some("2001:db8::1".into()));
        assert_eq!(remote_engine(Some("unix:///var/run/docker.sock")), None);
        assert_eq!(remote_engine(None), None);
    }

    #[test]
    fn exits_are_diagnosed() {
        let exit =
            |code, engine_error, log, executable| Exit { code, engine_error, log, executable, ..Exit::default() };
        // Podman in a container without CAP_SYS_RESOURCE: the engine's setup, not the file's mode.
        let rlimit = "error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied";
        let said = diagnose_exit(&exit(NOT_STARTED, rlimit, "", Some("/server")));
        assert!(said.contains("default_ulimits") && !said.contains("--chmod"), "{said}");
        let not_executable = "exec: \"/server\": permission denied: unknown";
        assert!(diagnose_exit(&exit(NOT_STARTED, not_executable, "", Some("/server"))).contains("COPY --chmod=0555"));
        let missing = "exec: \"/server\": stat /server: no such file or directory: unknown";
        assert!(diagnose_exit(&exit(NOT_STARTED, missing, "", Some("/server"))).contains("not in the final image"));
        assert_eq!(diagnose_exit(&exit(2, "", "sh: 1: Cannot fork\n", Some("/bin/sh"))), PROCESS_LIMIT_HINT);
        let no_user = exit(127, "unable to find user app: no matching entries in passwd file", "", None);
        assert!(diagnose_exit(&no_user).contains("USER 10001:10001"));
        let no_shell = exit(127, "exec: \"/bin/sh\": stat /bin/sh: no such file or directory", "", None);
        assert!(
            diagnose_exit(&no_shell).contains("no shell") && diagnose_exit(&no_shell).contains("CMD [\"/server\"]")
        );
        let with_entrypoint = Exit { entrypoint: true, ..no_shell };
        assert!(diagnose_exit(&with_entrypoint).contains("ENTRYPOINT [\"/server\"]"), "the form the image uses");
        let gone = exit(1, "exec /server: no such file or directory", "", Some("/server"));
        assert!(diagnose_exit(&gone).contains("dynamically linked"));
        let absent = Exit { present: Some(false), ..gone };
        let text = diagnose_exit(&absent);
        assert!(text.contains("/server is not in the final image") && !text.contains("dynamically"), "{text}");
        assert!(diagnose_exit(&exit(0, "", "", Some("/bin/true"))).contains("exited successfully"));
        let inherited = Exit { inherited_from: Some("debian:bookworm-slim"), ..exit(0, "", "", Some("bash")) };
        let text = diagnose_exit(&inherited);
        assert!(text.contains("sets no CMD or ENTRYPOINT") && text.contains("debian:bookworm-slim: `bash`"), "{text}");
        let placeholder = Exit { placeholder: true, ..exit(0, "", "", Some("/server")) };
        assert!(
            diagnose_exit(&placeholder).contains("placeholder")
                && diagnose_exit(&placeholder).contains("touch src/main.rs")
        );
    }
}

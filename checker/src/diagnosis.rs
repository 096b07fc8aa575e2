//! Why a build failed or a container stopped, in words a learner can act on: the fix
//! texts read from the build log, the engine's message and the container's exit.

use crate::buildkit::strip_step_prefix;

/// A fix for the common ways a build fails, read from its log; `None` leaves the
/// manifest's general advice.
pub fn diagnose_build(log: &str) -> Option<String> {
    let has = |s: &str| log.contains(s);
    if has("file with no instructions") || has("no build stage in current context") || has("Dockerfile cannot be empty")
    {
        return Some(
            "The Dockerfile has no instructions yet: write what the TODO block asks, starting with FROM.".into(),
        );
    }
    if let Some(word) = log.lines().find_map(|l| l.split("unknown instruction: ").nth(1)) {
        return Some(format!(
            "`{}` is not a Dockerfile instruction: check its spelling (FROM, WORKDIR, COPY, RUN, USER, EXPOSE, ENTRYPOINT, CMD…).",
            word.trim()
        ));
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
        return Some(format!(
            "The engine could not fetch {image}: check the image name and tag in FROM. Without a registry only images already on the engine work (`docker images` lists them)."
        ));
    }
    if has("failed to compute cache key") || (has("COPY") && has("not found")) {
        return Some("A COPY names a path that is not in the build context (or in the stage it copies from): check the path, and that .dockerignore does not exclude it.".into());
    }
    if has("cannot update the lock file") || (has("lock file") && has("--locked")) {
        return Some("Cargo.lock does not match Cargo.toml, and --locked forbids changing it: copy Cargo.lock next to Cargo.toml, or run `cargo update --workspace` locally and copy the new lock file.".into());
    }
    if log.lines().map(strip_step_prefix).any(|l| l.starts_with("error[") || l.starts_with("error: could not compile"))
    {
        return Some("The Rust compiler rejected the source: fix the error it reports (file and line are in the log above) in src/.".into());
    }
    None
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

/// Why a container stopped, in words a learner can act on.
pub fn diagnose_exit(code: i64, oom: bool, engine_error: &str, log: &str, executable: Option<&str>) -> String {
    let exe = executable.unwrap_or("the command");
    let text = format!("{engine_error}\n{log}");
    if oom {
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
        return "The image runs its command through /bin/sh (shell form), and the image has no shell — scratch has none. Use the exec form: CMD [\"/server\"].".into();
    }
    if text.contains("no such file or directory") || text.contains("not found") || code == 127 {
        return format!(
            "{exe} could not be started: either it is not in the final image (check the path in CMD/ENTRYPOINT and the COPY that should put it there), or it is dynamically linked and the image lacks its loader and C library (link it statically: step 4)."
        );
    }
    if text.contains("permission denied") || code == 126 {
        return format!("{exe} is not executable for the container's user: set its mode with COPY --chmod=0555.");
    }
    if text.contains("Address already in use") {
        return "The server could not bind its port.".into();
    }
    if code == 0 {
        return format!("{exe} exited successfully right away: the image must run the server, which keeps running.");
    }
    if code == NOT_STARTED {
        return format!("The engine could not start {exe}: the message above says why.");
    }
    format!("{exe} exited with code {code}: its log above says why.")
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
            diagnose_build("#3 ERROR: failed to solve: file with no instructions")
                .unwrap()
                .contains("no instructions yet")
        );
        assert!(
            diagnose_build("dockerfile parse error line 2: unknown instruction: FORM")
                .unwrap()
                .contains("`FORM` is not")
        );
        let pull =
            "#3 [internal] load metadata for docker.io/library/rust:latest\n#3 ERROR: failed to do request: Head ...";
        assert!(diagnose_build(pull).unwrap().contains("could not fetch docker.io/library/rust:latest"));
        let second = "#3 [internal] load metadata for docker.io/library/rust:1.95\n#4 [internal] load metadata for docker.io/library/debian:latest\n#4 ERROR: failed to do request: Head ...\n";
        assert!(
            diagnose_build(second).unwrap().contains("could not fetch docker.io/library/debian:latest"),
            "{:?}",
            diagnose_build(second)
        );
        assert!(
            diagnose_build("failed to compute cache key: \"/srcs\": not found")
                .unwrap()
                .contains("not in the build context")
        );
        assert!(diagnose_build("#9 4.21 error[E0425]: cannot find value").unwrap().contains("compiler rejected"));
        assert_eq!(diagnose_build("#5 RUN false\nERROR: exit code: 1"), None);
        assert_eq!(build_error("#8 ERROR: \"/src\" not found: not found\n------\n"), "\"/src\" not found: not found");
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
        let not_executable = "exec: \"/server\": permission denied: unknown";
        assert!(diagnose_exit(NOT_STARTED, false, not_executable, "", Some("/server")).contains("COPY --chmod=0555"));
        let missing = "exec: \"/server\": stat /server: no such file or directory: unknown";
        assert!(diagnose_exit(NOT_STARTED, false, missing, "", Some("/server")).contains("not in the final image"));
        assert_eq!(diagnose_exit(2, false, "", "sh: 1: Cannot fork\n", Some("/bin/sh")), PROCESS_LIMIT_HINT);
        assert!(
            diagnose_exit(127, false, "unable to find user app: no matching entries in passwd file", "", None)
                .contains("USER 10001:10001")
        );
        assert!(
            diagnose_exit(127, false, "exec: \"/bin/sh\": stat /bin/sh: no such file or directory", "", None)
                .contains("no shell")
        );
        assert!(
            diagnose_exit(1, false, "exec /server: no such file or directory", "", Some("/server"))
                .contains("dynamically linked")
        );
        assert!(diagnose_exit(0, false, "", "", Some("/bin/true")).contains("exited successfully"));
    }
}

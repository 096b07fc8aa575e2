//! The checks' verdicts, as pure functions of what was read from the Dockerfile, the
//! context, the image and the logs — so that each can be tested without an engine.

use crate::context::ContextReport;
use crate::docker::ImageConfig;
use crate::dockerfile::{Dockerfile, Finding};
use crate::elf::Linkage;
use crate::manifest::ByteSize;
use crate::outcome::Outcome;

fn findings(found: Vec<Finding>, pass: &str) -> Outcome {
    match found.first() {
        None => Outcome::pass(pass),
        Some(first) if found.len() == 1 => Outcome::fail(first.message.clone()).line(Some(first.line)),
        Some(first) => {
            let all: Vec<_> = found.iter().map(|f| format!("line {}: {}", f.line, f.message)).collect();
            Outcome::fail(all.join("; ")).line(Some(first.line))
        }
    }
}

pub fn base_image_pinned(df: &Dockerfile) -> Outcome {
    let bases: Vec<_> = df.stages.iter().map(|s| s.image.as_str()).collect();
    findings(df.unpinned_bases(), &format!("FROM {}", bases.join(", ")))
}

pub fn workdir(df: &Dockerfile) -> Outcome {
    findings(df.workdir_findings(), "WORKDIR set before the source is copied")
}

pub fn copy_not_add(df: &Dockerfile) -> Outcome {
    findings(df.local_adds(), "no ADD of local files")
}

pub fn min_stages(df: &Dockerfile, min: usize) -> Outcome {
    let n = df.stages.len();
    if n >= min {
        Outcome::pass(format!("{n} stages"))
    } else {
        let plural = if n == 1 { "stage" } else { "stages" };
        Outcome::fail(format!("the Dockerfile has {n} {plural}; at least {min} are needed"))
            .line(df.stages.last().map(|s| s.line))
    }
}

/// `unguarded` lists the watched paths that .dockerignore would let through.
pub fn context(report: &ContextReport, unguarded: &[String]) -> Outcome {
    let sent = format!("{} files, {}", report.files, ByteSize(report.bytes));
    if !report.offenders.is_empty() {
        let list: Vec<_> = report.offenders.iter().map(|(p, b)| format!("{p} ({})", ByteSize(*b))).collect();
        return Outcome::fail(format!("the context sends {} to the engine ({sent} in all)", list.join(" and "))).hint(
            format!("List {} in .dockerignore at the root of the build context.", list_paths(report.offenders.keys())),
        );
    }
    if !unguarded.is_empty() {
        return Outcome::fail(format!(
            "the context is {sent} now, but .dockerignore does not exclude {}: the first local build or `git init` sends it too",
            unguarded.join(" or ")
        ))
        .hint(format!("Add {} to .dockerignore.", list_paths(unguarded.iter())));
    }
    Outcome::pass(format!("context {sent}"))
}

fn list_paths<'a>(paths: impl Iterator<Item = &'a String>) -> String {
    paths.map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" and ")
}

pub fn image_size(size: u64, limit: ByteSize) -> Outcome {
    if size <= limit.0 {
        Outcome::pass(format!("{} of uncompressed layers (limit {limit})", ByteSize(size)))
    } else {
        Outcome::fail(format!(
            "the image's layers add up to {} uncompressed, over this step's limit of {limit}",
            ByteSize(size)
        ))
    }
}

pub fn user_not_root(config: &ImageConfig) -> Outcome {
    let user = config.user.trim();
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() {
        Outcome::fail("the image sets no USER, so the container runs as root")
    } else if name == "0" || name == "root" {
        Outcome::fail(format!("the image's USER is `{user}`, which is root"))
    } else {
        Outcome::pass(format!("USER {user}"))
    }
}

pub fn exposes(config: &ImageConfig, port: &str) -> Outcome {
    let ports: Vec<String> = config.exposed_ports.iter().flat_map(|p| p.keys().cloned()).collect();
    if ports.iter().any(|p| p == port) {
        Outcome::pass(format!("EXPOSE {port}"))
    } else if ports.is_empty() {
        Outcome::fail("the image exposes no port")
    } else {
        Outcome::fail(format!("the image exposes {} but not {port}", ports.join(", ")))
    }
}

pub fn exec_entrypoint(config: &ImageConfig) -> Outcome {
    match config.entrypoint.as_deref() {
        None | Some([]) => {
            let cmd = config.cmd.as_ref().map(|c| format!(" (it starts with CMD {})", json(c))).unwrap_or_default();
            Outcome::fail(format!("the image has no ENTRYPOINT{cmd}"))
        }
        Some([sh, c, rest @ ..]) if is_shell(sh) && c == "-c" => Outcome::fail(format!(
            "the ENTRYPOINT is in shell form: {} runs `{}` as a child of a shell",
            sh,
            rest.join(" ")
        ))
        .hint(
            "Write the ENTRYPOINT as a JSON array, e.g. `ENTRYPOINT [\"/server\"]`: then the server itself is PID 1.",
        ),
        Some(argv) => Outcome::pass(format!("ENTRYPOINT {}", json(argv))),
    }
}

fn is_shell(program: &str) -> bool {
    matches!(program, "/bin/sh" | "/bin/bash" | "sh" | "bash" | "/bin/ash")
}

fn json(argv: &[String]) -> String {
    serde_json::to_string(argv).unwrap_or_default()
}

/// The executable the container starts: the first word of ENTRYPOINT + CMD (looked
/// inside a `sh -c` string), resolved against WORKDIR. `None` when the image runs nothing.
/// A bare name is returned as is; the caller looks it up in PATH.
pub fn executable(config: &ImageConfig) -> Option<String> {
    let mut argv: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    if argv.is_empty() {
        argv = config.cmd.clone().unwrap_or_default();
    }
    let first = match argv.as_slice() {
        [sh, c, script, ..] if is_shell(sh) && c == "-c" => {
            script.split_whitespace().find(|w| *w != "exec" && !w.contains('='))?.to_string()
        }
        [first, ..] => first.clone(),
        [] => return None,
    };
    if first.starts_with('/') || !first.contains('/') {
        return Some(first);
    }
    let dir = if config.working_dir.is_empty() { "/" } else { config.working_dir.as_str() };
    Some(format!("{}/{}", dir.trim_end_matches('/'), first.trim_start_matches("./")))
}

/// The directories of the image's PATH, for a bare command name.
pub fn search_path(config: &ImageConfig) -> Vec<String> {
    config
        .env
        .iter()
        .flatten()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .split(':')
        .map(str::to_string)
        .collect()
}

pub fn static_binary(path: &str, linkage: &Linkage) -> Outcome {
    if linkage.is_static() {
        return Outcome::pass(format!("{path}: static {} executable", linkage.machine));
    }
    let mut needs = Vec::new();
    if let Some(i) = &linkage.interpreter {
        needs.push(format!("the loader {i}"));
    }
    if !linkage.needed.is_empty() {
        needs.push(linkage.needed.join(", "));
    }
    Outcome::fail(format!("{path} is dynamically linked: it needs {}", needs.join(" and ")))
}

/// Files of the image that match one of `patterns` (globs over paths without the leading
/// /), ordered by the first pattern each matches: the manifest lists the telling ones first.
pub fn files_present(names: &[String], patterns: &[String]) -> anyhow::Result<Vec<String>> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        set.add(globset::Glob::new(p)?);
    }
    let set = set.build()?;
    let mut found: Vec<(usize, &String)> =
        names.iter().filter_map(|n| set.matches(n.trim_start_matches('/')).first().map(|&i| (i, n))).collect();
    found.sort_by_key(|(i, _)| *i);
    Ok(found.into_iter().map(|(_, n)| n.clone()).collect())
}

pub fn files_absent(found: &[String], patterns: &[String], total: usize) -> Outcome {
    if found.is_empty() {
        return Outcome::pass(format!("none of {total} files match {}", patterns.join(", ")));
    }
    let shown: Vec<_> = found.iter().take(5).cloned().collect();
    let more = if found.len() > 5 { format!(" and {} more", found.len() - 5) } else { String::new() };
    Outcome::fail(format!("the final image holds {}{more}", shown.join(", ")))
}

/// A crate a build log shows cargo compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// `name version`, e.g. `tokio v1.47.1`.
    pub crate_: String,
    /// A package of the workspace (cargo prints its path: `Compiling server v0.1.0 (/app)`),
    /// not a dependency from the registry.
    pub local: bool,
}

/// The crates a build log shows being compiled, in order.
pub fn compiled(log: &str) -> Vec<Compiled> {
    log.lines()
        .filter_map(|line| {
            let rest = &line[line.find("Compiling ")? + "Compiling ".len()..];
            let mut words = rest.split_whitespace();
            let (name, version) = (words.next()?, words.next()?);
            let local = words.next().is_some_and(|w| w.starts_with('('));
            version.starts_with('v').then(|| Compiled { crate_: format!("{name} {version}"), local })
        })
        .collect()
}

/// Whether a build step ran cargo with `-q`/`--quiet`, which hides what it compiled.
fn quiet_cargo(log: &str) -> bool {
    log.lines().filter_map(build_step).any(|step| {
        step.contains("cargo") && step.split_whitespace().any(|w| w == "-q" || w == "--quiet" || w.starts_with("-q"))
    })
}

/// The dependency-cache verdict on a rebuild after a change to `change` alone: it passes
/// only on positive evidence, the server's own crate compiled and no dependency.
pub fn dependency_cache(change: &str, log: &str, rebuilt: f64, ratio: &str) -> Outcome {
    let crates = compiled(log);
    let deps: Vec<&str> = crates.iter().filter(|c| !c.local).map(|c| c.crate_.as_str()).collect();
    if !deps.is_empty() {
        let shown: Vec<_> = deps.iter().take(4).copied().collect();
        return Outcome::fail(format!(
            "after a change to {change} alone, the rebuild compiled {} dependencies ({}{}) in {rebuilt:.1} s",
            deps.len(),
            shown.join(", "),
            if deps.len() > 4 { ", …" } else { "" }
        ));
    }
    if crates.is_empty() && quiet_cargo(log) {
        return Outcome::fail(format!(
            "the rebuild after a change to {change} printed no `Compiling` line: cargo ran with -q/--quiet, so nothing shows that only the server was compiled again"
        ))
        .hint("Drop -q/--quiet from the cargo build: the check reads cargo's `Compiling` lines to tell the server from its dependencies.");
    }
    if crates.is_empty() {
        return Outcome::fail(format!(
            "the rebuild after a change to {change} compiled nothing: no instruction built the changed source, so nothing shows that the dependencies stay cached while the server is rebuilt"
        ))
        .hint(format!(
            "Copy the source after the dependency build (`COPY src ./src`) and run `cargo build --release --locked` after that copy: a change to {change} must rebuild the server, and only the server."
        ));
    }
    Outcome::pass(format!("rebuilt in {rebuilt:.1} s after a change to {change}, no dependency compiled ({ratio})"))
}

/// The Dockerfile line of a failed build: the one BuildKit names (`Dockerfile:12`), or,
/// from older BuildKits that do not, the line of the failing instruction it quotes
/// (` > [builder 6/6] RUN cargo build ...:`).
pub fn build_error_line(log: &str, dockerfile: &str) -> Option<usize> {
    let named = log.lines().rev().find_map(|l| {
        let at = l.find("Dockerfile:")?;
        let digits: String = l[at + "Dockerfile:".len()..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    named.or_else(|| {
        let quoted = log.lines().rev().find_map(|l| l.trim_start().strip_prefix("> ["))?;
        instruction_line(quoted.split_once("] ")?.1.trim_end_matches(':'), dockerfile)
    })
}

/// The step a line of BuildKit's plain output starts, e.g. `[builder 4/7] RUN cargo build`
/// from `#7 [builder 4/7] RUN cargo build`; `None` for any other line.
pub fn build_step(line: &str) -> Option<&str> {
    let (id, step) = line.split_once(' ')?;
    (id.starts_with('#') && step.starts_with('[') && step.contains("] ")).then_some(step)
}

/// The build step BuildKit started last: where a build that never ended was stuck.
pub fn running_step(log: &str) -> Option<&str> {
    log.lines().rev().find_map(build_step)
}

/// The Dockerfile line of the build step BuildKit was running last.
pub fn running_step_line(log: &str, dockerfile: &str) -> Option<usize> {
    instruction_line(running_step(log)?.split_once("] ")?.1, dockerfile)
}

/// The line of the Dockerfile's instruction that BuildKit quotes as `instruction`.
fn instruction_line(instruction: &str, dockerfile: &str) -> Option<usize> {
    let instruction = normalize(instruction);
    logical_lines(dockerfile).into_iter().find(|(_, text)| normalize(text) == instruction).map(|(line, _)| line)
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Instructions with their continuation lines joined, each with its first line number.
fn logical_lines(dockerfile: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (i, line) in dockerfile.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && !open) {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        match out.last_mut() {
            Some((_, text)) if open => {
                text.push(' ');
                text.push_str(body);
            }
            _ => out.push((i + 1, body.to_string())),
        }
        open = continues;
    }
    out
}

/// The most telling lines of a failed build: BuildKit's final error, and the first
/// compiler error when the failing step was a cargo build.
pub fn build_error(log: &str) -> String {
    // The engine's summary comes last; a step's own `#8 ERROR: …` line is the fallback.
    let summary =
        |l: &&str| l.starts_with("ERROR:") || l.contains("failed to solve") || l.contains("failed to compute");
    let engine = log
        .lines()
        .rev()
        .find(summary)
        .or_else(|| log.lines().rev().find(|l| l.contains(" ERROR: ")))
        .map_or("docker build failed", |l| l.trim().rsplit("ERROR: ").next().unwrap_or(l).trim());
    let compiler = log.lines().map(strip_step_prefix).find(|l| l.starts_with("error[") || l.starts_with("error:"));
    match compiler {
        Some(first) => format!("{engine}; the first compiler error: {first}"),
        None => engine.to_string(),
    }
}

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

/// Build-log lines worth showing: without BuildKit's digest and bookkeeping lines.
pub fn telling_lines(log: &str, n: usize) -> String {
    let keep: Vec<&str> = log
        .lines()
        .filter(|l| {
            let rest = strip_step_prefix(l);
            !(l.trim().is_empty()
                || rest.starts_with("sha256:")
                || rest.starts_with("DONE")
                || rest.starts_with("transferring"))
        })
        .collect();
    keep[keep.len().saturating_sub(n)..].join("\n")
}

/// `#12 31.45 error[E0425]: …` → `error[E0425]: …`: BuildKit prefixes each output line
/// with its step number and a timestamp.
fn strip_step_prefix(line: &str) -> &str {
    let mut rest = line.trim();
    if rest.starts_with('#') {
        for _ in 0..2 {
            if let Some((word, tail)) = rest.split_once(' ')
                && (word.starts_with('#') || word.parse::<f64>().is_ok())
            {
                rest = tail.trim_start();
            }
        }
    }
    rest
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
    use crate::report::Status;
    use std::collections::HashMap;

    fn config(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>, workdir: &str) -> ImageConfig {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ImageConfig {
            entrypoint: entrypoint.map(v),
            cmd: cmd.map(v),
            working_dir: workdir.into(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn the_executable_is_found_in_entrypoint_cmd_and_shell_strings() {
        assert_eq!(executable(&config(Some(&["/server"]), Some(&["--flag"]), "")).as_deref(), Some("/server"));
        assert_eq!(
            executable(&config(None, Some(&["./target/release/server"]), "/app")).as_deref(),
            Some("/app/target/release/server")
        );
        assert_eq!(
            executable(&config(None, Some(&["/bin/sh", "-c", "RUST_LOG=x exec /app/server"]), "")).as_deref(),
            Some("/app/server")
        );
        assert_eq!(executable(&config(None, Some(&["server"]), "")).as_deref(), Some("server"));
        assert_eq!(executable(&config(None, None, "")), None);
    }

    #[test]
    fn shell_form_and_missing_entrypoints_fail() {
        assert_eq!(exec_entrypoint(&config(Some(&["/server"]), None, "")).status, Status::Pass);
        let shell = exec_entrypoint(&config(Some(&["/bin/sh", "-c", "/server"]), None, ""));
        assert_eq!(shell.status, Status::Fail);
        assert!(shell.message.contains("shell form"));
        let none = exec_entrypoint(&config(None, Some(&["/server"]), ""));
        assert!(none.message.contains("no ENTRYPOINT (it starts with CMD [\"/server\"])"), "{}", none.message);
    }

    #[test]
    fn root_users_are_recognised() {
        for (user, ok) in
            [("", false), ("root", false), ("0", false), ("0:0", false), ("10001:10001", true), ("app", true)]
        {
            let c = ImageConfig { user: user.into(), ..ImageConfig::default() };
            assert_eq!(user_not_root(&c).status == Status::Pass, ok, "USER {user:?}");
        }
    }

    #[test]
    fn exposed_ports_are_matched_exactly() {
        let mut ports = HashMap::new();
        ports.insert("8080/tcp".to_string(), serde_json::json!({}));
        let c = ImageConfig { exposed_ports: Some(ports), ..ImageConfig::default() };
        let o = exposes(&c, "3030/tcp");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("8080/tcp but not 3030/tcp"));
        assert_eq!(exposes(&ImageConfig::default(), "3030/tcp").message, "the image exposes no port");
    }

    #[test]
    fn dependency_compiles_are_told_from_the_local_crate() {
        let log = "#12 31.4    Compiling tokio v1.48.0\n#12 40.1    Compiling server v0.1.0 (/app)\n#12 2.0   Compiling axum-core v0.5.5\n";
        let deps: Vec<String> = compiled(log).into_iter().filter(|c| !c.local).map(|c| c.crate_).collect();
        assert_eq!(deps, ["tokio v1.48.0", "axum-core v0.5.5"]);
        assert_eq!(
            compiled("#14 1.2    Compiling server v0.1.0 (/app)\n"),
            [Compiled { crate_: "server v0.1.0".into(), local: true }]
        );
    }

    #[test]
    fn dependency_cache_passes_only_when_the_server_alone_was_compiled() {
        let server = "#9 [builder 6/6] RUN touch src/main.rs && cargo build --release --locked\n#9 1.2    Compiling server v0.1.0 (/app)\n";
        assert_eq!(dependency_cache("src/main.rs", server, 1.9, "9%").status, Status::Pass);
        let deps = format!("{server}#9 3.0    Compiling tokio v1.48.0\n");
        let o = dependency_cache("src/main.rs", &deps, 30.0, "90%");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled 1 dependencies (tokio v1.48.0)"), "{}", o.message);
        // Nothing compiled at all: no evidence, no pass.
        let cached = "#6 [2/3] COPY . .\n#6 DONE 0.1s\n#7 exporting to image\n";
        let o = dependency_cache("src/main.rs", cached, 0.2, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("compiled nothing"), "{}", o.message);
        assert!(o.hint.unwrap().contains("COPY src ./src"));
        // A quiet cargo hides what it compiled.
        let quiet = "#9 [builder 6/6] RUN cargo build -q --release --locked\n#9 DONE 1.5s\n";
        let o = dependency_cache("src/main.rs", quiet, 1.5, "");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("-q/--quiet"), "{}", o.message);
    }

    #[test]
    fn sizes_over_the_limit_fail() {
        assert_eq!(image_size(1_934_792, ByteSize(20_000_000)).status, Status::Pass);
        let o = image_size(75_740_424, ByteSize(20_000_000));
        assert!(o.message.contains("75.7 MB uncompressed, over this step's limit of 20.0 MB"), "{}", o.message);
    }

    #[test]
    fn build_errors_name_their_line() {
        let log = "#5 [2/4] RUN cargo build\n#5 ERROR: process \"/bin/sh -c cargo build\" did not complete successfully: exit code: 101\n------\nDockerfile:7\n--------------------\nERROR: failed to solve: process \"/bin/sh -c cargo build\" did not complete successfully: exit code: 101\n";
        assert_eq!(build_error_line(log, ""), Some(7));
        let old = "#10 ERROR: executor failed running [/bin/sh -c touch src/main.rs  && cargo build]: exit code: 101\n------\n > [builder 6/6] RUN touch src/main.rs  && cargo build --release:\n------\n";
        let dockerfile = "FROM rust:1 AS builder\n# a comment\nRUN touch src/main.rs && cargo build\nRUN touch src/main.rs \\\n  && cargo build --release\n";
        assert_eq!(build_error_line(old, dockerfile), Some(4));
        assert!(build_error(log).starts_with("failed to solve: process"));
        let cargo = "#9 4.21 error[E0425]: cannot find value `health` in this scope\n#9 4.3 error: could not compile `server`\nERROR: failed to solve: exit code: 101\n";
        assert_eq!(
            build_error(cargo),
            "failed to solve: exit code: 101; the first compiler error: error[E0425]: cannot find value `health` in this scope"
        );
    }

    #[test]
    fn a_build_stuck_in_a_step_points_at_its_line() {
        let dockerfile = "FROM debian:bookworm-slim\nRUN echo hi\nRUN sleep \\\n  infinity\nCMD [\"x\"]\n";
        let log = "#5 [2/3] RUN echo hi\n#5 DONE 0.1s\n#6 [3/3] RUN sleep   infinity\n";
        assert_eq!(running_step_line(log, dockerfile), Some(3));
        assert_eq!(running_step(log), Some("[3/3] RUN sleep   infinity"));
        assert_eq!(build_step("#5 0.197 output [with brackets] here"), None);
        assert_eq!(running_step_line("#1 [internal] load build definition\n", dockerfile), None);
    }

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
    fn build_log_noise_is_left_out() {
        let log = "#1 [internal] load build definition\n#1 sha256:abc\n#1 transferring dockerfile: 1B done\n#1 DONE 0.0s\n#5 ERROR: boom\n";
        assert_eq!(telling_lines(log, 10), "#1 [internal] load build definition\n#5 ERROR: boom");
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

    #[test]
    fn a_context_that_sends_target_fails_with_its_size() {
        let mut report = ContextReport { files: 120, bytes: 3_000_000, ..ContextReport::default() };
        report.offenders.insert("target/".into(), 2_900_000);
        let o = context(&report, &[]);
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("sends target/ (2.9 MB)"), "{}", o.message);
        assert!(o.hint.unwrap().contains("`target/`"));
        let clean = ContextReport { files: 5, bytes: 12_000, ..ContextReport::default() };
        assert_eq!(context(&clean, &[]).message, "context 5 files, 12.0 kB");
        assert_eq!(context(&clean, &[".git/".into()]).status, Status::Fail);
    }

    #[test]
    fn image_files_are_matched_by_glob() {
        let names = vec!["/usr/local/cargo/bin/cargo".to_string(), "/app/src/main.rs".into(), "/server".into()];
        let found = files_present(&names, &["**/bin/cargo".into(), "**/*.rs".into()]).unwrap();
        assert_eq!(found, ["/usr/local/cargo/bin/cargo", "/app/src/main.rs"]);
        let found = files_present(&names, &["**/*.rs".into(), "**/bin/cargo".into()]).unwrap();
        assert_eq!(found, ["/app/src/main.rs", "/usr/local/cargo/bin/cargo"], "in the patterns' order");
        assert_eq!(files_absent(&found, &[], 3).status, Status::Fail);
    }
}

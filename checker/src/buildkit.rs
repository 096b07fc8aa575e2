//! Reading what a build prints: BuildKit's plain progress (its step lines, its final
//! error, the Dockerfile line it names) and cargo's `Compiling` lines; and keeping it, as
//! bytes whatever they are, bounded in size.

use std::io::{BufRead, BufReader, Read};

/// The longest line of build output kept whole; a longer one is cut into pieces of this
/// size, so that one endless line cannot fill the memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Hands `f` each line of `stream` (without its `\n` or `\r\n`), decoded lossily: a build
/// prints whatever its RUN instructions print, and one odd byte must not end the reading.
/// Lines longer than `max` bytes come in pieces. Reads to the end of the stream.
pub fn for_each_line(stream: impl Read, max: usize, mut f: impl FnMut(String)) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let mut emit = |line: &mut Vec<u8>| {
        if line.ends_with(b"\n") {
            line.pop();
            if line.ends_with(b"\r") {
                line.pop();
            }
        }
        f(String::from_utf8_lossy(line).into_owned());
        line.clear();
    };
    loop {
        let buf = match reader.fill_buf() {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let room = max.max(1) - line.len();
        let n = buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1).min(room);
        line.extend_from_slice(&buf[..n]);
        reader.consume(n);
        if line.ends_with(b"\n") || line.len() >= max.max(1) {
            emit(&mut line);
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}

/// A build's output, bounded: its first half-cap and its last half-cap of bytes are kept
/// (the start says what ran, the end why it failed); what lies between is counted.
pub struct CappedLog {
    head: String,
    tail: std::collections::VecDeque<String>,
    tail_bytes: usize,
    dropped: usize,
    half: usize,
}

impl CappedLog {
    pub fn new(cap: usize) -> Self {
        Self { head: String::new(), tail: Default::default(), tail_bytes: 0, dropped: 0, half: cap / 2 }
    }

    pub fn push(&mut self, line: &str) {
        if self.tail.is_empty() && self.head.len() + line.len() < self.half {
            self.head.push_str(line);
            self.head.push('\n');
            return;
        }
        self.tail_bytes += line.len() + 1;
        self.tail.push_back(line.to_string());
        while self.tail_bytes > self.half {
            let Some(old) = self.tail.pop_front() else { break };
            self.tail_bytes -= old.len() + 1;
            self.dropped += old.len() + 1;
        }
    }

    pub fn finish(self) -> String {
        let mut log = self.head;
        if self.dropped > 0 {
            log.push_str(&format!(
                "[checker: {} bytes of build output left out here; the log keeps its first and last {} bytes]\n",
                self.dropped, self.half
            ));
        }
        for line in self.tail {
            log.push_str(&line);
            log.push('\n');
        }
        log
    }
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

/// The Dockerfile line of a failed build: the one BuildKit names (`Dockerfile:12`), or,
/// from older BuildKits that do not, the line of the failing instruction it quotes
/// (` > [builder 6/6] RUN cargo build ...:`), or the one Buildah quotes (`Error: building
/// at STEP "RUN cargo build": …`).
pub fn build_error_line(log: &str, dockerfile: &str) -> Option<usize> {
    let named = log.lines().rev().find_map(|l| {
        let at = l.find("Dockerfile:")?;
        let digits: String = l[at + "Dockerfile:".len()..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    let quoted = || {
        let quoted = log.lines().rev().find_map(|l| l.trim_start().strip_prefix("> ["))?;
        instruction_line(quoted.split_once("] ")?.1.trim_end_matches(':'), dockerfile)
    };
    let buildah = || {
        let rest = log.lines().rev().find_map(|l| l.split_once("building at STEP \"").map(|(_, r)| r))?;
        instruction_line(&rest[..rest.rfind("\": ")?], dockerfile)
    };
    named.or_else(quoted).or_else(buildah)
}

/// The step a line of build output starts: BuildKit's `[builder 4/7] RUN cargo build`
/// from `#7 [builder 4/7] RUN cargo build`, or Buildah's `STEP 4/7: RUN cargo build` (in a
/// multi-stage build `[1/2] STEP 4/7: …`); `None` for any other line.
pub fn build_step(line: &str) -> Option<&str> {
    if let Some((id, step)) = line.split_once(' ')
        && id.starts_with('#')
        && step.starts_with('[')
        && step.contains("] ")
    {
        return Some(step);
    }
    let rest = match line.strip_prefix('[') {
        Some(stage) => stage.split_once("] ")?.1,
        None => line,
    };
    let (count, _) = rest.strip_prefix("STEP ")?.split_once(": ")?;
    count.contains('/').then_some(line)
}

/// Whether BuildKit ran again, instead of taking from its cache, a step that comes before
/// the first COPY or ADD of its stage: its inputs cannot have changed since the first
/// build, so the cache was lost and a rebuild measures nothing. BuildKit 0.13 (Docker 26)
/// does this while another build of the same steps is running.
pub fn lost_cache(log: &str) -> bool {
    // Step id → (stage, position in it, instruction); and the ids BuildKit took from cache.
    let mut steps = std::collections::HashMap::new();
    let mut cached = std::collections::HashSet::new();
    for line in log.lines() {
        let Some((id, rest)) = line.split_once(' ') else { continue };
        if rest.trim() == "CACHED" {
            cached.insert(id);
        } else if let Some(step) = build_step(line).filter(|_| id.starts_with('#'))
            && let Some((bracket, instruction)) = step.strip_prefix('[').and_then(|s| s.split_once("] "))
            && let Some((stage, count)) = bracket.rsplit_once(' ').or(Some(("", bracket)))
            && let Some(position) = count.split('/').next().and_then(|n| n.parse::<u32>().ok())
        {
            steps.insert(id, (stage, position, instruction));
        }
    }
    // Each stage's first COPY or ADD.
    let mut first_copy = std::collections::HashMap::new();
    for (stage, position, instruction) in steps.values() {
        if instruction.starts_with("COPY") || instruction.starts_with("ADD") {
            let first = first_copy.entry(*stage).or_insert(*position);
            *first = (*first).min(*position);
        }
    }
    steps.iter().any(|(id, (stage, position, instruction))| {
        !instruction.starts_with("FROM")
            && !cached.contains(id)
            && first_copy.get(stage).is_some_and(|copy| position < copy)
    })
}

/// The instruction of a step from `build_step`: `RUN cargo build`.
fn step_instruction(step: &str) -> Option<&str> {
    let after_stage = step.strip_prefix('[').and_then(|r| r.split_once("] ")).map(|(_, r)| r);
    match after_stage.unwrap_or(step).strip_prefix("STEP ") {
        Some(buildah) => Some(buildah.split_once(": ")?.1),
        None => after_stage,
    }
}

/// The build step BuildKit started last: where a build that never ended was stuck.
pub fn running_step(log: &str) -> Option<&str> {
    log.lines().rev().find_map(build_step)
}

/// The Dockerfile line of the build step BuildKit was running last.
pub fn running_step_line(log: &str, dockerfile: &str) -> Option<usize> {
    instruction_line(step_instruction(running_step(log)?)?, dockerfile)
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
pub fn logical_lines(dockerfile: &str) -> Vec<(usize, String)> {
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
    // The engine's summary comes last (Buildah's starts `Error: `); a step's own
    // `#8 ERROR: …` line is the fallback.
    let summary = |l: &&str| {
        l.starts_with("ERROR:")
            || l.starts_with("Error: ")
            || l.contains("failed to solve")
            || l.contains("failed to compute")
    };
    let engine = log.lines().rev().find(summary).or_else(|| log.lines().rev().find(|l| l.contains(" ERROR: "))).map_or(
        "the log names no error",
        |l| {
            let l = l.trim();
            l.strip_prefix("Error: ").unwrap_or_else(|| l.rsplit("ERROR: ").next().unwrap_or(l)).trim()
        },
    );
    let compiler = log.lines().map(strip_step_prefix).find(|l| l.starts_with("error[") || l.starts_with("error:"));
    match compiler {
        Some(first) => format!("{engine}; the first compiler error: {first}"),
        None => engine.to_string(),
    }
}

/// Build-log lines worth showing: without BuildKit's digest and bookkeeping lines, nor
/// buildx's `#0 building with "default" instance using docker driver`.
pub fn telling_lines(log: &str, n: usize) -> String {
    let keep: Vec<&str> = log
        .lines()
        .filter(|l| {
            let rest = strip_step_prefix(l);
            !(l.trim().is_empty()
                || rest.starts_with("building with ")
                || rest.starts_with("sha256:")
                || rest.starts_with("DONE")
                || rest.starts_with("transferring"))
        })
        .collect();
    keep[keep.len().saturating_sub(n)..].join("\n")
}

/// `#12 31.45 error[E0425]: …` → `error[E0425]: …`: BuildKit prefixes each output line
/// with its step number and a timestamp.
pub(crate) fn strip_step_prefix(line: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_telling_lines_leave_out_bookkeeping() {
        let log = "#0 building with \"default\" instance using docker driver\n\n#1 [internal] load build definition from Dockerfile\n#1 transferring dockerfile: 2B done\n#1 DONE 0.0s\nERROR: failed to solve: file with no instructions\n";
        assert_eq!(
            telling_lines(log, 12),
            "#1 [internal] load build definition from Dockerfile\nERROR: failed to solve: file with no instructions"
        );
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
    fn buildahs_steps_and_errors_are_read_like_buildkits() {
        let dockerfile = "FROM rust:1 AS builder\nWORKDIR /app\nRUN echo \"fn main() {}\" > m.rs \\\n && cargo biuld\nFROM scratch\n";
        // Podman 4.3's own words.
        let log = "[1/2] STEP 1/3: FROM rust:1 AS builder\n[1/2] STEP 3/3: RUN echo \"fn main() {}\" > m.rs  && cargo biuld\nerror: no such command: `biuld`\nError: building at STEP \"RUN echo \"fn main() {}\" > m.rs  && cargo biuld\": while running runtime: exit status 101\n";
        assert_eq!(build_error_line(log, dockerfile), Some(3));
        assert_eq!(running_step_line(log, dockerfile), Some(3));
        assert_eq!(build_step("STEP 2/7: WORKDIR /app"), Some("STEP 2/7: WORKDIR /app"));
        assert_eq!(build_step("STEP is not a step"), None);
        assert_eq!(
            build_error(log),
            "building at STEP \"RUN echo \"fn main() {}\" > m.rs  && cargo biuld\": while running runtime: exit status 101; the first compiler error: error: no such command: `biuld`"
        );
        assert_eq!(build_error("nothing went wrong here\n"), "the log names no error");
    }

    #[test]
    fn a_rebuild_that_lost_the_cache_is_told_from_one_that_used_it() {
        let used = "#4 [builder 1/6] FROM docker.io/library/rust:1.95\n#4 DONE 0.0s\n#5 [builder 2/6] WORKDIR /app\n#5 CACHED\n#6 [builder 3/6] COPY Cargo.toml ./\n#6 CACHED\n#8 [builder 5/6] COPY src ./src\n#8 DONE 0.1s\n#9 [builder 6/6] RUN cargo build\n#9 2.0   Compiling server v0.1.0 (/app)\n";
        assert!(!lost_cache(used));
        // Docker 26.1 while another build of the same steps ran: WORKDIR ran again.
        let lost = used.replace("#5 CACHED\n", "#5 DONE 0.1s\n");
        assert!(lost_cache(&lost));
        // Buildah's log has no step ids: nothing is told.
        assert!(!lost_cache("STEP 2/6: WORKDIR /app\nSTEP 3/6: COPY Cargo.toml ./\n"));
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
    fn build_log_noise_is_left_out() {
        let log = "#1 [internal] load build definition\n#1 sha256:abc\n#1 transferring dockerfile: 1B done\n#1 DONE 0.0s\n#5 ERROR: boom\n";
        assert_eq!(telling_lines(log, 10), "#1 [internal] load build definition\n#5 ERROR: boom");
    }

    #[test]
    fn a_capped_log_keeps_its_head_and_tail_and_counts_the_rest() {
        let mut log = CappedLog::new(100);
        for i in 0..1000 {
            log.push(&format!("line {i:04}"));
        }
        let text = log.finish();
        assert!(text.len() < 200, "{} bytes kept", text.len());
        assert!(text.starts_with("line 0000\n") && text.ends_with("line 0999\n"), "{text}");
        assert!(text.contains("bytes of build output left out here"), "{text}");
        let mut small = CappedLog::new(100);
        small.push("only");
        assert_eq!(small.finish(), "only\n");
    }
}

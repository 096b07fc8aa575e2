//! The result of checking one step, and its two renderings: a terminal report for the
//! learner and JSON for tools (schema in checker/README.md).

use std::fmt::Write as _;

use console::style;
use serde::Serialize;

use crate::manifest::ByteSize;

/// Bumped when a field is removed or changes meaning; adding fields keeps it.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Text that comes from a build, a container, a Dockerfile or a file name, made safe for
/// every format: control characters are dropped (an ESC starts a terminal sequence that
/// could rewrite an instructor's screen; other bytes break annotations and XML), and so
/// are the bidirectional overrides that make text read otherwise than it is, and the two
/// noncharacters that XML 1.0 forbids (U+FFFE, U+FFFF). Newlines and tabs stay.
pub fn plain(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            let unsafe_control = c.is_control() && c != '\n' && c != '\t';
            let hidden = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}');
            !(unsafe_control || hidden)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
    /// The check itself could not run (the engine failed under it).
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// What the checker saw: the measured value on a pass, the problem on a failure.
    pub message: String,
    /// How to fix it (the manifest's `fix`).
    pub hint: String,
    /// Why it matters (the manifest's `why`).
    pub why: String,
    /// The book page that explains the check.
    pub book: String,
    /// For a skipped check: the failed check that blocked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The Dockerfile line the finding is about, when the check knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Supporting output: the end of a build log or of a container's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct ImageReport {
    /// The checker's size of the image, the same on every engine: the bytes of the files
    /// in its layers, as `docker save` streams them (see `layers::read_save`).
    pub size_bytes: Option<u64>,
    /// The engine's own figure (`docker images`), which differs by engine and image store.
    pub engine_size_bytes: Option<u64>,
    pub size_limit_bytes: u64,
    pub build_seconds: Option<f64>,
    /// The rebuild after a source-only change, when the step checks it.
    pub rebuild_seconds: Option<f64>,
    /// Time from the container's start to its first 200 on the checked path.
    pub first_response_ms: Option<u64>,
    pub context_bytes: u64,
    pub context_files: usize,
    /// The final image's layers, oldest first, each with the Dockerfile instruction and
    /// line that made it; the base image's layers together as its `FROM`.
    pub layers: Vec<crate::layers::LayerReport>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub step: String,
    pub title: String,
    /// Labels every image and container of this run (`dev.workshop.checker.run=<run_id>`).
    pub run_id: String,
    /// `learner`, `solution` or `context`.
    pub source: String,
    pub context: String,
    pub dockerfile: String,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
    pub image: ImageReport,
    /// The engine that ran the checks: sizes and timings mean little without it.
    pub engine: EngineReport,
    pub build_log: Option<String>,
    pub book: String,
}

/// What the run learned about the engine (`docker info`, read once).
#[derive(Debug, Default, Serialize)]
pub struct EngineReport {
    /// `docker` or `podman`.
    pub name: String,
    pub version: String,
    /// The storage driver, e.g. `overlay2`, or `overlayfs` on the containerd image store.
    pub driver: String,
    pub containerd_store: bool,
    pub rootless: bool,
    /// False on a rootless engine on cgroup v1, which discards the memory, process and CPU
    /// limits the checker sets on every container.
    pub limits_applied: bool,
    /// The engine's machine when it is another one: the server is then requested from a
    /// helper container inside the engine's network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

impl From<&crate::engine_info::Info> for EngineReport {
    fn from(info: &crate::engine_info::Info) -> Self {
        Self {
            name: if info.podman { "podman" } else { "docker" }.into(),
            version: info.version.clone(),
            driver: info.driver.clone(),
            containerd_store: info.containerd_store,
            rootless: info.rootless,
            limits_applied: !(info.rootless && info.cgroup_v1),
            remote: info.remote.clone(),
        }
    }
}

/// A space that does not break a line (textwrap breaks at ASCII spaces only).
const GLUE: char = '\u{a0}';

/// `text` with the spaces inside each `backquoted` part, "quoted" string and [JSON array]
/// glued, so that wrapping never splits them; a part longer than a line stays whole.
fn glued(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        let close = match chars[i] {
            '`' => '`',
            '"' => '"',
            '[' => ']',
            _ => {
                i += 1;
                continue;
            }
        };
        match chars[i + 1..].iter().take(120).position(|&c| c == close) {
            Some(end) => {
                for c in &mut out[i + 1..i + 1 + end] {
                    if *c == ' ' {
                        *c = GLUE;
                    }
                }
                i += end + 2;
            }
            None => i += 1,
        }
    }
    // A number and its unit stay together too: `92.5 MB`, `3 s`.
    for i in 1..chars.len().saturating_sub(1) {
        let unit: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_alphabetic()).collect();
        if chars[i] == ' '
            && chars[i - 1].is_ascii_digit()
            && matches!(unit.as_str(), "B" | "kB" | "MB" | "GB" | "s" | "ms")
        {
            out[i] = GLUE;
        }
    }
    out.into_iter().collect()
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// 0 all passed, 1 a check failed, 2 a check could not run.
    pub fn exit_code(&self) -> i32 {
        if self.count(Status::Error) > 0 {
            2
        } else if self.passed {
            0
        } else {
            1
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The terminal report, with explanations wrapped to `width` columns.
    pub fn to_human(&self, width: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} {} — {}", style("checker").bold(), style(&self.step).bold(), self.title);
        let _ = writeln!(out, "  context {} ({}), Dockerfile {}", self.context, self.source, self.dockerfile);
        if !self.engine.limits_applied {
            let _ = writeln!(
                out,
                "  note: this rootless engine on cgroup v1 does not apply the memory, process and CPU limits (see checker doctor)"
            );
        }
        let _ = writeln!(out);
        let id_width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &self.checks {
            let (mark, id) = match c.status {
                Status::Pass => (style("✓").green().bold(), style(&c.id).green()),
                Status::Fail => (style("✗").red().bold(), style(&c.id).red().bold()),
                Status::Skip => (style("-").dim(), style(&c.id).dim()),
                Status::Error => (style("!").yellow().bold(), style(&c.id).yellow().bold()),
            };
            let pad = " ".repeat(id_width - c.id.len());
            let indent = " ".repeat(id_width + 6);
            // Wrap at spaces only, never inside a path, a `quoted` part or a JSON array.
            let wrap = |first: &str, rest: &str, text: &str| {
                let options = textwrap::Options::new(width.max(indent.len() + 30))
                    .initial_indent(first)
                    .subsequent_indent(rest)
                    .break_words(false)
                    .word_separator(textwrap::WordSeparator::AsciiSpace)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation);
                textwrap::fill(&glued(text), options).replace(GLUE, " ")
            };
            match c.status {
                Status::Pass => {
                    let _ = writeln!(out, "{}", wrap(&format!("  {mark} {id}{pad}  "), &indent, &c.message));
                }
                Status::Skip => {
                    let _ = writeln!(out, "  {mark} {id}{pad}  {}", style(format!("skipped: {}", c.message)).dim());
                }
                Status::Fail | Status::Error => {
                    let _ = writeln!(out, "  {mark} {id}{pad}  {}", c.title);
                    let at = c.line.map(|l| format!(" (Dockerfile line {l})")).unwrap_or_default();
                    let rest = " ".repeat(indent.len() + 6);
                    for (label, text) in
                        [("seen:", format!("{}{at}", c.message)), ("why: ", c.why.clone()), ("fix: ", c.hint.clone())]
                    {
                        let _ = writeln!(out, "{}", wrap(&format!("{indent}{} ", style(label).bold()), &rest, &text));
                    }
                    let _ = writeln!(out, "{indent}{} {}", style("see: ").bold(), c.book);
                    if let Some(d) = &c.details {
                        for line in d.lines() {
                            let _ = writeln!(out, "{indent}  {}", style(format!("│ {line}")).dim());
                        }
                    }
                }
            }
        }
        let mut summary = vec![format!("{} passed", self.count(Status::Pass))];
        for (status, word) in [(Status::Fail, "failed"), (Status::Skip, "skipped"), (Status::Error, "could not run")] {
            let n = self.count(status);
            if n > 0 {
                summary.push(format!("{n} {word}"));
            }
        }
        if let Some(size) = self.image.size_bytes {
            summary.push(format!("image {} (limit {})", ByteSize(size), ByteSize(self.image.size_limit_bytes)));
        }
        let verdict = if self.passed { style("PASSED").green().bold() } else { style("NOT YET").red().bold() };
        let _ = writeln!(out, "\n{verdict} {}: {}", self.step, summary.join(", "));
        if let Some(log) = &self.build_log {
            let _ = writeln!(out, "  build log: {log}");
        }
        if !self.passed {
            let _ = writeln!(out, "  the chapter: {}   a hint: checker hint {}", self.book, self.step);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: format!("title of {id}"),
            status,
            message: format!("seen for {id}"),
            hint: format!("fix for {id}"),
            why: format!("why {id}"),
            book: format!("http://book/checks/{id}.html"),
            blocked_by: (status == Status::Skip).then(|| "image-builds".into()),
            line: (status == Status::Fail).then_some(7),
            details: None,
        }
    }

    fn report(checks: Vec<CheckResult>) -> Report {
        let passed = checks.iter().all(|c| c.status == Status::Pass);
        Report {
            schema_version: JSON_SCHEMA_VERSION,
            step: "step-5".into(),
            title: "A second stage".into(),
            run_id: "1-2".into(),
            source: "learner".into(),
            context: "steps/step-5".into(),
            dockerfile: "steps/step-5/Dockerfile".into(),
            passed,
            checks,
            image: ImageReport {
                size_bytes: Some(75_740_424),
                size_limit_bytes: 150_000_000,
                ..ImageReport::default()
            },
            engine: EngineReport { limits_applied: true, ..EngineReport::default() },
            build_log: Some(".checker/logs/step-5.build.log".into()),
            book: "http://book/step-5.html".into(),
        }
    }

    #[test]
    fn json_has_the_documented_fields() {
        let r = report(vec![
            result("image-builds", Status::Pass),
            result("multi-stage", Status::Fail),
            result("image-size", Status::Skip),
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["passed"], false);
        assert_eq!(v["image"]["size_bytes"], 75_740_424);
        let checks = v["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 3);
        for c in checks {
            for field in ["id", "status", "message", "hint", "book"] {
                assert!(c[field].is_string(), "check field {field}: {c}");
            }
        }
        assert_eq!(checks[1]["status"], "fail");
        assert_eq!(checks[1]["line"], 7);
        assert_eq!(checks[2]["status"], "skip");
        assert_eq!(checks[2]["blocked_by"], "image-builds");
        assert!(checks[0].get("blocked_by").is_none(), "absent optional fields are left out");
    }

    #[test]
    fn human_output_explains_failures_and_summarises() {
        console::set_colors_enabled(false);
        let r = report(vec![
            result("image-builds", Status::Pass),
            result("multi-stage", Status::Fail),
            result("image-size", Status::Skip),
        ]);
        let text = r.to_human(200);
        assert!(text.contains("✓ image-builds"), "{text}");
        assert!(text.contains("✗ multi-stage"), "{text}");
        assert!(text.contains("seen: seen for multi-stage (Dockerfile line 7)"), "{text}");
        for part in ["why:  why multi-stage", "fix:  fix for multi-stage", "see:  http://book/checks/multi-stage.html"]
        {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(text.contains("skipped: seen for image-size"), "{text}");
        assert!(
            text.contains("NOT YET step-5: 1 passed, 1 failed, 1 skipped, image 75.7 MB (limit 150.0 MB)"),
            "{text}"
        );
        assert!(text.contains("checker hint step-5"), "{text}");
        let narrow = r.to_human(60);
        // The explanations (indented under the check id) wrap; links never break.
        let explanation = " ".repeat("image-builds".len() + 6);
        for line in narrow.lines().filter(|l| l.starts_with(&explanation) && !l.contains("http")) {
            assert!(console::measure_text_width(line) <= 60, "{line:?} in\n{narrow}");
        }
        assert!(narrow.contains("seen: seen for"), "{narrow}");
    }

    #[test]
    fn wrapping_never_splits_a_path_a_quoted_part_or_a_json_array() {
        console::set_colors_enabled(false);
        let mut r = report(vec![result("exec-entrypoint", Status::Fail)]);
        r.checks[0].hint = "Replace the old CMD with `ENTRYPOINT [\"/server\", \"--port\", \"3030\"]` and copy the toolchain from /usr/local/cargo/bin/cargo nowhere: CMD [\"/bin/sh\", \"-c\", \"x\"] is shell form.".into();
        for width in 60..90 {
            let text = r.to_human(width);
            for whole in [
                "`ENTRYPOINT [\"/server\", \"--port\", \"3030\"]`",
                "/usr/local/cargo/bin/cargo",
                "[\"/bin/sh\", \"-c\", \"x\"]",
            ] {
                let flat = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
                assert!(flat.contains(whole), "width {width}: `{whole}` was split in\n{text}");
                assert!(
                    text.lines().any(|l| l.contains(whole)),
                    "width {width}: `{whole}` is not on one line in\n{text}"
                );
            }
        }
    }

    #[test]
    fn exit_codes_follow_the_worst_status() {
        assert_eq!(report(vec![result("a", Status::Pass)]).exit_code(), 0);
        assert_eq!(report(vec![result("a", Status::Pass), result("b", Status::Fail)]).exit_code(), 1);
        assert_eq!(report(vec![result("a", Status::Fail), result("b", Status::Error)]).exit_code(), 2);
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_dropped() {
        assert_eq!(plain("a\x1b[2J\x01b\u{9b}c\r\n\td\u{202e}e\u{fffe}\u{ffff}"), "a[2Jbc\n\tde");
        assert_eq!(plain("résumé ✓"), "résumé ✓");
    }
}

//! `checker doctor`: whether this machine can run the workshop (see `checker::doctor`).
//! In a terminal each line shows as soon as it is known; `--format json` prints the whole
//! report at the end. Exit 0 when no line fails, 1 otherwise.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;

use console::style;

use checker::doctor::{self, Check, Status};

use crate::cli::Format;

/// The widest line the doctor prints, whatever the terminal.
const MAX_COLUMNS: usize = 100;

pub fn run(workshop: anyhow::Result<PathBuf>, format: Format) -> u8 {
    let workshop = workshop.map_err(|e| format!("{e:#}"));
    let human = format != Format::Json;
    let terminal = std::io::stdout().is_terminal();
    let fancy = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let columns = match console::Term::stdout().size_checked() {
        Some((_, c)) if terminal => usize::from(c).clamp(60, MAX_COLUMNS),
        _ => MAX_COLUMNS,
    };
    let mut out = std::io::stdout();
    if human {
        let _ = writeln!(
            out,
            "{} — can this machine run the workshop?",
            style("checker doctor").bold().force_styling(fancy)
        );
    }
    let mut last_fix: Option<String> = None;
    let report = doctor::run(workshop, &mut |check| {
        if human {
            let _ = write!(out, "{}", render(check, last_fix.as_deref(), fancy, columns));
            let _ = out.flush();
        }
        last_fix = check.fix.clone();
    });
    if human {
        let failed = report.checks.iter().filter(|c| c.status == Status::Fail).count();
        let warned = report.checks.iter().filter(|c| c.status == Status::Warn).count();
        let warnings = match warned {
            0 => String::new(),
            1 => " (1 warning)".to_string(),
            n => format!(" ({n} warnings)"),
        };
        let verdict = match failed {
            0 => format!("{}: the workshop can run here{warnings}", style("ready").green().bold().force_styling(fancy)),
            n => format!(
                "{}: {n} line{} failed{warnings}; fix them, then run `checker doctor` again",
                style("not ready").red().bold().force_styling(fancy),
                if n == 1 { "" } else { "s" }
            ),
        };
        let _ = writeln!(out, "{verdict}");
    } else {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).expect("the report serializes"));
    }
    if report.ok { 0 } else { 1 }
}

/// One check: `  ok    name  detail`, its detail wrapped under itself, and the fix below
/// (or "as above" when it is the previous line's). A base image's line shows the image in
/// its detail.
fn render(check: &Check, previous_fix: Option<&str>, fancy: bool, columns: usize) -> String {
    const NAME: usize = 14;
    let status = format!("{:<4}", check.status.as_str());
    let status = match check.status {
        Status::Ok => style(status).green(),
        Status::Warn => style(status).yellow().bold(),
        Status::Fail => style(status).red().bold(),
    }
    .force_styling(fancy);
    let (name, detail) = match check.name.split_once(':') {
        Some((name, image)) => (name, format!("{image}: {}", check.detail)),
        None => (check.name.as_str(), check.detail.clone()),
    };
    let indent = " ".repeat(2 + 4 + 2 + NAME.max(name.len()) + 2);
    let name = format!("{name:<NAME$}");
    let detail = checker::report::plain(&detail);
    let width = columns.saturating_sub(indent.len()).max(30);
    let options = |w: usize| // Lines break at spaces only: never inside a path, a URL or a command.
        textwrap::Options::new(w)
            .break_words(false)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut text = String::new();
    for (i, line) in textwrap::wrap(&detail, options(width)).iter().enumerate() {
        if i == 0 {
            text.push_str(&format!("  {status}  {name}  {line}\n"));
        } else {
            text.push_str(&format!("{indent}{line}\n"));
        }
    }
    if let Some(fix) = &check.fix {
        let same = previous_fix == Some(fix.as_str());
        let fix = if same { "as above".to_string() } else { checker::report::plain(fix) };
        let label = "fix: ";
        let lines = textwrap::wrap(&fix, options(width.saturating_sub(label.len()).max(30)));
        for (i, line) in lines.iter().enumerate() {
            let lead =
                if i == 0 { style(label).bold().force_styling(fancy).to_string() } else { " ".repeat(label.len()) };
            text.push_str(&format!("{indent}{lead}{line}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_shows_its_status_name_detail_and_fix_wrapped_under_the_detail() {
        let check = Check {
            name: "engine".into(),
            status: Status::Fail,
            detail: "the engine does not answer (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)".into(),
            fix: Some("Start the engine (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd &` on Linux).".into()),
        };
        let text = render(&check, None, false, 80);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("  fail  engine          the engine does not answer"), "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
        let fix = lines.iter().position(|l| l.trim_start().starts_with("fix: Start the engine")).expect("a fix line");
        assert!(fix > 0 && lines[fix].starts_with(&" ".repeat(24)), "{text}");
        assert!(text.contains("unix:///var/run/docker.sock."), "a path is never split: {text}");
        let path = Check { detail: format!("{} /usr/bin/docker", "x".repeat(49)), ..check.clone() };
        assert!(
            render(&path, None, false, 80).contains("\n                        /usr/bin/docker\n"),
            "{}",
            render(&path, None, false, 80)
        );
        let ok = render(
            &Check { name: "disk".into(), status: Status::Ok, detail: "9 GB free".into(), fix: None },
            None,
            false,
            80,
        );
        assert_eq!(ok, "  ok    disk            9 GB free\n");
        let again = render(&check, check.fix.as_deref(), false, 80);
        assert!(again.contains("fix: as above") && !again.contains("systemctl"), "{again}");
        let image = Check { name: "base-image:debian:bookworm-slim".into(), detail: "on the engine".into(), ..check };
        let text = render(&image, None, false, 80);
        assert!(text.starts_with("  fail  base-image      debian:bookworm-slim: on the engine\n"), "{text}");
    }
}

//! Diffs between consecutive steps' solutions, and which step introduced each line of the
//! final Dockerfile, both computed from the files themselves.

use anyhow::{Context, Result};
use checker::manifest::Step;
use similar::TextDiff;
use std::collections::BTreeSet;
use std::path::Path;

/// The file as step `step`'s reference solution has it: the overlay's copy if the
/// solution changes it, else the step's own. Returns its path (relative to `root`) and
/// text, or `None` if neither exists.
pub fn solution_file(root: &Path, step: &Step, file: &str) -> Result<Option<(String, String)>> {
    for dir in [&step.solution, &step.dir] {
        let path = root.join(dir).join(file);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            return Ok(Some((format!("{dir}/{file}"), text)));
        }
    }
    Ok(None)
}

/// A unified diff with three lines of context, as `diff -u` or git would show it.
pub fn unified(old_name: &str, old: &str, new_name: &str, new: &str) -> String {
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// For each line of the last version, the versions that introduced or changed it.
///
/// Lines are followed through their commands rather than as whole lines, so that a
/// `RUN a && b` that a later version splits over several lines (`RUN a \`, `&& b \`,
/// `&& c`) keeps the history of `a` and `b`: each line is cut into its commands at ` && `,
/// without the continuation `\`, the `&&` and the `RUN` keyword, and the commands of
/// consecutive versions are diffed. A command that one version rewrites (in a run of
/// changed commands, the old one it resembles most, each old one taken once) keeps its
/// history; any other new command starts one. A line's history is its commands'.
pub fn histories(versions: &[&str]) -> Vec<BTreeSet<usize>> {
    let Some(first) = versions.first() else { return Vec::new() };
    let mut old = commands(first);
    let mut history = vec![BTreeSet::from([0]); old.len()];
    for (i, version) in versions.iter().enumerate().skip(1) {
        let new = commands(version);
        let (old_text, new_text): (Vec<&str>, Vec<&str>) =
            (old.iter().map(|c| c.1.as_str()).collect(), new.iter().map(|c| c.1.as_str()).collect());
        let mut next = Vec::with_capacity(new.len());
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_text, &new_text) {
            let (olds, news) = (op.old_range(), op.new_range());
            if op.tag() == similar::DiffTag::Equal {
                next.extend(olds.map(|o| history[o].clone()));
                continue;
            }
            let mut taken = BTreeSet::new();
            for n in news {
                let resembled = olds
                    .clone()
                    .filter(|o| !taken.contains(o))
                    .map(|o| (o, resemblance(old_text[o], new_text[n])))
                    .filter(|&(_, ratio)| ratio >= 0.6)
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let mut h = resembled.map(|(o, _)| history[o].clone()).unwrap_or_default();
                taken.extend(resembled.map(|(o, _)| o));
                h.insert(i);
                next.push(h);
            }
        }
        (old, history) = (new, next);
    }
    let lines = versions.last().map_or(0, |v| v.lines().count());
    let mut by_line = vec![BTreeSet::new(); lines];
    for ((line, _), h) in old.iter().zip(history) {
        by_line[*line].extend(h);
    }
    by_line
}

/// How alike two commands are, from 0 to 1: the better of their characters' and their
/// words' similarity (a command that gains an option keeps most of its words even when
/// the option is longer than the command).
fn resemblance(old: &str, new: &str) -> f32 {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.split(' ').collect(), new.split(' ').collect());
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
    let by_words = similar::get_diff_ratio(&ops, a.len(), b.len());
    TextDiff::from_chars(old, new).ratio().max(by_words)
}

/// The commands of a Dockerfile, each with the index of its line: a comment is one
/// command; an instruction's line is cut at ` && `, without the `&&`, a continuation `\`
/// or the `RUN` keyword, its spaces collapsed. Blank lines have none.
fn commands(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            found.push((n, line.to_string()));
            continue;
        }
        let line = line.strip_suffix('\\').unwrap_or(line);
        for part in line.split(" && ") {
            let part = part.trim().trim_start_matches("&&").trim();
            let part = part.strip_prefix("RUN ").unwrap_or(part);
            let part = part.split_whitespace().collect::<Vec<_>>().join(" ");
            if !part.is_empty() {
                found.push((n, part));
            }
        }
    }
    found
}

/// `text` with each line over `width` characters wrapped at its spaces, for a code block
/// of the book. A continuation keeps the line's indentation and its `│ ` margin (how the
/// checker marks a log excerpt), two columns further in. A word is never split: a word
/// too long for any line (a path, a URL, a digest) goes on a line of its own, the only
/// kind of line over `width`, so that the code block scrolls no further than it must;
/// but a label and such a word (`see:  http://…`) stay together, since parting them
/// would not shorten the line.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (line, end) = line.strip_suffix('\n').map_or((line, ""), |l| (l, "\n"));
        let wrapped = wrap(line, width);
        let fits = wrapped.iter().all(|l| l.chars().count() <= width);
        if !fits && line[margin(line)..].split_whitespace().count() <= 2 {
            out.push_str(line);
        } else {
            out.push_str(&wrapped.join("\n"));
        }
        out.push_str(end);
    }
    out
}

/// The bytes before a line's text: its indentation and the `│ ` of a log excerpt.
fn margin(line: &str) -> usize {
    let indent = line.len() - line.trim_start().len();
    indent + if line[indent..].starts_with("│ ") { "│ ".len() } else { 0 }
}

/// One line cut at spaces into lines of at most `width` characters where its words allow.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let margin = margin(line);
    let continuation = format!("{}  ", &line[..margin]);
    let (mut lines, mut current, mut start) = (Vec::new(), line.to_string(), margin);
    while current.chars().count() > width {
        let limit = current.char_indices().nth(width).map_or(current.len(), |(i, _)| i);
        let body = &current[start..];
        // The last space within the width that has a word before it and parts no number
        // from its unit, else the end of the first word (too long for any line: it goes
        // alone).
        let within = body[..limit.saturating_sub(start)]
            .match_indices(' ')
            .map(|(i, _)| i)
            .rfind(|&i| !body[..i].trim().is_empty() && !number_and_unit(&body[..i], &body[i + 1..]));
        let lead = body.len() - body.trim_start().len();
        let Some(cut) = within.or_else(|| body[lead..].find(' ').map(|i| lead + i)) else { break };
        let (head, tail) = current.split_at(start + cut);
        let (head, tail) = (head.trim_end().to_string(), tail.trim_start().to_string());
        lines.push(head);
        if tail.is_empty() {
            return lines;
        }
        current = format!("{continuation}{tail}");
        start = continuation.len();
    }
    lines.push(current);
    lines
}

/// Whether the space between `before` and `after` parts a number from its unit (`1.9 MB`,
/// `16.6 s`), which a reader must not find on two lines.
fn number_and_unit(before: &str, after: &str) -> bool {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "KiB", "MiB", "GiB", "ms", "s", "min", "%"];
    let number = before.rsplit(' ').next().unwrap_or_default();
    let unit = after.split([' ', ',', '.', ')', ';', ':']).next().unwrap_or_default();
    number.chars().next_back().is_some_and(|c| c.is_ascii_digit())
        && number.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '(' | '~'))
        && UNITS.contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_word_too_long_for_any_line_passes_the_width_alone_on_its_line() {
        let digest = "f8a694b8-6dd8-4d3a-9b01-ce4de57f20ad::5in82ufg3vr5x5zt1olxm31lx".repeat(2);
        let line = format!("  │ ERROR: failed to calculate checksum of ref {digest}: \"/app/target\": not found");
        let wrapped = fit(&line, 60);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert_eq!(
            lines,
            [
                "  │ ERROR: failed to calculate checksum of ref",
                &format!("  │   {digest}:"),
                "  │   \"/app/target\": not found"
            ]
        );
    }

    #[test]
    fn a_number_stays_with_its_unit() {
        let line = format!("{} 1.9 MB of 20 MB", "x".repeat(70));
        let wrapped = fit(&line, 75);
        assert_eq!(wrapped, format!("{}\n  1.9 MB of 20 MB", "x".repeat(70)), "{wrapped}");
        assert!(number_and_unit("took 16.6", "s, then"));
        assert!(!number_and_unit("step 8", "after"), "a number and a word may part");
    }

    #[test]
    fn a_kept_or_rewritten_line_keeps_its_history_and_a_new_line_starts_one() {
        let v0 = "FROM a\nRUN x\nCMD y\n";
        let v1 = "FROM a AS b\nRUN x\nCMD y\n";
        let v2 = "FROM a AS b\nRUN x\nFROM scratch\nCMD y\n";
        let h = |s: &[usize]| s.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(histories(&[v0, v1, v2]), vec![h(&[0, 1]), h(&[0]), h(&[2]), h(&[0])]);
        assert_eq!(histories(&[v0]), vec![h(&[0]); 3]);
    }

    #[test]
    fn the_diff_names_both_files_and_marks_the_changes() {
        let diff = unified("a/Dockerfile", "FROM a\nCMD y\n", "b/Dockerfile", "FROM a\nUSER 1\nCMD y\n");
        assert!(diff.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n"), "{diff}");
        assert!(diff.contains("\n+USER 1\n") && diff.contains("\n FROM a\n"), "{diff}");
    }

    #[test]
    fn fit_wraps_long_lines_at_spaces_under_their_margin_and_never_splits_a_word() {
        let log = "  │ failed to solve with frontend dockerfile.v0: failed to create LLB definition\n";
        assert_eq!(
            fit(log, 40),
            "  │ failed to solve with frontend\n  │   dockerfile.v0: failed to create\n  │   LLB definition\n"
        );
        assert_eq!(fit("short\n  also short", 40), "short\n  also short", "lines that fit are untouched");
        // A URL that overflows even alone keeps its label: wrapping would not help.
        let see = "      see:  http://localhost:3000/checks/no-toolchain-in-final.html";
        assert_eq!(fit(see, 40), see);
        // One that fits alone goes on a line of its own.
        assert_eq!(fit(see, 65), "      see:\n        http://localhost:3000/checks/no-toolchain-in-final.html");
        for line in fit(log, 40).lines() {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
    }

    #[test]
    fn a_run_split_over_three_lines_keeps_the_history_of_its_commands() {
        // Steps 1, 3 and 4 of the workshop: step 3 puts the build after a `touch` in a
        // second RUN, after a new dependency layer; step 4 splits that RUN over three
        // lines and adds `--target` to both builds.
        let step1 = "FROM rust\nCOPY . .\nRUN cargo build --release --locked\nCMD [\"/server\"]\n";
        let step3 = "FROM rust\nCOPY Cargo.toml ./\nRUN mkdir src \\\n && cargo build --release --locked \\\n && rm -rf src\n\
                     COPY . .\nRUN touch src/main.rs && cargo build --release --locked\nCMD [\"/server\"]\n";
        let step4 = "FROM rust\nCOPY Cargo.toml ./\nRUN mkdir src \\\n && cargo build --release --locked --target \"$(uname -m)-unknown-linux-gnu\" \\\n\
                     && rm -rf src\nCOPY . .\nRUN touch src/main.rs \\\n && cargo build --release --locked --target \"$(uname -m)-unknown-linux-gnu\" \\\n\
                     && cp \"target/$(uname -m)-unknown-linux-gnu/release/server\" /app/server\nCMD [\"/server\"]\n";
        let h = |s: &[usize]| s.iter().copied().collect::<BTreeSet<_>>();
        let last: Vec<&str> = step4.lines().collect();
        let history = histories(&[step1, step3, step4]);
        let of = |start: &str| history[last.iter().position(|l| l.trim_start().starts_with(start)).unwrap()].clone();
        assert_eq!(of("RUN touch"), h(&[1]), "the touch came with step 3");
        assert_eq!(history[7], h(&[0, 2]), "the real build goes back to step 1 and changed in step 4");
        assert_eq!(of("&& cp"), h(&[2]), "the copy is new in step 4");
        assert_eq!(of("RUN mkdir"), h(&[1]));
        assert_eq!(history[3], h(&[1, 2]), "the dependency build is new in step 3");
        assert_eq!(of("COPY . ."), h(&[0]));
        assert_eq!(of("CMD"), h(&[0]));
    }
}

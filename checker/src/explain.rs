//! A book page for the terminal (`checker explain`): mdBook's `{{#include}}` directives
//! resolved as mdBook resolves them, and the markdown rendered plainly (headings
//! underlined, code fences kept, links as `text (target)`), so that a learner reads the
//! page offline, without `mdbook serve`.

use std::path::Path;
use std::sync::LazyLock;

use console::style;
use regex::Regex;

/// How deep includes may nest, as in mdBook (`MAX_LINK_NESTED_DEPTH`).
const MAX_DEPTH: usize = 10;

/// mdBook's link directives: an escaped one (`\{{#…}}`), or `{{#type target}}`.
static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\\{\{#[^}]*\}\}|\{\{\s*#([a-zA-Z0-9_]+)\s+([^}]+)\}\}").expect("the directive pattern")
});

/// `text` with every `{{#include path}}` (and `{{#rustdoc_include}}`) replaced by the part
/// of the file it selects, the file read relative to `dir`, the folder of the page (or of
/// the including file: includes nest). `\{{#include …}}` shows the directive itself. An
/// include that cannot be read shows a bracketed note naming the file, never the directive.
pub fn resolve_includes(text: &str, dir: &Path) -> String {
    resolve(text, dir, 0)
}

fn resolve(text: &str, dir: &Path, depth: usize) -> String {
    DIRECTIVE
        .replace_all(text, |c: &regex::Captures<'_>| {
            let whole = &c[0];
            if let Some(escaped) = whole.strip_prefix('\\') {
                return escaped.to_string();
            }
            if !matches!(&c[1], "include" | "rustdoc_include") {
                return whole.to_string();
            }
            // The target, then space-separated properties that includes do not use.
            let target = c[2].split_whitespace().next().unwrap_or_default();
            let (file, selector) = match target.split_once(':') {
                Some((file, selector)) => (file, Some(selector)),
                None => (target, None),
            };
            let path = dir.join(file);
            match std::fs::read_to_string(&path) {
                Ok(content) if depth < MAX_DEPTH => {
                    let region = select(&content, selector);
                    resolve(&region, path.parent().unwrap_or(dir), depth + 1)
                }
                Ok(_) => format!("[{file}: includes nest more than {MAX_DEPTH} deep]"),
                Err(e) => format!("[the book includes {file} here, which cannot be read: {e}]"),
            }
        })
        .into_owned()
}

/// The lines of `content` that an include's selector shows, as mdBook's
/// `parse_range_or_anchor` reads it: none or empty for the whole file, `N` for line N,
/// `N:M`, `N:` and `:M` for ranges (1-based, inclusive), anything else for an anchor
/// (the lines between `ANCHOR: name` and `ANCHOR_END: name`, without other anchor lines).
/// Lines past the end are simply not there; an anchor not found shows nothing.
pub fn select(content: &str, selector: Option<&str>) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let take = |start: usize, end: usize| {
        let end = end.min(lines.len());
        lines[start.min(end)..end].join("\n")
    };
    let mut parts = selector.unwrap_or_default().splitn(3, ':');
    let start = match parts.next() {
        Some("") | None => None,
        Some(first) => match first.parse::<usize>() {
            Ok(line) => Some(line.saturating_sub(1)),
            Err(_) => return anchored(&lines, first),
        },
    };
    let end = parts.next().map(str::parse::<usize>);
    match (start, end) {
        (Some(start), Some(Ok(end))) => take(start, end),
        (Some(start), Some(Err(_))) => take(start, lines.len()),
        (Some(start), None) => take(start, start + 1),
        (None, Some(Ok(end))) => take(0, end),
        (None, None | Some(Err(_))) => lines.join("\n"),
    }
}

fn anchored(lines: &[&str], anchor: &str) -> String {
    static START: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"ANCHOR:\s*([\w_-]+)").expect("anchor"));
    static END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*([\w_-]+)").expect("anchor end"));
    let names = |re: &Regex, line: &str| re.captures(line).is_some_and(|c| &c[1] == anchor);
    let Some(begin) = lines.iter().position(|l| names(&START, l)) else { return String::new() };
    lines[begin + 1..]
        .iter()
        .take_while(|l| !names(&END, l))
        .filter(|l| !START.is_match(l) && !END.is_match(l))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markdown for a terminal, line by line: headings lose their `#` and get a rule under
/// them, code fences and their contents stay as they are, `[text](target)` becomes
/// `text (link(target))`, an image `[image: alt]`, `**bold**` loses its stars; code spans
/// keep their backticks. `color` adds bold headings, dim fences and coloured code spans.
pub fn render(markdown: &str, link: &dyn Fn(&str) -> String, color: bool) -> String {
    let mut out = String::new();
    let mut paragraph = String::new();
    let mut fence: Option<String> = None;
    let flush = |paragraph: &mut String, out: &mut String| {
        if !paragraph.is_empty() {
            out.push_str(&inline(paragraph, link, color));
            paragraph.clear();
        }
    };
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        let opens = marker.len() >= 3 && marker.chars().all(|c| c == marker.chars().next().unwrap_or('`'));
        match &fence {
            Some(open) => {
                let closes = opens && marker.starts_with(open.as_str()) && trimmed[marker.len()..].trim().is_empty();
                if closes {
                    fence = None;
                    out.push_str(&paint(line, color, |s| s.dim()));
                } else {
                    out.push_str(line);
                }
                out.push('\n');
                continue;
            }
            None if opens && line.len() - trimmed.len() < 4 => {
                flush(&mut paragraph, &mut out);
                fence = Some(marker);
                out.push_str(&paint(line, color, |s| s.dim()));
                out.push('\n');
                continue;
            }
            None => {}
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let heading = (1..=6).contains(&level) && (trimmed.len() == level || trimmed[level..].starts_with(' '));
        if heading && line.len() - trimmed.len() < 4 {
            flush(&mut paragraph, &mut out);
            let text = inline(trimmed[level..].trim().trim_end_matches('#').trim_end(), link, color);
            let width = console::measure_text_width(&text);
            out.push_str(&paint(&text, color, |s| s.bold()));
            out.push('\n');
            match level {
                1 => out.push_str(&format!("{}\n", "=".repeat(width))),
                2 => out.push_str(&format!("{}\n", "-".repeat(width))),
                _ => {}
            }
            continue;
        }
        paragraph.push_str(line);
        paragraph.push('\n');
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

fn paint(text: &str, color: bool, f: fn(console::StyledObject<&str>) -> console::StyledObject<&str>) -> String {
    f(style(text).force_styling(color)).to_string()
}

/// A paragraph's inline markdown (it may span lines): code spans, images, links, bold.
fn inline(text: &str, link: &dyn Fn(&str) -> String, color: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\\' && rest[1..].starts_with(|c: char| c.is_ascii_punctuation()) {
            out.push_str(&rest[1..2]);
            rest = &rest[2..];
            continue;
        }
        if c == '`' {
            let ticks = rest.len() - rest.trim_start_matches('`').len();
            let fence = &rest[..ticks];
            if let Some(end) = rest[ticks..].find(fence) {
                let span = &rest[..ticks + end + ticks];
                out.push_str(&paint(span, color, |s| s.cyan()));
                rest = &rest[span.len()..];
            } else {
                out.push_str(fence);
                rest = &rest[ticks..];
            }
            continue;
        }
        if let Some((label, target, used)) = link_at(rest) {
            let image = rest.starts_with('!');
            let label = inline(label, link, color);
            if image {
                out.push_str(&format!("[image: {label}]"));
            } else {
                let target = link(target);
                if target == label || target.is_empty() {
                    out.push_str(&label);
                } else {
                    out.push_str(&format!("{label} ({})", paint(&target, color, |s| s.underlined())));
                }
            }
            rest = &rest[used..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
            && end > 0
        {
            out.push_str(&paint(&inline(&after[..end], link, color), color, |s| s.bold()));
            rest = &after[end + 2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A link (`[label](target "title")`) or image (`![alt](target)`) at the start of `text`:
/// its label, its target and how many bytes it takes.
fn link_at(text: &str) -> Option<(&str, &str, usize)> {
    let open = usize::from(text.starts_with('!'));
    if !text[open..].starts_with('[') {
        return None;
    }
    let mut depth = 0;
    let mut close = None;
    for (i, c) in text[open..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            '\n' if text[open + i + 1..].starts_with('\n') => return None,
            _ => {}
        }
    }
    let close = close?;
    let after = text[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let target = after[..end].split_whitespace().next().unwrap_or_default();
    Some((&text[open + 1..close], target.trim_matches(['<', '>']), close + 2 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_pick_the_lines_mdbook_picks() {
        let text = "a\n# ANCHOR: x\nb\n# ANCHOR: inner\nc\n# ANCHOR_END: inner\n# ANCHOR_END: x\nd";
        assert_eq!(select(text, None), text);
        assert_eq!(select(text, Some("")), text);
        assert_eq!(select(text, Some("x")), "b\nc", "anchor lines inside are left out");
        assert_eq!(select(text, Some("inner")), "c");
        assert_eq!(select(text, Some("missing")), "");
        assert_eq!(select(text, Some("1")), "a");
        assert_eq!(select(text, Some("3:5")), "b\n# ANCHOR: inner\nc");
        assert_eq!(select(text, Some(":1")), "a");
        assert_eq!(select(text, Some("8:")), "d");
        assert_eq!(select(text, Some("7:99")), "# ANCHOR_END: x\nd", "past the end is simply not there");
        assert_eq!(select(text, Some("20")), "");
        assert_eq!(select("a\nb\n", None), "a\nb", "a whole file loses its last newline, as in mdBook");
    }

    #[test]
    fn includes_resolve_relative_to_the_including_file_and_nest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("page/sub")).unwrap();
        std::fs::write(dir.path().join("page/sub/inner.txt"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(dir.path().join("page/outer.md"), "before {{#include sub/inner.txt:2}} after").unwrap();
        let page = "x\n{{#include outer.md}}\n{{ #include sub/inner.txt:2:3 }}\n\\{{#include kept}}\n{{#title T}}\n";
        let shown = resolve_includes(page, &dir.path().join("page"));
        assert_eq!(shown, "x\nbefore two after\ntwo\nthree\n{{#include kept}}\n{{#title T}}\n");
        let missing = resolve_includes("{{#include nowhere.txt}}", dir.path());
        assert!(missing.starts_with("[the book includes nowhere.txt here, which cannot be read:"), "{missing}");
        std::fs::write(dir.path().join("loop.md"), "{{#include loop.md}}").unwrap();
        let looped = resolve_includes("{{#include loop.md}}", dir.path());
        assert!(looped.contains("nest more than 10 deep") && !looped.contains("{{#"), "{looped}");
    }

    #[test]
    fn markdown_renders_plainly() {
        let link = |target: &str| format!("<{target}>");
        let page = "# dependency-cache: A title\n\nSee [the step](../step-3.md) and\n[a check\nacross lines](x.md).\n\n\
                    ## How to fix it\n\n- **Bold** and `code [not](a-link)` and ![chart](c.svg)\n\n\
                    ```dockerfile\n# not a heading\nRUN [\"x\"](y)\n```\n### Third\ntext\n";
        let shown = render(page, &link, false);
        let expected = "dependency-cache: A title\n=========================\n\nSee the step (<../step-3.md>) and\n\
                        a check\nacross lines (<x.md>).\n\nHow to fix it\n-------------\n\n\
                        - Bold and `code [not](a-link)` and [image: chart]\n\n\
                        ```dockerfile\n# not a heading\nRUN [\"x\"](y)\n```\nThird\ntext\n";
        assert_eq!(shown, expected);
        let coloured = render(page, &link, true);
        assert_ne!(coloured, shown);
        assert_eq!(console::strip_ansi_codes(&coloured), shown, "colour changes nothing but the colour");
    }
}

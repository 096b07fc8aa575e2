//! The glossary and the step chapters agree: every term the glossary lists has its own
//! heading, every heading is a term this test knows how to spot, and each step chapter
//! links every glossary term it uses, at its first use, to `glossary.md#<anchor>`.

use book_tools::repo_root;
use checker::manifest::Manifest;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Each glossary term: its heading, and how a chapter's prose uses it. A use is the
/// first match of the pattern in the chapter's prose (see [`prose`]).
const TERMS: &[(&str, &str)] = &[
    ("Base image", r"(?i)\bbase\s+images?\b"),
    ("BuildKit", r"\bBuildKit\b"),
    ("Build context", r"(?i)\bbuild\s+contexts?\b"),
    ("Cache mount", r"(?i)\bcache\s+mounts?\b"),
    (".dockerignore", r"\.dockerignore\b"),
    ("ELF interpreter", r"(?i)\bELF\s+interpreter\b|\bPT_INTERP\b|\bloaders?\b"),
    ("Exec form and shell form", r"(?i)\b(exec|shell)[-\s]+form\b"),
    ("Image store", r"(?i)\bimage\s+stores?\b"),
    ("Layer", r"(?i)\blayers?\b"),
    ("PID 1", r"\bPID\s+1\b"),
    ("scratch", r"\bscratch\b"),
    ("SIGTERM", r"\bSIGTERM\b"),
    ("Stage", r"(?i)\bstages?\b"),
    ("Static binary and static PIE", r"(?i)\bstatic\s+(binary|binaries|executable|PIE)\b|\bstatically\s+linked\b"),
    ("Tag and digest", r"(?i)\b(tags?|digests?)\b"),
    ("Target triple", r"(?i)\btriples?\b"),
];

/// The id mdBook gives a heading: lower case, spaces to `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn src() -> PathBuf {
    repo_root().join("book/src")
}

/// `text` with everything that is not the chapter's own running prose blanked out
/// (offsets are kept): code blocks, headings, includes, link targets, the text of links
/// to other pages (a term there cannot be linked again), and inline code that names a
/// check (`multi-stage` is a check, not a use of "stage").
fn prose(text: &str, check_ids: &BTreeSet<String>) -> String {
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    let mut blank = |from: usize, to: usize| {
        for b in &mut out[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut offset = 0;
    let mut in_fence = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        if fence || in_fence || trimmed.starts_with('#') || trimmed.starts_with("{{#") {
            blank(offset, offset + line.len());
        }
        if fence {
            in_fence = !in_fence;
        }
        offset += line.len();
    }
    for m in Regex::new(r"\{\{#[^}]*\}\}").unwrap().find_iter(text) {
        blank(m.start(), m.end());
    }
    for c in Regex::new(r"!?\[([^\]]*)\]\(([^)]*)\)").unwrap().captures_iter(text) {
        let target = c.get(2).unwrap();
        blank(target.start() - 2, target.end() + 1);
        if !target.as_str().starts_with("glossary.md#") {
            let whole = c.get(0).unwrap();
            blank(whole.start(), whole.end());
        }
    }
    for m in Regex::new(r"`([^`\n]+)`").unwrap().captures_iter(text) {
        if check_ids.contains(&m[1]) {
            let whole = m.get(0).unwrap();
            blank(whole.start(), whole.end());
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced")
}

/// What is wrong with `text`'s glossary links: for each term it uses, the first use must
/// lie in the text of a link to the term's anchor.
fn problems(name: &str, text: &str, terms: &[(String, Regex)], check_ids: &BTreeSet<String>) -> Vec<String> {
    let prose = prose(text, check_ids);
    let links: Vec<(String, std::ops::Range<usize>)> = Regex::new(r"\[([^\]]*)\]\(glossary\.md#([^)\s]+)\)")
        .unwrap()
        .captures_iter(text)
        .map(|c| (c[2].to_string(), c.get(1).unwrap().range()))
        .collect();
    let known: BTreeSet<&str> = terms.iter().map(|(a, _)| a.as_str()).collect();
    let line_of = |at: usize| text[..at].lines().count().max(1);
    let mut found = Vec::new();
    for (to, at) in &links {
        if !known.contains(to.as_str()) {
            found.push(format!("{name}:{}: links to glossary.md#{to}, which is no glossary term", line_of(at.start)));
        }
    }
    for (anchor, pattern) in terms {
        let Some(first) = pattern.find(&prose) else { continue };
        let linked = links.iter().any(|(to, at)| to == anchor && at.contains(&first.start()));
        if !linked {
            found.push(format!(
                "{name}:{}: the first use of `{}` is not a link to glossary.md#{anchor}",
                line_of(first.start()),
                first.as_str()
            ));
        }
    }
    found
}

fn terms() -> Vec<(String, Regex)> {
    TERMS.iter().map(|(heading, pattern)| (anchor(heading), Regex::new(pattern).unwrap())).collect()
}

fn check_ids() -> BTreeSet<String> {
    Manifest::load(&repo_root().join("workshop.toml")).unwrap().checks.keys().cloned().collect()
}

#[test]
fn every_glossary_term_has_a_heading_and_every_heading_is_a_term() {
    let glossary = read(&src().join("glossary.md"));
    let headings: BTreeSet<String> =
        glossary.lines().filter_map(|l| l.strip_prefix("## ")).map(|h| h.trim().to_string()).collect();
    let expected: BTreeSet<String> = TERMS.iter().map(|(h, _)| h.to_string()).collect();
    let missing: Vec<_> = expected.difference(&headings).collect();
    let unknown: Vec<_> = headings.difference(&expected).collect();
    assert!(missing.is_empty(), "glossary.md has no `## ` heading for {missing:?}");
    assert!(
        unknown.is_empty(),
        "glossary.md defines {unknown:?}: add each to TERMS with the pattern that spots its use"
    );
    // The list at the top names every term, each linked to its heading.
    let listed: BTreeSet<String> = Regex::new(r"(?m)^- \[[^\]]+\]\(#([^)]+)\)$")
        .unwrap()
        .captures_iter(&glossary)
        .map(|c| c[1].to_string())
        .collect();
    let anchors: BTreeSet<String> = TERMS.iter().map(|(h, _)| anchor(h)).collect();
    assert_eq!(listed, anchors, "the list at the top of glossary.md and its headings differ");
}

#[test]
fn each_step_chapter_links_every_glossary_term_it_uses_at_its_first_use() {
    let manifest = Manifest::load(&repo_root().join("workshop.toml")).unwrap();
    let (terms, ids) = (terms(), check_ids());
    let mut found = Vec::new();
    for step in &manifest.steps {
        let page = step.book.replace(".html", ".md");
        found.extend(problems(&page, &read(&src().join(&page)), &terms, &ids));
    }
    assert!(found.is_empty(), "glossary links missing:\n{}", found.join("\n"));
}

#[test]
fn an_unlinked_or_late_linked_use_fails_and_code_headings_and_other_links_do_not_count() {
    let (terms, ids) = (terms(), check_ids());
    let check = |text: &str| problems("t.md", text, &terms, &ids);
    assert_eq!(check("Every instruction adds a layer.\n").len(), 1, "a use without a link");
    let late = "A layer here, and a [layer](glossary.md#layer) there.\n";
    assert!(check(late)[0].contains("first use of `layer`"), "a link after the first use");
    assert!(check("A [layer](glossary.md#layer), then a layer.\n").is_empty());
    assert!(check("A [cached layer](glossary.md#stage).\n").len() == 1, "a link to the wrong term");
    assert!(check("See [it](glossary.md#no-such-term).\n")[0].contains("no glossary term"));
    let not_uses = "# A layer\n\n```dockerfile\nFROM scratch AS build\n```\n\n\
                    {{#include generated/layer.md}}\n[Step 6: FROM scratch](step-6.md), `multi-stage`\n";
    assert_eq!(check(not_uses), Vec::<String>::new());
    assert_eq!(anchor(".dockerignore"), "dockerignore");
    assert_eq!(anchor("Static binary and static PIE"), "static-binary-and-static-pie");
}

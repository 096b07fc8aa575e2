//! No page gives a step's solution away unasked: every include of a solution file sits
//! inside a `<details>` block, as the chapters do, so that a `see:` link from a failed
//! check does not show the answer.

use std::path::Path;

/// The lines of `page` that include a solution file outside a `<details>` block.
fn exposed(page: &str) -> Vec<usize> {
    let mut open = 0usize;
    let mut found = Vec::new();
    for (n, line) in page.lines().enumerate() {
        open += line.matches("<details>").count();
        open = open.saturating_sub(line.matches("</details>").count());
        if line.contains("{{#include") && line.contains("/solution/") && open == 0 {
            found.push(n + 1);
        }
    }
    found
}

#[test]
fn solutions_are_only_shown_on_request() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let mut pages = vec![];
    for dir in [src.clone(), src.join("checks")] {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            // The whole Dockerfile's page is the final solution, on purpose and by its title.
            let whole = entry.file_name() == "whole-dockerfile.md";
            if entry.path().extension().is_some_and(|e| e == "md") && !whole {
                pages.push(entry.path());
            }
        }
    }
    assert!(pages.len() > 20, "the book's pages were not found in {}", src.display());
    let mut problems = Vec::new();
    for page in pages {
        let lines = exposed(&std::fs::read_to_string(&page).unwrap());
        if !lines.is_empty() {
            problems.push(format!("{} lines {lines:?}", page.display()));
        }
    }
    assert!(problems.is_empty(), "a solution shown outside <details>: {problems:#?}");
}

#[test]
fn the_rule_sees_an_exposed_include() {
    let open = "x\n```dockerfile\n{{#include ../../../steps/step-4/solution/Dockerfile}}\n```\n";
    assert_eq!(exposed(open), [3]);
    let hidden = format!("<details><summary>s</summary>\n\n{open}\n</details>\n");
    assert!(exposed(&hidden).is_empty());
}

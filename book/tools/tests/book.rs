//! The book, tested as its readers and the checker use it: it builds with the pinned
//! mdBook, every include shows something, every link lands, every page the checker links
//! exists, code is tagged, and a real browser renders the highlighted Dockerfiles.

mod browser;
use browser::headless;

use book_tools::{generate, repo_root};
use checker::manifest::{Kind, Manifest};
use regex::Regex;
use scraper::{Html, Selector};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn book_dir() -> PathBuf {
    repo_root().join("book")
}

/// The book, built once per test run into a temporary folder (kept for the browser test).
fn built() -> &'static Path {
    static OUT: OnceLock<tempfile::TempDir> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = tempfile::tempdir().expect("a temporary folder");
        let mut config =
            mdbook_driver::config::Config::from_disk(book_dir().join("book.toml")).expect("book.toml loads");
        config.build.build_dir = out.path().to_path_buf();
        let book = mdbook_driver::MDBook::load_with_config(book_dir(), config).expect("the book loads");
        book.build().expect("the book builds");
        out
    })
    .path()
}

/// Every Markdown source of the book, written by hand (the generated ones are tested
/// through the pages that include them).
fn sources() -> Vec<PathBuf> {
    let src = book_dir().join("src");
    walkdir::WalkDir::new(&src)
        .into_iter()
        .filter_entry(|e| e.path() != src.join("generated"))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

#[test]
fn generated_files_are_up_to_date() {
    let root = repo_root();
    let files = generate::generate(&root).expect("the generator runs");
    let stale = generate::stale(&root, &files);
    assert!(
        stale.is_empty(),
        "these files in book/src/generated are out of date: {stale:?}\nrun `cargo run -p book-tools -- generate` and commit them"
    );
}

/// The lines an include shows, resolved as mdBook does: `file`, `file:anchor`,
/// `file:line`, `file:start:end` (either side may be empty).
fn include_region(file_text: &str, selector: Option<&str>) -> Result<String, String> {
    let lines: Vec<&str> = file_text.lines().collect();
    let Some(selector) = selector else { return Ok(file_text.to_string()) };
    let number = |s: &str| s.parse::<usize>().map_err(|_| format!("`{s}` is not a line number"));
    let (start, end) = match selector.split_once(':') {
        Some((a, b)) => {
            (if a.is_empty() { 1 } else { number(a)? }, if b.is_empty() { lines.len() } else { number(b)? })
        }
        None if selector.chars().all(|c| c.is_ascii_digit()) => (number(selector)?, number(selector)?),
        None => {
            let begin = lines.iter().position(|l| l.contains(&format!("ANCHOR: {selector}")));
            let finish = lines.iter().position(|l| l.contains(&format!("ANCHOR_END: {selector}")));
            let (Some(b), Some(f)) = (begin, finish) else { return Err(format!("no anchor `{selector}`")) };
            return Ok(lines[b + 1..f]
                .iter()
                .filter(|l| !l.contains("ANCHOR"))
                .copied()
                .collect::<Vec<_>>()
                .join("\n"));
        }
    };
    if start == 0 || start > end || end > lines.len() {
        return Err(format!("lines {start} to {end} of a {}-line file", lines.len()));
    }
    Ok(lines[start - 1..end].join("\n"))
}

fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let re = Regex::new(r"\{\{\s*#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}").unwrap();
    re.captures_iter(text)
        .map(|c| match c[1].split_once(':') {
            Some((file, selector)) => (file.to_string(), Some(selector.to_string())),
            None => (c[1].to_string(), None),
        })
        .collect()
}

#[test]
fn every_include_resolves_to_a_non_empty_region() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in sources() {
        for (file, selector) in includes(&read(&page)) {
            count += 1;
            let target = page.parent().unwrap().join(&file);
            let shown = std::fs::read_to_string(&target)
                .map_err(|e| format!("{e}"))
                .and_then(|text| include_region(&text, selector.as_deref()));
            match shown {
                Ok(region) if region.trim().is_empty() => {
                    problems.push(format!("{}: {file} shows nothing", relative(&page)))
                }
                Ok(_) => {}
                Err(e) => problems.push(format!(
                    "{}: {file}{}: {e}",
                    relative(&page),
                    selector.map(|s| format!(":{s}")).unwrap_or_default()
                )),
            }
        }
    }
    assert!(count > 40, "only {count} includes found: the book should show the real files");
    assert!(problems.is_empty(), "includes that show nothing:\n{}", problems.join("\n"));
}

#[test]
fn the_include_parser_resolves_what_mdbook_resolves() {
    let text = "a\n# ANCHOR: x\nb\nc\n# ANCHOR_END: x\nd";
    assert_eq!(include_region(text, Some("x")).unwrap(), "b\nc");
    assert_eq!(include_region(text, Some("3:4")).unwrap(), "b\nc");
    assert_eq!(include_region(text, Some(":1")).unwrap(), "a");
    assert_eq!(include_region(text, Some("6")).unwrap(), "d");
    assert!(include_region(text, Some("y")).is_err() && include_region(text, Some("5:9")).is_err());
    assert_eq!(
        includes("x {{#include ../a.txt:2:3}} {{ #include b }}"),
        vec![("../a.txt".to_string(), Some("2:3".to_string())), ("b".to_string(), None)]
    );
}

#[test]
fn the_whole_dockerfile_page_shows_every_line_of_the_final_dockerfile() {
    let page = read(&book_dir().join("src/whole-dockerfile.md"));
    let files = generate::generate(&repo_root()).expect("the generator runs");
    let parts = files.keys().filter(|name| name.starts_with("whole/part-")).count();
    assert!(parts > 1, "{} declares {parts} parts", generate::PARTS);
    for part in 1..=parts {
        assert!(
            page.contains(&format!("generated/whole/part-{part}.txt")),
            "whole-dockerfile.md does not show part {part} of {}",
            generate::PARTS
        );
    }
    let next = format!("generated/whole/part-{}.txt", parts + 1);
    assert!(!page.contains(&next), "whole-dockerfile.md shows {next}, which {} does not declare", generate::PARTS);
    // Together the parts are the final Dockerfile, blank lines aside.
    let manifest = Manifest::load(&repo_root().join("workshop.toml")).unwrap();
    let last = manifest.steps.last().unwrap();
    let final_dockerfile = read(&repo_root().join(&last.solution).join("Dockerfile"));
    let shown: String = (1..=parts).map(|n| files[&format!("whole/part-{n}.txt")].as_str()).collect();
    let not_blank = |text: &str| text.lines().filter(|l| !l.trim().is_empty()).map(String::from).collect::<Vec<_>>();
    assert_eq!(not_blank(&shown), not_blank(&final_dockerfile), "the parts, in order, are the final Dockerfile");
}

#[test]
fn the_parts_of_the_whole_dockerfile_must_each_begin_at_one_line() {
    let root = tempfile::tempdir().unwrap();
    let copy = |path: &str| {
        let to = root.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(path), to).unwrap();
    };
    copy("workshop.toml");
    copy("bench/results.json");
    copy(generate::PARTS);
    let manifest = Manifest::load(&repo_root().join("workshop.toml")).unwrap();
    for step in &manifest.steps {
        for entry in walkdir::WalkDir::new(repo_root().join(&step.dir)).into_iter().filter_map(Result::ok) {
            if entry.file_type().is_file() {
                copy(&entry.path().strip_prefix(repo_root()).unwrap().to_string_lossy());
            }
        }
    }
    let parts = read(&repo_root().join(generate::PARTS));
    let with = |parts: &str| {
        std::fs::write(root.path().join(generate::PARTS), parts).unwrap();
        generate::generate(root.path()).map(|_| ()).map_err(|e| format!("{e:#}"))
    };
    assert_eq!(with(&parts), Ok(()), "the copy generates as the repository does");
    let first_line = parts.lines().find(|l| l.starts_with("begins")).unwrap();
    let err = with(&parts.replacen(first_line, "begins = \"COPY\"", 1)).unwrap_err();
    assert!(err.contains("3 lines of the final Dockerfile start with \"COPY\""), "{err}");
    let err = with(&parts.replacen(first_line, "begins = \"no such line\"", 1)).unwrap_err();
    assert!(err.contains("0 lines"), "{err}");
    let err = with(&parts.replacen(first_line, "begins = \"# Static linking\"", 1)).unwrap_err();
    assert!(err.contains("begins with \"WORKDIR\" comes before the one above it"), "{err}");
    // Without its first part, the file's first line is in no part.
    let err = with(&parts.replacen(&format!("[[parts]]\n{first_line}\n"), "", 1)).unwrap_err();
    assert!(err.contains("line 1 of the final Dockerfile is in no part"), "{err}");
}

#[test]
fn every_fence_is_tagged_and_no_rust_reaches_mdbook_test_untagged() {
    let mut problems = Vec::new();
    for page in sources() {
        let mut open: Option<String> = None;
        for (n, line) in read(&page).lines().enumerate() {
            let trimmed = line.trim_start();
            let fence = ["```", "~~~"].into_iter().find(|f| trimmed.starts_with(f));
            match (&open, fence) {
                (None, Some(f)) => {
                    let info = trimmed.trim_start_matches(f.chars().next().unwrap()).trim();
                    if info.is_empty() {
                        problems.push(format!("{}:{}: a code fence without a language", relative(&page), n + 1));
                    }
                    open = Some(f.to_string());
                }
                (Some(f), Some(g))
                    if f == g && trimmed.trim_start_matches(g.chars().next().unwrap()).trim().is_empty() =>
                {
                    open = None
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // With every fence tagged, what mdbook test compiles is only what is marked Rust and
    // not ignored; that must pass too.
    let mut book = mdbook_driver::MDBook::load(book_dir()).expect("the book loads");
    book.test(vec![]).expect("mdbook test passes");
}

/// Every relative href and src of every page, with the fragment if any.
fn links(out: &Path) -> Vec<(PathBuf, String)> {
    let selector = Selector::parse("a[href], img[src], link[href], script[src]").unwrap();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(out).into_iter().filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "html") {
            continue;
        }
        let html = Html::parse_document(&read(path));
        for element in html.select(&selector) {
            let value = element.value().attr("href").or(element.value().attr("src")).unwrap_or_default();
            if !value.contains("://") && !value.starts_with("mailto:") && !value.is_empty() {
                found.push((path.to_path_buf(), value.to_string()));
            }
        }
    }
    found
}

fn ids(page: &Path, cache: &mut BTreeMap<PathBuf, BTreeSet<String>>) -> BTreeSet<String> {
    cache
        .entry(page.to_path_buf())
        .or_insert_with(|| {
            let html = Html::parse_document(&read(page));
            html.select(&Selector::parse("[id]").unwrap())
                .filter_map(|e| e.value().attr("id"))
                .map(String::from)
                .collect()
        })
        .clone()
}

#[test]
fn every_internal_link_lands_on_a_page_and_an_anchor() {
    let out = built();
    let mut cache = BTreeMap::new();
    let mut broken = Vec::new();
    let all = links(out);
    assert!(all.len() > 500, "only {} links in the built book", all.len());
    for (page, link) in all {
        let (path, fragment) = link.split_once('#').map_or((link.as_str(), None), |(p, f)| (p, Some(f)));
        let path = path.split('?').next().unwrap();
        let target = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
        let target = if target.is_dir() { target.join("index.html") } else { target };
        if !target.exists() {
            broken.push(format!("{} links to {link}: no such file", relative_to(&page, out)));
        } else if let Some(fragment) =
            fragment.filter(|f| !f.is_empty() && target.extension().is_some_and(|x| x == "html"))
        {
            // print.html gathers every page and renames their anchors: mdBook's own affair.
            if page.ends_with("print.html") {
                continue;
            }
            if !ids(&target, &mut cache).contains(fragment) {
                broken.push(format!("{} links to {link}: no element with that id", relative_to(&page, out)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

fn relative_to(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).display().to_string()
}

#[test]
fn every_page_the_checker_links_to_exists() {
    let root = repo_root();
    let manifest = Manifest::load(&root.join("workshop.toml")).unwrap();
    let out = built();
    let mut urls: Vec<String> = manifest.steps.iter().map(|s| manifest.book_link(&s.book)).collect();
    urls.extend(manifest.checks.keys().map(|id| manifest.check_link(id)));
    assert_eq!(urls.len(), manifest.steps.len() + manifest.checks.len());
    for url in urls {
        let page = url.strip_prefix(&manifest.book_url).expect("links are under book_url").trim_start_matches('/');
        let path = out.join(page);
        assert!(path.exists(), "the checker links to {url}, but the book has no {page}");
        let html = read(&path);
        assert!(!html.contains("{{#include"), "{page} shows an include that did not resolve");
    }
}

#[test]
fn a_browser_renders_the_home_page_and_a_step_with_highlighted_dockerfiles() {
    let out = built();
    let shots = repo_root().join("target/book-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let manifest = Manifest::load(&repo_root().join("workshop.toml")).unwrap();
    // The step that brings in a second stage: its chapter shows its solution's COPY --from.
    let step = manifest
        .steps
        .iter()
        .find(|s| s.checks.iter().any(|id| matches!(manifest.checks[id].kind, Kind::MinStages { .. })))
        .expect("a step with a `min-stages` check");
    let last = manifest.steps.last().unwrap();
    let dockerfile = read(&repo_root().join(&step.solution).join("Dockerfile"));
    for (page, title) in [("index.html", "Introduction"), (step.book.as_str(), step.title.as_str())] {
        let dom = Html::parse_document(&headless(&out.join(page), (1280, 1600), &["--dump-dom"]));
        let text = |css: &str| {
            dom.select(&Selector::parse(css).unwrap()).map(|e| e.text().collect::<String>()).collect::<Vec<_>>()
        };
        let heading = text("main h1");
        assert!(heading.iter().any(|h| h.contains(title)), "{page}: the first heading is {heading:?}");
        assert!(
            text("title")[0].contains("Multi-stage Docker builds for a Rust server"),
            "{page}: title {:?}",
            text("title")
        );
        // The sidebar's table of contents is built by mdBook's script: it shows that
        // scripts ran, and that every chapter is listed.
        let chapters = text("ol.chapter li.chapter-item a");
        assert!(
            chapters.len() >= 30 && chapters.iter().any(|c| c.contains(&last.title)),
            "{page}: table of contents {chapters:?}"
        );
        if page == step.book {
            let blocks = text("code.language-dockerfile");
            let solution_line = dockerfile.lines().find(|l| l.starts_with("COPY --from=builder")).unwrap();
            assert!(
                blocks.iter().any(|b| b.contains(solution_line)),
                "{page} does not show the solution's `{solution_line}`"
            );
            let keywords = text("code.language-dockerfile .hljs-keyword");
            assert!(
                keywords.iter().any(|k| k == "FROM") && keywords.iter().any(|k| k == "COPY"),
                "Dockerfile blocks are not highlighted: keywords {keywords:?}"
            );
            let comments = text("code.language-dockerfile .hljs-comment");
            assert!(!comments.is_empty(), "Dockerfile comments are not highlighted");
        }
        let shot = shots.join(page.replace(".html", ".png"));
        headless(&out.join(page), (1280, 1600), &[&format!("--screenshot={}", shot.display())]);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
            "no screenshot of {page} at {}",
            shot.display()
        );
    }
}

/// Every step whose solution has more than one stage pictures its image's layers: the
/// layer copied out of the build stage is marked, the caption gives the image's measured
/// size, and on a phone (400 px, in Chromium) no text is under 10 px or past the edge.
#[test]
fn each_multi_stage_step_pictures_its_layers_readably_on_a_phone() {
    let out = built();
    let root = repo_root();
    let manifest = Manifest::load(&root.join("workshop.toml")).unwrap();
    let bench = book_tools::bench::Results::load(&root.join("bench/results.json")).unwrap();
    // Reports, once the page and its styles have loaded, the viewport's width and then,
    // for each text of the picture: its element, its layer's class, its text, its height
    // and its right edge.
    let script = r#"<script>addEventListener('load', () => {
        const rows = [...document.querySelectorAll('figure.layers :is(figcaption, .layer > code, .size, .note)')]
            .map(e => { const r = e.getBoundingClientRect();
                        return [e.tagName, e.closest('.layer')?.className ?? '', e.textContent, r.height, r.right].join('\t'); });
        const pre = document.createElement('pre');
        pre.id = 'measured';
        pre.textContent = [document.documentElement.clientWidth, ...rows].join('\n');
        document.body.appendChild(pre);
    });</script>"#;
    let mut pictured = 0;
    for step in &manifest.steps {
        let dockerfile = read(&root.join(&step.solution).join("Dockerfile"));
        if dockerfile.lines().filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM ")).count() < 2 {
            continue;
        }
        pictured += 1;
        let page = out.join(format!("measure-layers-{}.html", step.id));
        std::fs::write(&page, read(&out.join(&step.book)).replace("</body>", &format!("{script}</body>"))).unwrap();
        let dom = Html::parse_document(&headless(&page, (400, 1400), &["--dump-dom"]));
        let measured: String = dom
            .select(&Selector::parse("#measured").unwrap())
            .next()
            .unwrap_or_else(|| panic!("{}: the measuring script did not run", step.id))
            .text()
            .collect();
        let mut lines = measured.lines();
        let width: f64 = lines.next().unwrap().parse().unwrap();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
        let id = &step.id;
        let caption = rows.iter().find(|r| r[0] == "FIGCAPTION").unwrap_or_else(|| panic!("{id}: no layer picture"));
        let size = checker::manifest::ByteSize(bench.step(id).unwrap().size_bytes).to_string();
        assert!(caption[2].contains(&size), "{id}: the caption {:?} does not give the image's {size}", caption[2]);
        assert!(
            rows.iter().any(|r| r[0] == "CODE" && r[1].contains("carried") && r[2].starts_with("COPY --from=")),
            "{id}: no layer is marked as carried out of the build stage: {rows:?}"
        );
        for row in &rows {
            let (height, right): (f64, f64) = (row[3].parse().unwrap(), row[4].parse().unwrap());
            assert!(height >= 10.0, "{id}: {:?} is {height:.1} px tall at 400 px", row[2]);
            assert!(right <= width + 0.5, "{id}: {:?} ends at {right:.0} px, past the {width} px page", row[2]);
        }
    }
    assert!(pictured > 0, "no step of the manifest has a multi-stage solution");
}

//! The book's layout on a phone and in its 750 px text column: the size chart is read in
//! a real browser at 400 px wide, and no line the book shows in a code block is longer
//! than 80 characters (what the column holds without scrolling).

mod browser;
use browser::headless;

use book_tools::bench::Results;
use book_tools::chart;
use book_tools::repo_root;
use checker::manifest::Manifest;
use scraper::{Html, Selector};
use std::path::{Path, PathBuf};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A rectangle measured by the browser, in CSS pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn overlaps(&self, other: &Rect) -> bool {
        self.left < other.right && other.left < self.right && self.top < other.bottom && other.top < self.bottom
    }
}

/// The chart drawn inline `width` pixels wide, as `<img>` draws it in the book, and the
/// box of each of its texts and limit marks as the browser lays them out.
fn measure(svg: &str, width: u32) -> (Vec<(String, Rect)>, Vec<Rect>) {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("chart.html");
    let script = r#"
        const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const out = document.createElement('pre');
        out.id = 'measured';
        const texts = [...document.querySelectorAll('#chart svg text')].map(t => ['t', t.textContent, ...box(t)]);
        const marks = [...document.querySelectorAll('#chart svg .limit')].map(m => ['m', '', ...box(m)]);
        out.textContent = [...texts, ...marks].map(row => row.join('\t')).join('\n');
        document.body.appendChild(out);
    "#;
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><style>body {{ margin: 0 }} #chart svg {{ display: block; width: {width}px; height: auto }}</style></head>\
         <body><div id=\"chart\">{svg}</div><script>{script}</script></body></html>"
    );
    std::fs::write(&page, html).unwrap();
    let dom = Html::parse_document(&headless(&page, (width, 1200), &["--dump-dom"]));
    let measured: String =
        dom.select(&Selector::parse("#measured").unwrap()).next().expect("the page's script ran").text().collect();
    let (mut texts, mut marks) = (Vec::new(), Vec::new());
    for row in measured.lines() {
        let cells: Vec<&str> = row.split('\t').collect();
        let n = |i: usize| cells[i].parse::<f64>().unwrap_or_else(|_| panic!("not a number in {row:?}"));
        let rect = Rect { left: n(2), top: n(3), right: n(4), bottom: n(5) };
        match cells[0] {
            "t" => texts.push((cells[1].to_string(), rect)),
            _ => marks.push(rect),
        }
    }
    (texts, marks)
}

fn sizes_svg() -> String {
    read(&repo_root().join(book_tools::GENERATED).join("sizes.svg"))
}

#[test]
fn the_size_chart_is_readable_at_400_px_and_no_label_touches_a_limit_mark() {
    let svg = sizes_svg();
    let manifest = Manifest::load(&repo_root().join("workshop.toml")).unwrap();
    let (texts, marks) = measure(&svg, 400);
    assert!(texts.len() > 2 * manifest.steps.len(), "only {} texts measured: {texts:?}", texts.len());
    assert_eq!(marks.len(), manifest.steps.len(), "a limit mark per step");
    let small: Vec<String> = texts
        .iter()
        .filter(|(_, r)| r.bottom - r.top < 10.0)
        .map(|(t, r)| format!("{t:?} is {:.1} px tall", r.bottom - r.top))
        .collect();
    assert!(small.is_empty(), "texts under 10 px at 400 px wide:\n{}", small.join("\n"));
    let wide: Vec<&String> = texts.iter().filter(|(_, r)| r.left < 0.0 || r.right > 400.0).map(|(t, _)| t).collect();
    assert!(wide.is_empty(), "texts cut off by the chart's edges at 400 px: {wide:?}");
    let touching: Vec<&String> =
        texts.iter().filter(|(_, r)| marks.iter().any(|m| m.overlaps(r))).map(|(t, _)| t).collect();
    assert!(touching.is_empty(), "texts that a limit mark runs through or touches: {touching:?}");
}

#[test]
fn the_size_chart_says_what_it_shows_and_how_much_smaller_the_last_step_is() {
    let svg = sizes_svg();
    let root = repo_root();
    let manifest = Manifest::load(&root.join("workshop.toml")).unwrap();
    let bench = Results::load(&root.join("bench/results.json")).unwrap();
    let (first, last) = (manifest.steps.first().unwrap(), manifest.steps.last().unwrap());
    let times =
        chart::times_smaller(bench.step(&first.id).unwrap().size_bytes, bench.step(&last.id).unwrap().size_bytes);
    let (texts, _) = measure(&svg, 400);
    let title = &texts[0].0;
    assert!(title.to_lowercase().contains("image size"), "the chart's title is {title:?}");
    let first_n = first.id.trim_start_matches("step-");
    let last_n = last.id.trim_start_matches("step-");
    let drop = format!("Step {first_n} → Step {last_n}: {times} smaller");
    assert!(texts.iter().any(|(t, _)| t == &drop), "no text says {drop:?}: {texts:?}");
}

/// The chart as the book shows it (an `<img>` in a column at most 750 px wide, at most
/// as wide as the screen), screenshotted at a desktop's and a phone's width.
#[test]
fn screenshots_of_the_size_chart_at_1280_and_400_px() {
    let shots = repo_root().join("target/book-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sizes.svg"), sizes_svg()).unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        "<!doctype html><html><body style=\"margin: 0; font-family: sans-serif\">\
         <main style=\"max-width: 750px; margin: 0 auto; padding: 0 15px\">\
         <img src=\"sizes.svg\" style=\"display: block; max-width: 100%; margin: 1em auto\"></main></body></html>",
    )
    .unwrap();
    for width in [1280, 400] {
        let shot = shots.join(format!("sizes-{width}.png"));
        let _ = std::fs::remove_file(&shot);
        headless(&page, (width, 1200), &[&format!("--screenshot={}", shot.display())]);
        assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000), "no screenshot at {}", shot.display());
    }
}

/// What a recorded checker output may hold over 80 characters: a word (a path, a URL, a
/// digest) so long that, even alone on a continuation line (at the line's indentation
/// and `│ ` margin, two columns in, as `book_tools::lines::fit` wraps), it would pass 80,
/// with at most a label before it (`see:  http://…`). The checker never splits such a
/// word (a reader copies it), and `fit` gives it a line of its own: the code block
/// scrolls for that word, never for a sentence around it.
fn unbreakable(line: &str) -> bool {
    let indent = line.len() - line.trim_start().len();
    let margin = line[..indent].chars().count() + if line[indent..].starts_with("│ ") { 2 } else { 0 };
    let words: Vec<&str> = line.split_whitespace().filter(|w| *w != "│").collect();
    words.len() <= 2 && words.iter().any(|word| margin + 2 + word.chars().count() > 80)
}

/// The lines over 80 characters in `text`, with their numbers.
fn overlong(text: &str, allow_unbreakable: bool) -> Vec<(usize, usize)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.chars().count()))
        .filter(|&(i, n)| n > 80 && !(allow_unbreakable && unbreakable(text.lines().nth(i - 1).unwrap())))
        .collect()
}

#[test]
fn the_exception_for_recorded_outputs_is_a_long_word_with_at_most_a_label() {
    let url = "http://localhost:3000/checks/a-check-whose-page-has-a-long-name.html";
    assert!(unbreakable(&format!("                           see:  {url}")));
    assert!(unbreakable(&format!("                                 {url},")));
    assert!(!unbreakable(&format!("                         │ full rebuild log: {url}")), "a sentence, not a label");
    assert!(!unbreakable(&format!("  │ failed to solve: {url} and more")), "the URL fits on a line of its own");
    let digest = "f8a694b8-6dd8-4d3a-9b01-ce4de57f20ad::5in82ufg3vr5x5zt1olxm31lx".repeat(2);
    assert!(unbreakable(&format!("  │   {digest}:")));
    assert!(!unbreakable(&format!("  │ ERROR: failed to calculate checksum of ref {digest}")), "a sentence around it");
    assert!(!unbreakable("  why:  Every megabyte is pulled by every machine that runs the image, and more"));
    let long = format!("{}x\n{}\n", "x ".repeat(40), "y".repeat(81));
    assert_eq!(overlong(&long, false), vec![(1, 81), (2, 81)]);
    assert_eq!(overlong(&long, true), vec![(1, 81)]);
}

/// Every file under steps/ that the book can include (the starting points, the
/// solutions and the server's sources), and every generated file shown in a code block.
#[test]
fn no_line_the_book_shows_in_a_code_block_is_over_80_characters() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut count = 0;
    let manifest = Manifest::load(&root.join("workshop.toml")).unwrap();
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for step in &manifest.steps {
        for entry in walkdir::WalkDir::new(root.join(&step.dir)).into_iter().filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy();
            let shown =
                name == "Dockerfile" || name == ".dockerignore" || name.ends_with(".rs") || name == "Cargo.toml";
            if entry.file_type().is_file() && shown {
                files.push((entry.into_path(), false));
            }
        }
    }
    let generated = root.join(book_tools::GENERATED);
    for entry in walkdir::WalkDir::new(&generated).into_iter().filter_map(Result::ok) {
        let path = entry.path();
        // Markdown is reflowed by the browser; only .txt and .diff are shown verbatim.
        if path.extension().is_some_and(|x| x == "txt" || x == "diff") {
            // The checker's recorded outputs (a `$ checker` command and its report).
            let recorded = read(path).starts_with("$ checker");
            files.push((path.to_path_buf(), recorded));
        }
    }
    for (path, recorded) in &files {
        count += 1;
        let text = read(path);
        for (line, n) in overlong(&text, *recorded) {
            problems.push(format!("{}:{line}: {n} characters", path.strip_prefix(&root).unwrap().display()));
        }
    }
    assert!(count > 60, "only {count} files checked");
    assert!(problems.is_empty(), "lines over 80 characters:\n{}", problems.join("\n"));
}

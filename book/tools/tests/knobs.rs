//! The release-profile knobs as the book shows them: the generated table holds every row
//! that `bench/knobs.py` measured into bench/knobs.json, with its numbers (read back from
//! the Markdown, not from the generator), the step's chapter includes it, and what the
//! chapter's own words say of the numbers holds for them.

use book_tools::bench::Knobs;
use book_tools::{GENERATED, repo_root};

fn knobs() -> Knobs {
    Knobs::load(&repo_root().join(checker::dev::KNOBS_RESULTS)).expect("bench/knobs.json loads")
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The generated page of the knobs of `knobs.step`.
fn page(knobs: &Knobs) -> String {
    read(&repo_root().join(GENERATED).join(&knobs.step).join("knobs.md"))
}

/// The number a table cell starts with: `1,934 kB` is 1934, `-54 kB (-2.8%)` is -54,
/// `42.5 s` is 42.5; none in an empty cell.
fn number(cell: &str) -> Option<f64> {
    let end = cell.find(|c: char| !(c.is_ascii_digit() || ",.+-".contains(c))).unwrap_or(cell.len());
    cell[..end].replace(',', "").parse().ok()
}

/// Where the table of `page` disagrees with `knobs`, row by row and in order: the label,
/// the binary's size and its change from the first row (in kB), the cold build and the
/// rebuild (the median of an odd count) and the CPU time of each (in seconds), each to
/// half the last digit shown (and a hair more for floating point: 1.95 may show as 1.9).
fn mismatches(page: &str, knobs: &Knobs) -> Vec<String> {
    let rows: Vec<Vec<&str>> = page
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let mut problems = Vec::new();
    if rows.len() != knobs.rows.len() {
        problems.push(format!("the table has {} rows, bench/knobs.json {}", rows.len(), knobs.rows.len()));
    }
    let base = knobs.rows[0].size_bytes as f64;
    for (i, (cells, row)) in rows.iter().zip(&knobs.rows).enumerate() {
        let mut differs = |what: &str, shown: Option<f64>, measured: Option<f64>, within: f64| {
            let close = match (shown, measured) {
                (Some(s), Some(m)) => (s - m).abs() <= within + 1e-9,
                (s, m) => s.is_none() && m.is_none(),
            };
            if !close {
                problems.push(format!("{}: {what} shown {shown:?}, measured {measured:?}", row.label));
            }
        };
        let kb = row.size_bytes as f64 / 1e3;
        differs("binary", number(cells[1]), Some(kb), 0.5);
        differs("change", number(cells[2]), (i > 0).then(|| kb - base / 1e3), 0.5);
        differs("cold build", number(cells[3]), Some(row.cold_build.seconds), 0.05);
        differs("cold CPU", number(cells[4]), Some(row.cold_build.cpu_seconds), 0.05);
        differs("rebuild", number(cells[5]), Some(row.rebuild_seconds), 0.05);
        let mut cpu: Vec<f64> = row.rebuilds.iter().map(|r| r.cpu_seconds).collect();
        cpu.sort_by(f64::total_cmp);
        differs("rebuild CPU", number(cells[6]), cpu.get(cpu.len() / 2).copied(), 0.05);
        if cells[0].trim_matches('*') != row.label {
            problems.push(format!("{}: label shown {:?}", row.label, cells[0]));
        }
    }
    problems
}

#[test]
fn the_table_shows_every_row_as_measured() {
    let knobs = knobs();
    assert!(knobs.rows.len() >= 8, "only {} rows in bench/knobs.json", knobs.rows.len());
    let problems = mismatches(&page(&knobs), &knobs);
    assert!(problems.is_empty(), "the knobs table is not bench/knobs.json:\n{}", problems.join("\n"));
}

/// The comparison above finds a number that is not the one measured, a wrong label and a
/// missing row.
#[test]
fn the_comparison_sees_a_wrong_number_a_label_or_a_row_missing() {
    let path = repo_root().join(checker::dev::KNOBS_RESULTS);
    let mut json: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    let page = page(&knobs());
    let with = |json: &serde_json::Value| mismatches(&page, &serde_json::from_value(json.clone()).unwrap());
    assert_eq!(with(&json), Vec::<String>::new());
    let rows = json["rows"].as_array_mut().unwrap();
    let (size, cold) = (rows[1]["size_bytes"].as_u64().unwrap(), rows[2]["cold_build"]["seconds"].as_f64().unwrap());
    rows[1]["size_bytes"] = (size + 2_000).into();
    rows[2]["cold_build"]["seconds"] = (cold + 0.2).into();
    rows[3]["rebuild_seconds"] = 999.0.into();
    rows[4]["label"] = "`lto = true`".into();
    for rebuild in rows[5]["rebuilds"].as_array_mut().unwrap() {
        rebuild["cpu_seconds"] = 0.0.into();
    }
    let found = with(&json);
    let what: Vec<&str> = found.iter().map(|p| p.split(": ").nth(1).unwrap().split(" shown").next().unwrap()).collect();
    assert_eq!(what, ["binary", "change", "cold build", "rebuild", "label", "rebuild CPU"], "{found:#?}");
    json["rows"].as_array_mut().unwrap().pop();
    assert!(with(&json).iter().any(|p| p.contains("rows, bench/knobs.json")));
}

#[test]
fn the_chapter_includes_the_table_and_no_line_of_it_passes_80_characters() {
    let knobs = knobs();
    let chapter = read(&repo_root().join("book/src").join(format!("{}.md", knobs.step)));
    let include = format!("{{{{#include generated/{}/knobs.md}}}}", knobs.step);
    assert!(chapter.contains(&include), "{}.md does not show the table: no {include}", knobs.step);
    let page = page(&knobs);
    let long: Vec<&str> = page.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(long.is_empty(), "lines over 80 characters: {long:#?}");
}

/// What the chapter's text (book/src/step-4.md, "The release profile, measured") says of
/// the numbers, each claim checked against bench/knobs.json: measuring again with other
/// results fails here until the words follow.
#[test]
fn what_the_chapter_says_of_the_numbers_holds() {
    let knobs = knobs();
    let row = |label: &str| {
        knobs.rows.iter().find(|r| r.label == label).unwrap_or_else(|| panic!("no row {label:?} in bench/knobs.json"))
    };
    let base = &knobs.rows[0];
    let size = |label: &str| row(label).size_bytes as f64;
    let s = base.size_bytes as f64;
    let median_cpu = |r: &book_tools::bench::KnobRow| {
        let mut cpu: Vec<f64> = r.rebuilds.iter().map(|b| b.cpu_seconds).collect();
        cpu.sort_by(f64::total_cmp);
        cpu[cpu.len() / 2]
    };
    // "`opt-level = "s"` gave the smallest binary of the three levels. "z" [...] came out
    // slightly larger for this server, and 3 [...] larger still."
    let (z, three) = (size("`opt-level = \"z\"`"), size("`opt-level = 3`"));
    assert!(s < z && z < three && z / s < 1.03, "s {s}, z {z}, 3 {three}");
    // "`strip = true` matters most: without it, [...] the binary [is] more than three times
    // larger. [...] set back to "unwind", the binary grows by about a tenth"
    let most = knobs.rows.iter().map(|r| r.size_bytes).max().unwrap();
    assert_eq!(row("`strip = false`").size_bytes, most, "no other knob grows the binary as much");
    assert!(size("`strip = false`") > 3.0 * s);
    assert!((0.07..0.13).contains(&(size("`panic = \"unwind\"`") / s - 1.0)), "unwinding adds about a tenth");
    // "`"off"` stops even that, and the binary grows."
    assert!(size("`lto = \"off\"`") > s);
    // "LTO across crates shrinks the binary the most, "fat" by about a tenth, but look at
    // its rebuilds: each one optimizes the code of every crate again."
    let fat = row("`lto = \"fat\"`");
    let smallest = knobs.rows.iter().filter(|r| r.is_static).map(|r| r.size_bytes).min().unwrap();
    assert_eq!(fat.size_bytes, smallest, "fat LTO makes the smallest static binary");
    assert!((0.07..0.13).contains(&(1.0 - fat.size_bytes as f64 / s)), "fat LTO saves about a tenth");
    for lto in [fat, row("`lto = \"thin\"`")] {
        assert!(lto.size_bytes as f64 <= s, "{} shrinks the binary", lto.label);
        assert!(
            lto.rebuild_seconds > 2.0 * base.rebuild_seconds && median_cpu(lto) > 2.0 * median_cpu(base),
            "{}'s rebuilds cost more than twice the step's",
            lto.label
        );
    }
    // "`codegen-units = 1` was a free win here: a smaller binary, and no more CPU time to
    // build it."
    let one = row("`codegen-units = 1`");
    assert!(one.size_bytes < base.size_bytes);
    assert!(one.cold_build.cpu_seconds <= base.cold_build.cpu_seconds * 1.05, "cold: {one:?}");
    assert!(median_cpu(one) <= median_cpu(base) * 1.05, "rebuild: {one:?}");
    // "tokio's `current_thread` flavor makes the binary a few percent smaller"
    let saved = 1.0 - size("tokio `current_thread`") / s;
    assert!((0.01..0.06).contains(&saved), "current_thread saves {saved}");
    // "About half of the binary is the C library."
    let glibc = knobs.glibc_in_binary.bytes as f64 / s;
    let dynamic = knobs.rows.iter().find(|r| !r.is_static).expect("a dynamic row").size_bytes as f64 / s;
    assert!((0.4..0.6).contains(&glibc) && (0.4..0.6).contains(&(1.0 - dynamic)), "{glibc}, {dynamic}");
}

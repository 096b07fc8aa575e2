//! `checker list`: the steps, their titles and the learner's last result of each, with the
//! image each last run measured drawn against the step's size limit: the journey from a
//! gigabyte toolchain image to a few megabytes reads at a glance.

use std::io::IsTerminal;

use console::style;

use checker::manifest::{ByteSize, Manifest};
use checker::state;

use crate::cli::Format;

/// The widest line `list` prints, whatever the terminal.
const MAX_COLUMNS: usize = 100;

pub fn run(manifest: &Manifest, state: &state::State, format: Format) {
    if format == Format::Json {
        let steps: Vec<_> = manifest
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "title": s.title, "concept": s.concept, "size_limit_bytes": s.size_limit.0,
                    "checks": s.checks, "last": state.get(&s.id),
                })
            })
            .collect();
        checker::outln!("{}", serde_json::to_string_pretty(&steps).expect("json"));
        return;
    }
    let terminal = std::io::stdout().is_terminal();
    let fancy = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let columns = match console::Term::stdout().size_checked() {
        Some((_, c)) if terminal => usize::from(c).min(MAX_COLUMNS),
        _ => MAX_COLUMNS,
    };
    checker::out!("{}", render(manifest, state, fancy, columns));
}

/// A step's last measured size and the limit it was measured against.
fn measured(manifest: &Manifest, state: &state::State, id: &str) -> Option<(u64, u64)> {
    let last = state.get(id)?;
    let limit = last.size_limit_bytes.or_else(|| manifest.step(id).ok().map(|s| s.size_limit.0))?;
    Some((last.size_bytes?, limit))
}

/// The list as the terminal shows it: `fancy` draws with block characters and colours,
/// otherwise with plain ASCII; lines stay within `columns` (when the bars fit at all).
fn render(manifest: &Manifest, state: &state::State, fancy: bool, columns: usize) -> String {
    let title_width = manifest.steps.iter().map(|s| s.title.chars().count()).max().unwrap_or(0);
    let id_width = manifest.steps.iter().map(|s| s.id.len() + 1).max().unwrap_or(0).max(7);
    let sizes: Vec<(usize, u64, u64)> = manifest
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| measured(manifest, state, &s.id).map(|(size, limit)| (i, size, limit)))
        .collect();
    let labels: Vec<String> =
        sizes.iter().map(|&(_, size, limit)| format!("{} / {}", short(size), short(limit))).collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    // id, title, status ("✓ passed"), the bar, its label and "  ← next", with their gaps.
    let fixed = id_width + 1 + title_width + 2 + 8 + 2 + 1 + label_width + 8;
    let cells = columns.saturating_sub(fixed).clamp(MIN_CELLS, MAX_CELLS);
    let scale = Scale::new(sizes.iter().flat_map(|&(_, size, limit)| [size, limit]), cells);
    let paint = |text: String, f: fn(console::StyledObject<String>) -> console::StyledObject<String>| {
        f(style(text).force_styling(fancy)).to_string()
    };
    // The first step not passed yet is where the learner is.
    let current = manifest.steps.iter().position(|s| !state.get(&s.id).is_some_and(|r| r.passed));
    let mut out = String::new();
    for (i, s) in manifest.steps.iter().enumerate() {
        let title = format!("{:<title_width$}", s.title);
        let here = if Some(i) == current { paint("  ← next".into(), |s| s.bold()) } else { String::new() };
        let drawn = sizes.iter().zip(&labels).find(|((at, ..), _)| *at == i);
        let last = state.get(&s.id);
        let line = match (last, drawn, &scale) {
            (None, ..) => paint("not checked yet".into(), |s| s.dim()),
            (Some(r), Some(((_, size, limit), label)), Some(scale)) => {
                let status = if r.passed {
                    paint("✓ passed".into(), |s| s.green())
                } else {
                    paint("✗ failed".into(), |s| s.red())
                };
                let bar = bar(scale, *size, *limit, fancy);
                format!("{status}  {bar} {label}")
            }
            (Some(r), ..) if r.passed => paint("✓ passed".into(), |s| s.green()),
            (Some(r), ..) => paint(format!("✗ failed: {}", r.failed.join(", ")), |s| s.red()),
        };
        out.push_str(&format!("{:<id_width$} {title}  {line}{here}\n", s.id));
        // With a bar on the line, the failed checks go below it, under the title.
        if let (Some(r), Some(_), Some(_)) = (last, drawn, &scale)
            && !r.passed
            && !r.failed.is_empty()
        {
            let failed = paint(format!("failed: {}", r.failed.join(", ")), |s| s.red());
            out.push_str(&format!("{:<id_width$} {failed}\n", ""));
        }
    }
    if scale.is_some() {
        let mark = if fancy { "│" } else { "|" };
        let note = format!("image sizes on a log scale; {mark} marks each step's limit");
        out.push_str(&format!("{:<id_width$} {}\n", "", paint(note, |s| s.dim())));
    }
    out
}

/// A size as the list prints it: docker's decimal units, without trailing zeros
/// (`1.16 GB`, `75.7 MB`, `150 MB`, `3 GB`).
fn short(bytes: u64) -> String {
    let text = ByteSize(bytes).to_string();
    match text.split_once(' ') {
        Some((number, unit)) if number.contains('.') => {
            format!("{} {unit}", number.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

const MIN_CELLS: usize = 10;
const MAX_CELLS: usize = 48;

/// The bars' common axis: logarithmic, from one decade below the power of ten under the
/// smallest size or limit shown, to the largest. Every bar is then at least a decade
/// long (visible), and every limit falls on the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    /// log10 of the axis' ends, in bytes.
    low: f64,
    high: f64,
    cells: usize,
}

impl Scale {
    /// The axis over these sizes and limits, `cells` characters wide; none without values.
    fn new(values: impl IntoIterator<Item = u64>, cells: usize) -> Option<Scale> {
        let logs: Vec<f64> = values.into_iter().map(|v| (v.max(1) as f64).log10()).collect();
        let smallest = logs.iter().copied().reduce(f64::min)?;
        let largest = logs.iter().copied().reduce(f64::max)?;
        Some(Scale { low: smallest.floor() - 1.0, high: largest, cells: cells.max(1) })
    }

    /// Where `bytes` falls, in eighths of a cell from the axis' start.
    fn eighths(&self, bytes: u64) -> usize {
        let at = ((bytes.max(1) as f64).log10() - self.low) / (self.high - self.low);
        let eighths = (at * (self.cells * 8) as f64).round();
        (eighths.max(0.0) as usize).min(self.cells * 8)
    }
}

/// One step's bar, exactly `scale.cells` characters: the size as blocks (in eighths of a
/// cell when `fancy`), dots up to the limit's mark, the mark, and past it blocks only when
/// the image is over the limit (red).
fn bar(scale: &Scale, size: u64, limit: u64, fancy: bool) -> String {
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let cells = scale.cells;
    let mark = (scale.eighths(limit) / 8).min(cells - 1);
    let fill = scale.eighths(size).max(1);
    // Plain bars show whole cells, at least one; rounding down keeps a bar that stops short
    // of its limit from touching the mark.
    let fill = if fancy { fill } else { (fill / 8).max(1) * 8 };
    let mut out = String::new();
    for cell in 0..cells {
        let here = fill.saturating_sub(cell * 8).min(8);
        let (text, over) = match (cell == mark, here, fancy) {
            (true, _, true) => ("│".to_string(), None),
            (true, _, false) => ("|".to_string(), None),
            (false, 0, _) if cell < mark => ((if fancy { "·" } else { "." }).to_string(), None),
            (false, 0, _) => (" ".to_string(), None),
            (false, 8, true) => ("█".to_string(), Some(cell > mark)),
            (false, n, true) => (PARTIAL[n].to_string(), Some(cell > mark)),
            (false, _, false) => ("#".to_string(), Some(cell > mark)),
        };
        let styled = style(text).force_styling(fancy);
        let styled = match over {
            Some(true) => styled.red(),
            Some(false) => styled.green(),
            None if cell == mark => styled.bold(),
            None => styled.dim(),
        };
        out.push_str(&styled.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1_000_000_000;
    const MB: u64 = 1_000_000;

    /// The workshop's journey: four toolchain images, the slim one, three scratch ones.
    fn journey() -> Vec<(u64, u64)> {
        let mut steps = vec![(1_161_479_715, 3 * GB); 4];
        steps.push((75_700_000, 150 * MB));
        steps.extend([(1_900_000, 20 * MB); 3]);
        steps
    }

    fn filled(bar: &str) -> usize {
        bar.chars().filter(|&c| c == '#').count()
    }

    #[test]
    fn the_scale_starts_a_decade_below_the_smallest_value_and_ends_at_the_largest() {
        let scale = Scale::new(journey().into_iter().flat_map(|(s, l)| [s, l]), 20).unwrap();
        assert_eq!(scale.low, 5.0, "1.9 MB is under 10^7: the axis starts at 10^5 bytes");
        assert!((scale.high - (3e9f64).log10()).abs() < 1e-9);
        assert_eq!(scale.eighths(3 * GB), 160, "the largest value is the axis' end");
        assert_eq!(scale.eighths(100_000), 0);
        assert_eq!(scale.eighths(0), 0, "an empty image is at the start, not below it");
        assert_eq!(Scale::new([], 20), None);
        // A single value still gets a decade of axis: its bar is visible, not empty.
        let one = Scale::new([42], 10).unwrap();
        assert!(one.eighths(42) > 8, "{one:?}");
    }

    #[test]
    fn every_bar_is_visible_grows_with_the_size_and_puts_its_limit_mark_in_place() {
        let scale = Scale::new(journey().into_iter().flat_map(|(s, l)| [s, l]), 20).unwrap();
        let bars: Vec<String> = journey().iter().map(|&(size, limit)| bar(&scale, size, limit, false)).collect();
        for (bar, (size, limit)) in bars.iter().zip(journey()) {
            assert_eq!(bar.chars().count(), 20, "{bar:?}");
            assert!(filled(bar) >= 2, "a {size}-byte image must show: {bar:?}");
            let mark = bar.find('|').unwrap_or_else(|| panic!("no limit mark in {bar:?}"));
            assert!(filled(&bar[..mark]) == filled(bar), "{size} is under its limit {limit}: {bar:?}");
            assert!(bar[..mark].ends_with('.') || size * 2 > limit, "dots lead to the limit: {bar:?}");
        }
        let (toolchain, slim, scratch) = (filled(&bars[0]), filled(&bars[4]), filled(&bars[5]));
        assert!(toolchain > slim && slim > scratch, "{bars:#?}");
        assert!(slim - scratch >= 4 && toolchain - slim >= 4, "the drops read at a glance: {bars:#?}");
        let marks: Vec<usize> = [0, 4, 5].iter().map(|&i| bars[i].find('|').unwrap()).collect();
        assert!(marks[0] > marks[1] && marks[1] > marks[2], "3 GB, 150 MB and 20 MB marks: {bars:#?}");
        assert_eq!(marks[0], 19, "the largest limit is the last cell");
    }

    #[test]
    fn an_image_over_its_limit_runs_past_the_mark() {
        let scale = Scale::new([1_161_479_715, 150 * MB, 3 * GB], 20).unwrap();
        let plain = bar(&scale, 1_161_479_715, 150 * MB, false);
        let mark = plain.find('|').unwrap();
        assert!(plain[mark + 1..].starts_with('#') && !plain.contains('.'), "{plain:?}");
        let fancy = console::strip_ansi_codes(&bar(&scale, 1_161_479_715, 150 * MB, true)).into_owned();
        assert_eq!(fancy.chars().count(), 20, "{fancy:?}");
        assert!(fancy.contains('│') && fancy.contains('█') && !fancy.contains('·'), "{fancy:?}");
    }

    #[test]
    fn fancy_bars_end_in_eighths_of_a_cell() {
        let scale = Scale { low: 0.0, high: 1.0, cells: 10 };
        // log10(3) = 0.477: 38 eighths, four full cells and six eighths; 10 is the end.
        assert_eq!(scale.eighths(3), 38);
        let fancy = console::strip_ansi_codes(&bar(&scale, 3, 10, true)).into_owned();
        assert_eq!(fancy, "████▊····│");
        assert_eq!(bar(&scale, 3, 10, false), "####.....|", "plain bars show the whole cells");
        assert_eq!(bar(&scale, 1, 10, false), "#........|", "and show at least one");
    }

    #[test]
    fn sizes_print_without_trailing_zeros() {
        assert_eq!(short(3 * GB), "3 GB");
        assert_eq!(short(150 * MB), "150 MB");
        assert_eq!(short(1_161_479_715), "1.16 GB");
        assert_eq!(short(75_700_000), "75.7 MB");
        assert_eq!(short(1_900_000), "1.9 MB");
        assert_eq!(short(1_100_000_000), "1.1 GB");
        assert_eq!(short(512), "512 B");
    }
}

//! The size chart: one bar per step on a log scale, because the journey spans three orders
//! of magnitude (a gigabyte builder to a couple of megabytes), with the drop from the
//! first step to the last spelled out, since a log scale makes a 600× drop look small.
//!
//! The chart is narrow (its text is read on a phone too: at 400 px wide the smallest
//! text is still about 13 px) and each row puts its words above its bar: the step on the
//! left, the size on the right, where no limit mark can pass under them.

use checker::manifest::ByteSize;
use std::fmt::Write;

pub struct Bar {
    /// What names the step in the chart: `Step 1`.
    pub name: String,
    /// What the step adds, after its name.
    pub concept: String,
    pub bytes: u64,
    pub limit: u64,
}

/// The chart's width in its own units; the book shows it at this many pixels at most.
pub const WIDTH: f64 = 440.0;
/// Left of the bars: the bracket from the first bar to the last.
const GUTTER: f64 = 26.0;
const RIGHT: f64 = WIDTH - 14.0;
const ROW: f64 = 56.0;
const TOP: f64 = 58.0;
/// The text sizes, in the chart's units.
const TITLE: f64 = 20.0;
const LABEL: f64 = 16.0;
const SMALL: f64 = 14.0;
/// The axis runs from 10^MIN_EXP to 10^MAX_EXP bytes.
const MIN_EXP: i32 = 6;
const MAX_EXP: i32 = 10;

fn x(bytes: u64) -> f64 {
    let exp = (bytes.max(1) as f64).log10().clamp(MIN_EXP as f64, MAX_EXP as f64);
    GUTTER + (RIGHT - GUTTER) * (exp - MIN_EXP as f64) / f64::from(MAX_EXP - MIN_EXP)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// How many times smaller `to` is than `from`, as the chart and its description say it.
pub fn times_smaller(from: u64, to: u64) -> String {
    let ratio = from as f64 / to.max(1) as f64;
    if ratio < 10.0 { format!("{ratio:.1}×") } else { format!("{ratio:.0}×") }
}

/// The top of row `i`'s bar and its height.
fn bar_band(i: usize) -> (f64, f64) {
    (TOP + ROW * i as f64 + 26.0, 18.0)
}

/// An SVG document that needs no script or font beyond the reader's sans-serif.
pub fn svg(title: &str, bars: &[Bar]) -> String {
    let rows = TOP + ROW * bars.len() as f64;
    let height = rows + 118.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="{LABEL}">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let drop = bars.first().zip(bars.last()).filter(|_| bars.len() > 1).map(|(first, last)| {
        (first, last, format!("{} → {}: {} smaller", first.name, last.name, times_smaller(first.bytes, last.bytes)))
    });
    if let Some((first, last, said)) = &drop {
        let _ = writeln!(
            s,
            "<desc>{}: {} at {}, {} at {}.</desc>",
            escape(said),
            ByteSize(first.bytes),
            escape(&first.name),
            ByteSize(last.bytes),
            escape(&last.name)
        );
    }
    let _ = writeln!(s, r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r##"<text x="{GUTTER}" y="30" font-size="{TITLE}" font-weight="bold" fill="#222">{}</text>"##,
        escape(title)
    );
    // One light line per decade, under the bars: each is ten times the one on its left.
    for exp in MIN_EXP..=MAX_EXP {
        let tick = x(10u64.pow(exp as u32));
        for i in 0..bars.len() {
            let (top, h) = bar_band(i);
            let _ = writeln!(
                s,
                r##"<line x1="{tick}" y1="{}" x2="{tick}" y2="{}" stroke="#e2e2e2"/>"##,
                top - 4.0,
                top + h + 4.0
            );
        }
        let label = ByteSize(10u64.pow(exp as u32)).to_string().replace(".0 ", " ").replace(".00 ", " ");
        let anchor = match exp {
            MIN_EXP => "start",
            MAX_EXP => "end",
            _ => "middle",
        };
        let _ = writeln!(
            s,
            r##"<text x="{tick}" y="{}" text-anchor="{anchor}" fill="#555" font-size="{SMALL}">{label}</text>"##,
            rows + 8.0
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let (top, h) = bar_band(i);
        let (end, limit) = (x(bar.bytes), x(bar.limit));
        let colour = if bar.bytes <= bar.limit { "#3b7dd8" } else { "#d83b3b" };
        let _ = writeln!(
            s,
            r##"<text x="{GUTTER}" y="{}" fill="#222">{} · {}</text>"##,
            y + 18.0,
            escape(&bar.name),
            escape(&bar.concept)
        );
        let _ = writeln!(
            s,
            r##"<text x="{RIGHT}" y="{}" text-anchor="end" font-weight="bold" fill="#222">{}</text>"##,
            y + 18.0,
            ByteSize(bar.bytes)
        );
        let _ = writeln!(s, r#"<rect x="{GUTTER}" y="{top}" width="{}" height="{h}" fill="{colour}"/>"#, end - GUTTER);
        let _ = writeln!(
            s,
            r##"<line class="limit" x1="{limit}" y1="{}" x2="{limit}" y2="{}" stroke="#d83b3b" stroke-width="3"/>"##,
            top - 4.0,
            top + h + 4.0
        );
    }
    let legend = rows + 58.0;
    if let Some((_, _, said)) = &drop {
        // A bracket in the gutter from the first bar to the last, and what it measures.
        let (first_top, h) = bar_band(0);
        let (last_top, _) = bar_band(bars.len() - 1);
        let (from, to) = (first_top + h / 2.0, last_top + h / 2.0);
        let _ = writeln!(
            s,
            r##"<path class="drop" d="M {} {from} H 10 V {to} H {}" fill="none" stroke="#1d7a3a" stroke-width="2.5"/>"##,
            GUTTER - 3.0,
            GUTTER - 8.0
        );
        let _ = writeln!(s, r##"<path d="M {} {} l 7 5 l -7 5 z" fill="#1d7a3a"/>"##, GUTTER - 9.0, to - 5.0);
        let _ = writeln!(
            s,
            r##"<text class="drop" x="{GUTTER}" y="{}" font-weight="bold" fill="#1d7a3a">{}</text>"##,
            rows + 34.0,
            escape(said)
        );
    }
    let _ = writeln!(s, r##"<rect x="{GUTTER}" y="{}" width="16" height="12" fill="#3b7dd8"/>"##, legend - 11.0);
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{legend}" fill="#444" font-size="{SMALL}">image size (log scale: each grey line is 10×)</text>"##,
        GUTTER + 22.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d83b3b" stroke-width="3"/>"##,
        GUTTER + 8.0,
        legend + 12.0,
        GUTTER + 8.0,
        legend + 28.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" fill="#444" font-size="{SMALL}">the step's size limit</text>"##,
        GUTTER + 22.0,
        legend + 25.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(n: u32, bytes: u64, limit: u64) -> Bar {
        Bar { name: format!("Step {n}"), concept: format!("concept <{n}>"), bytes, limit }
    }

    #[test]
    fn bars_grow_with_the_size_on_a_log_scale() {
        assert!(x(2_000_000) < x(75_000_000) && x(75_000_000) < x(1_160_000_000));
        // One decade is the same width wherever it is.
        let decade = x(10_000_000) - x(1_000_000);
        assert!((x(1_000_000_000) - x(100_000_000) - decade).abs() < 1e-9);
        assert!(x(3_000_000_000) < RIGHT && x(1_000_000) >= GUTTER, "the limits and sizes of the steps fit");
    }

    #[test]
    fn the_svg_names_every_bar_and_its_size() {
        let bars = [bar(1, 1_160_981_419, 3_000_000_000), bar(6, 1_934_792, 20_000_000)];
        let svg = svg("Image sizes", &bars);
        assert!(
            svg.contains("Step 1 · concept &lt;1&gt;") && svg.contains("1.16 GB") && svg.contains("1.9 MB"),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect x=").count(), 3, "two bars and the legend's swatch");
        assert_eq!(svg.matches(r#"class="limit""#).count(), 2, "a limit mark per bar");
    }

    #[test]
    fn the_drop_from_the_first_bar_to_the_last_is_computed_from_the_sizes() {
        let svg = |last: u64| svg("t", &[bar(1, 1_160_981_419, 3_000_000_000), bar(2, 5, 5), bar(8, last, 20_000_000)]);
        assert!(svg(1_934_792).contains("Step 1 → Step 8: 600× smaller"), "{}", svg(1_934_792));
        assert!(svg(58_049_071).contains("Step 1 → Step 8: 20× smaller"));
        assert_eq!(times_smaller(300, 200), "1.5×");
        assert!(!svg_of_one().contains("smaller"), "one bar has no drop to show");
    }

    fn svg_of_one() -> String {
        svg("t", &[bar(1, 1_000_000, 2_000_000)])
    }
}

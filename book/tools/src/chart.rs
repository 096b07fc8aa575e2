//! The size chart: one horizontal bar per step on a log scale, because the journey spans
//! three orders of magnitude (a gigabyte builder to a couple of megabytes).

use checker::manifest::ByteSize;
use std::fmt::Write;

pub struct Bar {
    pub label: String,
    pub bytes: u64,
    pub limit: u64,
}

const LEFT: f64 = 260.0;
const PLOT: f64 = 440.0;
const ROW: f64 = 34.0;
const TOP: f64 = 44.0;
/// The axis runs from 10^MIN_EXP to 10^MAX_EXP bytes.
const MIN_EXP: i32 = 5;
const MAX_EXP: i32 = 10;

fn x(bytes: u64) -> f64 {
    let exp = (bytes.max(1) as f64).log10().clamp(MIN_EXP as f64, MAX_EXP as f64);
    LEFT + PLOT * (exp - MIN_EXP as f64) / f64::from(MAX_EXP - MIN_EXP)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An SVG document that needs no script or font beyond the reader's sans-serif.
pub fn svg(title: &str, bars: &[Bar]) -> String {
    let height = TOP + ROW * bars.len() as f64 + 56.0;
    let width = LEFT + PLOT + 110.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(s, r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##);
    let _ =
        writeln!(s, r##"<text x="10" y="22" font-size="15" font-weight="bold" fill="#222">{}</text>"##, escape(title));
    let bottom = TOP + ROW * bars.len() as f64;
    for exp in MIN_EXP..=MAX_EXP {
        let tick = x(10u64.pow(exp as u32));
        let _ = writeln!(s, r##"<line x1="{tick}" y1="{TOP}" x2="{tick}" y2="{bottom}" stroke="#ddd"/>"##);
        let label = ByteSize(10u64.pow(exp as u32)).to_string().replace(".0 ", " ").replace(".00 ", " ");
        let _ = writeln!(
            s,
            r##"<text x="{tick}" y="{}" text-anchor="middle" fill="#555" font-size="11">{label}</text>"##,
            bottom + 16.0
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let end = x(bar.bytes);
        let limit = x(bar.limit);
        let colour = if bar.bytes <= bar.limit { "#3b7dd8" } else { "#d83b3b" };
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#222">{}</text>"##,
            LEFT - 8.0,
            y + 21.0,
            escape(&bar.label)
        );
        let _ = writeln!(s, r#"<rect x="{LEFT}" y="{}" width="{}" height="20" fill="{colour}"/>"#, y + 7.0, end - LEFT);
        let _ = writeln!(
            s,
            r##"<line x1="{limit}" y1="{}" x2="{limit}" y2="{}" stroke="#d83b3b" stroke-width="2"/>"##,
            y + 3.0,
            y + 31.0
        );
        // The size follows its bar, or the limit mark when the mark is too close to pass.
        let text_x = if limit - end > 70.0 || end > limit { end + 6.0 } else { limit + 6.0 };
        let _ = writeln!(s, r##"<text x="{text_x}" y="{}" fill="#222">{}</text>"##, y + 21.0, ByteSize(bar.bytes));
    }
    let legend = bottom + 40.0;
    let _ = writeln!(s, r##"<rect x="{LEFT}" y="{}" width="14" height="10" fill="#3b7dd8"/>"##, legend - 9.0);
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{legend}" fill="#444" font-size="12">image size (uncompressed layers, log scale)</text>"##,
        LEFT + 20.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{legend}" stroke="#d83b3b" stroke-width="2"/>"##,
        LEFT + 300.0,
        legend - 11.0,
        LEFT + 300.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{legend}" fill="#444" font-size="12">the step's size limit</text>"##,
        LEFT + 308.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_grow_with_the_size_on_a_log_scale() {
        assert!(x(2_000_000) < x(75_000_000) && x(75_000_000) < x(1_160_000_000));
        // One decade is the same width wherever it is.
        let decade = x(10_000_000) - x(1_000_000);
        assert!((x(1_000_000_000) - x(100_000_000) - decade).abs() < 1e-9);
    }

    #[test]
    fn the_svg_names_every_bar_and_its_size() {
        let bars = [
            Bar { label: "Step 1 <big>".into(), bytes: 1_160_981_419, limit: 3_000_000_000 },
            Bar { label: "Step 6".into(), bytes: 1_934_792, limit: 20_000_000 },
        ];
        let svg = svg("Sizes", &bars);
        assert!(svg.contains("Step 1 &lt;big&gt;") && svg.contains("1.16 GB") && svg.contains("1.9 MB"), "{svg}");
        assert_eq!(svg.matches("<rect x=").count(), 3, "two bars and the legend's swatch");
    }
}

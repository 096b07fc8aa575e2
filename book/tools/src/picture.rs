//! The picture of what a multi-stage step's image holds: its layers, newest on top, each
//! with its instruction and size, from the layers bench/bench.py recorded of the step's
//! solution. An HTML figure rather than an SVG, so that its text keeps the page's size on
//! a phone (styled by book/theme/workshop.css).

use crate::bench::{Layer, Results};
use crate::generate::step_number;
use checker::manifest::{ByteSize, Manifest, Step};
use std::fmt::Write;

/// The stage a `COPY --from=NAME` carries from, if the instruction is one.
fn copied_from(instruction: &str) -> Option<&str> {
    let mut words = instruction.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("COPY") {
        return None;
    }
    words.find_map(|w| w.strip_prefix("--from="))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The figure for `step`, when its solution's image has a layer copied from another
/// stage (no figure for a single-stage step, or for results recorded without layers).
pub fn layers(manifest: &Manifest, bench: &Results, step: &Step) -> Option<String> {
    let carries = |layers: &[Layer]| layers.iter().any(|l| copied_from(&l.instruction).is_some());
    let layers: &[Layer] = &bench.step(&step.id).ok()?.layers;
    if !carries(layers) {
        return None;
    }
    let total: u64 = layers.iter().map(|l| l.bytes).sum();
    let n = step_number(step);
    let mut html = format!(
        "\n<figure class=\"layers\">\n<figcaption>What step {n}'s image holds, newest layer on top: {}</figcaption>\n",
        ByteSize(total)
    );
    for layer in layers.iter().rev() {
        let from = copied_from(&layer.instruction);
        let share = if total == 0 { 0.0 } else { layer.bytes as f64 * 100.0 / total as f64 };
        // A layer of a few bytes still shows as a sliver; a setting (0 B) has no bar.
        let bar = if layer.bytes == 0 {
            String::new()
        } else {
            format!("<span class=\"bar\" style=\"width: {:.1}%\"></span>", share.max(0.5))
        };
        let note = match (from, layer.bytes) {
            (Some(stage), _) => {
                format!("<span class=\"note\">carried out of the <code>{}</code> stage</span>", escape(stage))
            }
            (None, 0) => "<span class=\"note\">a setting in the image's configuration: no files</span>".into(),
            _ => String::new(),
        };
        let _ = writeln!(
            html,
            "<div class=\"layer{}\"><code>{}</code><span class=\"size\">{}</span>{note}{bar}</div>",
            if from.is_some() { " carried" } else { "" },
            escape(&layer.instruction),
            ByteSize(layer.bytes),
        );
    }
    html.push_str("</figure>\n");
    let carried: u64 = layers.iter().filter(|l| copied_from(&l.instruction).is_some()).map(|l| l.bytes).sum();
    let _ = write!(
        html,
        "\nOnly the marked layers crossed from the build: {} of files. Everything else the build stage made \
         stays behind and is not shipped",
        ByteSize(carried)
    );
    // The last single-stage step shipped such a build whole.
    let index = manifest.steps.iter().position(|s| s.id == step.id)?;
    let single = manifest.steps[..index].iter().rev().find_map(|s| {
        let size = bench.step(&s.id).ok()?;
        (!size.layers.is_empty() && !carries(&size.layers)).then_some((s, size))
    });
    match single {
        Some((s, size)) => {
            let _ = writeln!(
                html,
                ": step {}'s image, built in a single stage, shipped all of it: {}.",
                step_number(s),
                ByteSize(size.size_bytes)
            );
        }
        None => html.push_str(".\n"),
    }
    Some(html)
}

#[cfg(test)]
mod tests {
    use super::copied_from;

    #[test]
    fn only_a_copy_from_another_stage_is_carried() {
        assert_eq!(copied_from("COPY --from=builder /app/server /server"), Some("builder"));
        assert_eq!(copied_from("copy --chmod=0555 --from=build /a /b"), Some("build"));
        assert_eq!(copied_from("COPY src ./src"), None);
        assert_eq!(copied_from("RUN echo --from=x"), None);
        assert_eq!(copied_from("FROM debian:bookworm-slim"), None);
    }
}

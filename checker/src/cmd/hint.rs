//! `checker hint N`: a step's hint and its chapter.

use anyhow::Result;

use checker::manifest::Manifest;

use crate::cli::Format;

pub fn run(manifest: &Manifest, step: &str, format: Format) -> Result<u8> {
    let step = manifest.step(step)?;
    if format == Format::Json {
        let hint =
            serde_json::json!({ "step": step.id, "hint": step.hint.trim(), "book": manifest.book_link(&step.book) });
        checker::outln!("{}", serde_json::to_string_pretty(&hint)?);
    } else {
        checker::outln!(
            "{} — {}\n\n{}\n\nThe chapter: {}",
            step.id,
            step.title,
            step.hint.trim(),
            manifest.book_link(&step.book)
        );
    }
    Ok(0)
}

//! `checker dev check`: the workshop's own content, checked for its authors and CI (the
//! checks themselves live in the library's `dev` module, where the tests call them).

use std::path::Path;

use anyhow::Result;

use checker::manifest::Manifest;

use crate::cli::{DevCommand, Format};

/// Prints every problem found (as `{"problems": […]}` with `--format json`); exit 0 when
/// there is none, 1 otherwise.
pub fn run(command: &DevCommand, root: &Path, manifest: &Manifest, format: Format) -> Result<u8> {
    match command {
        DevCommand::Check => {
            let problems = checker::dev::check(root, manifest);
            if format == Format::Json {
                // A struct, not `json!`, keeps each problem's fields in their order.
                #[derive(serde::Serialize)]
                struct Out<'a> {
                    problems: &'a [checker::dev::Problem],
                }
                checker::outln!("{}", serde_json::to_string_pretty(&Out { problems: &problems })?);
            } else if problems.is_empty() {
                checker::outln!(
                    "checker dev check: no problem in {} ({} steps, {} checks)",
                    root.display(),
                    manifest.steps.len(),
                    manifest.checks.len()
                );
            } else {
                for problem in &problems {
                    checker::outln!("{problem}");
                }
                checker::outln!("\nchecker dev check: {} problem(s) in {}", problems.len(), root.display());
            }
            Ok(u8::from(!problems.is_empty()))
        }
    }
}

//! The check of what the build context sends to the engine.

use crate::context::{ContextReport, Staged};
use crate::dockerignore::clean;
use crate::manifest::ByteSize;
use crate::outcome::Outcome;

/// A context check with its own `exclude` list: the staged context reports every watched
/// path, and each check judges only its own.
pub fn evaluate(staged: &Staged, exclude: &[String]) -> Outcome {
    let own: Vec<String> = exclude.iter().map(|e| format!("{}/", clean(e))).collect();
    let mut report =
        ContextReport { files: staged.report.files, bytes: staged.report.bytes, ..ContextReport::default() };
    report.offenders =
        staged.report.offenders.iter().filter(|(p, _)| own.contains(p)).map(|(p, b)| (p.clone(), *b)).collect();
    context(&report, &staged.unguarded(exclude))
}

/// `unguarded` lists the watched paths that .dockerignore would let through.
pub fn context(report: &ContextReport, unguarded: &[String]) -> Outcome {
    let sent = format!("{} files, {}", report.files, ByteSize(report.bytes));
    if !report.offenders.is_empty() {
        let list: Vec<_> = report.offenders.iter().map(|(p, b)| format!("{p} ({})", ByteSize(*b))).collect();
        return Outcome::fail(format!("the context sends {} to the engine ({sent} in all)", list.join(" and "))).hint(
            format!("List {} in .dockerignore at the root of the build context.", list_paths(report.offenders.keys())),
        );
    }
    if !unguarded.is_empty() {
        return Outcome::fail(format!(
            "the context is {sent} now, but .dockerignore does not exclude {}: the first local build or `git init` sends it too",
            unguarded.join(" or ")
        ))
        .hint(format!("Add {} to .dockerignore.", list_paths(unguarded.iter())));
    }
    Outcome::pass(format!("context {sent}"))
}

fn list_paths<'a>(paths: impl Iterator<Item = &'a String>) -> String {
    paths.map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn a_context_that_sends_target_fails_with_its_size() {
        let mut report = ContextReport { files: 120, bytes: 3_000_000, ..ContextReport::default() };
        report.offenders.insert("target/".into(), 2_900_000);
        let o = context(&report, &[]);
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("sends target/ (2.9 MB)"), "{}", o.message);
        assert!(o.hint.unwrap().contains("`target/`"));
        let clean = ContextReport { files: 5, bytes: 12_000, ..ContextReport::default() };
        assert_eq!(context(&clean, &[]).message, "context 5 files, 12.0 kB");
        assert_eq!(context(&clean, &[".git/".into()]).status, Status::Fail);
    }
}

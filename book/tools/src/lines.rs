//! Diffs between consecutive steps' solutions, and which step introduced each line of the
//! final Dockerfile, both computed from the files themselves.

use anyhow::{Context, Result};
use checker::manifest::Step;
use similar::TextDiff;
use std::collections::BTreeSet;
use std::path::Path;

/// The file as step `step`'s reference solution has it: the overlay's copy if the
/// solution changes it, else the step's own. Returns its path (relative to `root`) and
/// text, or `None` if neither exists.
pub fn solution_file(root: &Path, step: &Step, file: &str) -> Result<Option<(String, String)>> {
    for dir in [&step.solution, &step.dir] {
        let path = root.join(dir).join(file);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            return Ok(Some((format!("{dir}/{file}"), text)));
        }
    }
    Ok(None)
}

/// A unified diff with three lines of context, as `diff -u` or git would show it.
pub fn unified(old_name: &str, old: &str, new_name: &str, new: &str) -> String {
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// For each line of the last version, the versions that introduced or changed it. A line
/// that one version rewrites (in a run of changed lines, the old line it resembles most)
/// keeps its history; any other new line starts one.
pub fn histories(versions: &[&str]) -> Vec<BTreeSet<usize>> {
    let Some(first) = versions.first() else { return Vec::new() };
    let mut history = vec![BTreeSet::from([0]); first.lines().count()];
    for (i, pair) in versions.windows(2).enumerate() {
        let (old, new): (Vec<&str>, Vec<&str>) = (pair[0].lines().collect(), pair[1].lines().collect());
        let mut next = Vec::with_capacity(new.len());
        for op in TextDiff::from_lines(pair[0], pair[1]).ops() {
            let (olds, news) = (op.old_range(), op.new_range());
            if op.tag() == similar::DiffTag::Equal {
                next.extend(olds.map(|o| history[o].clone()));
                continue;
            }
            for n in news {
                let resembled = olds
                    .clone()
                    .map(|o| (o, similar::TextDiff::from_chars(old[o], new[n]).ratio()))
                    .filter(|&(_, ratio)| ratio >= 0.6)
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let mut h = resembled.map(|(o, _)| history[o].clone()).unwrap_or_default();
                h.insert(i + 1);
                next.push(h);
            }
        }
        history = next;
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_or_rewritten_line_keeps_its_history_and_a_new_line_starts_one() {
        let v0 = "FROM a\nRUN x\nCMD y\n";
        let v1 = "FROM a AS b\nRUN x\nCMD y\n";
        let v2 = "FROM a AS b\nRUN x\nFROM scratch\nCMD y\n";
        let h = |s: &[usize]| s.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(histories(&[v0, v1, v2]), vec![h(&[0, 1]), h(&[0]), h(&[2]), h(&[0])]);
        assert_eq!(histories(&[v0]), vec![h(&[0]); 3]);
    }

    #[test]
    fn the_diff_names_both_files_and_marks_the_changes() {
        let diff = unified("a/Dockerfile", "FROM a\nCMD y\n", "b/Dockerfile", "FROM a\nUSER 1\nCMD y\n");
        assert!(diff.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n"), "{diff}");
        assert!(diff.contains("\n+USER 1\n") && diff.contains("\n FROM a\n"), "{diff}");
    }
}

//! `generate` ends by stamping its inputs: `checker dev check` recomputes the stamp and
//! reports the generated pages as stale when the repository moved on without them.

use anyhow::{Context, Result};
use std::path::Path;

/// Writes the hash of the generator's inputs (`checker::dev::inputs_stamp` lists them) to
/// `checker::dev::STAMP`; returns whether it changed.
pub fn write(root: &Path) -> Result<bool> {
    let stamp = checker::dev::inputs_stamp(root).context("cannot hash the generator's inputs")?;
    let path = root.join(checker::dev::STAMP);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(false);
    }
    std::fs::create_dir_all(path.parent().expect("the stamp has a folder"))?;
    std::fs::write(&path, stamp).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::fs;

    #[test]
    fn the_stamp_is_written_when_an_input_changes_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (file, text) in
            [("workshop.toml", "x"), ("bench/results.json", "{}"), ("steps/step-1/Dockerfile", "FROM a")]
        {
            fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            fs::write(root.join(file), text).unwrap();
        }
        let stamp = || fs::read_to_string(root.join(checker::dev::STAMP)).unwrap();
        assert!(super::write(root).unwrap(), "the first stamp is written");
        assert_eq!(stamp(), checker::dev::inputs_stamp(root).unwrap());
        let first = stamp();
        assert!(!super::write(root).unwrap(), "unchanged inputs leave the stamp alone");
        fs::write(root.join("steps/step-1/Dockerfile"), "FROM b").unwrap();
        assert!(super::write(root).unwrap(), "a changed step file changes the stamp");
        assert_ne!(stamp(), first);
    }
}

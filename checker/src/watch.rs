//! Noticing that a learner saved a file, for `--watch`: a fingerprint of every file's
//! path, size and modification time, compared between polls. Polling keeps it portable
//! (Docker Desktop shares, network drives) and needs no watcher thread.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

/// Changes when a file below `roots` (or a root that is a file) is added, removed,
/// resized or touched. Build output (`target/`) and `.git/` are left out: they change
/// without the learner editing anything.
pub fn fingerprint(roots: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for root in roots {
        let walker = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !(e.file_type().is_dir() && matches!(e.file_name().to_str(), Some("target" | ".git"))));
        // Files only: a folder's own mtime moves when target/ appears in it.
        for entry in walker.flatten().filter(|e| !e.file_type().is_dir()) {
            entry.path().hash(&mut hasher);
            if let Ok(meta) = entry.metadata() {
                meta.len().hash(&mut hasher);
                meta.modified().ok().hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_change_the_fingerprint_and_build_output_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let roots = vec![dir.path().to_path_buf()];
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let before = fingerprint(&roots);
        assert_eq!(fingerprint(&roots), before, "nothing changed");
        std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
        std::fs::write(dir.path().join("target/release/server"), "binary").unwrap();
        assert_eq!(fingerprint(&roots), before, "a local build is not an edit");
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCMD [\"/server\"]\n").unwrap();
        assert_ne!(fingerprint(&roots), before, "an edit is noticed");
        let edited = fingerprint(&roots);
        std::fs::write(dir.path().join(".dockerignore"), "target/\n").unwrap();
        assert_ne!(fingerprint(&roots), edited, "a new file is noticed");
    }
}

//! The last result of each step, kept in `.checker/state.json` for `checker list`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastResult {
    pub passed: bool,
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub failed: Vec<String>,
    /// The image's size, when the run built one (`checker list` draws it against the
    /// limit). Older state files have neither field.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// The step's size limit when the run measured the image.
    #[serde(default)]
    pub size_limit_bytes: Option<u64>,
}

pub type State = BTreeMap<String, LastResult>;

/// A missing or unreadable state only loses the "last result" column.
pub fn load(path: &Path) -> State {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

pub fn record(path: &Path, step: &str, result: LastResult) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // One checker at a time reads, changes and writes the state: two finishing at once
    // would otherwise each write back what it read, without the other's result.
    let lock = std::fs::File::create(path.with_extension("lock"))?;
    lock.lock()?;
    let mut state = load(path);
    state.insert(step.to_string(), result);
    // Write then rename, so that two checkers finishing at once never leave half a file.
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), serde_json::to_string_pretty(&state)?)?;
    tmp.persist(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(i: usize) -> LastResult {
        LastResult {
            passed: i.is_multiple_of(2),
            at: i as u64,
            failed: vec![format!("check-{i}")],
            size_bytes: Some(i as u64 * 1_000_000),
            size_limit_bytes: Some(20_000_000),
        }
    }

    /// A state file written before sizes were recorded still loads, with no size.
    #[test]
    fn an_old_state_without_sizes_loads_and_a_new_one_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, r#"{"step-1": {"passed": true, "at": 7, "failed": []}}"#).unwrap();
        let old = &load(&path)["step-1"];
        assert_eq!((old.passed, old.at, old.size_bytes, old.size_limit_bytes), (true, 7, None, None));
        record(&path, "step-3", result(3)).unwrap();
        let state = load(&path);
        assert_eq!(state["step-1"].size_bytes, None, "the old result is kept as it was");
        assert_eq!((state["step-3"].size_bytes, state["step-3"].size_limit_bytes), (Some(3_000_000), Some(20_000_000)));
    }

    #[test]
    fn a_corrupt_state_loads_empty_and_the_next_record_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".checker").join("state.json");
        assert!(load(&path).is_empty(), "no file yet");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for corrupt in [&b"{\"step-1\": {\"passed\": tru"[..], b"\xff\xfe\x00garbage", b"[1, 2]", b"{\"step-1\": 3}"] {
            std::fs::write(&path, corrupt).unwrap();
            assert!(load(&path).is_empty(), "{}", String::from_utf8_lossy(corrupt));
        }
        record(&path, "step-2", result(2)).unwrap();
        let state = load(&path);
        assert_eq!(state.keys().collect::<Vec<_>>(), ["step-2"]);
        assert_eq!((state["step-2"].passed, state["step-2"].at), (true, 2));
    }

    /// Held up in the security review: checkers that finish at once (a learner's terminal
    /// and a watch, or several steps) never lose each other's results.
    #[test]
    fn concurrent_records_of_different_steps_all_survive() {
        const STEPS: usize = 12;
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(".checker").join("state.json");
            let start = std::sync::Barrier::new(STEPS);
            std::thread::scope(|scope| {
                for i in 0..STEPS {
                    let (path, start) = (&path, &start);
                    scope.spawn(move || {
                        start.wait();
                        record(path, &format!("step-{i}"), result(i)).unwrap();
                    });
                }
            });
            let state = load(&path);
            let lost: Vec<String> =
                (0..STEPS).map(|i| format!("step-{i}")).filter(|s| !state.contains_key(s)).collect();
            assert!(
                lost.is_empty(),
                "round {round}: {} of {STEPS} results were lost ({lost:?}); the file holds {:?}",
                lost.len(),
                state.keys().collect::<Vec<_>>()
            );
            for i in 0..STEPS {
                let r = &state[&format!("step-{i}")];
                assert_eq!((r.passed, r.at, r.failed.clone()), (i % 2 == 0, i as u64, vec![format!("check-{i}")]));
            }
            let mut files: Vec<_> =
                std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
            files.sort();
            assert_eq!(files, ["state.json", "state.lock"], "no temporary file is left next to the state");
        }
    }
}

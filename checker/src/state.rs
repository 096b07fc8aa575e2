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
}

pub type State = BTreeMap<String, LastResult>;

/// A missing or unreadable state only loses the "last result" column.
pub fn load(path: &Path) -> State {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

pub fn record(path: &Path, step: &str, result: LastResult) -> anyhow::Result<()> {
    let mut state = load(path);
    state.insert(step.to_string(), result);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Write then rename, so that two checkers finishing at once never leave half a file.
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), serde_json::to_string_pretty(&state)?)?;
    tmp.persist(path)?;
    Ok(())
}

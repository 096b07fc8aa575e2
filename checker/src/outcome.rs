//! What one check concluded, before the manifest's texts are attached to it.

use crate::report::Status;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    /// A fix specific to what was seen; the manifest's general `fix` otherwise.
    pub hint: Option<String>,
    pub line: Option<usize>,
    pub details: Option<String>,
    pub blocked_by: Option<String>,
}

impl Outcome {
    pub fn pass(message: impl Into<String>) -> Self {
        Self { status: Status::Pass, message: message.into(), hint: None, line: None, details: None, blocked_by: None }
    }

    pub fn fail(message: impl Into<String>) -> Self {
        Self { status: Status::Fail, ..Self::pass(message) }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self { status: Status::Error, ..Self::pass(message) }
    }

    pub fn blocked(by: &str) -> Self {
        Self { status: Status::Skip, blocked_by: Some(by.to_string()), ..Self::pass(format!("blocked by {by}")) }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        let d = details.into();
        self.details = (!d.trim().is_empty()).then_some(d);
        self
    }
}

/// The last `n` non-empty lines of `text`, for a report that stays readable.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

//! The spinner a learner sees on stderr while a check runs: what the build is doing now.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn new(enabled: bool) -> Self {
        Self(enabled.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        }))
    }

    pub fn say(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            let mut m: String = message.into();
            if m.chars().count() > 100 {
                m = m.chars().take(99).collect::<String>() + "…";
            }
            bar.set_message(m);
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

//! Headless Chromium for the book's tests: what a reader's browser really shows.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's package is `chromium`; others name it `chromium-browser` or set `CHROMIUM`.
fn chromium() -> PathBuf {
    let candidates = std::env::var("CHROMIUM").into_iter().chain(["chromium".into(), "chromium-browser".into()]);
    for name in candidates {
        if Command::new(&name).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return PathBuf::from(name);
        }
    }
    panic!(
        "no chromium found: this test renders the book in a real browser. Install it (`apt-get install chromium`) or set CHROMIUM to its path"
    );
}

/// Opens `page` in headless Chromium with a window of `width` by `height` pixels and
/// returns its output (the DOM with `--dump-dom`).
pub fn headless(page: &Path, (width, height): (u32, u32), extra: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--hide-scrollbars",
        ])
        .args(["--virtual-time-budget=5000", &format!("--window-size={width},{height}")])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

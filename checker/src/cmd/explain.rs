//! `checker explain <check>`: a check's page of the book in the terminal, as `rustc
//! --explain` does it, so that it reads offline (the report's links need `mdbook serve`).
//! `checker explain step-N` shows a step's chapter.

use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

use checker::explain;
use checker::manifest::Manifest;

use crate::cli::Format;

/// The book's sources, relative to the workshop root.
const BOOK_SRC: &str = "book/src";

/// Set while the pager runs: Ctrl-C is then the pager's to handle.
static PAGING: AtomicBool = AtomicBool::new(false);

/// Instead of the check runs' cleanup handler (there is nothing to clean up here): a
/// signal ends `explain` with 130, except while the pager runs, which gets Ctrl-C itself
/// and ends first (`less` keeps running on Ctrl-C; leaving it behind would garble the
/// terminal).
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        if !PAGING.load(Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// The check ids in the order the steps introduce them, then any other.
fn check_ids(manifest: &Manifest) -> Vec<&str> {
    let mut ids: Vec<&str> = manifest.steps.iter().flat_map(|s| s.checks.iter().map(String::as_str)).collect();
    ids.extend(manifest.checks.keys().map(String::as_str).filter(|id| !ids.contains(id)).collect::<Vec<_>>());
    ids
}

/// The page of `id` relative to book/src: `checks/<id>.md`, or a step's chapter.
fn page_of(manifest: &Manifest, id: &str) -> Result<PathBuf> {
    if manifest.checks.contains_key(id) {
        return Ok(PathBuf::from(format!("checks/{id}.md")));
    }
    let step_like = id.starts_with("step-") || id.chars().all(|c| c.is_ascii_digit());
    if step_like && let Ok(step) = manifest.step(id) {
        return Ok(PathBuf::from(step.book.strip_suffix(".html").unwrap_or(&step.book)).with_extension("md"));
    }
    let steps: Vec<&str> = manifest.steps.iter().map(|s| s.id.as_str()).collect();
    bail!(
        "unknown check `{id}`: the checks are {}; `checker explain {}` shows a step's chapter",
        check_ids(manifest).join(", "),
        steps.first().unwrap_or(&"step-1")
    )
}

/// `a/b/../c` without touching the file system; `None` when it climbs out of the book.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// What a link of `page` (relative to book/src) shows in the terminal: a web address as
/// it is; another check's page or a step's chapter as the `checker explain` that shows
/// it; any other page of the book as its address under `book_url`.
fn link_target(manifest: &Manifest, page: &Path, href: &str) -> String {
    if href.contains("://") || href.starts_with("mailto:") {
        return href.to_string();
    }
    let (file, anchor) = match href.split_once('#') {
        Some((file, anchor)) => (file, Some(anchor)),
        None => (href, None),
    };
    let target = if file.is_empty() {
        Some(page.to_path_buf())
    } else {
        normalize(&page.parent().unwrap_or(Path::new("")).join(file))
    };
    let Some(target) = target else { return href.to_string() };
    let text = target.to_string_lossy().replace('\\', "/");
    if !file.is_empty() {
        if let Some(id) = text.strip_prefix("checks/").and_then(|t| t.strip_suffix(".md"))
            && manifest.checks.contains_key(id)
        {
            return format!("checker explain {id}");
        }
        if let Some(step) = manifest
            .steps
            .iter()
            .find(|s| s.book.strip_suffix(".html").map(|b| format!("{b}.md")) == Some(text.clone()))
        {
            return format!("checker explain {}", step.id);
        }
    }
    let html = match text.strip_suffix(".md") {
        Some(stem) => format!("{stem}.html"),
        None => text,
    };
    let url = manifest.book_link(&html);
    match anchor {
        Some(anchor) => format!("{url}#{anchor}"),
        None => url,
    }
}

pub fn run(root: &Path, manifest: &Manifest, id: &str, format: Format) -> Result<u8> {
    let page = page_of(manifest, id)?;
    let file = root.join(BOOK_SRC).join(&page);
    let online = manifest.book_link(&page.with_extension("html").to_string_lossy().replace('\\', "/"));
    let source = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "cannot read {} (the book's page for `{id}`): this workshop has no book/src folder, or not this page. Read it online at {online}",
            file.display()
        )
    })?;
    let markdown = explain::resolve_includes(&source, file.parent().unwrap_or(root));
    if format == Format::Json {
        let page = serde_json::json!({
            "id": id, "page": format!("{BOOK_SRC}/{}", page.display()), "book": online, "markdown": markdown,
        });
        checker::outln!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(0);
    }
    let terminal = std::io::stdout().is_terminal();
    let pager = if terminal { pager() } else { None };
    // Colours in a terminal, or through `less` (told to show them); plain for other
    // pagers and pipes.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = terminal && !no_color && pager.as_ref().is_none_or(|p| p.is_less());
    let link = |href: &str| link_target(manifest, &page, href);
    // The page's own text loses any control character (an ESC could rewrite the screen);
    // the colours come after.
    let text = explain::render(&checker::report::plain(&markdown), &link, color);
    if let Some(pager) = pager
        && pager.show(&text)
    {
        return Ok(0);
    }
    // A reader that stops early (`| head`) is no error.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}

/// The pager to show a page through: `$PAGER` (split on spaces; empty means none), else
/// `less`.
struct Pager {
    program: String,
    args: Vec<String>,
}

fn pager() -> Option<Pager> {
    let spec = std::env::var("PAGER").unwrap_or_else(|_| "less".to_string());
    let mut words = spec.split_whitespace().map(str::to_string);
    Some(Pager { program: words.next()?, args: words.collect() })
}

impl Pager {
    fn is_less(&self) -> bool {
        Path::new(&self.program).file_name().is_some_and(|n| n == "less")
    }

    /// Pipes `text` through the pager; false when it could not start (print instead).
    fn show(&self, text: &str) -> bool {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).stdin(Stdio::piped());
        // As git does: quit when the page fits the screen, show colours, leave the page
        // on the screen — unless the learner configured less.
        if self.is_less() && std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        PAGING.store(true, Ordering::SeqCst);
        let Ok(mut child) = cmd.spawn() else {
            PAGING.store(false, Ordering::SeqCst);
            return false;
        };
        if let Some(mut stdin) = child.stdin.take() {
            // The reader may quit before reading everything: not an error.
            let _ = stdin.write_all(text.as_bytes());
        }
        let _ = child.wait();
        PAGING.store(false, Ordering::SeqCst);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        Manifest::load(&root.join(checker::manifest::FILE_NAME)).unwrap()
    }

    #[test]
    fn links_become_explain_commands_or_book_addresses() {
        let m = manifest();
        let page = Path::new("checks/dependency-cache.md");
        assert_eq!(link_target(&m, page, "responds-on-port.md"), "checker explain responds-on-port");
        assert_eq!(link_target(&m, page, "../step-3.md"), "checker explain step-3");
        assert_eq!(link_target(&m, page, "../going-further.md"), "http://localhost:3000/going-further.html");
        assert_eq!(link_target(&m, page, "../setup.md#docker"), "http://localhost:3000/setup.html#docker");
        assert_eq!(
            link_target(&m, page, "#why-it-matters"),
            "http://localhost:3000/checks/dependency-cache.html#why-it-matters"
        );
        assert_eq!(link_target(&m, page, "https://docs.docker.com/x"), "https://docs.docker.com/x");
        assert_eq!(link_target(&m, Path::new("step-3.md"), "checks/image-size.md"), "checker explain image-size");
    }

    #[test]
    fn ids_name_check_pages_and_step_chapters() {
        let m = manifest();
        assert_eq!(page_of(&m, "image-size").unwrap(), Path::new("checks/image-size.md"));
        assert_eq!(page_of(&m, "step-5").unwrap(), Path::new("step-5.md"));
        assert_eq!(page_of(&m, "5").unwrap(), Path::new("step-5.md"));
        let err = page_of(&m, "image-sise").unwrap_err().to_string();
        assert!(err.starts_with("unknown check `image-sise`: the checks are image-builds, responds-on-port,"), "{err}");
        assert!(page_of(&m, "step-10").is_err());
    }
}

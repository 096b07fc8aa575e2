//! Everything a check run creates (images, containers, temporary folders) is registered
//! here and removed at the end of the run — also after a failure, a timeout or Ctrl-C,
//! when the process exits without unwinding. A run happens on one thread, and `grade`
//! runs several at once: each entry remembers its thread, and a run's `Guard` removes
//! only its own; Ctrl-C removes everything.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use crate::docker::Docker;

#[derive(Default)]
struct Registry {
    containers: Vec<(ThreadId, Docker, String)>,
    images: Vec<(ThreadId, Docker, String)>,
    dirs: Vec<(ThreadId, PathBuf)>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { containers: Vec::new(), images: Vec::new(), dirs: Vec::new() });

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    // A poisoned lock still holds a usable list: cleaning up matters more than the panic.
    let mut guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

fn me() -> ThreadId {
    std::thread::current().id()
}

pub fn container(docker: &Docker, name: &str) {
    with(|r| r.containers.push((me(), docker.clone(), name.to_string())));
}

pub fn image(docker: &Docker, tag: &str) {
    with(|r| r.images.push((me(), docker.clone(), tag.to_string())));
}

pub fn dir(path: PathBuf) {
    with(|r| r.dirs.push((me(), path)));
}

/// Removes a container now and forgets it.
pub fn remove_container(docker: &Docker, name: &str) {
    docker.remove_container(name);
    with(|r| r.containers.retain(|(_, _, n)| n != name));
}

/// Removes what `owner` registered (every thread's when `None`): containers first, since
/// they hold their images.
fn remove(owner: Option<ThreadId>) {
    let mine = |t: &ThreadId| owner.is_none_or(|o| o == *t);
    let (containers, images, dirs) = with(|r| {
        (
            r.containers.extract_if(.., |(t, ..)| mine(t)).collect::<Vec<_>>(),
            r.images.extract_if(.., |(t, ..)| mine(t)).collect::<Vec<_>>(),
            r.dirs.extract_if(.., |(t, _)| mine(t)).collect::<Vec<_>>(),
        )
    });
    for (_, docker, name) in containers {
        docker.remove_container(&name);
    }
    for (_, docker, tag) in images {
        docker.remove_image(&tag);
    }
    for (_, dir) in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes everything every run registered.
pub fn run() {
    remove(None);
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed: the handler is then cleaning up and will exit with 130, so
/// no new work may start and the main thread must not exit first.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Cleans up on Ctrl-C (and SIGTERM / SIGHUP) before exiting with 130. Runs on other
/// threads may register something while the first sweep runs: a second sweep takes it.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\ninterrupted: removing the checker's containers and images…");
        run();
        std::thread::sleep(std::time::Duration::from_millis(300));
        run();
        std::process::exit(130);
    });
}

/// Removes what this thread's run created when dropped, also on the paths that return
/// early.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        remove(Some(me()));
    }
}

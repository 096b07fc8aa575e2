//! Everything a check run creates (images, containers, temporary folders) is registered
//! here and removed at the end of the run — also after a failure, a timeout or Ctrl-C,
//! when the process exits without unwinding.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::docker::Docker;

#[derive(Default)]
struct Registry {
    containers: Vec<(Docker, String)>,
    images: Vec<(Docker, String)>,
    dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { containers: Vec::new(), images: Vec::new(), dirs: Vec::new() });

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    // A poisoned lock still holds a usable list: cleaning up matters more than the panic.
    let mut guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

pub fn container(docker: &Docker, name: &str) {
    with(|r| r.containers.push((docker.clone(), name.to_string())));
}

pub fn image(docker: &Docker, tag: &str) {
    with(|r| r.images.push((docker.clone(), tag.to_string())));
}

pub fn dir(path: PathBuf) {
    with(|r| r.dirs.push(path));
}

/// Removes a container now and forgets it.
pub fn remove_container(docker: &Docker, name: &str) {
    docker.remove_container(name);
    with(|r| r.containers.retain(|(_, n)| n != name));
}

/// Removes everything registered so far: containers first, since they hold their images.
pub fn run() {
    let Registry { containers, images, dirs } = with(std::mem::take);
    for (docker, name) in containers {
        docker.remove_container(&name);
    }
    for (docker, tag) in images {
        docker.remove_image(&tag);
    }
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Cleans up on Ctrl-C (and SIGTERM / SIGHUP) before exiting with 130.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        eprintln!("\ninterrupted: removing the checker's containers and images…");
        run();
        std::process::exit(130);
    });
}

/// Runs the cleanup when dropped, for the paths that return early.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        run();
    }
}

//! Everything a check run creates (images, containers, temporary folders, docker child
//! processes) is registered here and removed at the end of the run — also after a
//! failure, a timeout, Ctrl-C, SIGTERM or SIGHUP, when the process exits without
//! unwinding. A run happens on one thread, and `grade` runs several at once: each entry
//! remembers its thread, and a run's `Guard` removes only its own; a signal removes
//! everything. What a `kill -9` left behind is removed by the next run (`sweep_dead_runs`).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use crate::docker::Docker;
use crate::engine::Engine;

/// An engine shared by a run and the registry that cleans up after it.
pub type SharedEngine = Arc<dyn Engine>;

#[derive(Default)]
struct Registry {
    containers: Vec<(ThreadId, SharedEngine, String)>,
    images: Vec<(ThreadId, SharedEngine, String)>,
    dirs: Vec<(ThreadId, PathBuf)>,
    children: Vec<(u64, Arc<Mutex<Child>>)>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { containers: Vec::new(), images: Vec::new(), dirs: Vec::new(), children: Vec::new() });

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    // A poisoned lock still holds a usable list: cleaning up matters more than the panic.
    let mut guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

fn me() -> ThreadId {
    std::thread::current().id()
}

pub fn container(engine: &SharedEngine, name: &str) {
    with(|r| r.containers.push((me(), Arc::clone(engine), name.to_string())));
}

pub fn image(engine: &SharedEngine, tag: &str) {
    with(|r| r.images.push((me(), Arc::clone(engine), tag.to_string())));
}

pub fn dir(path: PathBuf) {
    with(|r| r.dirs.push((me(), path)));
}

/// Removes a container now and forgets it.
pub fn remove_container(engine: &SharedEngine, name: &str) {
    engine.remove_container(name);
    with(|r| r.containers.retain(|(_, _, n)| n != name));
}

/// Removes what `owner` registered (every thread's when `None`): containers first, since
/// they hold their images. Entries stay registered until they are gone, so that a signal
/// arriving in the middle of a run's own cleanup still finds (and removes) the rest.
fn remove(owner: Option<ThreadId>) {
    let mine = |t: &ThreadId| owner.is_none_or(|o| o == *t);
    let (containers, images, dirs) = with(|r| {
        (
            r.containers
                .iter()
                .filter(|(t, ..)| mine(t))
                .map(|(_, e, n)| (Arc::clone(e), n.clone()))
                .collect::<Vec<_>>(),
            r.images.iter().filter(|(t, ..)| mine(t)).map(|(_, e, n)| (Arc::clone(e), n.clone())).collect::<Vec<_>>(),
            r.dirs.iter().filter(|(t, _)| mine(t)).map(|(_, p)| p.clone()).collect::<Vec<_>>(),
        )
    });
    for (engine, name) in &containers {
        engine.remove_container(name);
        with(|r| r.containers.retain(|(_, _, n)| n != name));
    }
    for (engine, tag) in &images {
        engine.remove_image(tag);
        with(|r| r.images.retain(|(_, _, n)| n != tag));
    }
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
        with(|r| r.dirs.retain(|(_, p)| p != dir));
    }
}

/// Removes everything every run registered.
pub fn run() {
    remove(None);
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether a signal arrived: the handler is then cleaning up and will exit with 130, so
/// no new work may start, no report may be printed and the main thread must not exit
/// first.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Cleans up on Ctrl-C, SIGTERM and SIGHUP before exiting with 130: stops every docker
/// child first (a build would otherwise go on and tag its image after the sweep), then
/// removes what the runs registered. Runs on other threads may register something while
/// the first sweep runs: a second sweep takes it.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        let children = with(|r| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            r.children.iter().map(|(_, c)| Arc::clone(c)).collect::<Vec<_>>()
        });
        // Not eprintln!: it panics when stderr is a pipe whose reader is gone (a killed
        // parent), and a panic here would end this thread, never exiting the process.
        crate::errln!("\ninterrupted: stopping docker and removing the checker's containers and images…");
        let _ = std::panic::catch_unwind(|| {
            for child in children {
                stop(&mut child.lock().unwrap_or_else(|e| e.into_inner()));
            }
            run();
            std::thread::sleep(Duration::from_millis(300));
            run();
        });
        std::process::exit(130);
    });
}

static NEXT_CHILD: AtomicU64 = AtomicU64::new(0);

/// A docker process that the signal handler can stop and wait for.
pub struct Tracked {
    id: u64,
    child: Arc<Mutex<Child>>,
}

/// Starts `cmd` as a tracked child. It gets a process group of its own, so that Ctrl-C in
/// the terminal reaches the checker alone, which then decides the order: first no new
/// work, then the children, then the sweep. Refused once a signal has arrived.
pub fn spawn(cmd: &mut Command) -> io::Result<(Tracked, Pipes)> {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    with(|r| {
        if interrupted() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "the checker was interrupted"));
        }
        let mut child = cmd.spawn()?;
        // The pipes stay with the caller; the process itself is shared with the handler.
        let pipes = Pipes { stdout: child.stdout.take(), stderr: child.stderr.take() };
        let shared = Arc::new(Mutex::new(child));
        let id = NEXT_CHILD.fetch_add(1, Ordering::SeqCst);
        r.children.push((id, Arc::clone(&shared)));
        Ok((Tracked { id, child: shared }, pipes))
    })
}

/// The pipes of a tracked child.
pub struct Pipes {
    pub stdout: Option<std::process::ChildStdout>,
    pub stderr: Option<std::process::ChildStderr>,
}

/// Stops a child and what it started: SIGTERM to its process group first, which lets the
/// client end its work (docker cancels the build; Podman removes the build's container),
/// then SIGKILL after a grace period. Last, SIGKILL to every process the child had started
/// that is still there: Podman runs a RUN instruction in a session of its own, outside
/// the group, which neither signal reaches, and a `RUN sleep infinity` outlived the
/// checker.
fn stop(child: &mut Child) {
    let descendants = descendants(child.id());
    #[cfg(unix)]
    'grace: {
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        if nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM).is_ok() {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break 'grace;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = child.kill();
    }
    #[cfg(not(unix))]
    let _ = child.kill();
    let _ = child.wait();
    #[cfg(not(target_os = "linux"))]
    let _ = descendants;
    #[cfg(target_os = "linux")]
    for (pid, started) in descendants {
        // The same process, not one that took its pid since.
        if stat(pid).is_some_and(|(_, start)| start == started) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Every process below `pid` (children, theirs, …), each with its start time, read from
/// /proc: empty where there is none (not Linux, or a client whose builds run elsewhere).
fn descendants(pid: u32) -> Vec<(i32, u64)> {
    #[cfg(target_os = "linux")]
    {
        let parents: Vec<(i32, i32, u64)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter_map(|p| {
                let (parent, started) = stat(p)?;
                Some((p, parent, started))
            })
            .collect();
        // Each process has one parent, so each is found once.
        let mut found: Vec<(i32, u64)> = Vec::new();
        let mut frontier = vec![pid as i32];
        while let Some(parent) = frontier.pop() {
            for &(p, _, started) in parents.iter().filter(|(_, pp, _)| *pp == parent) {
                found.push((p, started));
                frontier.push(p);
            }
        }
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        Vec::new()
    }
}

/// A process's parent and start time (in clock ticks since boot), from /proc/PID/stat.
#[cfg(target_os = "linux")]
fn stat(pid: i32) -> Option<(i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: the fields start after its end.
    let fields: Vec<&str> = text[text.rfind(')')? + 2..].split(' ').collect();
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

impl Tracked {
    /// See the free function `stop`.
    pub fn stop(&self) {
        stop(&mut self.child.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Waits for the process to end. It polls, since the handler may need the lock to
    /// stop it meanwhile; the caller has read its pipes to the end, so it is about done.
    pub fn wait(&self) -> io::Result<ExitStatus> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.child.lock().unwrap_or_else(|e| e.into_inner()).try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        with(|r| r.children.retain(|(id, _)| *id != self.id));
    }
}

/// The prefix of every temporary folder a run stages its context in; the run id follows.
pub const TEMP_PREFIX: &str = "checker-context-";

/// Whether the process `pid` of this machine is gone.
fn dead(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        matches!(nix::sys::signal::kill(pid, None), Err(nix::errno::Errno::ESRCH))
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// The pid in a run id (`<pid>-<time>`), when that process is gone.
fn dead_run(run: &str) -> bool {
    run.split('-').next().and_then(|p| p.parse().ok()).is_some_and(|pid: u32| pid != std::process::id() && dead(pid))
}

/// Removes what runs killed without a chance to clean up (`kill -9`, a power cut) left
/// behind: the containers and images labelled with this machine's `host_id` whose run's
/// process is gone, and their staged contexts in `tmp`. Another machine's runs (a shared
/// engine) and live runs are never touched. Returns what it removed, to say so.
pub fn sweep_dead_runs(docker: &Docker, tmp: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let found = docker.leftovers(&crate::docker::host_id()).unwrap_or_default();
    // Containers first: they hold their images.
    for (what, id, run) in found.iter().filter(|(_, _, run)| dead_run(run)) {
        match *what {
            "container" => docker.remove_container(id),
            _ => docker.remove_image(id),
        }
        removed.push(format!("{what} of run {run}"));
    }
    for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(run) = name.strip_prefix(TEMP_PREFIX)
            && dead_run(run)
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed.push(format!("temporary folder {}", entry.path().display()));
        }
    }
    removed
}

/// Removes what this thread's run created when dropped, also on the paths that return
/// early.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        remove(Some(me()));
    }
}

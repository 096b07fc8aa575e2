//! A run's unique names, so that parallel runs on one engine never collide and what a run
//! left can be traced to it.

/// An id no other run on this machine has now: the process id (which the leftover sweep
/// and the tests use to find a process's resources) and the time.
pub fn run_id() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // The count keeps two ids of one process apart even within one clock tick.
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{:x}{count}", std::process::id(), nanos % 0xffff_ffff_ffff)
}

/// The run id and the image and container names made from it.
pub struct Names {
    pub run: String,
    pub image: String,
    pub container: String,
}

impl Names {
    pub fn new(step: &str) -> Self {
        let run = run_id();
        let step = step.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
        Self { image: format!("checker-local/{step}:{run}"), container: format!("checker-{step}-{run}"), run }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_start_with_the_pid_and_differ() {
        let (a, b) = (run_id(), run_id());
        assert!(a.starts_with(&format!("{}-", std::process::id())), "{a}");
        assert_ne!(a, b);
        let names = Names::new("Step_9");
        assert!(names.image.starts_with("checker-local/step-9:") && names.container.starts_with("checker-step-9-"));
    }
}

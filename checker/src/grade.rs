//! `checker grade`: checks every step of a student's repository (or a range), several at
//! once if asked, and scores each step with the manifest's points: all of a step's checks
//! pass, or the step scores nothing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use serde::Serialize;

use crate::manifest::{Manifest, Step};
use crate::report::{Report, Status};
use crate::runner::{self, Target};

/// The version of `checker grade --format json`'s layout.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub struct Options {
    /// Steps checked at the same time; builds share the engine's layer cache.
    pub jobs: usize,
    pub no_cache: bool,
    /// This grading run's own log folder, so that simultaneous runs never share a file.
    pub log_dir: PathBuf,
    /// Say on stderr when a step starts and ends.
    pub progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pass,
    Fail,
    /// The step could not be checked (no Dockerfile, say): it scores nothing.
    Error,
}

impl StepStatus {
    pub fn word(self) -> &'static str {
        match self {
            StepStatus::Pass => "pass",
            StepStatus::Fail => "fail",
            StepStatus::Error => "error",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StepGrade {
    pub step: String,
    pub title: String,
    pub status: StepStatus,
    pub points: u32,
    pub max_points: u32,
    pub seconds: f64,
    /// The Dockerfile graded, relative to the repository.
    pub dockerfile: String,
    /// Why the step could not be checked, when `status` is `error`.
    pub error: Option<String>,
    /// The step's full report (every check), when it could be checked.
    pub report: Option<Report>,
}

#[derive(Debug, Serialize)]
pub struct Grade {
    pub schema_version: u32,
    pub points: u32,
    pub max_points: u32,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub seconds: f64,
    /// `built-in` under `--ci`, else the repository's workshop.toml.
    pub manifest: String,
    /// Where this grading run kept its build logs.
    pub logs: String,
    pub steps: Vec<StepGrade>,
}

/// The steps named by `spec`: `all`, `3`, `1-5`, `step-2`, or a comma list of those.
pub fn select<'m>(manifest: &'m Manifest, spec: &str) -> Result<Vec<&'m Step>> {
    if spec.trim() == "all" {
        return Ok(manifest.steps.iter().collect());
    }
    let position = |name: &str| -> Result<usize> {
        let step = manifest.step(name.trim())?;
        Ok(manifest.steps.iter().position(|s| s.id == step.id).expect("found above"))
    };
    let mut chosen = Vec::new();
    for part in spec.split(',') {
        let (from, to) = match part.trim().strip_prefix("step-").unwrap_or(part.trim()).split_once('-') {
            Some((a, b)) => (position(a)?, position(b)?),
            None => (position(part)?, position(part)?),
        };
        if from > to {
            bail!("--steps {part}: the range runs backwards; write it as low-high, e.g. 1-5");
        }
        chosen.extend(from..=to);
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen.into_iter().map(|i| &manifest.steps[i]).collect())
}

/// Grades `steps` of the repository at `root`. An `Err` is the grader's own failure (no
/// engine); a step that cannot be checked is graded `error` and the others go on.
pub fn grade(
    manifest: &Manifest,
    manifest_name: &str,
    root: &Path,
    steps: &[&Step],
    options: &Options,
) -> Result<Grade> {
    crate::engine::Engine::ping(&crate::docker::Docker::from_env())?;
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<StepGrade>>> = Mutex::new(steps.iter().map(|_| None).collect());
    let jobs = options.jobs.clamp(1, steps.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(step) = steps.get(i) else { break };
                    if crate::cleanup::interrupted() {
                        break;
                    }
                    if options.progress {
                        crate::errln!("grading {} — {}…", step.id, step.title);
                    }
                    let graded = grade_step(manifest, root, step, options);
                    // A step cut short by a signal has no grade to report.
                    if crate::cleanup::interrupted() {
                        break;
                    }
                    if options.progress {
                        crate::errln!(
                            "  {}: {}, {}/{} points, {:.0} s",
                            step.id,
                            graded.status.word(),
                            graded.points,
                            graded.max_points,
                            graded.seconds
                        );
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(graded);
                }
            });
        }
    });
    // A step is missing only after Ctrl-C, when the process is about to exit with 130.
    let steps: Vec<StepGrade> = results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten().collect();
    let count = |s: StepStatus| steps.iter().filter(|g| g.status == s).count();
    Ok(Grade {
        schema_version: JSON_SCHEMA_VERSION,
        points: steps.iter().map(|s| s.points).sum(),
        max_points: steps.iter().map(|s| s.max_points).sum(),
        passed: count(StepStatus::Pass),
        failed: count(StepStatus::Fail),
        errors: count(StepStatus::Error),
        seconds: started.elapsed().as_secs_f64(),
        manifest: manifest_name.to_string(),
        logs: options.log_dir.display().to_string(),
        steps,
    })
}

fn grade_step(manifest: &Manifest, root: &Path, step: &Step, options: &Options) -> StepGrade {
    let started = Instant::now();
    let target = Target::learner(manifest, step, root);
    let run_options = runner::Options { no_cache: options.no_cache, progress: false, log_dir: options.log_dir.clone() };
    let result = runner::run(&target, &run_options);
    let (status, error, report) = match result {
        Ok(report) => (if report.passed { StepStatus::Pass } else { StepStatus::Fail }, None, Some(report)),
        Err(e) => (StepStatus::Error, Some(crate::report::plain(&format!("{e:#}"))), None),
    };
    StepGrade {
        step: step.id.clone(),
        title: step.title.clone(),
        status,
        points: if status == StepStatus::Pass { step.points } else { 0 },
        max_points: step.points,
        seconds: started.elapsed().as_secs_f64(),
        dockerfile: format!("{}/Dockerfile", step.dir),
        error,
        report,
    }
}

impl StepGrade {
    /// The checks that did not pass (failed or errored; skipped ones follow from these).
    pub fn problems(&self) -> impl Iterator<Item = &crate::report::CheckResult> {
        self.report.iter().flat_map(|r| r.checks.iter()).filter(|c| matches!(c.status, Status::Fail | Status::Error))
    }

    /// One line saying why the step did not pass.
    pub fn summary(&self) -> String {
        match (&self.error, self.status) {
            (Some(e), _) => format!("could not be checked: {e}"),
            (None, StepStatus::Pass) => "every check passed".into(),
            (None, _) => {
                let failed: Vec<String> = self.problems().map(|c| format!("{}: {}", c.id, c.message)).collect();
                failed.join("; ")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_selected_by_number_range_and_list() {
        let manifest = Manifest::parse(include_str!("../../workshop.toml")).unwrap();
        let ids = |spec: &str| select(&manifest, spec).unwrap().iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("all").len(), manifest.steps.len());
        assert_eq!(ids("1-3"), ["step-1", "step-2", "step-3"]);
        assert_eq!(ids("step-2-step-3"), ["step-2", "step-3"]);
        assert_eq!(ids("5,1-2,2"), ["step-1", "step-2", "step-5"]);
        assert_eq!(ids("step-8"), ["step-8"]);
        assert!(select(&manifest, "3-1").unwrap_err().to_string().contains("backwards"));
        let past_the_last = format!("1-{}", manifest.steps.len() + 1);
        assert!(select(&manifest, &past_the_last).unwrap_err().to_string().contains("unknown step"));
    }
}

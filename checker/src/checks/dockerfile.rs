//! The checks that read the Dockerfile alone: a pinned base image, WORKDIR before the
//! source is copied, COPY rather than ADD, enough stages, nothing read from a cache mount
//! outside its RUN. Each finding carries its line.

use crate::dockerfile::{Dockerfile, Finding};
use crate::outcome::Outcome;

/// The kinds this phase evaluates.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    BaseImagePinned,
    Workdir,
    CopyNotAdd,
    MinStages(usize),
    CacheMountReads,
}

pub fn evaluate(check: Check, df: &Dockerfile) -> Outcome {
    match check {
        Check::BaseImagePinned => base_image_pinned(df),
        Check::Workdir => workdir(df),
        Check::CopyNotAdd => copy_not_add(df),
        Check::MinStages(min) => min_stages(df, min),
        Check::CacheMountReads => cache_mount_reads(df),
    }
}

fn findings(found: Vec<Finding>, pass: &str) -> Outcome {
    match found.first() {
        None => Outcome::pass(pass),
        Some(first) if found.len() == 1 => Outcome::fail(first.message.clone()).line(Some(first.line)),
        Some(first) => {
            let all: Vec<_> = found.iter().map(|f| format!("line {}: {}", f.line, f.message)).collect();
            Outcome::fail(all.join("; ")).line(Some(first.line))
        }
    }
}

pub fn base_image_pinned(df: &Dockerfile) -> Outcome {
    let bases: Vec<_> = df.stages.iter().map(|s| s.image.as_str()).collect();
    findings(df.unpinned_bases(), &format!("FROM {}", bases.join(", ")))
}

pub fn workdir(df: &Dockerfile) -> Outcome {
    findings(df.workdir_findings(), "WORKDIR set before the source is copied")
}

pub fn copy_not_add(df: &Dockerfile) -> Outcome {
    findings(df.local_adds(), "no ADD of local files")
}

pub fn min_stages(df: &Dockerfile, min: usize) -> Outcome {
    let n = df.stages.len();
    if n >= min {
        Outcome::pass(format!("{n} stages"))
    } else {
        let plural = if n == 1 { "stage" } else { "stages" };
        Outcome::fail(format!("the Dockerfile has {n} {plural}; at least {min} are needed"))
            .line(df.stages.last().map(|s| s.line))
    }
}

pub fn cache_mount_reads(df: &Dockerfile) -> Outcome {
    let mut targets: Vec<&str> = Vec::new();
    for step in df.stages.iter().flat_map(|s| &s.steps) {
        if let crate::dockerfile::Step::Run { cache_mounts, .. } = step {
            for target in cache_mounts {
                if !targets.contains(&target.as_str()) {
                    targets.push(target);
                }
            }
        }
    }
    let pass = if targets.is_empty() {
        "no RUN uses a cache mount".to_string()
    } else {
        format!("nothing outside its RUN reads the cache mounts ({})", targets.join(", "))
    };
    findings(df.cache_mount_findings(), &pass)
}

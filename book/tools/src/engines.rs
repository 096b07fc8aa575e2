//! The table of engines the workshop was measured on (`bench/engines.json`): the same
//! sizes on each, the engines' own figures beside them, and how long a run takes there.

use crate::bench::{EngineRun, Engines};
use crate::generate::thousands;
use checker::manifest::ByteSize;
use std::fmt::Write;

/// `Docker 26.1.5+dfsg1, containerd store` or `Podman 5.4.2, rootless`.
fn engine_name(run: &EngineRun) -> String {
    let e = &run.engine;
    let name = if e.name == "podman" { "Podman" } else { "Docker" };
    let store = if e.containerd_store { "the containerd image store".to_string() } else { e.driver.clone() };
    let rootless = if e.rootless { ", rootless" } else { "" };
    format!("{name} {} ({store}{rootless})", e.version)
}

/// Our size, and the engine's own when it differs by 1% or more (as the checker shows it).
fn size(ours: u64, engine: u64) -> String {
    let off = (ours as f64 - engine as f64).abs() / ours.max(1) as f64;
    if off >= 0.01 {
        format!("{} ({} by its own count)", ByteSize(ours), ByteSize(engine))
    } else {
        ByteSize(ours).to_string()
    }
}

pub fn table(engines: &Engines) -> String {
    let mut text = String::from(
        "| Engine | Step 5 | Step 8 | Step 8 again, cached | Cold `grade` of two steps |\n|---|---:|---:|---:|---:|\n",
    );
    for run in &engines.engines {
        let (s5, s8, grade) = (&run.step_5, &run.step_8, &run.cold_grade);
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {:.0} s, {}/{} points |",
            engine_name(run),
            size(s5.size_bytes, s5.engine_size_bytes),
            size(s8.size_bytes, s8.engine_size_bytes),
            s8.warm_seconds.map_or("–".into(), |s| format!("{s:.1} s")),
            grade.seconds,
            grade.points,
            grade.max_points
        );
    }
    let same = |sizes: &[u64]| sizes.windows(2).all(|w| w[0] == w[1]);
    let (fives, eights): (Vec<u64>, Vec<u64>) =
        engines.engines.iter().map(|r| (r.step_5.size_bytes, r.step_8.size_bytes)).unzip();
    let steps = engines.engines.first().map_or("", |r| r.cold_grade.steps.as_str());
    if same(&fives) && same(&eights) && !fives.is_empty() {
        let _ = write!(
            text,
            "\nThe checker's figure is the same on every engine, to the byte: {} bytes for step 5 and {} for \
             step 8. ",
            thousands(fives[0]),
            thousands(eights[0])
        );
    } else {
        text.push_str("\nThe checker's figures differ between engines: the table gives each. ");
    }
    let m = &engines.machine;
    let _ = writeln!(
        text,
        "The cold `grade` is `checker grade --no-cache --steps {}`.\n\n<small>Measured on {} with `python3 \
         bench/engines.py`: {} cores, a 1-minute load average of {:.1} to {:.1}. Every engine but the first ran \
         inside a container on the first one (scripts/engines.sh), started with an empty image store.</small>",
        steps,
        engines.measured_at.get(..10).unwrap_or(&engines.measured_at),
        m.cpus,
        m.load_average.min,
        m.load_average.max
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, step_5: (u64, u64)) -> serde_json::Value {
        serde_json::json!({
            "name": name,
            "engine": {"name": name, "version": "1.0", "driver": "overlay2", "containerd_store": false, "rootless": false},
            "step_5": {"passed": true, "size_bytes": step_5.0, "engine_size_bytes": step_5.1},
            "step_8": {"passed": true, "size_bytes": 1_934_792, "engine_size_bytes": 1_934_792, "warm_seconds": 2.04},
            "cold_grade": {"steps": "5,8", "seconds": 95.4, "points": 25, "max_points": 25}
        })
    }

    fn engines(runs: Vec<serde_json::Value>) -> Engines {
        serde_json::from_value(serde_json::json!({
            "measured_at": "2026-11-27T16:00:00Z",
            "machine": {"cpus": 2, "load_average": {"min": 1.0, "max": 2.5}},
            "engines": runs
        }))
        .unwrap()
    }

    #[test]
    fn the_engines_own_figure_shows_only_when_it_is_a_percent_off() {
        let text =
            table(&engines(vec![run("docker", (75_733_840, 75_740_424)), run("podman", (75_733_840, 78_731_455))]));
        assert!(text.contains("| Docker 1.0 (overlay2) | 75.7 MB | 1.9 MB | 2.0 s | 95 s, 25/25 points |"), "{text}");
        assert!(text.contains("| Podman 1.0 (overlay2) | 75.7 MB (78.7 MB by its own count) |"), "{text}");
        assert!(text.contains("to the byte: 75,733,840 bytes for step 5"), "{text}");
    }

    #[test]
    fn different_figures_are_not_called_the_same() {
        let text =
            table(&engines(vec![run("docker", (75_733_840, 75_733_840)), run("docker", (75_000_000, 75_000_000))]));
        assert!(text.contains("differ between engines") && !text.contains("to the byte"), "{text}");
    }
}

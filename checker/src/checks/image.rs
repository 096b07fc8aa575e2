//! The checks that read the image's metadata: its size, user, exposed ports and
//! entrypoint, and what the container will execute.

use anyhow::{Context as _, Result};

use crate::engine::ImageConfig;
use crate::layers::{self, LayerReport};
use crate::manifest::ByteSize;
use crate::outcome::Outcome;
use crate::runner::Run;

/// The kinds this phase evaluates.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    Size,
    UserNotRoot,
    Exposes(&'a str),
    ExecEntrypoint,
}

/// Inspects and measures the image (the report shows its size, and the later phases read
/// its configuration), then judges each check of this phase.
pub fn evaluate(run: &mut Run<'_, '_>, checks: &[(&str, Check<'_>)]) -> Result<()> {
    run.spinner.say("reading the image…");
    let image = run.names.image.clone();
    // A buildx builder of the docker-container kind keeps what it builds to itself.
    let info = run.engine.inspect_image(&image).with_context(|| {
        format!(
            "the build succeeded but the engine has no image {image}: if `docker buildx ls` marks a docker-container builder as the one in use, switch to the engine's own with `docker buildx use default`"
        )
    })?;
    // The checker's own measure, the same on every engine and image store.
    let mut saved = layers::Saved::default();
    run.engine
        .save(&image, &mut |tar| {
            saved = layers::read_save(tar)?;
            Ok(())
        })
        .with_context(|| format!("measuring the image {image}"))?;
    let size = saved.size();
    let base = layers::base_image(&run.dockerfile_text);
    let base_layers = base.as_deref().and_then(|b| run.engine.history_len(b).ok()).unwrap_or(0);
    let breakdown = layers::attribute(&saved.history, &run.dockerfile_text, base_layers);
    let limit = run.target.step.size_limit;
    for (id, check) in checks {
        let outcome = match check {
            Check::Size if size > limit.0 => too_big(size, info.size, limit, &breakdown, &saved.folders),
            Check::Size => image_size(size, info.size, limit),
            Check::UserNotRoot => user_not_root(&info.config),
            Check::Exposes(port) => exposes(&info.config, port),
            Check::ExecEntrypoint => exec_entrypoint(&info.config),
        };
        run.set(id, outcome);
    }
    run.facts.engine_size = Some(info.size);
    run.facts.info = Some(info);
    run.facts.size = Some(size);
    run.facts.layers = breakdown;
    Ok(())
}

/// An image over its limit: which instructions put the bytes there, the largest first.
fn too_big(
    size: u64,
    engine_size: u64,
    limit: ByteSize,
    breakdown: &[LayerReport],
    folders: &[layers::LayerFolders],
) -> Outcome {
    let mut largest: Vec<&LayerReport> = breakdown.iter().filter(|l| l.bytes > 0).collect();
    largest.sort_by_key(|l| std::cmp::Reverse(l.bytes));
    let rows: Vec<String> = largest
        .iter()
        .take(5)
        .map(|l| {
            format!(
                "{:>9}  {}{}",
                ByteSize(l.bytes).to_string(),
                l.line.map(|n| format!("line {n}: ")).unwrap_or_default(),
                l.instruction
            )
        })
        .collect();
    let outcome = image_size(size, engine_size, limit)
        .details(format!("the image's layers, largest first:\n{}", rows.join("\n")));
    match layers::largest_text(breakdown, folders) {
        Some(text) => outcome.hint(format!(
            "{text}. Copy only what the server needs into the final stage (the binary: `COPY --from=builder /app/server /server`), and start it from a small base."
        )),
        None => outcome,
    }
}

/// The verdict on the checker's figure; the engine's own is shown beside it when it
/// differs by 1% or more (engines and image stores count storage their own ways).
pub fn image_size(size: u64, engine_size: u64, limit: ByteSize) -> Outcome {
    let engine = if engine_size > 0 && engine_size.abs_diff(size) * 100 >= size.max(1) {
        format!("; the engine itself reports {}, counted its own way", ByteSize(engine_size))
    } else {
        String::new()
    };
    if size <= limit.0 {
        Outcome::pass(format!("{} of files in the image's layers (limit {limit}){engine}", ByteSize(size)))
    } else {
        Outcome::fail(format!(
            "the files in the image's layers add up to {}, over this step's limit of {limit}{engine}",
            ByteSize(size)
        ))
    }
}

pub fn user_not_root(config: &ImageConfig) -> Outcome {
    let user = config.user.trim();
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() {
        Outcome::fail("the image sets no USER, so the container runs as root")
    } else if name == "0" || name == "root" {
        Outcome::fail(format!("the image's USER is `{user}`, which is root"))
    } else {
        Outcome::pass(format!("USER {user}"))
    }
}

pub fn exposes(config: &ImageConfig, port: &str) -> Outcome {
    let ports: Vec<String> = config.exposed_ports.iter().flat_map(|p| p.keys().cloned()).collect();
    if ports.iter().any(|p| p == port) {
        Outcome::pass(format!("EXPOSE {port}"))
    } else if ports.is_empty() {
        Outcome::fail("the image exposes no port")
    } else {
        Outcome::fail(format!("the image exposes {} but not {port}", ports.join(", ")))
    }
}

pub fn exec_entrypoint(config: &ImageConfig) -> Outcome {
    match config.entrypoint.as_deref() {
        None | Some([]) => {
            let cmd = config.cmd.as_ref().map(|c| format!(" (it starts with CMD {})", json(c))).unwrap_or_default();
            Outcome::fail(format!("the image has no ENTRYPOINT{cmd}"))
        }
        Some([sh, c, rest @ ..]) if is_shell(sh) && c == "-c" => Outcome::fail(format!(
            "the ENTRYPOINT is in shell form: PID 1 is `{sh} -c {}`, a shell, which runs the server as its child (unless it replaces itself with it) and does not pass SIGTERM on",
            rest.join(" ")
        ))
        .hint(
            "Write the ENTRYPOINT as a JSON array, e.g. `ENTRYPOINT [\"/server\"]`: then the server itself is PID 1.",
        ),
        Some(argv) => Outcome::pass(format!("ENTRYPOINT {}", json(argv))),
    }
}

/// Whether `program` is a shell: what runs a shell-form command, and then is PID 1.
pub fn is_shell(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    matches!(name, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh")
}

fn json(argv: &[String]) -> String {
    serde_json::to_string(argv).unwrap_or_default()
}

/// The executable the container starts: the first word of ENTRYPOINT + CMD (looked
/// inside a `sh -c` string), resolved against WORKDIR. `None` when the image runs nothing.
/// A bare name is returned as is; the caller looks it up in PATH.
pub fn executable(config: &ImageConfig) -> Option<String> {
    let mut argv: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    if argv.is_empty() {
        argv = config.cmd.clone().unwrap_or_default();
    }
    let first = match argv.as_slice() {
        [sh, c, script, ..] if is_shell(sh) && c == "-c" => {
            script.split_whitespace().find(|w| *w != "exec" && !w.contains('='))?.to_string()
        }
        [first, ..] => first.clone(),
        [] => return None,
    };
    if first.starts_with('/') || !first.contains('/') {
        return Some(first);
    }
    let dir = if config.working_dir.is_empty() { "/" } else { config.working_dir.as_str() };
    Some(format!("{}/{}", dir.trim_end_matches('/'), first.trim_start_matches("./")))
}

/// The directories of the image's PATH, for a bare command name.
pub fn search_path(config: &ImageConfig) -> Vec<String> {
    config
        .env
        .iter()
        .flatten()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .split(':')
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use std::collections::HashMap;

    fn config(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>, workdir: &str) -> ImageConfig {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ImageConfig {
            entrypoint: entrypoint.map(v),
            cmd: cmd.map(v),
            working_dir: workdir.into(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn the_executable_is_found_in_entrypoint_cmd_and_shell_strings() {
        assert_eq!(executable(&config(Some(&["/server"]), Some(&["--flag"]), "")).as_deref(), Some("/server"));
        assert_eq!(
            executable(&config(None, Some(&["./target/release/server"]), "/app")).as_deref(),
            Some("/app/target/release/server")
        );
        assert_eq!(
            executable(&config(None, Some(&["/bin/sh", "-c", "RUST_LOG=x exec /app/server"]), "")).as_deref(),
            Some("/app/server")
        );
        assert_eq!(executable(&config(None, Some(&["server"]), "")).as_deref(), Some("server"));
        assert_eq!(executable(&config(None, None, "")), None);
    }

    #[test]
    fn shell_form_and_missing_entrypoints_fail() {
        assert_eq!(exec_entrypoint(&config(Some(&["/server"]), None, "")).status, Status::Pass);
        let shell = exec_entrypoint(&config(Some(&["/bin/sh", "-c", "/server"]), None, ""));
        assert_eq!(shell.status, Status::Fail);
        assert!(shell.message.contains("shell form"));
        let none = exec_entrypoint(&config(None, Some(&["/server"]), ""));
        assert!(none.message.contains("no ENTRYPOINT (it starts with CMD [\"/server\"])"), "{}", none.message);
    }

    #[test]
    fn root_users_are_recognised() {
        for (user, ok) in
            [("", false), ("root", false), ("0", false), ("0:0", false), ("10001:10001", true), ("app", true)]
        {
            let c = ImageConfig { user: user.into(), ..ImageConfig::default() };
            assert_eq!(user_not_root(&c).status == Status::Pass, ok, "USER {user:?}");
        }
    }

    #[test]
    fn exposed_ports_are_matched_exactly() {
        let mut ports = HashMap::new();
        ports.insert("8080/tcp".to_string(), serde_json::json!({}));
        let c = ImageConfig { exposed_ports: Some(ports), ..ImageConfig::default() };
        let o = exposes(&c, "3030/tcp");
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("8080/tcp but not 3030/tcp"));
        assert_eq!(exposes(&ImageConfig::default(), "3030/tcp").message, "the image exposes no port");
    }

    #[test]
    fn sizes_over_the_limit_fail() {
        let o = image_size(1_934_792, 1_941_504, ByteSize(20_000_000));
        assert_eq!(o.status, Status::Pass);
        // Within 1% of each other: one figure is enough.
        assert_eq!(o.message, "1.9 MB of files in the image's layers (limit 20.0 MB)");
        let o = image_size(75_740_424, 85_762_048, ByteSize(20_000_000));
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.message
                .contains("add up to 75.7 MB, over this step's limit of 20.0 MB; the engine itself reports 85.8 MB"),
            "{}",
            o.message
        );
    }
}

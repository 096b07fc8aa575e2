//! The checks that read the final image's files: the binary it runs is static, and no
//! file matches what must not ship.

use anyhow::Result;

use crate::checks::image::{executable, search_path};
use crate::cleanup;
use crate::elf::{self, Linkage};
use crate::engine::ImageConfig;
use crate::layers;
use crate::outcome::Outcome;
use crate::runner::Run;

/// The kinds this phase evaluates.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    StaticBinary,
    Absent(&'a [String]),
}

/// Reads the final image's files from a created (never started) container: the binary
/// once, the list of files once, whatever number of checks read them.
pub fn evaluate(run: &mut Run<'_, '_>, checks: &[(&str, Check<'_>)]) -> Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    let name = format!("{}-files", run.names.container);
    cleanup::container(run.engine, &name);
    run.engine.create(&run.names.image, &name, &run.names.run)?;
    let config = run.facts.info.as_ref().map(|i| i.config.clone()).unwrap_or_default();
    let mut binary: Option<Outcome> = None;
    let mut listed: Option<Vec<String>> = None;
    for (id, check) in checks {
        let outcome = match check {
            Check::StaticBinary => match &binary {
                Some(outcome) => outcome.clone(),
                None => {
                    let (outcome, dynamic) = examine_binary(run, &name, &config);
                    run.facts.dynamic_binary = dynamic;
                    binary.insert(outcome).clone()
                }
            },
            Check::Absent(patterns) => {
                if listed.is_none() {
                    run.spinner.say("listing the image's files…");
                    listed = Some(run.engine.list_files(&name)?);
                }
                let names = listed.as_deref().unwrap_or_default();
                files_absent(&files_present(names, patterns)?, patterns, names.len())
            }
        };
        run.set(id, outcome);
    }
    cleanup::remove_container(run.engine, &name);
    Ok(())
}

/// The static-binary verdict, and the binary's path when it is dynamically linked.
fn examine_binary(run: &Run<'_, '_>, container: &str, config: &ImageConfig) -> (Outcome, Option<String>) {
    let Some(exe) = executable(config) else {
        return (Outcome::fail("the image has neither ENTRYPOINT nor CMD: there is no binary to examine"), None);
    };
    // The command came with the base image: examining it would judge the base's program.
    if !layers::sets_command(&run.dockerfile_text) {
        let base = layers::base_image(&run.dockerfile_text).unwrap_or_else(|| "its base image".into());
        let outcome = Outcome::fail(format!(
            "the final stage sets no CMD or ENTRYPOINT, so the image runs {base}'s `{exe}`, not the server"
        ))
        .hint("Start the server in the final stage with an exec-form CMD (or ENTRYPOINT) naming the path your COPY gives the binary, e.g. CMD [\"/usr/local/bin/server\"].");
        return (outcome, None);
    }
    let candidates: Vec<String> = if exe.starts_with('/') {
        vec![exe.clone()]
    } else {
        search_path(config).iter().map(|d| format!("{}/{exe}", d.trim_end_matches('/'))).collect()
    };
    let mut last_err = String::new();
    for path in &candidates {
        match run.engine.read_file(container, path) {
            Ok(bytes) => {
                return match elf::linkage(&bytes) {
                    Ok(l) => {
                        // Is what it needs in the image? A name is looked up where glibc keeps it.
                        let present = |name: &str| {
                            let paths: Vec<String> = if name.starts_with('/') {
                                vec![name.to_string()]
                            } else {
                                library_dirs(l.machine).iter().map(|d| format!("{d}/{name}")).collect()
                            };
                            Some(paths.iter().any(|p| run.engine.read_file(container, p).is_ok()))
                        };
                        (static_binary(path, &l, &present), (!l.is_static()).then(|| path.clone()))
                    }
                    Err(e) => (Outcome::fail(format!("{path} is {e}")), None),
                };
            }
            Err(e) => last_err = e.to_string(),
        }
    }
    let outcome = Outcome::fail(format!("the image runs {exe}, which is not in the image ({last_err})"))
        .hint("Point CMD/ENTRYPOINT at the binary's real path in the final image.");
    (outcome, None)
}

/// The static-binary verdict. `present` says, for the loader and each library the binary
/// needs, whether the final image has it (when the checker looked).
pub fn static_binary(path: &str, linkage: &Linkage, present: &dyn Fn(&str) -> Option<bool>) -> Outcome {
    if linkage.is_static() {
        return Outcome::pass(format!("{path}: static {} executable", linkage.machine));
    }
    let mark = |name: &str| match present(name) {
        Some(true) => format!("{name} (in the image)"),
        Some(false) => format!("{name} (not in the image)"),
        None => name.to_string(),
    };
    let mut needs = Vec::new();
    if let Some(i) = &linkage.interpreter {
        needs.push(format!("the loader {}", mark(i)));
    }
    if !linkage.needed.is_empty() {
        needs.push(linkage.needed.iter().map(|l| mark(l)).collect::<Vec<_>>().join(", "));
    }
    Outcome::fail(format!("{path} is dynamically linked: it needs {}", needs.join(" and ")))
}

/// Where a glibc system keeps the libraries of a `machine` (as `elf` names it).
fn library_dirs(machine: &str) -> Vec<String> {
    let triple = match machine {
        "aarch64" => "aarch64-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        _ => "x86_64-linux-gnu",
    };
    ["/lib", "/usr/lib", "/lib64", "/usr/lib64"].iter().flat_map(|d| [format!("{d}/{triple}"), d.to_string()]).collect()
}

/// Files of the image that match one of `patterns` (globs over paths without the leading
/// /), ordered by the first pattern each matches: the manifest lists the telling ones first.
pub fn files_present(names: &[String], patterns: &[String]) -> anyhow::Result<Vec<String>> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        set.add(globset::Glob::new(p)?);
    }
    let set = set.build()?;
    let mut found: Vec<(usize, &String)> =
        names.iter().filter_map(|n| set.matches(n.trim_start_matches('/')).first().map(|&i| (i, n))).collect();
    found.sort_by_key(|(i, _)| *i);
    Ok(found.into_iter().map(|(_, n)| n.clone()).collect())
}

pub fn files_absent(found: &[String], patterns: &[String], total: usize) -> Outcome {
    if found.is_empty() {
        return Outcome::pass(format!("none of {total} files match {}", patterns.join(", ")));
    }
    let shown: Vec<_> = found.iter().take(5).cloned().collect();
    let more = if found.len() > 5 { format!(" and {} more", found.len() - 5) } else { String::new() };
    Outcome::fail(format!("the final image holds {}{more}", shown.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn image_files_are_matched_by_glob() {
        let names = vec!["/usr/local/cargo/bin/cargo".to_string(), "/app/src/main.rs".into(), "/server".into()];
        let found = files_present(&names, &["**/bin/cargo".into(), "**/*.rs".into()]).unwrap();
        assert_eq!(found, ["/usr/local/cargo/bin/cargo", "/app/src/main.rs"]);
        let found = files_present(&names, &["**/*.rs".into(), "**/bin/cargo".into()]).unwrap();
        assert_eq!(found, ["/app/src/main.rs", "/usr/local/cargo/bin/cargo"], "in the patterns' order");
        assert_eq!(files_absent(&found, &[], 3).status, Status::Fail);
    }
}

//! Reading a Dockerfile (with the `parse-dockerfile` crate) into the few facts the static
//! checks need, each with its line so that a failure can point at it.

use std::collections::HashMap;

use anyhow::{Result, anyhow};
use parse_dockerfile::{Instruction, Source};

/// A parsed Dockerfile, reduced to its stages.
#[derive(Debug)]
pub struct Dockerfile {
    pub stages: Vec<Stage>,
}

#[derive(Debug)]
pub struct Stage {
    /// The image after `FROM`, with global ARG defaults substituted.
    pub image: String,
    pub name: Option<String>,
    pub line: usize,
    pub steps: Vec<Step>,
}

/// The instructions the checks look at.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Workdir {
        path: String,
        line: usize,
    },
    /// COPY or ADD; `from` is the `--from` stage or image, `None` for the build context.
    Copy {
        add: bool,
        from: Option<String>,
        sources: Vec<String>,
        line: usize,
    },
    /// RUN; `cache_mounts` are the targets of its `--mount=type=cache` flags as written
    /// (relative ones start at the WORKDIR), `command` its command line(s) and heredocs.
    Run {
        cache_mounts: Vec<String>,
        command: String,
        line: usize,
    },
}

impl Step {
    /// The path and line of a WORKDIR instruction.
    fn workdir(&self) -> Option<(String, usize)> {
        match self {
            Step::Workdir { path, line } => Some((path.clone(), *line)),
            Step::Copy { .. } | Step::Run { .. } => None,
        }
    }
}

/// A rule violation at a line of the Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub line: usize,
    pub message: String,
}

impl Dockerfile {
    pub fn parse(text: &str) -> Result<Self> {
        // The parser skips a byte-order mark and counts its offsets without it: so do we.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parsed = parse_dockerfile::parse(text).map_err(|e| anyhow!("{e}"))?;
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut args = HashMap::new();
        for arg in parsed.global_args() {
            if let Some((k, v)) = arg.arguments.value.split_once('=') {
                args.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
        let stages = parsed
            .stages()
            .map(|stage| Stage {
                image: substitute(&stage.from.image.value, &args),
                name: stage.from.as_.as_ref().map(|(_, n)| n.value.to_string()),
                line: line_of(stage.from.from.span.start),
                steps: stage
                    .instructions
                    .iter()
                    .filter_map(|i| match i {
                        Instruction::Workdir(w) => Some(Step::Workdir {
                            path: w.arguments.value.to_string(),
                            line: line_of(w.workdir.span.start),
                        }),
                        Instruction::Copy(c) => Some(Step::Copy {
                            add: false,
                            from: flag(&c.options, "from"),
                            sources: sources(&c.src),
                            line: line_of(c.copy.span.start),
                        }),
                        Instruction::Add(a) => Some(Step::Copy {
                            add: true,
                            from: None,
                            sources: sources(&a.src),
                            line: line_of(a.add.span.start),
                        }),
                        Instruction::Run(r) => Some(Step::Run {
                            cache_mounts: r
                                .options
                                .iter()
                                .filter(|f| f.name.value == "mount")
                                .filter_map(|f| cache_mount_target(&f.value.as_ref()?.value))
                                .collect(),
                            command: run_command(r),
                            line: line_of(r.run.span.start),
                        }),
                        _ => None,
                    })
                    .collect(),
            })
            .collect();
        Ok(Self { stages })
    }

    /// Whether `image` names a stage declared before stage `index`.
    fn is_earlier_stage(&self, index: usize, image: &str) -> bool {
        self.stages[..index].iter().any(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(image)))
    }

    /// The images the Dockerfile builds FROM, once each in order: every stage's image that
    /// is not `scratch`, an earlier stage or an unresolved variable.
    pub fn base_images(&self) -> Vec<&str> {
        let mut images: Vec<&str> = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let image = stage.image.trim();
            let not_an_image = image.is_empty() || image.eq_ignore_ascii_case("scratch") || image.contains('$');
            if !not_an_image && !self.is_earlier_stage(i, image) && !images.contains(&image) {
                images.push(image);
            }
        }
        images
    }

    /// The names a `COPY --from=` gives that no stage declares (lowercase, as Docker
    /// compares them): an image reference has a `/` or a `:`, a number is a stage's index.
    pub fn missing_stages(&self) -> Vec<String> {
        let declared =
            |name: &str| self.stages.iter().any(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)));
        self.stages
            .iter()
            .flat_map(|s| &s.steps)
            .filter_map(|step| match step {
                Step::Copy { from: Some(from), .. } => Some(from.to_ascii_lowercase()),
                Step::Copy { from: None, .. } | Step::Workdir { .. } | Step::Run { .. } => None,
            })
            .filter(|name| !name.chars().all(|c| c.is_ascii_digit()) && !name.contains(['/', ':']) && !declared(name))
            .collect()
    }

    /// FROM lines whose image has no tag, `latest`, or an unresolved variable.
    /// `scratch` and references to earlier stages are not images and need no tag.
    pub fn unpinned_bases(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let image = stage.image.as_str();
            if image.eq_ignore_ascii_case("scratch") || self.is_earlier_stage(i, image) || image.contains('@') {
                continue;
            }
            let message = if image.contains('$') {
                format!("`FROM {image}` depends on a variable with no default: the base image cannot be known")
            } else {
                let last = image.rsplit('/').next().unwrap_or(image);
                match last.split_once(':') {
                    None => format!("`FROM {image}` has no tag, which means `{image}:latest`"),
                    Some((_, "latest")) => format!("`FROM {image}` uses the moving tag `latest`"),
                    Some(_) => continue,
                }
            };
            findings.push(Finding { line: stage.line, message });
        }
        findings
    }

    /// Stages that copy from the build context without an absolute WORKDIR other than `/`
    /// set before that copy (in the stage itself or in the earlier stage it starts from).
    pub fn workdir_findings(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let Some(first_copy) = stage.steps.iter().position(|s| matches!(s, Step::Copy { from: None, .. })) else {
                continue;
            };
            let Step::Copy { line, .. } = &stage.steps[first_copy] else { unreachable!() };
            let inherited = self.inherited_workdir(i);
            let workdir = stage.steps[..first_copy].iter().rev().find_map(Step::workdir).or(inherited);
            let problem = match &workdir {
                None => "copies the build context with no WORKDIR set: the files land in /".to_string(),
                Some((p, _)) if p.trim_end_matches('/').is_empty() => {
                    "sets WORKDIR to /, the filesystem's root".to_string()
                }
                Some((p, _)) if !p.starts_with('/') && !p.starts_with('$') => {
                    format!("sets a relative WORKDIR `{p}`: it depends on the base image's own WORKDIR")
                }
                Some(_) => continue,
            };
            let line = workdir.map_or(*line, |(_, l)| l);
            findings.push(Finding { line, message: format!("stage {} ({}) {problem}", i + 1, stage.image) });
        }
        findings
    }

    /// The last WORKDIR of the earlier stage that stage `index` starts from, if any.
    fn inherited_workdir(&self, index: usize) -> Option<(String, usize)> {
        let image = &self.stages[index].image;
        let parent = self.stages[..index]
            .iter()
            .rposition(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(image)))?;
        self.stages[parent].steps.iter().rev().find_map(Step::workdir).or_else(|| self.inherited_workdir(parent))
    }

    /// `ADD` instructions whose sources are local files rather than URLs or git repositories.
    pub fn local_adds(&self) -> Vec<Finding> {
        self.stages
            .iter()
            .flat_map(|s| &s.steps)
            .filter_map(|step| match step {
                Step::Copy { add: true, sources, line, .. } => {
                    let local: Vec<_> = sources.iter().filter(|s| !is_remote(s)).cloned().collect();
                    (!local.is_empty()).then(|| Finding {
                        line: *line,
                        message: format!("`ADD {}` copies local files", local.join(" ")),
                    })
                }
                _ => None,
            })
            .collect()
    }
}

impl Dockerfile {
    /// The index of the stage that `name` (a stage's name, or its index) names among the
    /// stages before stage `index`.
    fn earlier_stage(&self, index: usize, name: &str) -> Option<usize> {
        if let Ok(n) = name.parse::<usize>() {
            return (n < index).then_some(n);
        }
        self.stages[..index].iter().rposition(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }

    /// Reads of a cache mount's folder where its files are not: a `COPY --from` of a
    /// path under a cache mount of the stage it copies from (or of a stage that one
    /// starts from), and a later `RUN` of that stage that names a path under a cache mount
    /// it does not mount itself. A cache mount is never part of the image: after its RUN,
    /// its folder is what it was before, usually empty.
    pub fn cache_mount_findings(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        // Per stage, at its end: its WORKDIR, and each cache mount its RUNs (and those of
        // the stages it starts from) mounted, with the line of the first RUN that did.
        let mut ends: Vec<(String, Vec<(String, usize)>)> = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let parent = self.earlier_stage(i, &stage.image);
            let (mut workdir, mut mounts) = parent.map(|p| ends[p].clone()).unwrap_or_else(|| ("/".into(), vec![]));
            for step in &stage.steps {
                match step {
                    Step::Workdir { path, .. } => workdir = join(&workdir, path),
                    Step::Run { cache_mounts, command, line } => {
                        let own: Vec<String> = cache_mounts.iter().map(|t| join(&workdir, t)).collect();
                        let read = mounts
                            .iter()
                            .filter(|(target, _)| !own.contains(target))
                            .find_map(|(target, at)| Some((read_under(command, &workdir, target)?, target, at)));
                        if let Some((path, target, at)) = read {
                            findings.push(Finding {
                                line: *line,
                                message: format!(
                                    "the RUN on line {line} reads {path}, under {target}: the cache mount of the RUN on line {at}, which this RUN does not mount, so it finds that folder empty"
                                ),
                            });
                        }
                        for target in own {
                            if !mounts.iter().any(|(m, _)| *m == target) {
                                mounts.push((target, *line));
                            }
                        }
                    }
                    Step::Copy { from: Some(from), sources, line, .. } => {
                        let Some(source) = self.earlier_stage(i, from) else { continue };
                        let read = sources.iter().find_map(|s| {
                            let path = join("/", s);
                            let (target, at) = ends[source].1.iter().find(|(t, _)| under(&path, t))?;
                            Some((s, target, at))
                        });
                        if let Some((path, target, at)) = read {
                            findings.push(Finding {
                                line: *line,
                                message: format!(
                                    "`COPY --from={from}` on line {line} reads {path}, under {target}: the cache mount of the RUN on line {at}, whose files are never in the stage, so the copy finds nothing there"
                                ),
                            });
                        }
                    }
                    Step::Copy { .. } => {}
                }
            }
            ends.push((workdir, mounts));
        }
        findings
    }
}

/// The target of a `--mount` flag's value if it mounts a cache (`type=cache`); the
/// default type, `bind`, and the others keep their files elsewhere.
fn cache_mount_target(value: &str) -> Option<String> {
    let mut cache = false;
    let mut target = None;
    for field in value.split(',') {
        let (key, val) = field.split_once('=').unwrap_or((field, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "type" => cache = val.trim().trim_matches('"') == "cache",
            "target" | "dst" | "destination" => target = Some(val.trim().trim_matches('"').to_string()),
            _ => {}
        }
    }
    target.filter(|t| cache && !t.is_empty())
}

/// A RUN's command as one line, with its heredocs: what its shell reads.
fn run_command(run: &parse_dockerfile::RunInstruction<'_>) -> String {
    let mut text = match &run.arguments {
        parse_dockerfile::Command::Exec(args) => {
            args.value.iter().map(|a| a.value.as_ref()).collect::<Vec<_>>().join(" ")
        }
        parse_dockerfile::Command::Shell(shell) => shell.value.replace("\\\r\n", " ").replace("\\\n", " "),
        _ => String::new(),
    };
    for doc in &run.here_docs {
        text.push('\n');
        text.push_str(&doc.value);
    }
    text
}

/// `path` from the folder `dir`, with `.` and `..` resolved and no trailing `/`.
fn join(dir: &str, path: &str) -> String {
    let start = if path.starts_with('/') { "" } else { dir };
    let mut parts: Vec<&str> = Vec::new();
    for part in start.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Whether `path` is the folder `dir` or lies below it.
fn under(path: &str, dir: &str) -> bool {
    path == dir || dir == "/" || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// The first word of a shell command that names a path under `target` (absolute, or
/// relative to `workdir`), as the command writes it up to its first variable
/// (`target/…` for `"target/$(uname -m)-unknown-linux-gnu/release/server"`).
fn read_under(command: &str, workdir: &str, target: &str) -> Option<String> {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '<' | '>' | '=' | '`'))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').split(['"', '\'']).next().unwrap_or_default())
        .filter(|w| !w.is_empty() && !w.starts_with(['-', '$']))
        .find(|w| under(&join(workdir, w), target))
        .map(|w| match w.split_once('$') {
            Some((fixed, _)) => format!("{fixed}…"),
            None => w.to_string(),
        })
}

/// Whether the Dockerfile falls into the placeholder trap: it builds a placeholder
/// `fn main() {}` to cache the dependencies, then builds the real source without making
/// it newer (`touch`), so cargo may see nothing to rebuild and keep the placeholder.
pub fn placeholder_trap(text: &str) -> bool {
    text.contains("fn main") && text.matches("cargo build").count() >= 2 && !text.contains("touch ")
}

fn is_remote(source: &str) -> bool {
    ["http://", "https://", "git@", "git://"].iter().any(|p| source.starts_with(p))
}

fn flag(options: &[parse_dockerfile::Flag<'_>], name: &str) -> Option<String> {
    options.iter().find(|f| f.name.value == name).and_then(|f| f.value.as_ref()).map(|v| v.value.to_string())
}

fn sources(src: &[Source<'_>]) -> Vec<String> {
    src.iter()
        .map(|s| match s {
            Source::Path(p) => p.value.to_string(),
            Source::HereDoc(_) => "<<heredoc".to_string(),
            _ => String::new(),
        })
        .collect()
}

/// Replaces `$NAME` and `${NAME}` with the global ARG defaults, each name read whole (so
/// `$TAG` is never `$T` followed by `AG`); unknown names stay.
fn substitute(text: &str, args: &HashMap<String, String>) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match args.get(name) {
            Some(value) if len > 0 => out.push_str(value),
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &rest[at + 1 + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df(text: &str) -> Dockerfile {
        Dockerfile::parse(text).unwrap()
    }

    fn lines(findings: Vec<Finding>) -> Vec<usize> {
        findings.iter().map(|f| f.line).collect()
    }

    #[test]
    fn pinned_tags_pass_and_scratch_and_stages_are_skipped() {
        let d = df("FROM rust:1.95-slim-bookworm AS builder\nRUN x\nFROM builder AS again\nFROM scratch\n");
        assert!(d.unpinned_bases().is_empty());
        let d = df("FROM registry.local:5000/rust@sha256:abc\n");
        assert!(d.unpinned_bases().is_empty(), "a digest pins too");
    }

    #[test]
    fn latest_untagged_and_unknown_variables_fail_with_their_line() {
        let d = df("FROM rust\nFROM debian:latest\nFROM registry.local:5000/rust\nFROM $NOPE\n");
        let f = d.unpinned_bases();
        assert_eq!(lines(f.clone()), [1, 2, 3, 4]);
        assert!(f[0].message.contains("no tag"));
        assert!(f[1].message.contains("latest"));
        assert!(f[2].message.contains("no tag"), "a registry port is not a tag");
        assert!(f[3].message.contains("variable"));
    }

    #[test]
    fn global_arg_defaults_are_substituted() {
        let d = df("ARG RUST=1.95\nFROM rust:${RUST}-slim-bookworm\n");
        assert_eq!(d.stages[0].image, "rust:1.95-slim-bookworm");
        assert!(d.unpinned_bases().is_empty());
        let d = df("ARG TAG=latest\nFROM rust:$TAG\n");
        assert_eq!(lines(d.unpinned_bases()), [2]);
    }

    #[test]
    fn workdir_applies_to_the_stage_that_copies_the_source() {
        let ok = df("FROM rust:1 AS builder\nWORKDIR /app\nCOPY . .\nFROM scratch\nCOPY --from=builder /app/x /x\n");
        assert!(ok.workdir_findings().is_empty(), "a scratch stage copying --from needs no WORKDIR");
        let missing = df("FROM rust:1\nCOPY . .\n");
        assert_eq!(lines(missing.workdir_findings()), [2]);
        let root = df("FROM rust:1\nWORKDIR /\nCOPY . .\n");
        assert!(root.workdir_findings()[0].message.contains("/, the filesystem's root"));
        let relative = df("FROM rust:1\nWORKDIR app\nCOPY . .\n");
        assert!(relative.workdir_findings()[0].message.contains("relative"));
        let late = df("FROM rust:1\nCOPY . .\nWORKDIR /app\n");
        assert_eq!(lines(late.workdir_findings()), [2], "WORKDIR after the copy is too late");
    }

    #[test]
    fn workdir_is_inherited_from_an_earlier_stage() {
        let d = df("FROM rust:1 AS base\nWORKDIR /app\nFROM base\nCOPY src src\n");
        assert!(d.workdir_findings().is_empty());
    }

    #[test]
    fn local_add_is_flagged_but_a_url_is_not() {
        let d = df("FROM rust:1\nWORKDIR /app\nADD . .\nADD https://example.com/x.tar.gz /x\nCOPY a b\n");
        assert_eq!(lines(d.local_adds()), [3]);
    }

    #[test]
    fn heredocs_flags_and_continuations_parse() {
        let d = df("FROM rust:1 AS b\nRUN <<EOF\necho hi\nEOF\nCOPY --chmod=0555 --from=b \\\n  /a /b\n");
        assert_eq!(
            d.stages[0].steps,
            [
                Step::Run { cache_mounts: vec![], command: "\necho hi\n".into(), line: 2 },
                Step::Copy { add: false, from: Some("b".into()), sources: vec!["/a".into()], line: 5 }
            ]
        );
    }

    #[test]
    fn the_placeholder_trap_is_a_second_build_without_touch() {
        let trap = "RUN echo \"fn main() {}\" > src/main.rs && cargo build\nCOPY src src\nRUN cargo build\n";
        assert!(placeholder_trap(trap));
        assert!(!placeholder_trap(&trap.replace("RUN cargo build", "RUN touch src/main.rs && cargo build")));
        assert!(!placeholder_trap("COPY . .\nRUN cargo build\n"));
    }

    #[test]
    fn base_images_and_missing_stages() {
        let d = df(
            "ARG V=1.95\nFROM rust:${V}-slim AS builder\nFROM builder AS again\nFROM scratch\nCOPY --from=Builder /a /a\nCOPY --from=bulider /b /b\nCOPY --from=0 /c /c\nCOPY --from=alpine:3 /d /d\nFROM debian:bookworm-slim\nFROM rust:1.95-slim\n",
        );
        assert_eq!(d.base_images(), ["rust:1.95-slim", "debian:bookworm-slim"]);
        assert_eq!(d.missing_stages(), ["bulider"]);
    }

    /// Step 9's solution, with its two cache mounts.
    const CACHED: &str = "FROM rust:1.95-slim-bookworm AS builder\nWORKDIR /app\nCOPY . .\n\
        RUN --mount=type=cache,target=/usr/local/cargo/registry \\\n    --mount=type=cache,target=/app/target \\\n    \
        cargo build --release --locked --target \"$(uname -m)-unknown-linux-gnu\" \\\n \
        && cp \"target/$(uname -m)-unknown-linux-gnu/release/server\" /app/server\n\
        FROM scratch\nCOPY --from=builder --chmod=0555 /app/server /server\n";

    #[test]
    fn cache_mounts_are_read_with_their_targets() {
        let d = df(CACHED);
        let Step::Run { cache_mounts, command, line } = &d.stages[0].steps[2] else { panic!("{:?}", d.stages[0]) };
        assert_eq!(cache_mounts, &["/usr/local/cargo/registry", "/app/target"]);
        assert_eq!(*line, 4);
        assert!(command.starts_with("cargo build") && command.contains("&& cp"), "{command}");
        let types = df(
            "FROM a\nRUN --mount=type=bind,target=/b --mount=target=/c,type=cache,id=x \\\n  --mount=type=secret,id=s true\n",
        );
        let Step::Run { cache_mounts, .. } = &types.stages[0].steps[0] else { panic!() };
        assert_eq!(cache_mounts, &["/c"], "only cache mounts, with the keys in any order");
    }

    #[test]
    fn the_binary_copied_out_within_the_run_reads_no_cache_mount() {
        assert_eq!(df(CACHED).cache_mount_findings(), vec![]);
        // The same target mounted again in a later RUN is no read of an empty folder.
        let again = format!("{CACHED}FROM builder\nRUN --mount=type=cache,target=/app/target ls target/\n");
        assert_eq!(df(&again).cache_mount_findings(), vec![]);
    }

    #[test]
    fn a_copy_from_a_cache_mount_is_found_at_its_line() {
        let copy = CACHED
            .replace(" \\\n && cp \"target/$(uname -m)-unknown-linux-gnu/release/server\" /app/server", "")
            .replace("/app/server /server", "/app/target/x86_64-unknown-linux-gnu/release/server /server");
        let f = df(&copy).cache_mount_findings();
        assert_eq!(lines(f.clone()), [8], "{copy}");
        assert_eq!(
            f[0].message,
            "`COPY --from=builder` on line 8 reads /app/target/x86_64-unknown-linux-gnu/release/server, under /app/target: the cache mount of the RUN on line 4, whose files are never in the stage, so the copy finds nothing there"
        );
        // By the stage's index, and through a stage that starts from the builder.
        assert_eq!(lines(df(&copy.replace("--from=builder", "--from=0")).cache_mount_findings()), [8]);
        let through = copy
            .replace("FROM scratch", "FROM builder AS tested\nFROM scratch")
            .replace("--from=builder", "--from=tested");
        assert_eq!(lines(df(&through).cache_mount_findings()), [9]);
    }

    #[test]
    fn a_later_run_that_reads_a_cache_mount_it_does_not_mount_is_found() {
        let split = CACHED.replace(" \\\n && cp", "\nRUN cp");
        let f = df(&split).cache_mount_findings();
        assert_eq!(lines(f.clone()), [7], "{split}");
        assert_eq!(
            f[0].message,
            "the RUN on line 7 reads target/…, under /app/target: the cache mount of the RUN on line 4, which this RUN does not mount, so it finds that folder empty"
        );
        // A relative target is mounted below the WORKDIR, as BuildKit does.
        let relative = "FROM rust:1 AS b\nWORKDIR /app\nRUN --mount=type=cache,target=target cargo build\nRUN ls /app/target/release\n";
        assert_eq!(lines(df(relative).cache_mount_findings()), [4]);
        // Words that are no path under the mount: a flag, another folder, a variable.
        let unrelated = "FROM rust:1 AS b\nWORKDIR /app\nRUN --mount=type=cache,target=/app/target cargo build\nRUN cargo build --target x targets/a $TARGET /app/targetx\n";
        assert_eq!(df(unrelated).cache_mount_findings(), vec![]);
    }

    #[test]
    fn paths_join_as_the_engine_joins_them() {
        assert_eq!(join("/app", "target"), "/app/target");
        assert_eq!(join("/app", "/usr/local/"), "/usr/local");
        assert_eq!(join("/app", "./a/../b"), "/app/b");
        assert_eq!(join("/", "../.."), "/");
        assert!(under("/app/target/x", "/app/target") && under("/app/target", "/app/target"));
        assert!(!under("/app/targetx", "/app/target"));
    }

    #[test]
    fn a_file_without_from_is_an_error() {
        assert!(Dockerfile::parse("# only a TODO\n").is_err());
    }

    // FROM edge cases that held up in the security review (checker/tests/held_up.rs has
    // the end-to-end ones).

    fn images(d: &Dockerfile) -> Vec<&str> {
        d.stages.iter().map(|s| s.image.as_str()).collect()
    }

    #[test]
    fn a_global_arg_with_a_default_is_substituted_and_one_without_stays_unknown() {
        let d = df("ARG TAG=1.95-slim-bookworm\nARG NOPE\nFROM rust:$TAG AS b\nFROM debian:${NOPE}\n");
        assert_eq!(images(&d), ["rust:1.95-slim-bookworm", "debian:${NOPE}"]);
        let f = d.unpinned_bases();
        assert_eq!(lines(f.clone()), [4]);
        assert!(f[0].message.contains("variable with no default"), "{}", f[0].message);
        // A quoted default that names the whole image.
        let d = df("ARG BASE=\"debian:bookworm-slim\"\nFROM $BASE\n");
        assert_eq!(images(&d), ["debian:bookworm-slim"]);
        assert!(d.unpinned_bases().is_empty());
        // An ARG inside a stage is not global: the next FROM does not see its default.
        let d = df("FROM debian:bookworm-slim\nARG TAG=1.95\nFROM rust:$TAG\n");
        assert_eq!(images(&d), ["debian:bookworm-slim", "rust:$TAG"]);
        assert_eq!(lines(d.unpinned_bases()), [3]);
    }

    #[test]
    fn arg_names_that_prefix_one_another_are_substituted_whole() {
        // `$T` must not replace the start of `$TAG`. The defaults are kept in a hash map
        // whose order changes from map to map: enough tries meet every order.
        for _ in 0..32 {
            let d = df("ARG T=1.95\nARG TAG=latest\nFROM rust:$TAG\n");
            assert_eq!(images(&d), ["rust:latest"]);
            assert_eq!(lines(d.unpinned_bases()), [3], "`FROM rust:latest` is not pinned");
        }
    }

    #[test]
    fn a_platform_flag_is_not_the_image() {
        let d = df(
            "FROM --platform=$BUILDPLATFORM rust:1.95-slim-bookworm AS builder\nFROM --platform=linux/amd64 debian:bookworm-slim\nFROM --platform=$TARGETPLATFORM scratch\n",
        );
        assert_eq!(images(&d), ["rust:1.95-slim-bookworm", "debian:bookworm-slim", "scratch"]);
        assert_eq!(d.stages[0].name.as_deref(), Some("builder"));
        assert!(d.unpinned_bases().is_empty(), "{:?}", d.unpinned_bases());
        // The platform's variable is not the image's: an untagged image is still found.
        let f = df("FROM --platform=$BUILDPLATFORM rust AS builder\n").unpinned_bases();
        assert_eq!(lines(f.clone()), [1]);
        assert_eq!(f[0].message, "`FROM rust` has no tag, which means `rust:latest`");
    }

    #[test]
    fn lowercase_and_mixed_case_instructions_are_read() {
        let d = df(
            "from rust:1.95-slim-bookworm as builder\nworkdir /app\ncopy . .\nFrom builder\nfROM debian:latest\nadd . /x\n",
        );
        assert_eq!(images(&d), ["rust:1.95-slim-bookworm", "builder", "debian:latest"]);
        assert_eq!(d.stages[0].name.as_deref(), Some("builder"));
        assert_eq!(
            d.stages[0].steps,
            [
                Step::Workdir { path: "/app".into(), line: 2 },
                Step::Copy { add: false, from: None, sources: vec![".".into()], line: 3 }
            ]
        );
        assert_eq!(lines(d.unpinned_bases()), [5]);
        assert_eq!(lines(d.workdir_findings()), [6], "the lowercase `add` copies the context too");
        assert_eq!(lines(d.local_adds()), [6]);
    }

    #[test]
    fn a_from_split_over_continuation_lines_is_one_instruction() {
        let d = df("FROM \\\n    rust:1.95-slim-bookworm \\\n    AS builder\nFROM \\\n  debian\n");
        assert_eq!(images(&d), ["rust:1.95-slim-bookworm", "debian"]);
        assert_eq!(d.stages[0].name.as_deref(), Some("builder"));
        assert_eq!(d.stages.iter().map(|s| s.line).collect::<Vec<_>>(), [1, 4], "a stage is at its FROM keyword");
        assert_eq!(lines(d.unpinned_bases()), [4]);
        // CRLF continuations, and a comment line inside the continuation (docker drops it).
        let d = df("FROM \\\r\n# the base\r\n  debian:bookworm-slim \\\r\n  AS base\r\nFROM base\r\n");
        assert_eq!(images(&d), ["debian:bookworm-slim", "base"]);
        assert_eq!(d.stages[0].name.as_deref(), Some("base"));
        assert!(d.unpinned_bases().is_empty(), "{:?}", d.unpinned_bases());
    }

    #[test]
    fn a_registry_port_is_not_a_tag() {
        for pinned in [
            "registry:5000/image:tag",
            "registry.local:5000/team/rust:1.95-slim-bookworm",
            "localhost:5000/image@sha256:0123456789abcdef",
        ] {
            let d = df(&format!("FROM {pinned}\n"));
            assert_eq!(images(&d), [pinned]);
            assert!(d.unpinned_bases().is_empty(), "{pinned}: {:?}", d.unpinned_bases());
        }
        let d = df("FROM registry:5000/image\nFROM registry:5000/image:latest\nFROM localhost:5000/team/image\n");
        let f = d.unpinned_bases();
        assert_eq!(lines(f.clone()), [1, 2, 3]);
        assert_eq!(f[0].message, "`FROM registry:5000/image` has no tag, which means `registry:5000/image:latest`");
        assert!(f[1].message.contains("moving tag `latest`"), "{}", f[1].message);
        assert!(f[2].message.contains("has no tag"), "{}", f[2].message);
    }

    #[test]
    fn stage_aliases_are_matched_case_insensitively_and_only_backwards() {
        let d = df(
            "FROM rust:1.95-slim-bookworm AS Builder\nFROM BUILDER AS again\nFROM builder\nFROM Again\nFROM debian:bookworm-slim AS debian\nFROM debian\n",
        );
        assert!(d.unpinned_bases().is_empty(), "{:?}", d.unpinned_bases());
        // A stage declared later, or the stage itself, is an image, and untagged.
        assert_eq!(lines(df("FROM later\nFROM rust:1 AS later\n").unpinned_bases()), [1]);
        assert_eq!(lines(df("FROM base AS base\n").unpinned_bases()), [1]);
        // The WORKDIR of an earlier stage is inherited through a differently cased name.
        assert!(df("FROM rust:1 AS Base\nWORKDIR /app\nFROM BASE\nCOPY . .\n").workdir_findings().is_empty());
        let d = df("FROM rust:1 AS Base\nFROM BASE\nCOPY . .\n");
        assert_eq!(lines(d.workdir_findings()), [3], "no WORKDIR anywhere up the chain");
    }

    // Reading the file: a UTF-8 byte-order mark (which docker skips) and CRLF line ends.

    #[test]
    fn a_bom_and_crlf_line_ends_are_read_like_docker() {
        let d = df(
            "\u{feff}# BOM and CRLF\r\nARG BASE=debian:bookworm-slim\r\nFROM ${BASE} AS base\r\nFROM base\r\nCOPY serve.pl /serve.pl\r\nFROM rust\r\n",
        );
        assert_eq!(images(&d), ["debian:bookworm-slim", "base", "rust"], "no \\r and no BOM in the images");
        assert_eq!(d.stages[0].name.as_deref(), Some("base"));
        let f = d.unpinned_bases();
        assert_eq!(lines(f.clone()), [6]);
        assert_eq!(f[0].message, "`FROM rust` has no tag, which means `rust:latest`");
        assert_eq!(
            d.stages.iter().map(|s| s.line).collect::<Vec<_>>(),
            [3, 4, 6],
            "the stages' lines, counted in the file as the learner sees it"
        );
        assert_eq!(lines(d.workdir_findings()), [5], "the COPY without WORKDIR is on line 5");
    }

    #[test]
    fn a_bom_before_blank_lines_spaces_or_wide_characters_is_read() {
        // What docker builds, the checker reads without a panic, at the right line.
        let cases = [
            ("\u{feff}FROM debian:bookworm-slim\n", 1),
            ("\u{feff}\nFROM debian:bookworm-slim\n", 2),
            ("\u{feff}\r\nFROM debian:bookworm-slim\r\n", 2),
            ("\u{feff}  FROM debian:bookworm-slim\n", 1),
            ("\u{feff}#€\nFROM debian:bookworm-slim\n", 2),
        ];
        let seen: Vec<_> = cases
            .iter()
            .map(|(text, _)| {
                std::panic::catch_unwind(|| df(text).stages.iter().map(|s| s.line).collect::<Vec<_>>())
                    .map_err(|e| e.downcast_ref::<String>().cloned().unwrap_or_else(|| "a panic".into()))
            })
            .collect();
        let wanted: Vec<Result<Vec<usize>, String>> = cases.iter().map(|(_, line)| Ok(vec![*line])).collect();
        assert_eq!(seen, wanted, "for {:?}", cases.iter().map(|(t, _)| t).collect::<Vec<_>>());
    }
}

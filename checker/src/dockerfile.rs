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
}

/// A rule violation at a line of the Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub line: usize,
    pub message: String,
}

impl Dockerfile {
    pub fn parse(text: &str) -> Result<Self> {
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
            let workdir = stage.steps[..first_copy]
                .iter()
                .rev()
                .find_map(|s| match s {
                    Step::Workdir { path, line } => Some((path.clone(), *line)),
                    _ => None,
                })
                .or(inherited);
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
        self.stages[parent]
            .steps
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Workdir { path, line } => Some((path.clone(), *line)),
                _ => None,
            })
            .or_else(|| self.inherited_workdir(parent))
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

/// Replaces `$NAME` and `${NAME}` with the global ARG defaults; unknown names stay.
fn substitute(text: &str, args: &HashMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in args {
        out = out.replace(&format!("${{{k}}}"), v).replace(&format!("${k}"), v);
    }
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
            [Step::Copy { add: false, from: Some("b".into()), sources: vec!["/a".into()], line: 5 }]
        );
    }

    #[test]
    fn a_file_without_from_is_an_error() {
        assert!(Dockerfile::parse("# only a TODO\n").is_err());
    }
}

//! End to end, on a real engine: for each `.dockerignore` of a table, the files that
//! `docker build` sends are the files `checker::dockerignore` keeps. BuildKit's local
//! exporter writes what `COPY . /` received from a `FROM scratch` build, so no image is
//! made. Where the engine's Docker (20.10) still decides otherwise than moby/patternmatcher,
//! the case lists the paths that differ and why: the test then holds Docker to exactly
//! that difference.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use checker::dockerignore::IgnoreRules;
use common::{docker_bin, require_docker};

/// The context's files (each holds its own path). Dockerfile and .dockerignore come on top.
const TREE: &[&[u8]] = &[
    b"target/release/server",
    b"target/keep",
    b".git/HEAD",
    b".git/objects/ab/cdef",
    b"src/main.rs",
    b"src/target/x",
    b"docs/a.md",
    b"docs/guide/b.md",
    b"README.md",
    b"notes.md",
    b"a b.txt",
    b"{target,.git}",
    b"logs/x.log",
    b"logs/keep.log",
    b"deep/a/b/c.log",
    b"deep/a/b/keep/x",
    b"x1.txt",
    b"x2.txt",
    b"xy.txt",
    b"xd.txt",
    b"x10.txt",
    b"#notes",
    b"a*b",
    b"aXb",
    b"a+b",
    b"aab",
    b"(x)",
    b"x",
    b"x[]",
    #[cfg(unix)]
    b"bin/\xFFdata",
    b"bin/data",
];

struct Case {
    name: &'static str,
    ignore: &'static [u8],
    /// Docker refuses to build with it, and so must `IgnoreRules::parse`.
    refused: bool,
    /// Paths whose fate Docker 20.10 decides otherwise than patternmatcher, and why.
    differs: &'static [&'static str],
    why: &'static str,
}

const fn case(name: &'static str, ignore: &'static [u8]) -> Case {
    Case { name, ignore, refused: false, differs: &[], why: "" }
}

const fn refused(name: &'static str, ignore: &'static [u8]) -> Case {
    Case { refused: true, ..case(name, ignore) }
}

const fn differs(
    name: &'static str,
    ignore: &'static [u8],
    differs: &'static [&'static str],
    why: &'static str,
) -> Case {
    Case { differs, why, ..case(name, ignore) }
}

const CASES: &[Case] = &[
    case("no .dockerignore rules", b""),
    case("braces are literal, not alternatives", b"{target,.git}\n"),
    case("a folder name excludes what is below it, at the root only", b"target\n"),
    case("** at the start", b"**/*.log\n"),
    case("** in the middle", b"deep/**/c.log\n"),
    case("** at the end", b"docs/**\n"),
    case("an exception re-includes a file under an excluded folder", b"target\n!target/keep\n"),
    case("an exception after a ** pattern", b"**/*.log\n!logs/keep.log\n"),
    case("the last matching pattern wins", b"!README.md\n*.md\n"),
    case("everything, then exceptions", b"*\n!src\n!README.md\n"),
    case("a leading /", b"/target\n/src/main.rs\n"),
    case("./ and .. are cleaned", b"./docs\nsrc/../README.md\n../notes.md\n"),
    case("trailing spaces and tabs", b"notes.md   \n\t.git \n"),
    case("comments, and a # after spaces is a pattern", b"# comment\n#README.md\n  #notes\n"),
    case("a UTF-8 BOM before the first line", b"\xEF\xBB\xBFtarget\n"),
    case("CRLF line ends", b"target\r\n*.md\r\n!README.md\r\n"),
    case("*.md is the root only", b"*.md\n"),
    case("**/*.md is every folder", b"**/*.md\n"),
    case("? is one character, not a slash", b"x?.txt\n"),
    case("a character class", b"x[0-9].txt\n"),
    case("a POSIX class (Go regexp syntax)", b"x[[:alpha:]].txt\n"),
    case("\\d is a digit (Go regexp syntax)", b"x\\d.txt\n"),
    case("an escaped *", b"a\\*b\n"),
    case("an octal escape (Go regexp syntax)", b"x\\061.txt\n"),
    case("\\b is an ASCII word boundary (Go regexp syntax)", b"x\\b*\n"),
    case("a * in a class: Go's regexp closes the class at the `]` of `[^/]*`", b"x[*]\n"),
    case("a # in a class", b"[#]notes\n"),
    case("a space in a name", b"a b.txt\n"),
    case("`.` and `/` match nothing", b".\n/\n"),
    case("only an exception", b"!README.md\n"),
    case("** alone, then an exception", b"**\n!src/**\n"),
    case("a class then an exception", b"[[:alpha:]]*\n!x*\n"),
    case("a BOM on a later line is skipped by Go's scanner in a regexp", b"x\n\xEF\xBB\xBF*.md\n"),
    #[cfg(unix)]
    case("? matches one byte that is not UTF-8", b"bin/?data\n"),
    #[cfg(unix)]
    case("a pattern with a byte that is not UTF-8", b"bin/\xFF*\n"),
    differs(
        "a wildcard exception under an excluded folder",
        b"target\n!**/keep\n",
        &["target/keep"],
        "Docker 20.10 (fsutil's walker) does not enter an excluded folder unless an exception's text \
         starts with `folder/`; `**/keep` does not, so target/keep is never looked at and stays out",
    ),
    differs(
        "a ** folder pattern with an exception below it",
        b"**/b\n!deep/a/b/keep/x\n",
        &["deep/a/b/c.log"],
        "Docker 20.10's Matches checks only the parent prefix as deep as the pattern (`**/b` has two \
         parts, so deep/a, never deep/a/b); the walker enters deep/a/b for the exception and then sends \
         deep/a/b/c.log, which MatchesOrParentMatches excludes",
    ),
    differs(
        "+ and ( ) are literal",
        b"a+b\n(x)\n",
        &["a+b", "aab", "(x)", "x"],
        "Docker 20.10's compile escapes only `.` and `$`: `a+b` is the regexp a+b (aab, not a+b) and \
         `(x)` a group (x, not (x)); patternmatcher escapes `.+()|{}$`",
    ),
    differs(
        "** then a suffix without a slash",
        b"**.md\n",
        &["README.md", "notes.md", "docs/a.md", "docs/guide/b.md"],
        "patternmatcher makes `**.md` a suffix match (any path ending in .md); Docker 20.10 compiles \
         the regexp ^(.*/)?\\.md$, which only matches a name that is exactly .md",
    ),
    refused("an unclosed [", b"src/[\n"),
    refused("an unknown POSIX class", b"x[[:digits:]]\n"),
    refused("a range without its end", b"x[a-]\n"),
    refused("a trailing backslash", b"docs\\\n"),
    refused("! alone", b"target\n!\n"),
    refused("an invalid regexp escape", b"x\\y\n"),
];

/// Every file below `dir`, as paths relative to it with `/` separators.
fn files(dir: &Path) -> BTreeSet<Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(bytes(path.strip_prefix(root).unwrap()));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

#[cfg(unix)]
fn bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn bytes(path: &Path) -> Vec<u8> {
    path.to_str().unwrap().replace('\\', "/").into_bytes()
}

#[cfg(unix)]
fn path_of(rel: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(rel))
}

#[cfg(not(unix))]
fn path_of(rel: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(rel).unwrap())
}

fn show(paths: &BTreeSet<Vec<u8>>) -> String {
    let list: Vec<_> = paths.iter().map(|p| format!("{:?}", String::from_utf8_lossy(p))).collect();
    format!("[{}]", list.join(", "))
}

/// Runs `docker build` of `ctx` into `dest`; the build's output when it fails.
fn build(ctx: &Path, dest: &Path) -> Result<(), String> {
    let out = Command::new(docker_bin())
        .env("DOCKER_BUILDKIT", "1")
        .args(["build", "-q", "--output"])
        .arg(format!("type=local,dest={}", dest.display()))
        .arg(ctx)
        .output()
        .expect("docker runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn docker_sends_exactly_the_files_the_matcher_keeps() {
    require_docker();
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let ctx = tmp.path().join("ctx");
    for rel in TREE {
        let path = ctx.join(path_of(rel));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, rel).unwrap();
    }
    fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY . /\n").unwrap();
    // Under BuildKit, COPY receives the Dockerfile and .dockerignore only if the rules let
    // them through (`*` keeps them out); whoever stages a context adds them back itself.
    let always: [&[u8]; 2] = [b"Dockerfile", b".dockerignore"];
    let context: BTreeSet<Vec<u8>> = files(&ctx).into_iter().filter(|p| !always.contains(&p.as_slice())).collect();
    assert_eq!(context.len(), TREE.len(), "the context holds the whole tree");

    let mut failures = Vec::new();
    // One context folder for all cases, so the engine's cache of it is reused: sequential.
    for (i, case) in CASES.iter().enumerate() {
        fs::write(ctx.join(".dockerignore"), case.ignore).unwrap();
        let dest = tmp.path().join(format!("out-{i}"));
        let docker = build(&ctx, &dest);
        let rules = IgnoreRules::parse(case.ignore);
        let text = String::from_utf8_lossy(case.ignore);
        let title = format!("case `{}` with .dockerignore {text:?}", case.name);
        match (case.refused, docker, rules) {
            (true, Err(_), Err(_)) => {}
            (true, docker, rules) => failures.push(format!(
                "{title}: both should refuse it; docker build: {}; IgnoreRules::parse: {}",
                docker.map_or_else(|e| format!("failed: {}", e.trim()), |()| "built".into()),
                rules.map_or_else(|e| format!("{e:#}"), |_| "accepted".into()),
            )),
            (false, Err(e), _) => failures.push(format!("{title}: docker build failed:\n{e}")),
            (false, Ok(()), Err(e)) => {
                failures.push(format!("{title}: docker builds it, IgnoreRules refuses it: {e:#}"))
            }
            (false, Ok(()), Ok(rules)) => {
                let sent: BTreeSet<Vec<u8>> =
                    files(&dest).into_iter().filter(|p| !always.contains(&p.as_slice())).collect();
                let kept: BTreeSet<Vec<u8>> = context.iter().filter(|p| !rules.excludes(p)).cloned().collect();
                let only_docker: BTreeSet<_> = sent.difference(&kept).cloned().collect();
                let only_matcher: BTreeSet<_> = kept.difference(&sent).cloned().collect();
                let differ: BTreeSet<Vec<u8>> = only_docker.union(&only_matcher).cloned().collect();
                let expected: BTreeSet<Vec<u8>> = case.differs.iter().map(|p| p.as_bytes().to_vec()).collect();
                if differ != expected {
                    failures.push(format!(
                        "{title}:\n  sent by docker only: {}\n  kept by the matcher only: {}\n  expected to differ: {} {}",
                        show(&only_docker),
                        show(&only_matcher),
                        show(&expected),
                        case.why
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n\n{}", failures.len(), CASES.len(), failures.join("\n\n"));
    eprintln!("{} cases agree with docker build in {:.1?}", CASES.len(), started.elapsed());
}

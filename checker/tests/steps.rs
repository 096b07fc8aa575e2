//! The step folders stay consistent with each other and with the manifest: same server,
//! same dependencies, each starting point is the previous solution plus a TODO block,
//! and nothing is tied to one CPU architecture.

mod common;

use std::fs;
use std::path::Path;

use checker::manifest::{FILE_NAME, Manifest};

fn manifest() -> Manifest {
    Manifest::load(&common::root().join(FILE_NAME)).expect("the workshop manifest loads")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The Dockerfile with its TODO block (a run of comment lines opened by `# TODO step`) removed.
fn without_todo(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_todo = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# TODO step")
            || (line.starts_with("# ====") && lines.get(i + 1).is_some_and(|n| n.starts_with("# TODO step")))
        {
            in_todo = true;
        }
        if in_todo {
            if !line.starts_with('#') {
                in_todo = false;
            } else {
                continue;
            }
        }
        out.push(*line);
    }
    out.join("\n").trim().to_string()
}

#[test]
fn every_step_has_its_folder_a_todo_block_and_a_solution() {
    let m = manifest();
    let root = common::root();
    for (i, step) in m.steps.iter().enumerate() {
        let n = i + 1;
        assert_eq!(step.id, format!("step-{n}"), "steps are numbered in order");
        let dir = root.join(&step.dir);
        for f in ["Dockerfile", "Cargo.toml", "Cargo.lock", "src/main.rs", ".dockerignore"] {
            assert!(dir.join(f).is_file(), "{} has no {f}", step.dir);
        }
        assert!(root.join(&step.solution).join("Dockerfile").is_file(), "{} has no solution Dockerfile", step.id);
        let text = read(&dir.join("Dockerfile"));
        assert!(
            text.contains(&format!("# TODO step {n}:")),
            "{}'s Dockerfile states its task in a TODO block",
            step.id
        );
        assert!(text.contains(&format!("checker step-{n}")), "{}'s TODO block says how to check it", step.id);
        assert!(
            !read(&root.join(&step.solution).join("Dockerfile")).contains("TODO"),
            "{}'s solution is finished",
            step.id
        );
        // The solution folder stays out of the context sent by a plain `docker build`.
        assert!(
            read(&dir.join(".dockerignore")).lines().any(|l| l.trim() == "solution/"),
            "{} ignores solution/",
            step.id
        );
    }
}

#[test]
fn each_starting_point_is_the_previous_solution_plus_a_todo() {
    let m = manifest();
    let root = common::root();
    for pair in m.steps.windows(2) {
        let previous = read(&root.join(&pair[0].solution).join("Dockerfile"));
        let start = read(&root.join(&pair[1].dir).join("Dockerfile"));
        assert_eq!(without_todo(&start), previous.trim(), "{} starts from {}'s solution", pair[1].id, pair[0].id);
    }
    assert_eq!(
        without_todo(&read(&root.join("steps/step-1/Dockerfile"))),
        "",
        "step 1 starts from an empty Dockerfile"
    );
}

#[test]
fn every_step_builds_the_same_server_with_the_same_dependencies() {
    let m = manifest();
    let root = common::root();
    let first = root.join(&m.steps[0].dir);
    let lock = read(&first.join("Cargo.lock"));
    let main = read(&first.join("src/main.rs"));
    let deps = |toml: &str| {
        let section = toml.split("[dependencies]").nth(1)?.split("\n[").next()?;
        Some(section.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect::<Vec<_>>().join("\n"))
    };
    let first_deps = deps(&read(&first.join("Cargo.toml"))).expect("[dependencies]");
    for step in &m.steps[1..] {
        let dir = root.join(&step.dir);
        assert_eq!(read(&dir.join("Cargo.lock")), lock, "{}'s Cargo.lock differs from step-1's", step.id);
        assert_eq!(read(&dir.join("src/main.rs")), main, "{}'s server differs from step-1's", step.id);
        assert_eq!(
            deps(&read(&dir.join("Cargo.toml"))).as_deref(),
            Some(first_deps.as_str()),
            "{}'s dependencies differ",
            step.id
        );
    }
    assert!(main.contains("0.0.0.0:3030"), "the server listens on every interface, port 3030");
}

#[test]
fn every_build_uses_the_locked_dependencies() {
    let root = common::root();
    for entry in walk(&root.join("steps")) {
        if entry.file_name().is_some_and(|n| n == "Dockerfile") {
            let text = read(&entry);
            for line in text.lines().filter(|l| l.contains("cargo build") && !l.trim_start().starts_with('#')) {
                assert!(line.contains("--locked"), "{}: `{}` must build with --locked", entry.display(), line.trim());
            }
        }
    }
}

#[test]
fn no_dockerfile_hard_codes_a_cpu_architecture() {
    let root = common::root();
    let mut checked = 0;
    for entry in walk(&root.join("steps")) {
        if entry.file_name().is_some_and(|n| n == "Dockerfile") {
            checked += 1;
            let text = read(&entry);
            // Comments may talk about architectures; instructions may not name one.
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#')) {
                for arch in ["x86_64", "amd64", "aarch64", "arm64", "--platform"] {
                    assert!(
                        !line.contains(arch),
                        "{}:{}: `{}` hard-codes an architecture; derive it from the build platform (uname -m or TARGETARCH)",
                        entry.display(),
                        i + 1,
                        line.trim()
                    );
                }
            }
        }
    }
    assert_eq!(checked, 16, "eight starting points and eight solutions");
}

#[test]
fn files_that_go_into_images_keep_lf_endings() {
    let attributes = read(&common::root().join(".gitattributes"));
    assert!(attributes.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["*", "text=auto", "eol=lf"]));
    for entry in walk(&common::root().join("steps")) {
        let bytes = fs::read(&entry).expect("readable");
        assert!(!bytes.contains(&b'\r'), "{} has CRLF line endings", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

//! The step folders stay consistent with each other, with the manifest and with the book:
//! `checker::dev::check` (what `checker dev check` and CI run) finds no problem in the
//! workshop, and finds each kind of problem once it is planted in a copy of it. What each
//! rule means is in `checker/src/dev.rs`, whose unit tests build small broken workshops.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use checker::dev::{self, Problem};
use checker::manifest::{FILE_NAME, Manifest};

fn problems(root: &Path) -> Vec<Problem> {
    let manifest = Manifest::load(&root.join(FILE_NAME)).expect("the workshop manifest loads");
    dev::check(root, &manifest)
}

fn shown(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("{p}\n")).collect()
}

#[test]
fn the_workshop_has_no_problem() {
    let found = problems(&common::root());
    assert!(found.is_empty(), "`checker dev check` finds {} problem(s):\n{}", found.len(), shown(&found));
}

/// Copies what `dev::check` reads: the manifest, .gitattributes, steps/ (without target/),
/// the bench results and knobs, the engines' results and book/parts.toml if any, and the book's SUMMARY.md, check pages and stamp.
fn copy_workshop(to: &Path) {
    let root = common::root();
    let mut files = vec![
        root.join(FILE_NAME),
        root.join(".gitattributes"),
        root.join("bench/results.json"),
        root.join(dev::KNOBS),
        root.join(dev::KNOBS_RESULTS),
        root.join("book/src/SUMMARY.md"),
        root.join(dev::STAMP),
    ];
    files.extend([root.join("book/parts.toml"), root.join(dev::ENGINES_RESULTS)].into_iter().filter(|f| f.is_file()));
    for dir in ["steps", "book/src/checks"] {
        let walk = walkdir::WalkDir::new(root.join(dir)).into_iter().filter_entry(|e| e.file_name() != "target");
        files.extend(walk.filter_map(Result::ok).filter(|e| e.file_type().is_file()).map(|e| e.into_path()));
    }
    for file in files {
        let target = to.join(file.strip_prefix(&root).expect("inside the workshop"));
        fs::create_dir_all(target.parent().expect("a folder")).unwrap();
        fs::copy(&file, &target).unwrap_or_else(|e| panic!("cannot copy {}: {e}", file.display()));
    }
}

fn edit(root: &Path, file: &str, change: impl FnOnce(String) -> String) {
    let path = root.join(file);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    let changed = change(text.clone());
    assert_ne!(changed, text, "the edit of {file} changes it");
    fs::write(path, changed).unwrap();
}

/// The real steps are what the rules read: one fault per rule, planted in a copy of the
/// workshop, is reported, and nothing else is.
#[test]
fn a_fault_planted_in_a_copy_of_the_workshop_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_workshop(root);
    assert_eq!(problems(root), vec![], "the copy is as sound as the workshop");

    // A folder for a step after the last, which the manifest does not name.
    let unnamed = format!("steps/step-{}", common::manifest().steps.len() + 1);
    let last = common::manifest().steps.last().unwrap().dir.clone();
    fs::create_dir_all(root.join(&unnamed)).unwrap();
    edit(root, "steps/step-3/Dockerfile", |t| t.replace("checker step-3", "checker"));
    edit(root, "steps/step-5/Dockerfile", |t| t + "RUN true\n");
    edit(root, "steps/step-6/src/main.rs", |t| t + "// changed\n");
    // In the last step, whose files no later starting point carries over.
    edit(root, &format!("{last}/.dockerignore"), |t| t + "README.md\n");
    edit(root, &format!("{last}/solution/Dockerfile"), |t| {
        t.replacen("--locked ", "", 1).replacen("$(uname -m)", "x86_64", 1).replace('\n', "\r\n")
    });
    fs::remove_file(root.join("book/src/checks/graceful-stop.md")).unwrap();
    edit(root, dev::KNOBS, |t| t.replacen("rebuilds = ", "rebuilds = 1", 1));
    // A file in a rebuild check's overlay that replaces no file of its step.
    let manifest = common::manifest();
    let overlay = manifest
        .checks
        .values()
        .find_map(|c| match &c.kind {
            checker::manifest::Kind::Rebuild { overlay: Some(overlay), .. } => Some(overlay.clone()),
            _ => None,
        })
        .expect("a rebuild check with an overlay");
    let stray = format!("{overlay}/README.md");
    fs::write(root.join(&stray), "# notes\n").unwrap();

    let found = problems(root);
    let rules: BTreeSet<&str> = found.iter().map(|p| p.rule).collect();
    let expected = BTreeSet::from([
        "step-folder",
        "todo-block",
        "starting-point",
        "same-server",
        "locked",
        "architecture",
        "line-endings",
        "check-files",
        "book-page",
        // The steps changed since the book was generated.
        "generated",
        // The knob list changed since the knobs were measured.
        "measured",
    ]);
    assert_eq!(rules, expected, "\n{}", shown(&found));
    let at: BTreeSet<&str> = found.iter().map(|p| p.at.split(':').next().unwrap()).collect();
    let (ignore, solution) = (format!("{last}/.dockerignore"), format!("{last}/solution/Dockerfile"));
    let planted = BTreeSet::from([
        unnamed.as_str(),
        "steps/step-3/Dockerfile",
        "steps/step-5/Dockerfile",
        "steps/step-6/src/main.rs",
        ignore.as_str(),
        solution.as_str(),
        "book/src/checks/graceful-stop.md",
        stray.as_str(),
        dev::STAMP,
        dev::KNOBS_RESULTS,
    ]);
    assert_eq!(at, planted, "each problem is where its fault was planted:\n{}", shown(&found));
}

/// `checker dev check` prints each problem with its fix and exits 1, or 0 when there is
/// none; `--format json` prints the same problems as JSON.
#[test]
fn the_dev_check_command_exits_1_on_a_problem_and_prints_it() {
    use assert_cmd::cargo::CommandCargoExt;
    let dev_check = |root: &Path, json: bool| {
        let mut cmd = std::process::Command::cargo_bin("checker").expect("the checker binary");
        cmd.arg("--workshop").arg(root).args(["dev", "check"]);
        if json {
            cmd.args(["--format", "json"]);
        }
        let out = cmd.output().expect("checker runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = dev_check(&common::root(), false);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("checker dev check: no problem"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    copy_workshop(dir.path());
    // In the last step, whose solution no later starting point copies.
    let solution = format!("{}/solution/Dockerfile", common::manifest().steps.last().unwrap().dir);
    let line =
        fs::read_to_string(dir.path().join(&solution)).unwrap().lines().position(|l| l.contains("--locked ")).unwrap()
            + 1;
    edit(dir.path(), &solution, |t| t.replacen("--locked ", "", 1));
    let (code, text) = dev_check(dir.path(), false);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("{solution}:{line}: `cargo build --release --target")), "{text}");
    assert!(text.contains("    fix: add --locked"), "{text}");
    assert!(text.contains("run `cargo run -p book-tools -- generate`"), "{text}");
    let (code, text) = dev_check(dir.path(), true);
    assert_eq!(code, Some(1), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let rules: Vec<&str> = json["problems"].as_array().unwrap().iter().map(|p| p["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["locked", "generated"], "{text}");
    assert_eq!(json["problems"][0]["at"], format!("{solution}:{line}"));
}

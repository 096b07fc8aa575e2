//! The CI examples an instructor copies must stay true to the checker: valid YAML, the
//! grading command with formats the checker accepts, and the wiring between steps.

mod common;

use yaml_rust2::{Yaml, YamlLoader};

fn load(name: &str) -> Yaml {
    let text = std::fs::read_to_string(common::root().join("examples").join(name)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("examples/{name} is not valid YAML: {e}")).remove(0)
}

/// The `checker grade ...` arguments of a shell line, which must parse as the checker's CLI.
fn grade_args(line: &str) -> Vec<String> {
    let at = line.find("checker grade").unwrap_or_else(|| panic!("no `checker grade` in {line:?}"));
    line[at + "checker ".len()..].split_whitespace().map(str::to_string).collect()
}

/// The checker accepts the arguments: parsing them fails only at the engine (missing
/// here on purpose), not at the command line.
fn assert_accepted(args: &[String]) {
    let out = common::checker()
        .args(args)
        .env("CHECKER_DOCKER", "/nonexistent/docker")
        .env("GITHUB_OUTPUT", std::env::temp_dir().join("unused-github-output"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/docker"),
        "the checker rejected {args:?} before reaching the engine: {stderr}"
    );
}

#[test]
fn the_github_classroom_workflow_grades_uploads_and_reports() {
    let workflow = load("github-classroom.yml");
    let steps = workflow["jobs"]["grade"]["steps"].as_vec().expect("jobs.grade.steps");
    let grade =
        steps.iter().find(|s| s["run"].as_str().is_some_and(|r| r.contains("checker grade"))).expect("a grading step");
    let args = grade_args(grade["run"].as_str().unwrap());
    for wanted in ["--ci", "junit=checker-junit.xml", "github", "classroom"] {
        assert!(args.iter().any(|a| a == wanted), "the grading step lacks {wanted}: {args:?}");
    }
    assert_accepted(&args);
    let id = grade["id"].as_str().expect("the grading step has an id");
    let install =
        steps.iter().find_map(|s| s["run"].as_str().filter(|r| r.contains("cargo install"))).expect("an install step");
    assert!(install.contains("--tag") && install.contains("--locked"), "the checker is pinned: {install}");
    let upload =
        steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact"))).unwrap();
    assert_eq!(upload["with"]["path"].as_str(), Some("checker-junit.xml"));
    assert_eq!(upload["if"].as_str(), Some("always()"));
    let reporter = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("classroom-resources/autograding-grading-reporter")))
        .unwrap();
    // The reporter reads <RUNNER>_RESULTS for each runner it is given.
    assert_eq!(reporter["with"]["runners"].as_str(), Some(id));
    let env =
        reporter["env"][format!("{}_RESULTS", id.to_uppercase()).as_str()].as_str().expect("the result's variable");
    assert_eq!(env, format!("${{{{ steps.{id}.outputs.result }}}}"));
}

#[test]
fn the_gitlab_job_keeps_its_junit_report_always() {
    let ci = load("gitlab-ci.yml");
    let job = &ci["grade"];
    let script =
        job["script"].as_vec().unwrap().iter().filter_map(Yaml::as_str).find(|l| l.contains("checker grade")).unwrap();
    let args = grade_args(script);
    assert!(args.iter().any(|a| a == "--ci") && args.iter().any(|a| a == "junit=checker-junit.xml"), "{args:?}");
    assert_accepted(&args);
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));
    assert_eq!(job["artifacts"]["reports"]["junit"].as_str(), Some("checker-junit.xml"));
    // GitLab's standard setup: a docker:dind service, reached over TCP under its alias.
    let service = &job["services"][0];
    assert!(service["name"].as_str().is_some_and(|n| n.starts_with("docker:") && n.ends_with("-dind")), "{service:?}");
    let alias = service["alias"].as_str().expect("the service's alias");
    assert_eq!(job["variables"]["DOCKER_HOST"].as_str(), Some(format!("tcp://{alias}:2375").as_str()));
    let before: Vec<&str> = job["before_script"].as_vec().unwrap().iter().filter_map(Yaml::as_str).collect();
    assert!(before.iter().any(|l| l.trim() == "checker doctor"), "doctor runs before grading: {before:?}");
}

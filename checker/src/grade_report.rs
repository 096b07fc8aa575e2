//! The formats `checker grade` writes: a terminal table, JSON, JUnit XML (GitLab, Jenkins,
//! GitHub test reporters), GitHub Actions' step summary and annotations, and the GitHub
//! Classroom autograding result.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::grade::{Grade, StepStatus};
use crate::report::{CheckResult, Status};

pub fn human(grade: &Grade) -> String {
    let width = grade.steps.iter().map(|s| s.title.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for s in &grade.steps {
        let mark = match s.status {
            StepStatus::Pass => "✓",
            StepStatus::Fail => "✗",
            StepStatus::Error => "!",
        };
        let points = format!("{}/{}", s.points, s.max_points);
        let _ = writeln!(out, "{mark} {:<7} {:<width$}  {points:>7}  {:>5.0} s", s.step, s.title, s.seconds);
        if s.status != StepStatus::Pass {
            let _ = writeln!(out, "    {}", s.summary());
        }
    }
    let _ = writeln!(
        out,
        "\n{} / {} points: {} passed, {} failed, {} could not be checked ({:.0} s)\n  build logs: {}\n  every check of every step: --format json",
        grade.points, grade.max_points, grade.passed, grade.failed, grade.errors, grade.seconds, grade.logs
    );
    out
}

pub fn json(grade: &Grade) -> String {
    serde_json::to_string_pretty(grade).expect("a grade always serializes")
}

/// The text of a check that did not pass, for a report's body or an annotation.
fn explain(c: &CheckResult) -> String {
    let mut text = format!("{}\nseen: {}\nwhy: {}\nfix: {}\nsee: {}", c.title, c.message, c.why, c.hint, c.book);
    if let Some(details) = &c.details {
        text.push_str(&format!("\n\n{details}"));
    }
    text
}

/// One test suite per step, one test case per check (classname = the step). Failure
/// details go in the element's body, which GitLab shows (it ignores `message`).
pub fn junit(grade: &Grade) -> String {
    let mut report = Junit::new("checker grade");
    report.set_time(Duration::from_secs_f64(grade.seconds));
    for s in &grade.steps {
        let mut suite = TestSuite::new(format!("{} {}", s.step, s.title));
        suite.set_time(Duration::from_secs_f64(s.seconds));
        match &s.report {
            Some(report) => {
                for c in &report.checks {
                    let status = match c.status {
                        Status::Pass => TestCaseStatus::success(),
                        Status::Skip => {
                            let mut st = TestCaseStatus::skipped();
                            st.set_message(c.message.clone());
                            st
                        }
                        Status::Fail | Status::Error => {
                            let kind =
                                if c.status == Status::Fail { NonSuccessKind::Failure } else { NonSuccessKind::Error };
                            let mut st = TestCaseStatus::non_success(kind);
                            st.set_message(c.message.clone()).set_description(explain(c));
                            st
                        }
                    };
                    let mut case = TestCase::new(c.id.clone(), status);
                    case.set_classname(s.step.clone());
                    suite.add_test_case(case);
                }
            }
            None => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                let error = s.error.clone().unwrap_or_default();
                st.set_message(error.clone()).set_description(error);
                let mut case = TestCase::new("checks could run", st);
                case.set_classname(s.step.clone());
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("a JUnit report always serializes")
}

/// A workflow command's message: `%`, CR and LF are escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`, which delimit properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error` workflow commands, one per failed check, pointing at the Dockerfile line
/// when the check knows it.
pub fn github_annotations(grade: &Grade) -> String {
    let mut out = String::new();
    for s in &grade.steps {
        let file = escape_property(&s.dockerfile);
        if let Some(error) = &s.error {
            let title = escape_property(&format!("{}: could not be checked", s.step));
            let _ = writeln!(out, "::error file={file},title={title}::{}", escape_data(error));
        }
        for c in s.problems() {
            let line = c.line.map(|l| format!(",line={l}")).unwrap_or_default();
            let title = escape_property(&format!("{} {}: {}", s.step, c.id, c.title));
            let _ = writeln!(out, "::error file={file}{line},title={title}::{}", escape_data(&explain(c)));
        }
    }
    out
}

/// The Markdown for `$GITHUB_STEP_SUMMARY`.
pub fn github_summary(grade: &Grade) -> String {
    let mut out = format!(
        "## Multi-stage Dockerfile workshop: {} / {} points\n\n| Step | | Points | Result |\n|---|---|---:|---|\n",
        grade.points, grade.max_points
    );
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    for s in &grade.steps {
        let mark = match s.status {
            StepStatus::Pass => "✅",
            StepStatus::Fail => "❌",
            StepStatus::Error => "⚠️",
        };
        let _ = writeln!(
            out,
            "| {} {} | {mark} | {}/{} | {} |",
            s.step,
            cell(&s.title),
            s.points,
            s.max_points,
            cell(&s.summary())
        );
    }
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} could not be checked, in {:.0} s.",
        grade.passed, grade.failed, grade.errors, grade.seconds
    );
    out
}

#[derive(Serialize)]
struct Classroom<'a> {
    version: u32,
    status: &'a str,
    max_score: u32,
    tests: Vec<ClassroomTest>,
}

#[derive(Serialize)]
struct ClassroomTest {
    name: String,
    status: &'static str,
    score: u32,
    message: String,
    test_code: String,
    filename: String,
    line_no: usize,
    execution_time: String,
}

/// GitHub Classroom's autograding result (version 1): one test per step, scored with the
/// step's points; `autograding-grading-reporter` sums `tests[].score`.
pub fn classroom_json(grade: &Grade) -> String {
    let status = if grade.errors > 0 {
        "error"
    } else if grade.failed > 0 {
        "fail"
    } else {
        "pass"
    };
    let tests = grade
        .steps
        .iter()
        .map(|s| ClassroomTest {
            name: format!("{}: {}", s.step, s.title),
            status: s.status.word(),
            score: s.points,
            message: s.summary(),
            test_code: format!("checker {}", s.step),
            filename: s.dockerfile.clone(),
            line_no: s.problems().find_map(|c| c.line).unwrap_or(0),
            execution_time: format!("{:.1}s", s.seconds),
        })
        .collect();
    serde_json::to_string(&Classroom { version: 1, status, max_score: grade.max_points, tests }).expect("serializes")
}

/// The line for `$GITHUB_OUTPUT`: the result, base64-encoded, as the output `result`.
pub fn classroom_output(grade: &Grade) -> String {
    format!("result={}\n", base64::engine::general_purpose::STANDARD.encode(classroom_json(grade)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::StepGrade;

    #[test]
    fn workflow_commands_escape_their_delimiters() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("step-1: a, b"), "step-1%3A a%2C b");
    }

    fn sample() -> Grade {
        let step = |id: &str, status, points, error: Option<&str>| StepGrade {
            step: id.into(),
            title: format!("title of {id} | with a pipe"),
            status,
            points,
            max_points: 10,
            seconds: 1.5,
            dockerfile: format!("steps/{id}/Dockerfile"),
            error: error.map(String::from),
            report: None,
        };
        Grade {
            schema_version: 1,
            points: 10,
            max_points: 20,
            passed: 1,
            failed: 0,
            errors: 1,
            seconds: 3.0,
            manifest: "built-in".into(),
            logs: ".checker/grade/1-2".into(),
            steps: vec![
                step("step-1", StepStatus::Pass, 10, None),
                step("step-2", StepStatus::Error, 0, Some("no Dockerfile:\nat all")),
            ],
        }
    }

    #[test]
    fn the_classroom_result_decodes_to_the_scores() {
        let grade = sample();
        let line = classroom_output(&grade);
        let encoded = line.strip_prefix("result=").unwrap().trim_end();
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["status"], "error");
        assert_eq!(v["max_score"], 20);
        let scores: Vec<u64> = v["tests"].as_array().unwrap().iter().map(|t| t["score"].as_u64().unwrap()).collect();
        assert_eq!(scores, [10, 0]);
        assert_eq!(v["tests"][1]["status"], "error");
    }

    #[test]
    fn an_unchecked_step_is_an_error_everywhere() {
        let grade = sample();
        let junit = quick_junit::Report::deserialize_from_str(&junit(&grade)).unwrap();
        let case = &junit.test_suites[1].test_cases[0];
        assert!(
            matches!(case.status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, .. }),
            "{:?}",
            case.status
        );
        let annotations = github_annotations(&grade);
        assert_eq!(annotations.lines().count(), 1, "{annotations}");
        assert!(
            annotations.starts_with(
                "::error file=steps/step-2/Dockerfile,title=step-2%3A could not be checked::no Dockerfile:%0Aat all"
            ),
            "{annotations}"
        );
        let summary = github_summary(&grade);
        assert!(summary.contains("| step-1 title of step-1 \\| with a pipe | ✅ | 10/10 |"), "{summary}");
    }

    // Held up in the security review: what a build or a container prints ends up in the
    // JUnit report, which must stay a well-formed XML 1.0 document whatever it holds.

    /// Text a hostile build could print: a CDATA end, markup, an entity, C0 and C1
    /// control bytes, a terminal escape and DEL.
    const HOSTILE: &str = "a ]]> b <![CDATA[ c ]]> & </failure><system-out>x</system-out> \u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[31mred\u{1b}[0m\u{7f}\u{85}\u{9b} end";

    /// The XML 1.0 `Char` production: what may appear in a document at all, raw or as a
    /// character reference.
    fn xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    }

    /// Panics unless `xml` is made of XML 1.0 characters only, holds no raw `]]>` (never
    /// allowed in text) and no character reference to a character XML forbids.
    fn assert_well_formed(xml: &str) {
        for (at, c) in xml.char_indices() {
            assert!(xml_char(c), "{c:?} at byte {at} is not an XML 1.0 character:\n{xml}");
        }
        assert!(!xml.contains("]]>"), "a raw `]]>`:\n{xml}");
        for reference in xml.split("&#").skip(1) {
            let body = reference.split(';').next().unwrap_or_default();
            let code = match body.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => body.parse(),
            };
            let c = code.ok().and_then(char::from_u32);
            assert!(c.is_some_and(xml_char), "`&#{body};` names no XML 1.0 character:\n{xml}");
        }
    }

    fn hostile_grade(text: &str) -> Grade {
        use crate::report::{CheckResult, ImageReport, Report};
        let check = |id: &str, status: Status| CheckResult {
            id: id.into(),
            title: format!("title {text}"),
            status,
            message: format!("{id}: {text}"),
            hint: format!("hint {text}"),
            why: format!("why {text}"),
            book: "http://localhost:3000/checks/x.html".into(),
            blocked_by: (status == Status::Skip).then(|| "image-builds".into()),
            line: Some(3),
            details: Some(format!("build log:\n{text}")),
        };
        let report = Report {
            schema_version: 1,
            step: "step-1".into(),
            title: "t".into(),
            run_id: "1-2".into(),
            source: "learner".into(),
            context: "steps/step-1".into(),
            dockerfile: "steps/step-1/Dockerfile".into(),
            passed: false,
            checks: vec![
                check("image-builds", Status::Fail),
                check("responds-on-port", Status::Error),
                check("image-size", Status::Skip),
                check("base-image-pinned", Status::Pass),
            ],
            image: ImageReport::default(),
            engine: Default::default(),
            build_log: None,
            book: "http://localhost:3000/step-1.html".into(),
        };
        let mut grade = sample();
        grade.steps[0].status = StepStatus::Fail;
        grade.steps[0].title = format!("title {text}");
        grade.steps[0].report = Some(report);
        grade.steps[1].error = Some(format!("error {text}"));
        grade
    }

    #[test]
    fn junit_stays_well_formed_with_cdata_ends_markup_and_control_bytes() {
        let xml = junit(&hostile_grade(HOSTILE));
        assert_well_formed(&xml);
        let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(parsed.test_suites.len(), 2);
        let cases = &parsed.test_suites[0].test_cases;
        assert_eq!(cases.len(), 4, "the markup in the text made no element: {cases:#?}");
        // The text comes back whole, minus the control bytes (DEL is an XML character) and
        // the terminal escapes (C1's NEL and CSI among them).
        let kept = "a ]]> b <![CDATA[ c ]]> & </failure><system-out>x</system-out> red\u{7f} end";
        match &cases[0].status {
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, description, .. } => {
                assert_eq!(message.as_ref().map(|m| m.as_str()), Some(format!("image-builds: {kept}").as_str()));
                let body = description.as_ref().map(|d| d.as_str()).unwrap_or_default();
                assert!(body.contains(&format!("seen: image-builds: {kept}\n")), "{body:?}");
                assert!(body.ends_with(&format!("build log:\n{kept}")), "{body:?}");
            }
            other => panic!("image-builds is {other:?}"),
        }
        assert!(matches!(cases[1].status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, .. }));
        assert!(matches!(cases[2].status, TestCaseStatus::Skipped { .. }), "{:?}", cases[2].status);
        assert!(matches!(cases[3].status, TestCaseStatus::Success { .. }), "{:?}", cases[3].status);
        let unchecked = &parsed.test_suites[1].test_cases[0];
        match &unchecked.status {
            TestCaseStatus::NonSuccess { message, .. } => {
                assert_eq!(message.as_ref().map(|m| m.as_str()), Some(format!("error {kept}").as_str()))
            }
            other => panic!("the unchecked step is {other:?}"),
        }
    }

    #[test]
    fn junit_stays_well_formed_with_noncharacters_a_log_can_hold() {
        // U+FFFE and U+FFFF are valid UTF-8 that a build can print, are no control
        // characters (`report::plain` keeps them), and are not XML 1.0 characters.
        let text = crate::report::plain("a \u{fffe} b \u{ffff} c");
        let xml = junit(&hostile_grade(&text));
        assert_well_formed(&xml);
    }
}

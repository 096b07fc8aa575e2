//! Property tests of every reader of untrusted text: the Dockerfile, BuildKit's log and
//! the engine's messages, the container's output, and the manifest. On arbitrary input
//! (bytes, and text shaped like the real thing) none may panic or take long. The number
//! of cases is bounded for CI; `PROPTEST_CASES=100000 cargo test --test properties` runs
//! more. (`.dockerignore` has its own properties in `dockerignore.rs`.)

use std::time::{Duration, Instant};

use checker::checks::{dockerfile as static_checks, rebuild};
use checker::dockerfile::Dockerfile;
use checker::manifest::Manifest;
use checker::{buildkit, diagnosis};
use proptest::prelude::*;

/// Per case: far more than any reader needs on these sizes, far less than a hang.
const QUICK: Duration = Duration::from_secs(2);

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

/// Text shaped like a Dockerfile: instructions, flags, quotes, continuations, heredocs,
/// variables and comments in any order, with arbitrary bytes between them.
fn dockerfile_like() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("FROM ".to_string()),
        Just("from ".to_string()),
        Just("AS builder".to_string()),
        Just("RUN ".to_string()),
        Just("COPY ".to_string()),
        Just("ADD ".to_string()),
        Just("WORKDIR ".to_string()),
        Just("ARG X=".to_string()),
        Just("--from=builder ".to_string()),
        Just("--chmod=0555 ".to_string()),
        Just("--mount=type=cache,target=/app/target ".to_string()),
        Just("--mount=target=t,type=cache,id= ".to_string()),
        Just("/app/target/x ".to_string()),
        Just("target/ ".to_string()),
        Just("--platform=$BUILDPLATFORM ".to_string()),
        Just("${X:-a}".to_string()),
        Just("\\\n".to_string()),
        Just("<<EOF\n".to_string()),
        Just("EOF\n".to_string()),
        Just("[\"/server\", \"".to_string()),
        Just("# comment\n".to_string()),
        Just("# syntax=x\n".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\u{feff}".to_string()),
        "[ -~]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ];
    proptest::collection::vec(word, 0..40).prop_map(|w| w.concat())
}

/// Text shaped like BuildKit's plain progress and cargo's output.
fn build_log_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("#5 [builder 4/7] RUN cargo build --release --locked".to_string()),
        Just("#5 [4/7] COPY . .".to_string()),
        Just("#5 12.3    Compiling tokio v1.48.0".to_string()),
        Just("#5 12.3    Compiling server v0.1.0 (/app)".to_string()),
        Just("#5 12.3 error[E0425]: cannot find value".to_string()),
        Just("#5 ERROR: process did not complete successfully".to_string()),
        Just("ERROR: failed to solve: x".to_string()),
        Just(" > [builder 6/6] RUN cargo build:".to_string()),
        Just("Dockerfile:12".to_string()),
        Just("Dockerfile:".to_string()),
        Just(" > [internal] load metadata for docker.io/library/x:".to_string()),
        Just("#3 DONE 0.1s".to_string()),
        Just("unknown instruction: FORM".to_string()),
        Just("Compiling ".to_string()),
        Just("#".to_string()),
        "[ -~]{0,40}",
        any::<String>().prop_map(|s| s.chars().take(20).collect()),
    ];
    proptest::collection::vec(line, 0..60).prop_map(|l| l.join("\n"))
}

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let value = f();
    assert!(started.elapsed() < QUICK, "{what} took {:?}", started.elapsed());
    value
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dockerfiles_never_panic(text in dockerfile_like()) {
        quick("reading a Dockerfile", || {
            if let Ok(df) = Dockerfile::parse(&text) {
                let _ = (df.unpinned_bases(), df.workdir_findings(), df.local_adds(), df.cache_mount_findings());
                let _ = (static_checks::base_image_pinned(&df), static_checks::workdir(&df), static_checks::copy_not_add(&df), static_checks::min_stages(&df, 2), static_checks::cache_mount_reads(&df));
            }
        });
    }

    #[test]
    fn arbitrary_bytes_as_a_dockerfile_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        quick("reading a Dockerfile", || {
            if let Ok(df) = Dockerfile::parse(&text) {
                let _ = (df.unpinned_bases(), df.workdir_findings(), df.local_adds(), df.cache_mount_findings());
            }
        });
    }

    #[test]
    fn build_logs_never_panic(log in build_log_like(), dockerfile in dockerfile_like()) {
        quick("reading a build log", || {
            let _ = buildkit::build_error(&log);
            let _ = buildkit::build_error_line(&log, &dockerfile);
            let _ = buildkit::running_step_line(&log, &dockerfile);
            let _ = diagnosis::diagnose_build(&log, &dockerfile);
            let _ = buildkit::telling_lines(&log, 12);
            let _ = buildkit::compiled(&log);
            let _ = rebuild::verdict(&rebuild::Change { files: "src/main.rs", adds: &[] }, &log, 1.0, "");
            let _ = rebuild::verdict(&rebuild::Change { files: "Cargo.toml", adds: &["fnv".into()] }, &log, 1.0, "");
            let _ = diagnosis::forks_refused(&log);
            let _ = diagnosis::engine_reason(&log);
            let exit = diagnosis::Exit { code: 3, engine_error: &log, log: &log, executable: Some("/server"), ..Default::default() };
            let _ = diagnosis::diagnose_exit(&exit);
        });
    }

    /// The stream reader hands over every byte as text: lines joined back give the input
    /// (lossily decoded) whatever its bytes, line lengths and line endings.
    #[test]
    fn streams_are_read_whole_whatever_their_bytes(
        bytes in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b'\r')], 0..2000),
        max in 1usize..300,
    ) {
        let mut lines = Vec::new();
        quick("reading a stream", || buildkit::for_each_line(bytes.as_slice(), max, |l| lines.push(l)));
        for line in &lines {
            prop_assert!(line.len() <= max.max(1) * 3, "a line of {} bytes for a limit of {max}", line.len());
        }
        // Without line breaks and odd bytes, the pieces are the input itself.
        let plain: Vec<u8> = bytes.iter().copied().filter(|b| b.is_ascii_alphanumeric()).collect();
        let mut pieces = Vec::new();
        buildkit::for_each_line(plain.as_slice(), max, |l| pieces.push(l));
        prop_assert_eq!(pieces.concat().into_bytes(), plain);
    }

    #[test]
    fn the_docker_host_is_read_from_anything(host in any::<String>()) {
        let _ = diagnosis::remote_engine(Some(&host));
    }

    #[test]
    fn manifests_never_panic(text in manifest_like()) {
        quick("reading a manifest", || { let _ = Manifest::parse(&text); });
    }
}

/// The shipped manifest with some of its lines dropped, repeated or replaced: most stay
/// TOML, and the validation meets every kind of hole.
fn manifest_like() -> impl Strategy<Value = String> {
    let shipped: Vec<String> = checker::manifest::BUILTIN.lines().map(str::to_string).collect();
    let n = shipped.len();
    proptest::collection::vec((0..n, 0u8..4, "[ -~]{0,20}"), 0..12).prop_map(move |edits| {
        let mut lines = shipped.clone();
        for (at, how, text) in edits {
            let at = at % lines.len().max(1);
            match how {
                0 if !lines.is_empty() => {
                    lines.remove(at);
                }
                1 => lines.insert(at, lines.get(at).cloned().unwrap_or_default()),
                2 => lines.insert(at, text),
                _ if !lines.is_empty() => {
                    let line = &mut lines[at];
                    if let Some((key, _)) = line.split_once(" = ") {
                        *line = format!("{key} = {text}");
                    }
                }
                _ => {}
            }
        }
        lines.join("\n")
    })
}

#[test]
fn the_shipped_manifest_is_among_the_inputs() {
    // The strategy's baseline must parse, or every case would only test the error path.
    assert!(Manifest::parse(checker::manifest::BUILTIN).is_ok());
}

//! The checks that need the container running: it answers on its port, its process is not
//! root, and it stops on SIGTERM. The container starts once, confined, with every checked
//! port published on 127.0.0.1 only; the stop comes last, since it ends the container.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::checks::image::{executable, is_shell};
use crate::cleanup;
use crate::diagnosis::{self, Exit, NOT_STARTED, PROCESS_LIMIT_HINT};
use crate::engine::{ImageConfig, RunLimits};
use crate::layers;
use crate::outcome::{Outcome, tail};
use crate::report::Status;
use crate::runner::Run;

/// The kinds this phase evaluates.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    Http { port: u16, path: &'a str, timeout: Duration },
    ProcessUid,
    Stop(Duration),
}

pub fn evaluate(run: &mut Run<'_, '_>, checks: &[(&str, Check<'_>)]) -> Result<()> {
    let (mut http, mut uid, mut stop) = (Vec::new(), Vec::new(), Vec::new());
    for &(id, check) in checks {
        match check {
            Check::Http { port, path, timeout } => http.push((id, port, path, timeout)),
            Check::ProcessUid => uid.push(id),
            Check::Stop(within) => stop.push((id, within)),
        }
    }
    if checks.is_empty() {
        return Ok(());
    }
    let Some(&(first_http, ..)) = http.first() else {
        bail!(
            "the manifest asks for a running container but step {} has no `http` check to start it",
            run.target.step.id
        );
    };
    let config = run.facts.info.as_ref().map(|i| i.config.clone()).unwrap_or_default();
    let name = run.names.container.clone();
    let after = |run: &mut Run<'_, '_>, by: &str| {
        run.block(uid.iter().copied().chain(stop.iter().map(|(id, _)| *id)), by);
        cleanup::remove_container(run.engine, &name);
    };
    cleanup::container(run.engine, &name);
    let mut ports: Vec<u16> = http.iter().map(|(_, port, ..)| *port).collect();
    ports.dedup();
    run.spinner.say("starting the container…");
    if let Err(e) = start(run, &name, &ports) {
        let reason = diagnosis::engine_reason(&e.to_string());
        let hint = diagnose(run, NOT_STARTED, false, &reason, "", &config);
        let outcome = Outcome::fail(format!("the container did not start: {reason}")).hint(hint);
        for (id, ..) in &http {
            run.set(id, outcome.clone());
        }
        after(run, first_http);
        return Ok(());
    }
    let mut failed = None;
    for &(id, port, path, timeout) in &http {
        run.spinner.say(format!("requesting {path} on port {port}…"));
        let (outcome, first) = probe(run, &name, port, path, timeout, &config);
        run.facts.first_response = run.facts.first_response.or(first);
        if outcome.status != Status::Pass {
            failed = failed.or(Some(id));
        }
        run.set(id, outcome);
    }
    if let Some(by) = failed {
        after(run, by);
        return Ok(());
    }
    if !uid.is_empty() {
        let uids = process_uids(run, &name);
        for id in &uid {
            run.set(id, process_uid(&uids));
        }
    }
    // Last: it ends the container. One SIGTERM, judged against each check's own limit.
    if let Some(longest) = stop.iter().map(|(_, within)| *within).max() {
        let took = run.engine.stop_within(&name, longest);
        // Still running: who is PID 1, and is the server its child?
        let tree = matches!(took, Ok(None)).then(|| processes(run, &name)).flatten();
        for (id, within) in &stop {
            run.set(id, stopped(&took, *within, &config, tree.as_ref()));
        }
    }
    cleanup::remove_container(run.engine, &name);
    Ok(())
}

/// Starts the container, confined: the checker runs untrusted Dockerfiles.
fn start(run: &Run<'_, '_>, name: &str, ports: &[u16]) -> Result<String> {
    let limits = &run.target.manifest.limits;
    let confined = RunLimits {
        memory_bytes: limits.memory.0,
        pids: limits.pids,
        cpus: limits.cpus,
        read_only: !run.target.step.writable_rootfs,
        log_bytes: limits.log_size.0,
    };
    run.engine.run_detached(&run.names.image, name, &run.names.run, ports, &confined)
}

/// Polls `path` on container port `port` until the first 200, a non-200 answer, the
/// container's exit, or the timeout. Returns the outcome and the time to the first 200.
fn probe(
    run: &Run<'_, '_>,
    name: &str,
    port: u16,
    path: &str,
    timeout: Duration,
    config: &ImageConfig,
) -> (Outcome, Option<Duration>) {
    let started = Instant::now();
    let remote = run.engine.identity().remote;
    let last_error = match &remote {
        // A remote engine publishes on its own 127.0.0.1 (a docker:dind service too):
        // the server is requested from inside the container's network instead.
        Some(host) => match request_inside(run, name, port, path, timeout) {
            Some(200) => {
                let took = started.elapsed();
                let message = format!(
                    "first 200 on {path} after {} ms (requested from a helper container in its network: the engine runs on {host})",
                    took.as_millis()
                );
                return (Outcome::pass(message), Some(took));
            }
            Some(code) => return (wrong_status(code, path), None),
            None => format!("no answer from inside the container's network (the engine runs on {host})"),
        },
        None => match poll_published(run, name, (port, path), timeout, started, config) {
            Ok(answer) => return answer,
            Err(last_error) => last_error,
        },
    };
    if let Some(outcome) = exited(run, name, started, config) {
        return (outcome, None);
    }
    let log = run.engine.logs_tail(name, 15);
    let pid_limit = run.target.manifest.limits.pids;
    let sockets = peek(run, name, &["cat", "/proc/net/tcp", "/proc/net/tcp6"]).map(|t| listening(&t));
    let mut seen = format!(
        "nothing answered {path} on container port {port} within {} s although the container kept running",
        timeout.as_secs()
    );
    // A fork bomb hovers near the limit, and its shells complain when fork fails.
    let hint = if diagnosis::forks_refused(&log) || run.engine.pids(name).is_some_and(|n| n * 10 >= pid_limit * 9) {
        PROCESS_LIMIT_HINT.to_string()
    } else if let Some(sockets) = &sockets {
        let (text, hint) = sockets_text(sockets, port);
        seen.push_str(&format!(": {text}"));
        hint
    } else if log.contains("127.0.0.1") || log.contains("localhost") {
        format!(
            "The server's log shows 127.0.0.1/localhost: inside a container that address is reachable only from the container itself. Bind to 0.0.0.0:{port}."
        )
    } else {
        format!(
            "The container kept running but nothing answered on its port: the server most likely listens on 127.0.0.1 (unreachable from outside the container) or on another port. Bind to 0.0.0.0:{port}."
        )
    };
    if sockets.is_none() {
        seen.push_str(&format!(" (last error: {last_error})"));
    }
    (Outcome::fail(seen).hint(hint).details(log_details(&log)), None)
}

/// Requests `path` on the port published on this machine's 127.0.0.1 until an answer or
/// the container's exit (the outcome), or the timeout (the last error).
fn poll_published(
    run: &Run<'_, '_>,
    name: &str,
    (port, path): (u16, &str),
    timeout: Duration,
    started: Instant,
    config: &ImageConfig,
) -> Result<(Outcome, Option<Duration>), String> {
    let host_port = run.engine.host_port(name, port).ok();
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .redirects(0)
        .build();
    let mut last_error = String::from("no connection yet");
    let mut polls = 0u32;
    while started.elapsed() < timeout {
        polls += 1;
        // The port is known once the container runs; an early exit is seen below.
        if let Some(hp) = host_port {
            let url = format!("http://127.0.0.1:{hp}{path}");
            match agent.get(&url).call() {
                Ok(resp) if resp.status() == 200 => {
                    let took = started.elapsed();
                    return Ok((
                        Outcome::pass(format!("first 200 on {path} after {} ms", took.as_millis())),
                        Some(took),
                    ));
                }
                Ok(resp) => return Ok((wrong_status(resp.status(), path), None)),
                Err(ureq::Error::Status(code, _)) => return Ok((wrong_status(code, path), None)),
                Err(e) => last_error = e.to_string(),
            }
        }
        // Asking the engine costs more than a request: every eighth poll is enough.
        if polls % 8 == 1
            && let Some(outcome) = exited(run, name, started, config)
        {
            return Ok((outcome, None));
        }
        // Short: the time to the first 200 is measured to about this.
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(last_error)
}

/// The HTTP status of `GET path` on `port`, asked by one short-lived helper container in
/// the container's network, which retries until `timeout`; `None` without an answer. It
/// connects to the container's network address, as a published port does: a server that
/// listens on 127.0.0.1 only must not answer.
fn request_inside(run: &Run<'_, '_>, name: &str, port: u16, path: &str, timeout: Duration) -> Option<u16> {
    let address = run.engine.address(name).ok()?;
    let request = format!("GET {path} HTTP/1.0").replace('\'', "'\\''");
    let script = format!(
        "end=$((SECONDS+{secs})); while [ $SECONDS -lt $end ]; do \
         if exec 3<>/dev/tcp/{address}/{port}; then printf '%s\\r\\nHost: localhost\\r\\n\\r\\n' '{request}' >&3; \
         IFS= read -r line <&3; echo \"answer $line\"; exit 0; fi 2>/dev/null; sleep 0.05; done; echo none",
        secs = timeout.as_secs().max(1)
    );
    let out = peek(run, name, &["bash", "-c", &script])?;
    out.lines().find_map(|l| l.strip_prefix("answer HTTP/")?.split_whitespace().nth(1)?.parse().ok())
}

/// The failure of a container that is no longer running, with what its exit tells.
fn exited(run: &Run<'_, '_>, name: &str, started: Instant, config: &ImageConfig) -> Option<Outcome> {
    let state = run.engine.state(name).ok().filter(|s| !s.running)?;
    let log = run.engine.logs_tail(name, 15);
    let hint = diagnose(run, state.exit_code, state.oom_killed, &state.error, &log, config);
    Some(
        Outcome::fail(format!(
            "the container exited with code {} after {:.1} s{}",
            state.exit_code,
            started.elapsed().as_secs_f64(),
            if state.error.is_empty() { String::new() } else { format!(" ({})", state.error) }
        ))
        .hint(hint)
        .details(log_details(&log)),
    )
}

/// The container's last lines; nothing when it printed none.
fn log_details(log: &str) -> String {
    if log.trim().is_empty() { String::new() } else { format!("container log (last lines):\n{}", tail(log, 15)) }
}

/// An image already on the engine that can run `cat` and `sh` beside the container (a
/// scratch image cannot): one the Dockerfile builds from, or the workshop's Debian.
fn helper_image(run: &Run<'_, '_>) -> Option<String> {
    let parsed = crate::dockerfile::Dockerfile::parse(&run.dockerfile_text);
    let named = parsed.as_ref().map(|d| d.base_images()).unwrap_or_default();
    let candidates: Vec<&str> = named.into_iter().chain(["debian:bookworm-slim"]).collect();
    candidates.into_iter().rev().find(|image| run.engine.has_image(image)).map(str::to_string)
}

/// Runs `argv` in a helper container that shares the container's network and processes.
fn peek(run: &Run<'_, '_>, container: &str, argv: &[&str]) -> Option<String> {
    let image = helper_image(run)?;
    run.engine.peek(container, &image, &run.names.run, argv).ok()
}

/// The listening TCP sockets in `/proc/net/tcp` and `tcp6` text, as (address, port).
pub fn listening(proc_net: &str) -> Vec<(String, u16)> {
    let mut found: Vec<(String, u16)> = proc_net
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state) = (fields.get(1)?, fields.get(3)?);
            if *state != "0A" {
                return None;
            }
            let (addr, port) = local.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let bytes: Vec<u8> =
                (0..addr.len() / 2).filter_map(|i| u8::from_str_radix(addr.get(2 * i..2 * i + 2)?, 16).ok()).collect();
            // The kernel prints each 32-bit word in host order (little-endian here).
            let words: Vec<u8> = bytes.chunks(4).flat_map(|w| w.iter().rev().copied()).collect();
            let address = match words.len() {
                4 => std::net::Ipv4Addr::new(words[0], words[1], words[2], words[3]).to_string(),
                16 => format!("[{}]", std::net::Ipv6Addr::from(<[u8; 16]>::try_from(words.as_slice()).ok()?)),
                _ => return None,
            };
            Some((address, port))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// What the listening sockets say about a port nothing answered on, and the fix.
pub fn sockets_text(sockets: &[(String, u16)], port: u16) -> (String, String) {
    let all = |a: &str| a == "0.0.0.0" || a == "[::]";
    let list = |s: &[&(String, u16)]| s.iter().map(|(a, p)| format!("{a}:{p}")).collect::<Vec<_>>().join(", ");
    let on_port: Vec<&(String, u16)> = sockets.iter().filter(|(_, p)| *p == port).collect();
    let elsewhere: Vec<&(String, u16)> = sockets.iter().filter(|(_, p)| *p != port).collect();
    let bind = format!("Bind the server to 0.0.0.0:{port} (all addresses), the address a published port reaches.");
    if sockets.is_empty() {
        return (
            "the server listens on no TCP port".into(),
            format!(
                "Nothing in the container listens: the server never bound a socket (its log below may say why). {bind}"
            ),
        );
    }
    if on_port.is_empty() {
        return (format!("it listens on {}, not on {port}", list(&elsewhere)), bind);
    }
    if !on_port.iter().any(|(a, _)| all(a)) {
        return (
            format!("it listens on {} only, which a published port cannot reach", list(&on_port)),
            format!("An address like 127.0.0.1 is reachable only from inside the container. {bind}"),
        );
    }
    (
        format!("it listens on {}, yet the request got no answer", list(&on_port)),
        "The server accepts connections but does not answer in time: make sure it is the workshop's server, unchanged."
            .into(),
    )
}

/// Why the container did not start or stopped, sharpened by what the files phase saw, by
/// the image itself (is the program there?) and by the Dockerfile (where does the command
/// come from? does it ship a placeholder?).
fn diagnose(run: &Run<'_, '_>, code: i64, oom: bool, engine_error: &str, log: &str, config: &ImageConfig) -> String {
    let missing = format!("{engine_error}\n{log}").contains("no such file");
    if let Some(path) = &run.facts.dynamic_binary
        && missing
    {
        return format!(
            "{path} is dynamically linked and this image has no loader (ld-linux) or C library for it, so starting it fails with \"no such file\" although the file is there. Link it statically (step 4) or use a final stage that has glibc."
        );
    }
    let exe = executable(config);
    let dockerfile = &run.dockerfile_text;
    // A created or stopped container's files can still be read.
    let present = match &exe {
        Some(path) if missing && path.starts_with('/') => {
            Some(run.engine.read_file(&run.names.container, path).is_ok())
        }
        _ => None,
    };
    let inherited = (!layers::sets_command(dockerfile)).then(|| layers::base_image(dockerfile)).flatten();
    diagnosis::diagnose_exit(&Exit {
        code,
        oom,
        engine_error,
        log,
        executable: exe.as_deref(),
        present,
        inherited_from: inherited.as_deref(),
        entrypoint: config.entrypoint.as_ref().is_some_and(|e| !e.is_empty()),
        placeholder: crate::dockerfile::placeholder_trap(dockerfile),
    })
}

fn wrong_status(code: u16, path: &str) -> Outcome {
    Outcome::fail(format!("GET {path} answered {code}, not 200"))
        .hint("The server answers, but not with the greeting: run the workshop's server unchanged (src/main.rs serves GET /).")
}

/// The non-root-process verdict on the container's processes (uid, command).
pub fn process_uid(uids: &Result<Vec<(u32, String)>>) -> Outcome {
    match uids {
        Ok(list) if list.is_empty() => Outcome::error("docker top listed no process"),
        Ok(list) => match list.iter().find(|(uid, _)| *uid == 0) {
            Some((_, cmd)) => Outcome::fail(format!("`{cmd}` runs as uid 0 (root)")),
            None => Outcome::pass(format!("{} runs as uid {}", list[0].1, list[0].0)),
        },
        Err(e) => Outcome::error(format!("cannot list the container's processes: {e}")),
    }
}

/// The effective uid and command line of every process of the container (PID 1 and its
/// descendants), read beside it: no program of the engine's host is needed (`docker top`
/// runs `ps` there, which a VM or a minimal host may lack), except as the fallback when no
/// helper image is at hand.
fn process_uids(run: &Run<'_, '_>, container: &str) -> Result<Vec<(u32, String)>> {
    let script = "walk() { for p in \"$@\"; do [ -r /proc/$p/status ] || continue; \
        printf '%s %s\\n' \"$(sed -n 's/^Uid:[[:space:]]*[0-9]*[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/$p/status)\" \"$(tr '\\000' ' ' < /proc/$p/cmdline)\"; \
        walk $(cat /proc/$p/task/*/children 2>/dev/null); done; }; walk 1";
    match peek(run, container, &["sh", "-c", script]) {
        Some(out) => Ok(out
            .lines()
            .filter_map(|l| {
                let (uid, cmd) = l.trim().split_once(' ')?;
                Some((uid.parse().ok()?, cmd.trim().to_string()))
            })
            .collect()),
        None => run.engine.process_uids(container),
    }
}

/// PID 1's command line and its children's, read beside the running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processes {
    pub pid1: String,
    pub children: Vec<String>,
}

fn processes(run: &Run<'_, '_>, container: &str) -> Option<Processes> {
    let script = "tr '\\000' ' ' < /proc/1/cmdline; echo; for c in $(cat /proc/1/task/1/children); do tr '\\000' ' ' < /proc/$c/cmdline; echo; done";
    let out = peek(run, container, &["sh", "-c", script])?;
    let mut lines = out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    Some(Processes { pid1: lines.next()?, children: lines.collect() })
}

/// The graceful-stop verdict: how long after SIGTERM the container exited (`None`: it
/// still ran when the checker stopped waiting), against this check's limit `within`.
/// `tree` is what ran then, when the checker could read it.
pub fn stopped(
    took: &Result<Option<Duration>>,
    within: Duration,
    config: &ImageConfig,
    tree: Option<&Processes>,
) -> Outcome {
    match took {
        Ok(Some(took)) if *took <= within => Outcome::pass(format!("exited {:.2} s after SIGTERM", took.as_secs_f64())),
        Ok(_) => {
            let cause = match tree {
                Some(t) if t.pid1.split_whitespace().next().is_some_and(is_shell) => {
                    let child = t.children.first().map(|c| format!(" (`{c}`)")).unwrap_or_default();
                    format!("PID 1 is `{}`, a shell; the server{child} is its child and never receives SIGTERM", t.pid1)
                }
                Some(t) => {
                    format!("PID 1 is `{}`, which ignored SIGTERM (PID 1 gets no default signal handling)", t.pid1)
                }
                None if shell_is_pid_1(config) => "a shell is PID 1 and does not pass SIGTERM on".to_string(),
                None => "the process ignored SIGTERM (PID 1 gets no default signal handling)".to_string(),
            };
            Outcome::fail(format!("still running {} s after SIGTERM: {cause}", within.as_secs()))
        }
        Err(e) => Outcome::error(format!("cannot send SIGTERM: {e}")),
    }
}

/// Whether the container's first process is a shell: the ENTRYPOINT's program, or the
/// CMD's when there is no ENTRYPOINT (a shell-form CMD runs `/bin/sh -c`).
fn shell_is_pid_1(config: &ImageConfig) -> bool {
    let argv = config.entrypoint.as_deref().filter(|e| !e.is_empty()).or(config.cmd.as_deref());
    argv.and_then(<[String]>::first).is_some_and(|program| is_shell(program))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfig {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ImageConfig { entrypoint: entrypoint.map(v), cmd: cmd.map(v), ..ImageConfig::default() }
    }

    #[test]
    fn a_shell_as_pid_1_is_told_from_a_program_whose_name_ends_in_sh() {
        let never: Result<Option<Duration>> = Ok(None);
        let within = Duration::from_secs(3);
        let shell_cmd = config(None, Some(&["/bin/sh", "-c", "/server"]));
        assert!(stopped(&never, within, &shell_cmd, None).message.contains("a shell is PID 1"));
        let shell_entry = config(Some(&["/bin/bash", "-c", "/server"]), None);
        assert!(stopped(&never, within, &shell_entry, None).message.contains("a shell is PID 1"));
        for program in ["/app/publish", "/usr/bin/fresh", "/server"] {
            let c = config(Some(&[program]), Some(&["--flag"]));
            assert!(stopped(&never, within, &c, None).message.contains("ignored SIGTERM"), "{program}");
        }
        // An exec-form ENTRYPOINT with a shell-form-looking CMD: the ENTRYPOINT is PID 1.
        let c = config(Some(&["/server"]), Some(&["/bin/sh", "-c", "x"]));
        assert!(stopped(&never, within, &c, None).message.contains("ignored SIGTERM"));
    }

    #[test]
    fn each_stop_check_is_judged_against_its_own_limit() {
        let took: Result<Option<Duration>> = Ok(Some(Duration::from_millis(2500)));
        let c = config(Some(&["/server"]), None);
        assert_eq!(stopped(&took, Duration::from_secs(3), &c, None).status, Status::Pass);
        let strict = stopped(&took, Duration::from_secs(1), &c, None);
        assert_eq!(strict.status, Status::Fail);
        assert!(strict.message.contains("still running 1 s after SIGTERM"), "{}", strict.message);
    }

    #[test]
    fn pid_1_is_named_from_what_ran() {
        let never: Result<Option<Duration>> = Ok(None);
        let c = config(None, None);
        let tree = Processes { pid1: "/bin/sh -c /server && echo stopped".into(), children: vec!["/server".into()] };
        let o = stopped(&never, Duration::from_secs(3), &c, Some(&tree));
        assert_eq!(
            o.message,
            "still running 3 s after SIGTERM: PID 1 is `/bin/sh -c /server && echo stopped`, a shell; the server (`/server`) is its child and never receives SIGTERM"
        );
        let server = Processes { pid1: "/server --deaf".into(), children: vec![] };
        assert!(
            stopped(&never, Duration::from_secs(3), &c, Some(&server))
                .message
                .contains("PID 1 is `/server --deaf`, which ignored")
        );
    }

    #[test]
    fn listening_sockets_are_read_and_explained() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0BD6 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001 0 1 1\n   1: 00000000:1F90 00000000:0000 0A 0 0 0 0 0 0\n   2: 0100007F:0BD6 0100007F:9C40 01 0 0 0 0 0 0\n";
        let tcp6 = "  sl  local_address\n   0: 00000000000000000000000000000000:0BD6 00000000000000000000000000000000:0000 0A 0 0\n   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 0 0\n";
        let found = listening(&format!("{tcp}{tcp6}"));
        assert_eq!(
            found,
            [("0.0.0.0".to_string(), 8080), ("127.0.0.1".into(), 3030), ("[::1]".into(), 8081), ("[::]".into(), 3030)]
        );
        let local = [("127.0.0.1".to_string(), 3030)];
        assert_eq!(
            sockets_text(&local, 3030).0,
            "it listens on 127.0.0.1:3030 only, which a published port cannot reach"
        );
        let other = [("0.0.0.0".to_string(), 8080)];
        assert_eq!(sockets_text(&other, 3030).0, "it listens on 0.0.0.0:8080, not on 3030");
        assert_eq!(sockets_text(&[], 3030).0, "the server listens on no TCP port");
        assert!(sockets_text(&local, 3030).1.contains("Bind the server to 0.0.0.0:3030"));
    }

    #[test]
    fn root_processes_fail_and_an_empty_list_is_an_error() {
        assert_eq!(process_uid(&Ok(vec![(10001, "server".into())])).status, Status::Pass);
        assert_eq!(process_uid(&Ok(vec![(10001, "server".into()), (0, "sh".into())])).status, Status::Fail);
        assert_eq!(process_uid(&Ok(vec![])).status, Status::Error);
    }
}

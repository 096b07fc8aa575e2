//! What engine the `docker` client talks to, read from its own JSON: Docker or Podman,
//! their versions, the image store, rootless or not. `checker doctor` reports it, and a
//! run reads it once (`Docker::identity`) for what differs between engines.

use serde_json::Value;

/// One side of `docker version`: the client, or the server it talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    /// Podman (its own client, or its docker-compatible service behind a docker client).
    pub podman: bool,
    /// What it calls itself: "Docker Engine", "Docker Desktop 4.30.0 (149282)", "Podman Engine"…
    pub product: String,
    pub version: String,
    pub api: String,
    pub min_api: String,
    /// os/arch
    pub platform: String,
}

/// What `docker version --format '{{json .}}'` said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    pub client: Option<Side>,
    /// `None` when the engine did not answer (or, for a local Podman, there is none).
    pub server: Option<Side>,
    /// The command succeeded.
    pub answered: bool,
    /// Its last line on stderr: the reason when the engine did not answer.
    pub error: String,
}

/// A string or number field of `value`, as text (empty when absent).
pub fn text(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The JSON object in `out`, which a wrapper (podman-docker) may surround with text.
fn json_object(out: &str) -> Option<Value> {
    let (start, end) = (out.find('{')?, out.rfind('}')?);
    serde_json::from_str(out.get(start..=end)?).ok()
}

/// Reads `docker version --format '{{json .}}'`, Docker's or Podman's.
pub fn parse_versions(stdout: &str) -> (Option<Side>, Option<Side>) {
    let Some(json) = json_object(stdout) else { return (None, None) };
    let side = |v: &Value, server: bool| -> Option<Side> {
        if !v.is_object() {
            return None;
        }
        // Podman's own client writes APIVersion and OsArch; Docker's ApiVersion, Os and Arch.
        let podman_keys = v.get("OsArch").is_some() || (v.get("APIVersion").is_some() && v.get("ApiVersion").is_none());
        let components = v["Components"].as_array().cloned().unwrap_or_default();
        let podman_component = components.iter().any(|c| text(c, "Name").contains("Podman"));
        let podman = podman_keys || podman_component;
        let platform_name = text(&v["Platform"], "Name");
        let product = if podman_component {
            "Podman Engine".to_string()
        } else if podman {
            "Podman".to_string()
        } else if !platform_name.is_empty() {
            platform_name
        } else if server {
            "Docker Engine".to_string()
        } else {
            "Docker".to_string()
        };
        let api = [text(v, "ApiVersion"), text(v, "APIVersion")].into_iter().find(|s| !s.is_empty());
        let platform = match text(v, "OsArch") {
            s if !s.is_empty() => s,
            _ if !text(v, "Os").is_empty() => format!("{}/{}", text(v, "Os"), text(v, "Arch")),
            _ => String::new(),
        };
        Some(Side {
            podman,
            product,
            version: text(v, "Version"),
            api: api.unwrap_or_default(),
            min_api: text(v, "MinAPIVersion"),
            platform,
        })
    };
    (side(&json["Client"], false), side(&json["Server"], true))
}

/// Reads `docker --version` ("Docker version 20.10.24+dfsg1, build 297e128") or
/// `podman --version` ("podman version 4.3.1").
pub fn parse_short_version(line: &str) -> Option<Side> {
    let (name, rest) = line.trim().split_once(" version ")?;
    let version = rest.split([',', ' ']).next()?.to_string();
    let podman = name.eq_ignore_ascii_case("podman");
    let product = if podman { "Podman" } else { "Docker" }.to_string();
    (!version.is_empty()).then(|| Side { podman, product, version, ..Side::default() })
}

/// The parts of `docker info` (or `podman info`) that tell engines apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// Podman (its own client, or its service behind a docker client).
    pub podman: bool,
    pub version: String,
    pub driver: String,
    pub containerd_store: bool,
    pub rootless: bool,
    pub cgroup_v1: bool,
    pub arch: String,
    pub root_dir: String,
    pub operating_system: String,
    pub host_name: String,
    pub errors: Vec<String>,
    /// The engine's machine when it is not this one (DOCKER_HOST or the docker context
    /// names another host): its published ports are out of reach from here.
    pub remote: Option<String>,
}

/// Reads `docker info --format '{{json .}}'`, Docker's or Podman's.
pub fn parse_info(stdout: &str) -> Option<Info> {
    let json = json_object(stdout)?;
    let strings = |v: &Value| -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![v.clone()];
        while let Some(v) = stack.pop() {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        out
    };
    if json.get("host").is_some() && json.get("store").is_some() {
        // Podman.
        let host = &json["host"];
        return Some(Info {
            podman: true,
            version: text(&json["version"], "Version"),
            driver: text(&json["store"], "graphDriverName"),
            containerd_store: false,
            rootless: host["security"]["rootless"].as_bool().unwrap_or(false),
            cgroup_v1: text(host, "cgroupVersion") == "v1",
            arch: text(host, "arch"),
            root_dir: text(&json["store"], "graphRoot"),
            operating_system: text(&host["distribution"], "distribution"),
            host_name: text(host, "hostname"),
            errors: Vec::new(),
            remote: None,
        });
    }
    Some(Info {
        // Podman's service behind Docker's client answers in Docker's format, and builds
        // the way Docker's API asks: for the checker that is a Docker engine.
        podman: false,
        version: text(&json, "ServerVersion"),
        driver: text(&json, "Driver"),
        containerd_store: strings(&json["DriverStatus"]).iter().any(|s| s.contains("containerd")),
        rootless: strings(&json["SecurityOptions"]).iter().any(|s| s.split(',').any(|p| p == "name=rootless")),
        cgroup_v1: text(&json, "CgroupVersion") == "1",
        arch: text(&json, "Architecture"),
        root_dir: text(&json, "DockerRootDir"),
        operating_system: text(&json, "OperatingSystem"),
        host_name: text(&json, "Name"),
        errors: strings(&json["ServerErrors"]),
        remote: None,
    })
}

//! What real engines print, recorded from each engine the workshop supports, read as the
//! checker reads it: `docker save` archives (tests/fixtures/saves) and `info` / `version`
//! JSON (tests/fixtures/engines).

use checker::engine_info::{parse_info, parse_versions};
use checker::layers::read_save;

fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The engines the archives come from (recorded by `scripts/engines.sh samples`): their
/// layouts differ (Docker 20.10 writes `<id>/layer.tar`; Podman adds `<digest>.tar` and
/// links; Docker 26 writes an OCI layout, and with the containerd store its blobs are
/// gzip-compressed).
const RECORDED: &[&str] =
    &["docker-20.10-overlay2", "docker-26.1-overlay2", "docker-26.1-containerd", "podman-4.3", "podman-5.4"];

/// One image, `FROM scratch` with a 1,000-byte /a and a 2,345-byte /dir/b, measures
/// 3,345 bytes on every engine and image store.
#[test]
fn every_engines_archive_measures_the_same_files() {
    for engine in RECORDED {
        let bytes = fixture(&format!("saves/{engine}.tar"));
        let saved = read_save(&mut bytes.as_slice()).unwrap_or_else(|e| panic!("{engine}: {e:#}"));
        assert_eq!(saved.size(), 3_345, "{engine}");
        let sizes: Vec<u64> = saved.history.iter().map(|l| l.size).collect();
        assert_eq!(sizes, [0, 2_345, 1_000], "{engine}: newest first, CMD made no layer");
        assert!(saved.history[1].created_by.contains("COPY"), "{engine}: {:?}", saved.history[1]);
        let folders: Vec<&str> = saved.folders[1].1.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(folders, ["/dir"], "{engine}");
    }
}

/// `(file stem, Podman, version, driver, containerd store, rootless, cgroup v1)`.
const INFOS: &[(&str, bool, &str, &str, bool, bool, bool)] = &[
    ("docker-20.10", false, "20.10.24+dfsg1", "overlay2", false, false, true),
    ("podman-4.3", true, "4.3.1", "overlay", false, false, true),
    ("podman-4.3-rootless", true, "4.3.1", "vfs", false, true, true),
    ("docker-26.1-overlay2", false, "26.1.5+dfsg1", "overlay2", false, false, true),
    ("docker-26.1-containerd", false, "26.1.5+dfsg1", "overlayfs", true, false, true),
    ("podman-5.4", true, "5.4.2", "overlay", false, false, true),
];

#[test]
fn each_engines_info_tells_what_it_is() {
    for &(stem, podman, version, driver, containerd, rootless, v1) in INFOS {
        let text = String::from_utf8(fixture(&format!("engines/{stem}.info.json"))).unwrap();
        let info = parse_info(&text).unwrap_or_else(|| panic!("{stem}: not read"));
        let seen = (info.podman, info.version.as_str(), info.driver.as_str(), info.containerd_store, info.rootless);
        assert_eq!(seen, (podman, version, driver, containerd, rootless), "{stem}");
        assert_eq!(info.cgroup_v1, v1, "{stem}");
        assert!(!info.arch.is_empty() && !info.root_dir.is_empty(), "{stem}: {info:?}");
    }
}

#[test]
fn each_engines_version_names_client_and_server() {
    for (stem, podman, server) in [
        ("docker-20.10", false, true),
        ("docker-26.1-overlay2", false, true),
        ("docker-26.1-containerd", false, true),
        ("podman-4.3", true, false),
        ("podman-5.4", true, false),
    ] {
        let text = String::from_utf8(fixture(&format!("engines/{stem}.version.json"))).unwrap();
        let (client, engine) = parse_versions(&text);
        let client = client.unwrap_or_else(|| panic!("{stem}: no client"));
        assert_eq!(client.podman, podman, "{stem}: {client:?}");
        assert!(!client.version.is_empty(), "{stem}: {client:?}");
        // Podman's own client has no server side: it runs the containers itself.
        assert_eq!(engine.is_some(), server, "{stem}: {engine:?}");
    }
}

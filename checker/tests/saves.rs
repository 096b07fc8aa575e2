//! The size figure from `docker save` streams that real engines wrote (recorded in
//! tests/fixtures/saves): one image, `FROM scratch` with a 1,000-byte /a and a
//! 2,345-byte /dir/b, must measure 3,345 bytes on every engine and image store.

use checker::layers::read_save;

/// The engines the archives come from: their layouts differ (Docker's classic store
/// writes `<id>/layer.tar`; Podman adds `<digest>.tar` and links; Docker's containerd
/// store writes an OCI layout with gzip-compressed blobs).
const RECORDED: &[&str] = &["docker-20.10-overlay2", "podman-4.3"];

#[test]
fn every_engines_archive_measures_the_same_files() {
    for engine in RECORDED {
        let path = format!("{}/tests/fixtures/saves/{engine}.tar", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let saved = read_save(&mut bytes.as_slice()).unwrap_or_else(|e| panic!("{engine}: {e:#}"));
        assert_eq!(saved.size(), 3_345, "{engine}");
        let sizes: Vec<u64> = saved.history.iter().map(|l| l.size).collect();
        assert_eq!(sizes, [0, 2_345, 1_000], "{engine}: newest first, CMD made no layer");
        assert!(saved.history[1].created_by.contains("COPY"), "{engine}: {:?}", saved.history[1]);
        let folders: Vec<&str> = saved.folders[1].1.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(folders, ["/dir"], "{engine}");
    }
}

//! Where an image's megabytes are: each layer of its history attributed to the Dockerfile
//! instruction (and line) that made it, the base image's layers grouped as its `FROM`, and
//! for a large layer, the folders that hold its bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::buildkit::logical_lines;
use crate::engine::Layer;
use crate::manifest::ByteSize;

/// One layer (or the base image's layers together) as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    /// The instruction, as the Dockerfile writes it: `COPY --from=builder /app/server /server`,
    /// or `FROM debian:bookworm-slim` for the base image's layers.
    pub instruction: String,
    /// Its line in the Dockerfile.
    pub line: Option<usize>,
    pub bytes: u64,
}

/// An instruction of the Dockerfile: its line and its text.
type Instruction = (usize, String);

/// The instructions that make the final image: the final stage's, after those of the
/// earlier stages it starts from; and the image at the root of that chain (the FROM's line
/// and image).
fn final_chain(dockerfile: &str) -> (Vec<Instruction>, Option<Instruction>) {
    // Each stage: its FROM (line, image), its name, its instructions.
    type Stage = (Instruction, Option<String>, Vec<Instruction>);
    let mut stages: Vec<Stage> = Vec::new();
    for (line, text) in logical_lines(dockerfile) {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.first().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            let args: Vec<&str> = words[1..].iter().copied().filter(|w| !w.starts_with("--")).collect();
            let image = args.first().copied().unwrap_or_default().to_string();
            let name = match args.as_slice() {
                [_, r#as, name, ..] if r#as.eq_ignore_ascii_case("AS") => Some(name.to_ascii_lowercase()),
                _ => None,
            };
            stages.push(((line, image), name, Vec::new()));
        } else if let Some(stage) = stages.last_mut() {
            stage.2.push((line, text));
        }
    }
    let Some(mut index) = stages.len().checked_sub(1) else { return (Vec::new(), None) };
    let mut chain = Vec::new();
    loop {
        let ((line, image), _, instructions) = &stages[index];
        chain.splice(0..0, instructions.iter().cloned());
        let parent =
            stages[..index].iter().rposition(|(_, name, _)| name.as_deref() == Some(&image.to_ascii_lowercase()));
        match parent {
            Some(p) => index = p,
            None => return (chain, Some((*line, image.clone()))),
        }
    }
}

/// The instruction keyword of a history entry or of a Dockerfile line.
fn keyword(text: &str) -> String {
    let text = text.trim_start_matches("/bin/sh -c #(nop) ").trim();
    if text.starts_with("/bin/sh -c") || text.starts_with('|') {
        return "RUN".into();
    }
    text.split_whitespace().next().unwrap_or_default().to_ascii_uppercase()
}

/// Attributes `history` (newest first) to the Dockerfile: the newest `history.len() -
/// base_layers` entries are the Dockerfile's own, matched to its instructions from the
/// last one back by keyword (an instruction that made no entry is passed over); the rest
/// are the base image's, reported together as its FROM.
pub fn attribute(history: &[Layer], dockerfile: &str, base_layers: usize) -> Vec<LayerReport> {
    let (chain, base) = final_chain(dockerfile);
    let own = history.len().saturating_sub(base_layers);
    // Newest first; `next` is the first not yet matched.
    let instructions: Vec<&Instruction> = chain.iter().rev().collect();
    let mut next = 0;
    let mut out = Vec::new();
    for layer in &history[..own] {
        // Podman records the checker's `--label`s as LABEL entries of its own.
        if layer.size == 0 && layer.created_by.contains(crate::docker::LABEL) {
            continue;
        }
        let wanted = keyword(&layer.created_by);
        // An entry no remaining instruction made leaves them all for the entries below.
        let found = instructions[next..].iter().position(|(_, text)| keyword(text) == wanted).map(|offset| {
            next += offset + 1;
            instructions[next - 1]
        });
        let (line, instruction) = match found {
            Some((line, text)) => (Some(*line), text.split_whitespace().collect::<Vec<_>>().join(" ")),
            None => (None, layer.created_by.trim_end_matches(" # buildkit").to_string()),
        };
        out.push(LayerReport { instruction, line, bytes: layer.size });
    }
    let base_bytes: u64 = history[own..].iter().map(|l| l.size).sum();
    if let Some((line, image)) = base.filter(|(_, image)| !image.eq_ignore_ascii_case("scratch") || base_bytes > 0) {
        out.push(LayerReport { instruction: format!("FROM {image}"), line: Some(line), bytes: base_bytes });
    }
    out.reverse();
    out
}

/// Whether the final stage (or an earlier stage it starts from) sets CMD or ENTRYPOINT:
/// if not, the image runs its base image's command.
pub fn sets_command(dockerfile: &str) -> bool {
    final_chain(dockerfile).0.iter().any(|(_, text)| matches!(keyword(text).as_str(), "CMD" | "ENTRYPOINT"))
}

/// The base image the final stage's chain starts from, when it is an image (not scratch).
pub fn base_image(dockerfile: &str) -> Option<String> {
    final_chain(dockerfile).1.map(|(_, image)| image).filter(|i| !i.eq_ignore_ascii_case("scratch"))
}

/// A layer's total bytes, and its folders with theirs, largest first.
pub type LayerFolders = (u64, Vec<(String, u64)>);

/// An image measured from its `docker save` stream, the same way on every engine.
#[derive(Debug, Default)]
pub struct Saved {
    /// Its history, newest first, as `docker history` lists it, each entry with the file
    /// bytes of the layer it made (0 for an entry that made none).
    pub history: Vec<Layer>,
    /// Each layer (oldest first): its file bytes and the folders that hold them.
    pub folders: Vec<LayerFolders>,
}

impl Saved {
    /// The checker's size of the image: the file bytes of all its layers.
    pub fn size(&self) -> u64 {
        self.folders.iter().map(|(bytes, _)| bytes).sum()
    }
}

/// `manifest.json` of a `docker save` archive (Docker's, Docker's OCI layout, Podman's).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest {
    config: String,
    layers: Vec<String>,
}

/// The image configuration's history, oldest first.
#[derive(Deserialize)]
struct ImageConfigFile {
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

#[derive(Deserialize)]
struct HistoryEntry {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    empty_layer: bool,
}

/// Measures an image from its `docker save` stream: the bytes of the regular files in each
/// layer (a hard link counts once, links and folders count nothing), whatever the engine
/// and its image store. Layers may be plain tars (Docker's overlay2 store, Podman) or
/// gzip-compressed (Docker's containerd store); the archive's `manifest.json` and the
/// image's configuration say which layer each history entry made.
pub fn read_save(save: &mut dyn Read) -> anyhow::Result<Saved> {
    use anyhow::Context;
    let mut measured: HashMap<String, LayerFolders> = HashMap::new();
    let mut links: HashMap<String, String> = HashMap::new();
    let mut json: HashMap<String, Vec<u8>> = HashMap::new();
    let mut archive = tar::Archive::new(save);
    for entry in archive.entries().context("reading docker save")? {
        let mut entry = entry.context("reading docker save")?;
        let name = normal(&entry.path()?.to_string_lossy());
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            // Docker's classic store writes a layer that two images share once, and links it.
            if let Some(target) = entry.link_name()? {
                let dir = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                let target = normal(&format!("{dir}/{}", target.to_string_lossy()));
                links.insert(name, target);
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let mut head = Vec::with_capacity(512);
        (&mut entry).take(512).read_to_end(&mut head)?;
        let whole = head.as_slice().chain(entry);
        let layer = if head.starts_with(&[0x1f, 0x8b]) {
            measure_layer(flate2::read::MultiGzDecoder::new(whole))
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            anyhow::bail!(
                "the engine stores layer {name} compressed with zstd, which the checker cannot read yet: store layers with gzip (the default)"
            )
        } else if head.len() == 512 && (&head[257..262] == b"ustar" || head.iter().all(|b| *b == 0)) {
            measure_layer(whole)
        } else if head.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| matches!(b, b'{' | b'[')) {
            let mut bytes = Vec::new();
            whole.take(64 << 20).read_to_end(&mut bytes)?;
            json.insert(name, bytes);
            continue;
        } else {
            continue;
        };
        measured.insert(name.clone(), layer.with_context(|| format!("reading layer {name} of docker save"))?);
    }
    let manifest = json.get("manifest.json").context("docker save wrote no manifest.json")?;
    let manifest: Vec<ArchiveManifest> =
        serde_json::from_slice(manifest).context("unexpected manifest.json in docker save")?;
    let manifest = manifest.into_iter().next().context("docker save's manifest.json lists no image")?;
    let config =
        json.get(&normal(&manifest.config)).with_context(|| format!("docker save has no {}", manifest.config))?;
    let config: ImageConfigFile = serde_json::from_slice(config).context("unexpected image configuration")?;
    let mut folders = Vec::new();
    for path in &manifest.layers {
        let mut path = normal(path);
        for _ in 0..8 {
            match links.get(&path) {
                Some(target) => path = target.clone(),
                None => break,
            }
        }
        folders.push(measured.get(&path).cloned().with_context(|| format!("docker save has no layer {path}"))?);
    }
    let mut layers = folders.iter().map(|(bytes, _)| *bytes);
    let mut history: Vec<Layer> = config
        .history
        .into_iter()
        .map(|h| Layer { size: if h.empty_layer { 0 } else { layers.next().unwrap_or(0) }, created_by: h.created_by })
        .collect();
    // An image without a history (`docker import`) still has its layers.
    history.extend(layers.map(|size| Layer { created_by: String::new(), size }));
    history.reverse();
    Ok(Saved { history, folders })
}

/// A path inside the archive without `./`, `.` and `..` parts.
fn normal(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// One layer's tar: its file bytes, and the sub-folders of the deepest folder that still
/// holds most of them (a COPY of target/ shows `/target/release/deps`, …), largest first.
fn measure_layer(layer: impl Read) -> anyhow::Result<LayerFolders> {
    // Bytes below every folder, to a depth that is enough to tell them apart.
    let mut below: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0;
    let mut inner = tar::Archive::new(layer);
    for file in inner.entries()? {
        let file = file?;
        if !file.header().entry_type().is_file() {
            continue;
        }
        let size = file.header().size()?;
        let path = file.path()?.to_string_lossy().into_owned();
        let parts: Vec<&str> = path.trim_start_matches("./").split('/').filter(|p| !p.is_empty()).collect();
        for depth in 1..parts.len().min(9) {
            *below.entry(format!("/{}", parts[..depth].join("/"))).or_default() += size;
        }
        total += size;
    }
    Ok((total, split(&below, total)))
}

/// Descends from the root while one folder holds at least 90% of the bytes, then lists
/// that folder's sub-folders, largest first.
fn split(below: &BTreeMap<String, u64>, total: u64) -> Vec<(String, u64)> {
    let children = |of: &str| -> Vec<(String, u64)> {
        let mut kids: Vec<(String, u64)> = below
            .iter()
            .filter(|(p, _)| p.strip_prefix(of).and_then(|r| r.strip_prefix('/')).is_some_and(|r| !r.contains('/')))
            .map(|(p, b)| (p.clone(), *b))
            .collect();
        kids.sort_by_key(|(_, b)| std::cmp::Reverse(*b));
        kids
    };
    let mut node = String::new();
    let mut bytes = total;
    loop {
        let kids = children(&node);
        match kids.first() {
            Some((top, b)) if *b * 10 >= bytes * 9 && !children(top).is_empty() => {
                node = top.clone();
                bytes = *b;
            }
            _ => return kids,
        }
    }
}

/// `line 14 \`COPY …\` adds 104.0 MB: /target/release/deps 61.0 MB, …`: the largest layer
/// the Dockerfile itself made, with its largest folders when known.
pub fn largest_text(layers: &[LayerReport], folders: &[LayerFolders]) -> Option<String> {
    let largest = layers.iter().filter(|l| !l.instruction.starts_with("FROM ")).max_by_key(|l| l.bytes)?;
    let at = largest.line.map(|l| format!("line {l} ")).unwrap_or_default();
    let mut text = format!("{at}`{}` adds {}", largest.instruction, ByteSize(largest.bytes));
    if let Some((_, top)) = folders.iter().find(|(total, _)| *total == largest.bytes) {
        let shown: Vec<String> = top.iter().take(5).map(|(f, b)| format!("{f} {}", ByteSize(*b))).collect();
        if !shown.is_empty() {
            text.push_str(&format!(": {}", shown.join(", ")));
        }
    }
    Some(text)
}

/// A tar of `(path, bytes)` entries, as an engine writes a layer or an archive.
#[cfg(test)]
pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, *bytes).unwrap();
    }
    tar.into_inner().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(created_by: &str, size: u64) -> Layer {
        Layer { created_by: created_by.into(), size }
    }

    const STEP_5: &str = "FROM rust:1.95-slim-bookworm AS builder\nWORKDIR /app\nCOPY . .\nRUN cargo build\n\nFROM debian:bookworm-slim\n# the binary alone\nCOPY --from=builder /app/server \\\n  /usr/local/bin/server\nCMD [\"/usr/local/bin/server\"]\n";

    #[test]
    fn each_layer_is_attributed_to_its_instruction_and_the_base_grouped() {
        let history = [
            layer("CMD [\"/usr/local/bin/server\"]", 0),
            layer("COPY /app/server /usr/local/bin/server # buildkit", 1_934_792),
            layer("# debian.sh --arch 'amd64' out/ 'bookworm'", 74_000_000),
        ];
        let layers = attribute(&history, STEP_5, 1);
        assert_eq!(
            layers,
            [
                LayerReport { instruction: "FROM debian:bookworm-slim".into(), line: Some(6), bytes: 74_000_000 },
                LayerReport {
                    instruction: "COPY --from=builder /app/server /usr/local/bin/server".into(),
                    line: Some(8),
                    bytes: 1_934_792
                },
                LayerReport { instruction: "CMD [\"/usr/local/bin/server\"]".into(), line: Some(10), bytes: 0 },
            ]
        );
        assert_eq!(base_image(STEP_5).as_deref(), Some("debian:bookworm-slim"));
        assert!(sets_command(STEP_5));
        assert!(!sets_command("FROM rust:1 AS b\nCMD [\"x\"]\nFROM debian:bookworm-slim\nCOPY --from=b /x /x\n"));
    }

    #[test]
    fn a_stage_built_on_an_earlier_stage_takes_its_instructions_along() {
        let df = "FROM debian:bookworm-slim AS base\nRUN apt-get update\nFROM base\nCOPY x /x\n";
        let history =
            [layer("COPY x /x # buildkit", 10), layer("RUN /bin/sh -c apt-get update # buildkit", 20), layer("", 70)];
        let layers = attribute(&history, df, 1);
        let lines: Vec<_> = layers.iter().map(|l| (l.line, l.bytes)).collect();
        assert_eq!(lines, [(Some(1), 70), (Some(2), 20), (Some(4), 10)]);
        // Podman's way of recording a step reads the same, and its entries for the
        // checker's labels are left out without taking an instruction along.
        assert_eq!(keyword("/bin/sh -c #(nop) COPY file:abc in /x"), "COPY");
        let podman = [
            layer("/bin/sh -c #(nop) LABEL \"dev.workshop.checker.run\"=\"1-2\"", 0),
            layer("/bin/sh -c #(nop) LABEL \"dev.workshop.checker\"=\"\"", 0),
            layer("/bin/sh -c #(nop) COPY dir:abc in /x ", 10),
            layer("/bin/sh -c apt-get update", 20),
            layer("", 70),
        ];
        let layers = attribute(&podman, df, 1);
        let lines: Vec<_> = layers.iter().map(|l| (l.line, l.bytes)).collect();
        assert_eq!(lines, [(Some(1), 70), (Some(2), 20), (Some(4), 10)]);
    }

    #[test]
    fn the_largest_layer_is_named_with_its_folders() {
        let layers = [
            LayerReport { instruction: "FROM debian:bookworm-slim".into(), line: Some(1), bytes: 74_000_000 },
            LayerReport {
                instruction: "COPY --from=builder /app/target /target".into(),
                line: Some(14),
                bytes: 104_000_000,
            },
        ];
        let folders = [
            (1_000, vec![("/x".to_string(), 1_000)]),
            (
                104_000_000,
                vec![("/target/release/deps".to_string(), 61_000_000), ("/target/release/build".into(), 30_000_000)],
            ),
        ];
        assert_eq!(
            largest_text(&layers, &folders).unwrap(),
            "line 14 `COPY --from=builder /app/target /target` adds 104.0 MB: /target/release/deps 61.0 MB, /target/release/build 30.0 MB"
        );
    }

    #[test]
    fn a_save_stream_is_measured_by_layer_and_folder() {
        let files =
            [("target/release/deps/a", 300usize), ("target/release/deps/b", 200), ("target/release/build/c", 100)];
        let contents: Vec<(String, Vec<u8>)> = files.iter().map(|(p, n)| (p.to_string(), vec![7u8; *n])).collect();
        let own = tar_of(&contents.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect::<Vec<_>>());
        let base = tar_of(&[("etc/os-release", b"debian")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &own).unwrap();
        let own = gz.finish().unwrap();
        let config = br#"{"history":[{"created_by":"base"},{"created_by":"CMD [\"x\"]","empty_layer":true},{"created_by":"COPY target /target # buildkit"}]}"#;
        let manifest = br#"[{"Config":"blobs/sha256/c","Layers":["blobs/sha256/b","./blobs/sha256/l"]}]"#;
        // The manifest first or last, the layers plain or compressed: all read the same.
        let save = tar_of(&[
            ("blobs/sha256/l", &own),
            ("manifest.json", manifest),
            ("blobs/sha256/b", &base),
            ("blobs/sha256/c", config),
        ]);
        let saved = read_save(&mut save.as_slice()).unwrap();
        assert_eq!(saved.size(), 606);
        assert_eq!(
            saved.history,
            [layer("COPY target /target # buildkit", 600), layer("CMD [\"x\"]", 0), layer("base", 6)]
        );
        assert_eq!(
            saved.folders[1],
            (600, vec![("/target/release/deps".to_string(), 500), ("/target/release/build".to_string(), 100)])
        );
        // A manifest that names a layer the archive lacks is an error, not a smaller image.
        let broken = tar_of(&[("manifest.json", manifest), ("blobs/sha256/c", config)]);
        let err = read_save(&mut broken.as_slice()).unwrap_err().to_string();
        assert!(err.contains("no layer blobs/sha256/b"), "{err}");
    }
}

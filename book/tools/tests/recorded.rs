//! Every page that shows the checker's recorded output says which engine recorded it
//! (`book-tools record` writes that sentence from the engine it ran on).

use std::path::Path;

#[test]
fn every_page_with_a_recorded_output_names_the_engine() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let note = std::fs::read_to_string(src.join("generated/recorded-with.md")).expect("run `book-tools record`");
    assert!(note.contains("recorded with Docker Engine") || note.contains("recorded with Podman"), "{note}");
    let mut pages = 0;
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let recorded = text.contains("start-output.txt}}") || text.contains("{{#include generated/mistakes/");
        if recorded {
            pages += 1;
            assert!(
                text.contains("{{#include generated/recorded-with.md}}"),
                "{} shows a recorded output without saying which engine recorded it",
                entry.path().display()
            );
        }
    }
    assert!(pages >= 9, "only {pages} pages with recorded outputs were found");
}

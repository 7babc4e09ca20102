//! What the page decodes: every fixture and every hostile catalog case gives `Built` JSON that
//! is strict JSON and that `serde_json::from_str::<trace::Built>` reads back equal (the same
//! JSON when written again), non-finite numbers included (see `trace::model::jf64`).

use std::path::PathBuf;

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/slime");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pt") || n.ends_with(".trace_timeline_cache.json")
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    assert!(v.len() >= 20);
    v.extend(
        picklegen::hostile::catalog()
            .into_iter()
            .map(|c| (c.file.to_string(), c.bytes)),
    );
    v
}

#[test]
fn every_built_reads_back_equal() {
    let mut read_back = 0;
    for (name, bytes) in inputs() {
        let Ok(built) = trace::load(&bytes, "x", 0.0) else {
            continue; // refused files have nothing to decode
        };
        let text = serde_json::to_string(&built).unwrap();
        let strict: Result<serde_json::Value, _> = serde_json::from_str(&text);
        assert!(strict.is_ok(), "{name}: not strict JSON");
        let back: trace::Built = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name}: the page could not decode it: {e}"));
        assert_eq!(serde_json::to_string(&back).unwrap(), text, "{name}");
        // Rows sent in batches (the worker's `Rows` message) decode too.
        let rows = serde_json::to_string(&built.cache.rows).unwrap();
        let back: Vec<trace::Row> = serde_json::from_str(&rows).unwrap();
        assert_eq!(back.len(), built.cache.rows.len());
        read_back += 1;
    }
    assert!(read_back >= 20, "{read_back}");
}

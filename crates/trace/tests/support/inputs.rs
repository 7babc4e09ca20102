//! The inputs most trace tests run over: every slime fixture (dumps and reference caches) and
//! every hostile catalog case.

use std::path::PathBuf;

/// (name, bytes) of every fixture `.pt` and `.trace_timeline_cache.json`, sorted, then every
/// hostile catalog case whose bytes are under `max_case_bytes`.
pub fn fixtures_and_catalog(max_case_bytes: usize) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
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
    assert!(v.len() >= 20, "fixtures missing");
    v.extend(
        picklegen::hostile::catalog()
            .into_iter()
            .filter(|c| c.bytes.len() < max_case_bytes)
            .map(|c| (c.file.to_string(), c.bytes)),
    );
    v
}

//! The compact row store against the materialised rows: on every fixture, cache JSON and
//! hostile catalog case, the cache JSON written straight from the store is byte for byte what
//! `serde_json` writes for the materialised `Cache` (whose semantics the reference-cache tests
//! check against slime), a store rebuilt from those rows writes the same bytes again, and a
//! serialised `Materialized` (what a one-file report carries) reads back as the same rows and analysis.

#[path = "support/inputs.rs"]
mod inputs;

use std::path::PathBuf;

fn inputs() -> Vec<(String, Vec<u8>)> {
    inputs::fixtures_and_catalog(1 << 20)
}

#[test]
fn store_writes_the_cache_serde_writes() {
    let mut checked = 0;
    let mut items = 0;
    for (name, bytes) in inputs() {
        let Ok(compact) = trace::load(&bytes, &trace::LoadOptions::new("x.pt", 1.5)) else {
            continue;
        };
        let mut direct = Vec::new();
        compact.write_cache(&mut direct).unwrap();
        items += compact.store.item_count();
        let built = compact.clone().materialize();
        let via_serde = serde_json::to_vec(&built.cache).unwrap();
        assert!(
            direct == via_serde,
            "{name}: store JSON differs from serde's:\n{}\n---\n{}",
            String::from_utf8_lossy(&direct[..direct.len().min(2000)]),
            String::from_utf8_lossy(&via_serde[..via_serde.len().min(2000)])
        );
        let again = trace::Loaded::from_materialized(built);
        let mut rewritten = Vec::new();
        again.write_cache(&mut rewritten).unwrap();
        assert!(
            rewritten == direct,
            "{name}: rebuilt store writes other bytes"
        );
        checked += 1;
    }
    assert!(
        checked >= 20 && items > 1000,
        "{checked} files, {items} items"
    );
}

#[test]
fn a_serialised_built_reads_back_as_itself() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/basic_0.pt");
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("basic_0.pt", 2.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    assert!(built.analysis.requests > 0 && built.analysis.samples > 0);
    let json = serde_json::to_vec(&built).unwrap();
    let back = trace::load(&json, &trace::LoadOptions::new("report", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    assert_eq!(
        serde_json::to_string(&back.cache).unwrap(),
        serde_json::to_string(&built.cache).unwrap()
    );
    assert_eq!(back.analysis, built.analysis, "the dump's analysis is kept");
    assert_eq!(back.warnings, built.warnings);
}

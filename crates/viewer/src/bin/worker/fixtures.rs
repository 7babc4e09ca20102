//! Tests: a slime fixture loaded as the worker loads it.

pub fn fixture(name: &str) -> trace::Loaded {
    let path = format!(
        "{}/../../tests/fixtures/slime/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    trace::load(&bytes, &trace::LoadOptions::new(name, 0.0)).expect("fixture loads")
}

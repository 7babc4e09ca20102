//! One file: loaded through `trace`'s front door ([`load`]), and what the commands make of it
//! ([`stats`], [`write_cache`], [`export`]).

use std::io::Write;

use trace::metrics::{Analysis, Thresholds};
use trace::{LoadOptions, Loaded, Loader};

use crate::Src;

/// Loads a dump, cache JSON or OTLP/JSON, streamed in chunks into `trace::Loader` (rows are
/// built as its samples complete), so neither the file nor its value tree is held whole.
/// `name` names bytes (a path names itself) in messages and in the cache.
pub fn load(src: &Src, name: &str) -> Result<Loaded, String> {
    let shown = src.shown(name);
    let recorded = src.recorded(name);
    let mut loader = Loader::new(LoadOptions {
        size_hint: Some(src.size()),
        ..LoadOptions::new(&recorded, crate::now())
    });
    src.chunks(&mut |chunk| {
        loader.push(chunk).map_err(|e| e.to_string())?;
        Ok(loader.is_done())
    })
    .map_err(|e| format!("{shown}: {e}"))?;
    loader.finish().map_err(|e| format!("{shown}: {e}"))
}

/// The warnings of a load, one line each, naming the input as errors do.
pub fn warning_lines(loaded: &Loaded, src: &Src, name: &str) -> Vec<String> {
    let shown = src.shown(name);
    loaded
        .warnings
        .iter()
        .map(|w| format!("{shown}: {w}"))
        .collect()
}

/// The analysis with its health judged under `thresholds` (the load used the defaults).
pub fn stats(loaded: &Loaded, thresholds: &Thresholds) -> Analysis {
    let mut analysis = loaded.analysis.clone();
    analysis.health = trace::metrics::analyze_health(&analysis, thresholds);
    analysis
}

/// The cache v1 JSON, straight from the row store.
pub fn write_cache(loaded: &Loaded, w: &mut dyn Write) -> std::io::Result<()> {
    loaded.write_cache(w)
}

pub use trace::interop::Format;

/// The export of a loaded file, streamed from the row store into `w` and bounded by the
/// input's size as its rows are (`trace::interop::export_limit`): past the limit, writing
/// stops with an error naming it. Gives the bytes written.
pub fn write_export(
    loaded: &Loaded,
    format: Format,
    input_bytes: u64,
    w: &mut dyn Write,
) -> Result<u64, trace::Error> {
    trace::interop::write_export(loaded, format, trace::interop::export_limit(input_bytes), w)
}

/// [`write_export`] into memory (a buffer that refuses to grow past what the allocator
/// gives, instead of aborting).
pub fn export_bytes(
    loaded: &Loaded,
    format: Format,
    input_bytes: u64,
) -> Result<Vec<u8>, trace::Error> {
    trace::interop::export_bytes(loaded, format, trace::interop::export_limit(input_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(rel)
    }

    #[test]
    fn bytes_and_path_give_the_same_stats() {
        let p = fixture("slime/basic_0.pt");
        let bytes = std::fs::read(&p).unwrap();
        let t = Thresholds::default();
        let a = stats(&load(&Src::Path(p), "x").unwrap(), &t).flat();
        let b = stats(&load(&Src::Bytes(&bytes), "x").unwrap(), &t).flat();
        assert_eq!(a, b);
        assert!(
            a.contains_key("perf/request/e2e_latency/mean"),
            "{:?}",
            a.keys()
        );
    }

    #[test]
    fn errors_name_the_input_as_the_cli_does() {
        let e = load(&Src::Bytes(b"not a dump at all"), "<bytes>").unwrap_err();
        assert!(e.starts_with("<bytes>: "), "{e}");
        let e = load(&Src::Path("/nonexistent/x.pt".into()), "").unwrap_err();
        assert!(e.starts_with("/nonexistent/x.pt: "), "{e}");
        let e = load(&Src::Path("/dev/zero".into()), "").unwrap_err();
        assert!(e.starts_with("/dev/zero: ") && e.contains("device"), "{e}");
    }

    #[test]
    fn the_cache_is_the_materialised_cache() {
        let loaded = load(&Src::Path(fixture("slime/basic_0.pt")), "x").unwrap();
        let mut out = Vec::new();
        write_cache(&loaded, &mut out).unwrap();
        let want = serde_json::to_vec(&loaded.clone().materialize().cache).unwrap();
        assert_eq!(out, want);
        let chrome = export_bytes(&loaded, Format::parse("chrome").unwrap(), 1 << 20).unwrap();
        let chrome: serde_json::Value = serde_json::from_slice(&chrome).unwrap();
        assert!(chrome.is_object() || chrome.is_array(), "{chrome}");
        assert!(Format::parse("svg").unwrap_err().contains("\"svg\""));
    }
}

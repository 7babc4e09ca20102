//! The streamed writers (`trace::interop::write_export`, `trace::Loaded::write_materialized`) on
//! whatever loads: the same bytes as the value-tree path, strict JSON, and never more than
//! the limit they were given.

use trace::interop::{export_chrome, export_limit, export_otlp, write_export, Format};
use trace::Loaded;

/// Outputs up to this size are also built the old way (as one value, ≈ 36× the text) and
/// compared; larger ones only have their bound checked.
const COMPARED_MAX: u64 = 4 << 20;

/// Loads `data` into the row store and writes both exports and the serialised `Materialized` from
/// it, under the file's output limit (and under a small one, to cut them mid-way).
pub fn check_export_stream(data: &[u8]) {
    let Ok(c) = trace::load(data, &trace::LoadOptions::new("fuzz.pt", 0.0)) else {
        return;
    };
    let limit = export_limit(data.len() as u64).min(COMPARED_MAX);
    let cache = c.clone().materialize().cache;
    for (format, whole) in [(Format::Chrome, true), (Format::Otlp, false)] {
        let mut out = Vec::new();
        match write_export(&c, format, limit, &mut out) {
            Ok(n) => {
                assert_eq!(n, out.len() as u64, "{format:?}: bytes written miscounted");
                assert!(n <= limit, "{format:?}: {n} bytes past the limit {limit}");
                let value = if whole {
                    export_chrome(&cache)
                } else {
                    export_otlp(&cache)
                };
                let expected = serde_json::to_vec(&value).expect("a value serialises");
                crate::built::same_text(
                    &String::from_utf8_lossy(&out),
                    &String::from_utf8_lossy(&expected),
                    &format!("{format:?}: the streamed export and the value's JSON"),
                );
                serde_json::from_slice::<serde_json::Value>(&out)
                    .unwrap_or_else(|e| panic!("{format:?}: the export is not strict JSON: {e}"));
                // Cut at half: an OutputLimit error, and only what fits was written.
                let half = n / 2;
                let mut cut = Vec::new();
                let err = write_export(&c, format, half, &mut cut)
                    .expect_err("half the bytes cannot hold the export");
                assert!(
                    matches!(err, trace::Error::OutputLimit { limit, .. } if limit == half),
                    "{format:?}: cut at {half}: {err}"
                );
                assert!(cut.len() as u64 <= half && out.starts_with(&cut));
            }
            Err(trace::Error::OutputLimit { limit: l, .. }) => {
                assert_eq!(l, limit);
                assert!(out.len() as u64 <= limit, "{format:?}: past the limit");
            }
            Err(e) => panic!("{format:?}: writing into memory failed: {e}"),
        }
    }
    check_built_json(&c, limit);
}

/// The serialised `Materialized` written from the store equals `serde_json` of the materialised one.
fn check_built_json(c: &Loaded, limit: u64) {
    let mut streamed = Vec::new();
    c.write_materialized(&mut streamed)
        .expect("writing into memory");
    if streamed.len() as u64 > limit {
        return;
    }
    let whole = serde_json::to_vec(&c.clone().materialize()).expect("a Materialized serialises");
    crate::built::same_text(
        &String::from_utf8_lossy(&streamed),
        &String::from_utf8_lossy(&whole),
        "the Materialized written from the store and serde_json's",
    );
}

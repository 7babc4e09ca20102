//! An OTLP/JSON file whose resource attributes would be copied once per trace (issue #12,
//! class 2). Alone in its test binary: it bounds the process's peak memory.

use std::time::{Duration, Instant};

use serde_json::json;

/// One 200 KiB resource attribute (not read), a 4 KiB `slime.label` (read, shared) and
/// `traces` one-span traces with distinct ids.
fn wide_resource(traces: usize) -> Vec<u8> {
    let spans: Vec<_> = (0..traces)
        .map(|i| {
            json!({"traceId": format!("{i:032x}"), "spanId": format!("{i:016x}"), "name": "s",
                "startTimeUnixNano": "1000000000", "endTimeUnixNano": "2000000000"})
        })
        .collect();
    let attr = |k: &str, v: String| json!({"key": k, "value": {"stringValue": v}});
    serde_json::to_vec(&json!({"resourceSpans": [{
        "resource": {"attributes": [
            attr("service.name", "x".repeat(200 << 10)),
            attr("slime.label", "L".repeat(4 << 10)),
        ]},
        "scopeSpans": [{"spans": spans}],
    }]}))
    .unwrap()
}

/// Peak resident memory of this process so far (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb << 10)
}

/// 2 000 traces of a resource with a 200 KiB attribute (a 0.5 MB file): the old import copied
/// the attributes per trace (425 MB peak). Bound: < 5 s, peak RSS < 150 MB, every trace a
/// row with the shared label.
#[test]
fn resource_attributes_are_not_copied_per_trace() {
    let bytes = wide_resource(2000);
    assert!(bytes.len() < 600_000, "{} bytes", bytes.len());
    let t = Instant::now();
    let b = trace::load(&bytes, &trace::LoadOptions::new("x.json", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(b.cache.rows.len(), 2000);
    assert!(b
        .cache
        .rows
        .iter()
        .all(|r| r.label.as_str().is_some_and(|l| l.starts_with("LLLL"))));
    if let Some(peak) = peak_rss() {
        assert!(peak < 150 << 20, "peak RSS {} MB", peak >> 20);
    }
}

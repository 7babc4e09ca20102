//! Traces in and out: Chrome Trace Event Format and OTLP/JSON export, OTLP/JSON import, and
//! Prometheus series (HTTP API `query_range` JSON and the text exposition format).
//!
//! Import goes through the same row builder as dumps: OTLP spans are turned back into slime
//! trace events (`span_start`/`span_end`/`event` dicts) inside a synthetic dump, so imported
//! traces get exactly the same lanes, clipping and warnings as dumped ones.
//!
//! Files: `chrome` (Chrome Trace Event export), `otlp` (OTLP/JSON encoding shared by export and
//! import: ids, times, typed attributes), `otlp_export`, `otlp_import`, `json_tree` (JSON →
//! pickle value tree, for the synthetic dump) and `prometheus` (series parsing). This file holds
//! what both exporters share: microsecond times and a span's error and attrs.

use serde_json::{Map, Value as J};

use crate::json::{py_str, truthy};

mod chrome;
mod json_tree;
mod otlp;
mod otlp_export;
mod otlp_import;
mod prometheus;

pub use chrome::export_chrome;
pub use json_tree::json_to_tree;
pub use otlp::{otlp_span_id, otlp_trace_id};
pub use otlp_export::export_otlp;
pub use otlp_import::{import_otlp, is_otlp};
pub use prometheus::{is_prometheus, parse_prometheus, Series};

/// Seconds to whole microseconds: Chrome's unit, and the base of OTLP's nanosecond text.
fn micros(ts: f64) -> i64 {
    (ts * 1e6).round() as i64
}

/// slime marks a failed span with end attrs `error_type` and `error_message` (an older
/// producer: `error`). The message for an error status: `"<type>: <message>"`, or whichever
/// part is there; `None` for a span without them.
pub fn error_of(end_attrs: &J) -> Option<String> {
    let part = |k: &str| end_attrs.get(k).filter(|v| truthy(v)).map(py_str);
    match (part("error_type"), part("error_message"), part("error")) {
        (Some(t), Some(m), _) => Some(format!("{t}: {m}")),
        (Some(x), None, _) | (None, Some(x), _) | (None, None, Some(x)) => Some(x),
        (None, None, None) => None,
    }
}

fn merge_attrs(into: &mut Map<String, J>, attrs: &J) {
    if let J::Object(m) = attrs {
        for (k, v) in m {
            into.insert(k.clone(), v.clone());
        }
    }
}

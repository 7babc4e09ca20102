//! OTLP/JSON import: spans turned back into slime trace events inside a synthetic dump, then
//! built into rows by the same row builder as dumps.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as J};

use crate::json::truthy;
use crate::{Built, Error};

use super::json_tree::json_to_tree;
use super::otlp::{from_key_values, nanos_to_secs, KIND, START_KEYS};

/// Whether `v` looks like OTLP/JSON traces.
pub fn is_otlp(v: &J) -> bool {
    v.get("resourceSpans").is_some_and(J::is_array)
}

/// One trace being imported: its resource attributes and its events as (time, order, event).
type TraceParts = (Map<String, J>, Vec<(f64, usize, J)>);

/// OTLP/JSON traces (from collectors, Tempo, Jaeger or our export) → rows: one row per trace.
pub fn import_otlp(v: &J, name: &str, generated_at: f64) -> Result<Built, Error> {
    let bad = |what: &str| Error::BadCache(format!("OTLP: {what}"));
    let resources = v
        .get("resourceSpans")
        .and_then(J::as_array)
        .ok_or_else(|| bad("no resourceSpans"))?;
    // trace id → (sample fields, events)
    let mut traces: BTreeMap<String, TraceParts> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut seq = 0usize;
    for rs in resources {
        let res_attrs = rs
            .pointer("/resource/attributes")
            .and_then(J::as_array)
            .map(|a| from_key_values(a))
            .unwrap_or_default();
        let scopes = rs
            .get("scopeSpans")
            .or_else(|| rs.get("instrumentationLibrarySpans"));
        for ss in scopes.and_then(J::as_array).into_iter().flatten() {
            for span in ss.get("spans").and_then(J::as_array).into_iter().flatten() {
                let trace_id = span
                    .get("traceId")
                    .and_then(J::as_str)
                    .unwrap_or("")
                    .to_string();
                let entry = traces.entry(trace_id.clone()).or_insert_with(|| {
                    order.push(trace_id.clone());
                    (res_attrs.clone(), Vec::new())
                });
                let mut attrs = span
                    .get("attributes")
                    .and_then(J::as_array)
                    .map(|a| from_key_values(a))
                    .unwrap_or_default();
                let Some(start) = nanos_to_secs(span.get("startTimeUnixNano")) else {
                    continue;
                };
                let end = nanos_to_secs(span.get("endTimeUnixNano")).unwrap_or(start);
                let name = span.get("name").cloned().unwrap_or(J::Null);
                let span_id = span
                    .get("spanId")
                    .and_then(J::as_str)
                    .unwrap_or("")
                    .to_string();
                let parent = span
                    .get("parentSpanId")
                    .and_then(J::as_str)
                    .filter(|p| !p.is_empty())
                    .map(|p| J::String(p.to_string()))
                    .unwrap_or(J::Null);
                let attempt = attrs.remove("slime.attempt").unwrap_or(J::from(0));
                let kind = attrs.remove(KIND);
                let open = attrs.remove("rollscope.open").is_some_and(|v| truthy(&v));
                let start_keys: Vec<String> = match attrs.remove(START_KEYS) {
                    Some(J::Array(a)) => a
                        .iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                let mut start_attrs = Map::new();
                for k in &start_keys {
                    if let Some(v) = attrs.get(k) {
                        start_attrs.insert(k.clone(), v.clone());
                    }
                }
                // A start key that is not also an end key belongs to the start only.
                for k in &start_keys {
                    attrs.remove(k);
                }
                let ev = |kind: &str, ts: f64, sid: J, par: J, a: Map<String, J>| {
                    json!({"type": kind, "name": name, "ts": ts, "span_id": sid,
                        "parent_span_id": par, "attempt": attempt, "attrs": a})
                };
                match kind.as_ref().and_then(J::as_str) {
                    Some("event") => entry.1.push((
                        start,
                        next(&mut seq),
                        ev("event", start, J::Null, parent, attrs),
                    )),
                    Some("orphan_end") => {
                        let sid = attrs.remove("slime.span_id").unwrap_or(J::Null);
                        entry.1.push((
                            start,
                            next(&mut seq),
                            ev("span_end", start, sid, parent, attrs),
                        ));
                    }
                    _ => {
                        let sid = J::String(span_id.clone());
                        entry.1.push((
                            start,
                            next(&mut seq),
                            ev("span_start", start, sid.clone(), parent, start_attrs),
                        ));
                        if !open {
                            entry.1.push((
                                end,
                                next(&mut seq),
                                ev("span_end", end, sid.clone(), J::Null, attrs),
                            ));
                        }
                        for e in span
                            .get("events")
                            .and_then(J::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let ts = nanos_to_secs(e.get("timeUnixNano")).unwrap_or(start);
                            let mut a = e
                                .get("attributes")
                                .and_then(J::as_array)
                                .map(|a| from_key_values(a))
                                .unwrap_or_default();
                            let att = a.remove("slime.attempt").unwrap_or(J::from(0));
                            entry.1.push((
                                ts,
                                next(&mut seq),
                                json!({"type": "event",
                                "name": e.get("name").cloned().unwrap_or(J::Null), "ts": ts,
                                "parent_span_id": sid, "attempt": att, "attrs": a}),
                            ));
                        }
                    }
                }
            }
        }
    }
    let mut samples = Vec::new();
    for (i, tid) in order.iter().enumerate() {
        let Some((res, mut events)) = traces.remove(tid) else {
            continue;
        };
        // Time order; at equal times, in the order written (a start before its end).
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let get = |k: &str| res.get(k).cloned().unwrap_or(J::Null);
        let trace_id = match get("slime.trace_id") {
            J::Null => J::String(tid.clone()),
            t => t,
        };
        let index = match get("slime.sample_index") {
            J::Null => J::from(i),
            x => x,
        };
        samples.push(json!({
            "index": index, "group_index": get("slime.group_index"),
            "source": get("slime.source"), "status": get("slime.status"), "label": get("slime.label"),
            "reward": get("slime.reward"),
            "trace": {"trace_id": trace_id, "attempt": get("slime.attempt"),
                "events": events.into_iter().map(|e| e.2).collect::<Vec<_>>()},
        }));
    }
    let dump = json!({"samples": samples});
    let tree = json_to_tree(&dump);
    crate::build_cache(&tree, name, generated_at)
}

fn next(seq: &mut usize) -> usize {
    *seq += 1;
    *seq
}

//! OTLP/JSON import: spans turned back into slime trace events inside a synthetic dump, then
//! built into rows by the same row builder as dumps.

use std::collections::BTreeMap;
use std::rc::Rc;

use pt::Value;
use serde_json::{json, Map, Value as J};

use crate::json::truthy;
use crate::{BuildLimits, Error, LoadOptions, Loaded};

use super::json_tree::TreeBuilder;
use super::otlp::{from_any_value, from_key_values, nanos_to_secs, KIND, START_KEYS};

/// Whether `v` looks like OTLP/JSON traces.
pub fn is_otlp(v: &J) -> bool {
    v.get("resourceSpans").is_some_and(J::is_array)
}

/// One trace being imported: its resource's sample fields and its events as (time, order,
/// event).
type TraceParts = (Rc<ResourceFields>, Vec<(f64, usize, J)>);

/// The sample fields a resource gives each of its traces (its `slime.*` attributes), added to
/// the value tree once and named by every trace: copying a resource's attributes per trace
/// let one 200 KiB attribute and 2 000 trace ids (a 525 KB file) take 425 MB.
struct ResourceFields {
    trace_id: Option<Value>,
    index: Option<Value>,
    group_index: Value,
    source: Value,
    status: Value,
    label: Value,
    reward: Value,
    attempt: Value,
}

impl ResourceFields {
    /// Reads only the `slime.*` keys of a resource's attributes (the last of equal keys wins,
    /// as in a dict); a null or missing one is `None`.
    fn of(rs: &J, b: &mut TreeBuilder) -> ResourceFields {
        const KEYS: [&str; 8] = [
            "slime.trace_id",
            "slime.sample_index",
            "slime.group_index",
            "slime.source",
            "slime.status",
            "slime.label",
            "slime.reward",
            "slime.attempt",
        ];
        let mut found: [Option<&J>; 8] = [None; 8];
        for kv in rs
            .pointer("/resource/attributes")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(k), Some(v)) = (kv.get("key").and_then(J::as_str), kv.get("value")) else {
                continue;
            };
            if let Some(at) = KEYS.iter().position(|key| *key == k) {
                found[at] = Some(v);
            }
        }
        let mut field = |at: usize| match found[at].map(from_any_value) {
            None | Some(J::Null) => None,
            Some(v) => Some(b.add(&v)),
        };
        let none = |v: Option<Value>| v.unwrap_or(Value::None);
        ResourceFields {
            trace_id: field(0),
            index: field(1),
            group_index: none(field(2)),
            source: none(field(3)),
            status: none(field(4)),
            label: none(field(5)),
            reward: none(field(6)),
            attempt: none(field(7)),
        }
    }
}

/// OTLP/JSON traces (from collectors, Tempo, Jaeger or our export) → rows: one row per trace,
/// under `limits` ([`crate::load`] gives [`BuildLimits::for_input`] of the JSON's size).
pub fn import_otlp(
    v: &J,
    name: &str,
    generated_at: f64,
    limits: &BuildLimits,
) -> Result<Loaded, Error> {
    let bad = |what: &str| Error::BadCache(format!("OTLP: {what}"));
    let resources = v
        .get("resourceSpans")
        .and_then(J::as_array)
        .ok_or_else(|| bad("no resourceSpans"))?;
    // trace id → (sample fields, events)
    let mut traces: BTreeMap<String, TraceParts> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut seq = 0usize;
    let mut b = TreeBuilder::default();
    for rs in resources {
        let res = Rc::new(ResourceFields::of(rs, &mut b));
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
                    (Rc::clone(&res), Vec::new())
                });
                span_events(span, &mut seq, &mut entry.1);
            }
        }
    }
    // The dump is built straight into a value tree: each resource's fields are named, not
    // copied, by its traces.
    let mut samples = Vec::with_capacity(order.len());
    for (i, tid) in order.iter().enumerate() {
        let Some((res, mut events)) = traces.remove(tid) else {
            continue;
        };
        // Time order; at equal times, in the order written (a start before its end).
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let events: Vec<Value> = events.iter().map(|e| b.add(&e.2)).collect();
        let events = b.list(events);
        let trace_id = res
            .trace_id
            .clone()
            .unwrap_or_else(|| Value::Str(Rc::from(tid.as_str())));
        let index = res.index.clone().unwrap_or(Value::Int(i as i64));
        let trace = b.dict(vec![
            ("trace_id", trace_id),
            ("attempt", res.attempt.clone()),
            ("events", events),
        ]);
        samples.push(b.dict(vec![
            ("index", index),
            ("group_index", res.group_index.clone()),
            ("source", res.source.clone()),
            ("status", res.status.clone()),
            ("label", res.label.clone()),
            ("reward", res.reward.clone()),
            ("trace", trace),
        ]));
    }
    let samples = b.list(samples);
    let root = b.dict(vec![("samples", samples)]);
    let tree = b.finish(root);
    let options = LoadOptions {
        limits: Some(*limits),
        ..LoadOptions::new(name, generated_at)
    };
    crate::build_rows(&tree, &options)
}

/// The slime events of one OTLP span, appended to `out` as (time, order, event): a span's
/// start and end (none for an open span) and its own events; or the point event or orphan
/// end it stands for (`rollscope.kind`). A span without a start time gives nothing.
fn span_events(span: &J, seq: &mut usize, out: &mut Vec<(f64, usize, J)>) {
    let mut attrs = span
        .get("attributes")
        .and_then(J::as_array)
        .map(|a| from_key_values(a))
        .unwrap_or_default();
    let Some(start) = nanos_to_secs(span.get("startTimeUnixNano")) else {
        return;
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
        // A key listed again is not copied again (a big value listed 100 000
        // times would be).
        if start_attrs.contains_key(k) {
            continue;
        }
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
        Some("event") => out.push((start, next(seq), ev("event", start, J::Null, parent, attrs))),
        Some("orphan_end") => {
            let sid = attrs.remove("slime.span_id").unwrap_or(J::Null);
            out.push((start, next(seq), ev("span_end", start, sid, parent, attrs)));
        }
        _ => {
            let sid = J::String(span_id.clone());
            out.push((
                start,
                next(seq),
                ev("span_start", start, sid.clone(), parent, start_attrs),
            ));
            if !open {
                out.push((
                    end,
                    next(seq),
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
                out.push((
                    ts,
                    next(seq),
                    json!({"type": "event",
                        "name": e.get("name").cloned().unwrap_or(J::Null), "ts": ts,
                        "parent_span_id": sid, "attempt": att, "attrs": a}),
                ));
            }
        }
    }
}

fn next(seq: &mut usize) -> usize {
    *seq += 1;
    *seq
}

//! Traces in and out: Chrome Trace Event Format and OTLP/JSON export, OTLP/JSON import, and
//! Prometheus series (HTTP API `query_range` JSON and the text exposition format).
//!
//! Import goes through the same row builder as dumps: OTLP spans are turned back into slime
//! trace events (`span_start`/`span_end`/`event` dicts) inside a synthetic dump, so imported
//! traces get exactly the same lanes, clipping and warnings as dumped ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as J};

use crate::json::{py_str, truthy};
use crate::model::{Item, Row, State};
use crate::{Built, Cache, Error};

// ---- ids ------------------------------------------------------------------------------------

/// FNV-1a, 64 bits, with a seed mixed in first.
fn fnv64(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x100_0000_01b3);
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h.max(1)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

/// A 32-hex trace id: slime's own when it already is one, else derived from it (or the row).
pub fn otlp_trace_id(row: &Row) -> String {
    let given = py_str(&row.trace_id);
    if is_hex(&given, 32) {
        return given.to_ascii_lowercase();
    }
    let key = if row.trace_id.is_null() {
        format!("row-{}", row.row_id)
    } else {
        given
    };
    format!("{:016x}{:016x}", fnv64(1, &[&key]), fnv64(2, &[&key]))
}

/// A 16-hex span id derived from the trace and slime's span id (or, for items without one,
/// from their kind, name, time and position).
pub fn otlp_span_id(trace_id: &str, slime_id: &str) -> String {
    format!("{:016x}", fnv64(3, &[trace_id, slime_id]))
}

fn micros(ts: f64) -> i64 {
    (ts * 1e6).round() as i64
}

/// Unix nanoseconds as OTLP's fixed64 text: times before 1970 or past 2554 are clamped
/// (the field is unsigned 64-bit).
fn nanos_text(ts: f64) -> String {
    format!("{}000", micros(ts).clamp(0, (u64::MAX / 1000) as i64))
}

// ---- Chrome Trace Event Format ---------------------------------------------------------------

/// Chrome Trace Event Format (what Perfetto UI and chrome://tracing open): one process per
/// GRPO group, one thread per sample, closed and open spans as complete events (`X`; open ones
/// marked in `args`), point events and orphan ends as instant events (`i`). Times in µs.
/// Spans that failed (see [`error_of`]) carry `"cname": "terrible"`.
pub fn export_chrome(cache: &Cache) -> J {
    let mut events: Vec<J> = Vec::new();
    let mut pids: BTreeMap<String, usize> = BTreeMap::new();
    for row in &cache.rows {
        let group = py_str(&row.group_index);
        let next = pids.len() + 1;
        let pid = *pids.entry(group.clone()).or_insert_with(|| {
            events.push(json!({"name": "process_name", "ph": "M", "pid": next,
                "args": {"name": format!("group {group}")}}));
            next
        });
        let tid = row.row_id + 1;
        events.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
            "args": {"name": format!("sample {} ({})", py_str(&row.sample_index), py_str(&row.status))}}));
        for it in &row.items {
            match it {
                Item::Span(s) if s.pd_virtual_role().is_some() => {}
                Item::Span(s) => {
                    let mut args = Map::new();
                    merge_attrs(&mut args, &s.attrs.start_attrs);
                    merge_attrs(&mut args, &s.attrs.end_attrs);
                    args.insert("span_id".into(), s.span_id.clone());
                    args.insert("parent_span_id".into(), s.parent_span_id.clone());
                    args.insert("attempt".into(), J::from(s.attempt));
                    if s.state == State::OpenSpan {
                        args.insert("open".into(), J::Bool(true));
                    }
                    let ts = micros(s.start_ts);
                    let mut e = json!({"name": py_str(&s.name), "cat": "span", "ph": "X",
                        "ts": ts, "dur": micros(s.display_end_ts).saturating_sub(ts).max(0),
                        "pid": pid, "tid": tid, "args": args});
                    if error_of(&s.attrs.end_attrs).is_some() {
                        // Chrome's reserved colour for failures (chrome://tracing draws it red).
                        e["cname"] = J::String("terrible".into());
                    }
                    events.push(e);
                }
                Item::Event(p) | Item::OrphanEnd(p) => {
                    let mut args = Map::new();
                    merge_attrs(&mut args, &p.attrs);
                    args.insert("parent_span_id".into(), p.parent_span_id.clone());
                    args.insert("attempt".into(), J::from(p.attempt));
                    if p.state == State::OrphanEnd {
                        args.insert("orphan_end".into(), J::Bool(true));
                        args.insert("span_id".into(), p.span_id.clone());
                    }
                    events.push(json!({"name": py_str(&p.name),
                        "cat": if p.state == State::OrphanEnd { "orphan_end" } else { "event" },
                        "ph": "i", "s": "t", "ts": micros(p.ts), "pid": pid, "tid": tid, "args": args}));
                }
            }
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms",
        "otherData": {"source": cache.pt_path, "exporter": "rollscope"}})
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

// ---- OTLP/JSON export ------------------------------------------------------------------------

/// An OTLP `AnyValue` in its JSON form.
fn any_value(v: &J) -> J {
    match v {
        J::String(s) => json!({"stringValue": s}),
        J::Bool(b) => json!({"boolValue": b}),
        J::Number(n) => match n.as_i64() {
            // int64 is a string in proto3's JSON mapping.
            Some(i) => json!({"intValue": i.to_string()}),
            None => json!({"doubleValue": n.as_f64().unwrap_or(0.0)}),
        },
        J::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(any_value).collect::<Vec<_>>()}})
        }
        J::Object(m) => json!({"kvlistValue": {"values": key_values(m)}}),
        J::Null => json!({}),
    }
}

fn key_values(m: &Map<String, J>) -> Vec<J> {
    m.iter()
        .map(|(k, v)| json!({"key": k, "value": any_value(v)}))
        .collect()
}

fn from_any_value(v: &J) -> J {
    let Some(m) = v.as_object() else {
        return J::Null;
    };
    if let Some(s) = m.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = m.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = m.get("intValue") {
        return match i {
            J::String(s) => s.parse::<i64>().map(J::from).unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = m.get("doubleValue") {
        return d.clone();
    }
    if let Some(a) = m
        .get("arrayValue")
        .and_then(|a| a.get("values"))
        .and_then(J::as_array)
    {
        return J::Array(a.iter().map(from_any_value).collect());
    }
    if let Some(kv) = m
        .get("kvlistValue")
        .and_then(|a| a.get("values"))
        .and_then(J::as_array)
    {
        return J::Object(from_key_values(kv));
    }
    J::Null
}

fn from_key_values(list: &[J]) -> Map<String, J> {
    let mut m = Map::new();
    for kv in list {
        if let (Some(k), Some(v)) = (kv.get("key").and_then(J::as_str), kv.get("value")) {
            m.insert(k.to_string(), from_any_value(v));
        }
    }
    m
}

/// Attribute marking which keys were a span's start attrs (the rest are end attrs).
const START_KEYS: &str = "rollscope.start_attrs";
const KIND: &str = "rollscope.kind";

/// OTLP/JSON (`resourceSpans` → `scopeSpans` → `spans`), valid for an OTLP/HTTP JSON endpoint:
/// one resource per sample (its slime fields as `slime.*` attributes), 32-hex trace ids and
/// 16-hex span ids derived deterministically from slime's ids, unix-nano times, typed
/// attributes, point events on their parent spans, status ERROR (with the message) for spans
/// slime marked as failed (see [`error_of`]).
pub fn export_otlp(cache: &Cache) -> J {
    let mut resources = Vec::new();
    for row in &cache.rows {
        let trace_id = otlp_trace_id(row);
        let id_of = |slime: &J| -> Option<String> {
            truthy(slime).then(|| otlp_span_id(&trace_id, &py_str(slime)))
        };
        let mut spans: Vec<Map<String, J>> = Vec::new();
        let mut by_slime_id: BTreeMap<String, usize> = BTreeMap::new();
        for (i, it) in row.items.iter().enumerate() {
            let Item::Span(s) = it else { continue };
            if s.pd_virtual_role().is_some() {
                continue;
            }
            let mut attrs = Map::new();
            merge_attrs(&mut attrs, &s.attrs.end_attrs);
            let start_keys: Vec<J> = s
                .attrs
                .start_attrs
                .as_object()
                .map(|m| m.keys().map(|k| J::String(k.clone())).collect())
                .unwrap_or_default();
            if let J::Object(m) = &s.attrs.start_attrs {
                for (k, v) in m {
                    // A key in both: the end value wins, as a reader of end attrs expects.
                    attrs.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            if !start_keys.is_empty() {
                attrs.insert(START_KEYS.into(), J::Array(start_keys));
            }
            attrs.insert("slime.attempt".into(), J::from(s.attempt));
            if s.state == State::OpenSpan {
                attrs.insert("rollscope.open".into(), J::Bool(true));
            }
            let span_id =
                id_of(&s.span_id).unwrap_or_else(|| otlp_span_id(&trace_id, &format!("item-{i}")));
            if let J::String(sid) = &s.span_id {
                by_slime_id.insert(sid.clone(), spans.len());
            }
            let error = error_of(&s.attrs.end_attrs);
            let mut span = Map::new();
            span.insert("traceId".into(), J::String(trace_id.clone()));
            span.insert("spanId".into(), J::String(span_id));
            span.insert(
                "parentSpanId".into(),
                J::String(id_of(&s.parent_span_id).unwrap_or_default()),
            );
            span.insert("name".into(), J::String(py_str(&s.name)));
            span.insert("kind".into(), J::from(1)); // SPAN_KIND_INTERNAL
            span.insert(
                "startTimeUnixNano".into(),
                J::String(nanos_text(s.start_ts)),
            );
            span.insert(
                "endTimeUnixNano".into(),
                J::String(nanos_text(s.display_end_ts.max(s.start_ts))),
            );
            span.insert("attributes".into(), J::Array(key_values(&attrs)));
            span.insert("events".into(), J::Array(Vec::new()));
            span.insert(
                "status".into(),
                match error {
                    // STATUS_CODE_ERROR
                    Some(message) => json!({"code": 2, "message": message}),
                    None => json!({}),
                },
            );
            spans.push(span);
        }
        // Point events on their parent span; parentless events and orphan ends as
        // zero-length spans marked with their kind.
        for (i, it) in row.items.iter().enumerate() {
            let (Item::Event(p) | Item::OrphanEnd(p)) = it else {
                continue;
            };
            let mut attrs = p.attrs.as_object().cloned().unwrap_or_default();
            attrs.insert("slime.attempt".into(), J::from(p.attempt));
            let parent = p
                .parent_span_id
                .as_str()
                .and_then(|id| by_slime_id.get(id))
                .copied();
            match (p.state, parent) {
                (State::PointEvent, Some(at)) => {
                    if let Some(J::Array(evs)) = spans[at].get_mut("events") {
                        evs.push(
                            json!({"timeUnixNano": nanos_text(p.ts), "name": py_str(&p.name),
                            "attributes": key_values(&attrs)}),
                        );
                    }
                }
                (state, _) => {
                    attrs.insert(
                        KIND.into(),
                        J::String(
                            if state == State::OrphanEnd {
                                "orphan_end"
                            } else {
                                "event"
                            }
                            .into(),
                        ),
                    );
                    if state == State::OrphanEnd && truthy(&p.span_id) {
                        attrs.insert("slime.span_id".into(), p.span_id.clone());
                    }
                    let own = otlp_span_id(&trace_id, &format!("item-{i}"));
                    spans.push(
                        json!({"traceId": trace_id, "spanId": own,
                            "parentSpanId": id_of(&p.parent_span_id).unwrap_or_default(),
                            "name": py_str(&p.name), "kind": 1,
                            "startTimeUnixNano": nanos_text(p.ts), "endTimeUnixNano": nanos_text(p.ts),
                            "attributes": key_values(&attrs), "events": [], "status": {}})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    );
                }
            }
        }
        let mut res = Map::new();
        res.insert("service.name".into(), J::String("slime-rollout".into()));
        for (k, v) in [
            ("slime.row_id", J::from(row.row_id)),
            ("slime.sample_index", row.sample_index.clone()),
            ("slime.group_index", row.group_index.clone()),
            ("slime.source", row.source.clone()),
            ("slime.status", row.status.clone()),
            ("slime.label", row.label.clone()),
            ("slime.reward", row.reward.clone()),
            ("slime.trace_id", row.trace_id.clone()),
            ("slime.attempt", J::from(row.attempt)),
        ] {
            if !v.is_null() {
                res.insert(k.into(), v);
            }
        }
        resources.push(json!({
            "resource": {"attributes": key_values(&res)},
            "scopeSpans": [{"scope": {"name": "rollscope", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans}],
        }));
    }
    json!({"resourceSpans": resources})
}

// ---- OTLP/JSON import ------------------------------------------------------------------------

/// Whether `v` looks like OTLP/JSON traces.
pub fn is_otlp(v: &J) -> bool {
    v.get("resourceSpans").is_some_and(J::is_array)
}

fn nanos_to_secs(v: Option<&J>) -> Option<f64> {
    let n: f64 = match v? {
        J::String(s) => s.parse::<u128>().ok()? as f64,
        J::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some(n / 1e9)
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

/// A JSON value as a pickle value tree, so JSON-born dumps go through the same row builder.
/// Iterative: deep JSON cannot overflow the stack.
pub fn json_to_tree(v: &J) -> pt::Tree {
    use pt::{Dict, Node, NodeId, Tree, Value};
    use std::rc::Rc;

    /// A scalar as a value, or a new (empty) container queued to be filled.
    fn value_of<'a>(v: &'a J, nodes: &mut Vec<Node>, work: &mut Vec<(&'a J, usize)>) -> Value {
        match v {
            J::Null => Value::None,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(Rc::from(s.as_str())),
            J::Array(_) | J::Object(_) => {
                nodes.push(Node::List(Vec::new()));
                work.push((v, nodes.len() - 1));
                Value::Node(NodeId((nodes.len() - 1) as u32))
            }
        }
    }

    let mut nodes: Vec<Node> = Vec::new();
    let mut work: Vec<(&J, usize)> = Vec::new();
    let root = value_of(v, &mut nodes, &mut work);
    while let Some((v, id)) = work.pop() {
        nodes[id] = match v {
            J::Array(items) => Node::List(
                items
                    .iter()
                    .map(|c| value_of(c, &mut nodes, &mut work))
                    .collect(),
            ),
            J::Object(m) => {
                let mut d = Dict::default();
                for (k, c) in m {
                    let val = value_of(c, &mut nodes, &mut work);
                    d.insert(Value::Str(Rc::from(k.as_str())), val);
                }
                Node::Dict(d)
            }
            _ => continue,
        };
    }
    Tree { nodes, root }
}

// ---- Prometheus --------------------------------------------------------------------------

/// One time series: its name, labels and (unix seconds, value) points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// `name{a="1",b="2"}`.
    pub fn title(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let l: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        format!("{}{{{}}}", self.name, l.join(","))
    }
}

/// Whether these bytes look like Prometheus data (query_range JSON or text exposition).
pub fn is_prometheus(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(crate::sniff::BOM).unwrap_or(bytes);
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let t = text.trim_start();
    if t.starts_with('{') {
        return t.contains("\"resultType\"");
    }
    t.starts_with("# HELP")
        || t.starts_with("# TYPE")
        || parse_text_line(t.lines().next().unwrap_or("")).is_some()
}

/// Prometheus HTTP API `query_range` (or `query`) JSON, or the text exposition format.
pub fn parse_prometheus(bytes: &[u8]) -> Result<Vec<Series>, Error> {
    let bad = |what: String| Error::BadCache(format!("Prometheus: {what}"));
    let bytes = bytes.strip_prefix(crate::sniff::BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8 text ({e})")))?;
    if text.trim_start().starts_with('{') {
        let v: J = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if v.get("status").and_then(J::as_str) == Some("error") {
            return Err(bad(format!(
                "the query failed: {}",
                py_str(v.get("error").unwrap_or(&J::Null))
            )));
        }
        let data = v.get("data").ok_or_else(|| bad("no data".into()))?;
        let kind = data.get("resultType").and_then(J::as_str).unwrap_or("");
        let results = data
            .get("result")
            .and_then(J::as_array)
            .ok_or_else(|| bad("no result list".into()))?;
        let mut out = Vec::new();
        for r in results {
            let mut labels: BTreeMap<String, String> = r
                .get("metric")
                .and_then(J::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), py_str(v))).collect())
                .unwrap_or_default();
            let name = labels.remove("__name__").unwrap_or_else(|| "series".into());
            let pairs: Vec<&J> = match kind {
                "matrix" => r
                    .get("values")
                    .and_then(J::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default(),
                "vector" => r.get("value").into_iter().collect(),
                other => return Err(bad(format!("resultType {other:?} has no time series"))),
            };
            let mut points = Vec::new();
            for p in pairs {
                let (Some(t), Some(v)) = (p.get(0).and_then(J::as_f64), p.get(1)) else {
                    continue;
                };
                let v = match v {
                    J::String(s) => s.parse::<f64>().ok(),
                    other => other.as_f64(),
                };
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    points.push((t, v));
                }
            }
            out.push(Series {
                name,
                labels,
                points,
            });
        }
        return Ok(out);
    }
    let mut by_key: BTreeMap<String, Series> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, labels, value, ts) = parse_text_line(line)
            .ok_or_else(|| bad(format!("line {}: cannot read {line:?}", n + 1)))?;
        let s = Series {
            name,
            labels,
            points: Vec::new(),
        };
        let key = s.title();
        let entry = by_key.entry(key).or_insert(s);
        if value.is_finite() {
            entry.points.push((ts.unwrap_or(f64::NAN), value));
        }
    }
    let mut out: Vec<Series> = by_key.into_values().collect();
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(out)
}

/// One exposition-format line: name, labels, value, timestamp in seconds.
type TextSample = (String, BTreeMap<String, String>, f64, Option<f64>);

/// `name{labels} value [timestamp_ms]`.
fn parse_text_line(line: &str) -> Option<TextSample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let close = body.find('}')?;
        for pair in split_labels(&body[..close]) {
            let (k, v) = pair.split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            labels.insert(
                k.trim().to_string(),
                v.replace("\\\"", "\"").replace("\\\\", "\\"),
            );
        }
        rest = &body[close + 1..];
    }
    let mut parts = rest.split_whitespace();
    let value = match parts.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    let ts = parts
        .next()
        .and_then(|t| t.parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    Some((name.to_string(), labels, value, ts))
}

/// Splits `a="x",b="y,z"` at commas outside quotes.
fn split_labels(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            '\\' if quoted => escaped = !escaped,
            '"' if !escaped => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_query_range_and_text() {
        let q = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"sglang:num_running_reqs","instance":"a:30000"},"values":[[1790000000,"3"],[1790000015,"5"]]}]}}"#;
        let s = parse_prometheus(q).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].title(),
            "sglang:num_running_reqs{instance=\"a:30000\"}"
        );
        assert_eq!(s[0].points, vec![(1790000000.0, 3.0), (1790000015.0, 5.0)]);
        assert!(is_prometheus(q));
        let t = b"# HELP sglang:num_queue_reqs q\n# TYPE sglang:num_queue_reqs gauge\nsglang:num_queue_reqs{model_name=\"m,1\"} 7 1790000000000\nsglang:num_queue_reqs{model_name=\"m,1\"} 9 1790000001000\n";
        let s = parse_prometheus(t).unwrap();
        assert_eq!(s[0].labels["model_name"], "m,1");
        assert_eq!(s[0].points, vec![(1790000000.0, 7.0), (1790000001.0, 9.0)]);
        assert!(is_prometheus(t));
        assert!(parse_prometheus(b"{\"status\":\"error\",\"error\":\"bad query\"}").is_err());
        assert!(parse_prometheus(b"not a metric line at all {").is_err());
    }

    #[test]
    fn any_values_round_trip() {
        for v in [
            json!("x"),
            json!(3),
            json!(-2.5),
            json!(true),
            json!([1, "a"]),
            json!({"k": {"n": 1}}),
        ] {
            assert_eq!(from_any_value(&any_value(&v)), v);
        }
    }
}

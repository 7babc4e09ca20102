//! OTLP/JSON export: one resource per sample, spans with typed attributes, point events on
//! their parent spans, ERROR status for failed spans.
//!
//! [`write_otlp`] streams it from the row store one span at a time (a span's point events
//! found first from the columns, without materialising them); [`export_otlp`] builds the
//! same document as one value. Both go through the same per-span functions.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Map, Value as J};

use crate::json::{py_str, truthy};
use crate::model::{sample_fields, Item, PointItem, Row, SpanItem, State};
use crate::store::{RowHead, Store, CLOSED_SPAN, OPEN_SPAN, PD_DECODE, PD_PREFILL, POINT_EVENT};
use crate::{Cache, Loaded};

use super::otlp::{key_values, nanos_text, otlp_span_id, trace_id_of, KIND, START_KEYS};
use super::out::{document_around, Out};
use super::{error_of, merge_attrs};

/// OTLP/JSON (`resourceSpans` → `scopeSpans` → `spans`), valid for an OTLP/HTTP JSON endpoint:
/// one resource per sample (its slime fields as `slime.*` attributes), 32-hex trace ids and
/// 16-hex span ids derived deterministically from slime's ids, unix-nano times, typed
/// attributes, point events on their parent spans, status ERROR (with the message) for spans
/// slime marked as failed (see [`error_of`]).
pub fn export_otlp(cache: &Cache) -> J {
    let mut resources = Vec::new();
    for row in &cache.rows {
        let trace_id = trace_id_of(row.row_id, &row.trace_id);
        let mut spans: Vec<J> = Vec::new();
        let mut by_slime_id: BTreeMap<String, usize> = BTreeMap::new();
        for (i, it) in row.items.iter().enumerate() {
            let Item::Span(s) = it else { continue };
            if s.pd_virtual_role().is_some() {
                continue;
            }
            if let J::String(sid) = &s.span_id {
                by_slime_id.insert(sid.clone(), spans.len());
            }
            spans.push(span_json(&trace_id, i, s, Vec::new()));
        }
        // Point events on their parent span; parentless events and orphan ends as
        // zero-length spans marked with their kind.
        for (i, it) in row.items.iter().enumerate() {
            let (Item::Event(p) | Item::OrphanEnd(p)) = it else {
                continue;
            };
            let parent = p
                .parent_span_id
                .as_str()
                .and_then(|id| by_slime_id.get(id))
                .copied();
            match (p.state, parent) {
                (State::PointEvent, Some(at)) => {
                    if let Some(J::Array(evs)) = spans[at].get_mut("events") {
                        evs.push(event_json(p));
                    }
                }
                _ => spans.push(point_span_json(&trace_id, i, p)),
            }
        }
        let mut res = resource_json(&Fields::from(row));
        res["scopeSpans"][0]["spans"] = J::Array(spans);
        resources.push(res);
    }
    json!({"resourceSpans": resources})
}

/// [`export_otlp`] written to `out` from the row store, one span at a time: the same bytes
/// as `serde_json` writes for [`export_otlp`]'s value.
pub(super) fn write_otlp<W: Write>(c: &Loaded, out: &mut Out<W>) -> io::Result<()> {
    out.write_all(b"{\"resourceSpans\":[")?;
    for (r, h) in c.store.heads.iter().enumerate() {
        if r > 0 {
            out.write_all(b",")?;
        }
        write_resource(&c.store, h, out)?;
    }
    out.write_all(b"]}")
}

/// One row's resource: its spans in [`export_otlp`]'s order (the row's real spans, each with
/// its point events, then its other points as zero-length spans).
fn write_resource<W: Write>(store: &Store, h: &RowHead, out: &mut Out<W>) -> io::Result<()> {
    let trace_id = trace_id_of(h.row_id, &h.trace_id);
    let plan = Plan::of(store, h)?;
    let (head, tail) = document_around(&resource_json(&Fields::from(h)), "spans")?;
    out.write_all(head.as_bytes())?;
    let mut attached = plan.attached.iter().peekable();
    for (k, &i) in plan.spans.iter().enumerate() {
        let Item::Span(s) = store.item(i) else {
            continue;
        };
        let mut events = Vec::new();
        while let Some(&&(_, e)) = attached.peek().filter(|(at, _)| *at == k) {
            attached.next();
            if let Item::Event(p) = store.item(e) {
                events.push(event_json(&p));
            }
        }
        if k > 0 {
            out.write_all(b",")?;
        }
        out.json(&span_json(&trace_id, i - h.first, &s, events))?;
    }
    for (n, &i) in plan.loose.iter().enumerate() {
        let (Item::Event(p) | Item::OrphanEnd(p)) = store.item(i) else {
            continue;
        };
        if n > 0 || !plan.spans.is_empty() {
            out.write_all(b",")?;
        }
        out.json(&point_span_json(&trace_id, i - h.first, &p))?;
    }
    out.write_all(tail.as_bytes())
}

/// Where a row's items go, from the columns alone (no attribute is read).
struct Plan {
    /// Real spans (not PD virtual ones), in order: item indices.
    spans: Vec<usize>,
    /// (position in `spans`, point event item) for events on a span, by position.
    attached: Vec<(usize, usize)>,
    /// Points written as zero-length spans, in order.
    loose: Vec<usize>,
}

impl Plan {
    fn of(store: &Store, h: &RowHead) -> io::Result<Plan> {
        let c = &store.cols;
        let oom = |_| io::Error::from(io::ErrorKind::OutOfMemory);
        let mut spans = Vec::new();
        // Slime span id (interned; strings only) → position in `spans`, the last one winning.
        let mut by_slime_id: BTreeMap<u32, usize> = BTreeMap::new();
        for i in h.items() {
            let state = store.state(i);
            let virtual_pd = c.kind[i] & (PD_PREFILL | PD_DECODE) != 0;
            if (state == CLOSED_SPAN || state == OPEN_SPAN) && !virtual_pd {
                if store.ids.json(c.span_id[i]).starts_with('"') {
                    by_slime_id.insert(c.span_id[i], spans.len());
                }
                spans.try_reserve(1).map_err(oom)?;
                spans.push(i);
            }
        }
        let (mut attached, mut loose) = (Vec::new(), Vec::new());
        for i in h.items() {
            let state = store.state(i);
            if state == CLOSED_SPAN || state == OPEN_SPAN {
                continue;
            }
            match by_slime_id.get(&c.parent_span_id[i]) {
                Some(&at) if state == POINT_EVENT => {
                    attached.try_reserve(1).map_err(oom)?;
                    attached.push((at, i));
                }
                _ => {
                    loose.try_reserve(1).map_err(oom)?;
                    loose.push(i);
                }
            }
        }
        // By span, each span's events in row order (a stable sort).
        attached.sort_by_key(|&(at, _)| at);
        Ok(Plan {
            spans,
            attached,
            loose,
        })
    }
}

/// A real span: `i` is its position in its row.
fn span_json(trace_id: &str, i: usize, s: &SpanItem, events: Vec<J>) -> J {
    let id_of = |slime: &J| -> Option<String> {
        truthy(slime).then(|| otlp_span_id(trace_id, &py_str(slime)))
    };
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
    let span_id = id_of(&s.span_id).unwrap_or_else(|| otlp_span_id(trace_id, &format!("item-{i}")));
    let mut span = Map::new();
    span.insert("traceId".into(), J::String(trace_id.to_string()));
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
    span.insert("events".into(), J::Array(events));
    span.insert(
        "status".into(),
        match error_of(&s.attrs.end_attrs) {
            // STATUS_CODE_ERROR
            Some(message) => json!({"code": 2, "message": message}),
            None => json!({}),
        },
    );
    J::Object(span)
}

/// A point event on its parent span.
fn event_json(p: &PointItem) -> J {
    json!({"timeUnixNano": nanos_text(p.ts), "name": py_str(&p.name),
        "attributes": key_values(&point_attrs(p))})
}

fn point_attrs(p: &PointItem) -> Map<String, J> {
    let mut attrs = p.attrs.as_object().cloned().unwrap_or_default();
    attrs.insert("slime.attempt".into(), J::from(p.attempt));
    attrs
}

/// A parentless point event or an orphan end, as a zero-length span marked with its kind;
/// `i` is its position in its row.
fn point_span_json(trace_id: &str, i: usize, p: &PointItem) -> J {
    let mut attrs = point_attrs(p);
    let kind = if p.state == State::OrphanEnd {
        "orphan_end"
    } else {
        "event"
    };
    attrs.insert(KIND.into(), J::String(kind.into()));
    if p.state == State::OrphanEnd && truthy(&p.span_id) {
        attrs.insert("slime.span_id".into(), p.span_id.clone());
    }
    let parent = if truthy(&p.parent_span_id) {
        otlp_span_id(trace_id, &py_str(&p.parent_span_id))
    } else {
        String::new()
    };
    json!({"traceId": trace_id, "spanId": otlp_span_id(trace_id, &format!("item-{i}")),
        "parentSpanId": parent,
        "name": py_str(&p.name), "kind": 1,
        "startTimeUnixNano": nanos_text(p.ts), "endTimeUnixNano": nanos_text(p.ts),
        "attributes": key_values(&attrs), "events": [], "status": {}})
}

/// A row's own fields, from a materialised row or the store's head.
struct Fields<'a> {
    row_id: usize,
    attempt: i64,
    /// By cache key; a resource names each `slime.<key>`.
    values: [(&'static str, &'a J); 7],
}

impl<'a> From<&'a Row> for Fields<'a> {
    fn from(r: &'a Row) -> Self {
        Fields {
            row_id: r.row_id,
            attempt: r.attempt,
            values: sample_fields!(r),
        }
    }
}

impl<'a> From<&'a RowHead> for Fields<'a> {
    fn from(r: &'a RowHead) -> Self {
        Fields {
            row_id: r.row_id,
            attempt: r.attempt,
            values: sample_fields!(r),
        }
    }
}

/// A row's resource with no spans yet.
fn resource_json(f: &Fields<'_>) -> J {
    let mut res = Map::new();
    res.insert("service.name".into(), J::String("slime-rollout".into()));
    res.insert("slime.row_id".into(), J::from(f.row_id));
    for (k, v) in f.values {
        if !v.is_null() {
            res.insert(format!("slime.{k}"), v.clone());
        }
    }
    res.insert("slime.attempt".into(), J::from(f.attempt));
    json!({
        "resource": {"attributes": key_values(&res)},
        "scopeSpans": [{"scope": {"name": "rollscope", "version": env!("CARGO_PKG_VERSION")},
            "spans": []}],
    })
}

//! OTLP/JSON export: one resource per sample, spans with typed attributes, point events on
//! their parent spans, ERROR status for failed spans.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as J};

use crate::json::{py_str, truthy};
use crate::model::{Item, State};
use crate::Cache;

use super::otlp::{key_values, nanos_text, otlp_span_id, otlp_trace_id, KIND, START_KEYS};
use super::{error_of, merge_attrs};

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

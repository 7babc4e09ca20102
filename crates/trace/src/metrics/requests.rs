//! Per-request attributes: every `sglang_generate` end with the PD timings of its
//! `sglang_pd_*` children (and `sglang_pd_summary`) attached, and the attribute keys behind
//! slime's `perf/request/*`, `perf/prefill/*` and `perf/decode/*` metrics.

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use crate::model::{Item, Row, State};

/// Attributes of each request: every `sglang_generate` end (closed span or orphan end), with
/// `pd_*` values from its `sglang_pd_*` descendants and `sglang_pd_summary` added where the
/// request's own attrs lack them.
pub fn request_attrs(rows: &[Row]) -> Vec<Map<String, J>> {
    let mut out = Vec::new();
    for row in rows {
        let is_pd = |it: &Item| {
            matches!(it, Item::Span(_) | Item::Event(_))
                && it
                    .name()
                    .as_str()
                    .is_some_and(|n| n.starts_with("sglang_pd_"))
        };
        // Spans by id, only for rows with PD child items (the walk below needs them).
        let mut by_span: HashMap<&str, &Item> = HashMap::new();
        if row.items.iter().any(is_pd) {
            for it in &row.items {
                if let Item::Span(s) = it {
                    if let J::String(id) = &s.span_id {
                        by_span.insert(id, it);
                    }
                }
            }
        }
        // Which generate request a PD item belongs to: walk parents to a sglang_generate
        // (at most 64 steps: each item's walk is bounded, so a deep chain stays linear).
        let request_of = |start: &J| -> Option<String> {
            let mut cur = start.as_str()?;
            for _ in 0..64 {
                let Item::Span(s) = by_span.get(cur)? else {
                    return None;
                };
                if s.name.as_str() == Some("sglang_generate") {
                    return Some(cur.to_string());
                }
                cur = s.parent_span_id.as_str()?;
            }
            None
        };
        let mut pd: HashMap<String, Map<String, J>> = HashMap::new();
        for it in &row.items {
            let (name, attrs, anchor) = match it {
                Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                    (s.name.as_str(), &s.attrs.end_attrs, &s.span_id)
                }
                Item::Event(p) => (p.name.as_str(), &p.attrs, &p.parent_span_id),
                _ => continue,
            };
            if !name.is_some_and(|n| n.starts_with("sglang_pd_")) {
                continue;
            }
            let (Some(req), Some(attrs)) = (request_of(anchor), attrs.as_object()) else {
                continue;
            };
            let slot = pd.entry(req).or_default();
            for (k, v) in attrs {
                if k.starts_with("pd_") && !slot.contains_key(k) {
                    slot.insert(k.clone(), v.clone());
                }
            }
        }
        for it in &row.items {
            let (attrs, span_id) = match it {
                Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                    (&s.attrs.end_attrs, &s.span_id)
                }
                Item::OrphanEnd(p) => (&p.attrs, &p.span_id),
                _ => continue,
            };
            if it.name().as_str() != Some("sglang_generate") {
                continue;
            }
            let Some(own) = attrs.as_object() else {
                continue;
            };
            let mut merged = own.clone();
            if let Some(extra) = span_id.as_str().and_then(|id| pd.get(id)) {
                for (k, v) in extra {
                    if !merged.contains_key(k) {
                        merged.insert(k.clone(), v.clone());
                    }
                }
            }
            out.push(merged);
        }
    }
    out
}

/// slime's `add_value`: a finite int or float, bools excluded.
pub(super) fn finite_number(v: Option<&J>) -> Option<f64> {
    match v? {
        J::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

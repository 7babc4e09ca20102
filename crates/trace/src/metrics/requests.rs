//! Per-request attributes: every `sglang_generate` end with the PD timings of its
//! `sglang_pd_*` children (and `sglang_pd_summary`) attached, and the attribute keys behind
//! slime's `perf/request/*`, `perf/prefill/*` and `perf/decode/*` metrics.

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use crate::model::{Item, Row, State};

/// One request's attributes: its own, and the `pd_*` values its PD items add where its own
/// lack them (borrowed: a million-span dump has hundreds of thousands of requests).
#[derive(Debug, Clone, Copy)]
pub struct RequestAttrs<'a> {
    own: &'a Map<String, J>,
    pd: Option<&'a Map<String, J>>,
}

impl<'a> RequestAttrs<'a> {
    pub fn get(&self, key: &str) -> Option<&'a J> {
        self.own.get(key).or_else(|| self.pd?.get(key))
    }
}

/// Attributes of each request: every `sglang_generate` end (closed span or orphan end), with
/// `pd_*` values from its `sglang_pd_*` descendants and `sglang_pd_summary` added where the
/// request's own attrs lack them. `pd` holds those values, by request, for the result to
/// borrow (see [`pd_values`]).
pub fn request_attrs<'a>(
    row: &'a Row,
    pd: &'a HashMap<String, Map<String, J>>,
) -> Vec<RequestAttrs<'a>> {
    let mut out = Vec::new();
    for it in &row.items {
        // The name first: most spans are not requests, and it is the cheaper test.
        if it.name().as_str() != Some("sglang_generate") {
            continue;
        }
        let (attrs, span_id) = match it {
            Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                (&s.attrs.end_attrs, &s.span_id)
            }
            Item::OrphanEnd(p) => (&p.attrs, &p.span_id),
            _ => continue,
        };
        let Some(own) = attrs.as_object() else {
            continue;
        };
        let pd = span_id.as_str().and_then(|id| pd.get(id));
        out.push(RequestAttrs { own, pd });
    }
    out
}

/// The `pd_*` values of `row`'s `sglang_pd_*` items, by the request (span id) they belong to;
/// the first of each key wins. Empty for a row without PD items.
pub fn pd_values(row: &Row) -> HashMap<String, Map<String, J>> {
    let mut pd: HashMap<String, Map<String, J>> = HashMap::new();
    {
        let is_pd = |it: &Item| {
            matches!(it, Item::Span(_) | Item::Event(_))
                && it
                    .name()
                    .as_str()
                    .is_some_and(|n| n.starts_with("sglang_pd_"))
        };
        if !row.items.iter().any(is_pd) {
            return pd;
        }
        // Spans by id (the walk below needs them).
        let mut by_span: HashMap<&str, &Item> = HashMap::new();
        for it in &row.items {
            if let Item::Span(s) = it {
                if let J::String(id) = &s.span_id {
                    by_span.insert(id, it);
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
        for it in &row.items {
            if !it
                .name()
                .as_str()
                .is_some_and(|n| n.starts_with("sglang_pd_"))
            {
                continue;
            }
            let (attrs, anchor) = match it {
                Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                    (&s.attrs.end_attrs, &s.span_id)
                }
                Item::Event(p) => (&p.attrs, &p.parent_span_id),
                _ => continue,
            };
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
    }
    pd
}

/// slime's `add_value`: a finite int or float, bools excluded.
pub(super) fn finite_number(v: Option<&J>) -> Option<f64> {
    match v? {
        J::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

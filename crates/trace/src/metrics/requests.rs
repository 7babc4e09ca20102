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
/// borrow (see [`request_pd_values`]).
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
pub fn request_pd_values(row: &Row) -> HashMap<String, Map<String, J>> {
    let mut pd: HashMap<String, Map<String, J>> = HashMap::new();
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
    for it in row.items.iter().filter(|it| is_pd(it)) {
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
    pd
}

/// slime's `add_value`: a finite int or float, bools excluded.
pub(super) fn finite_number(v: Option<&J>) -> Option<f64> {
    match v? {
        J::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_rows::{row, span};
    use super::*;
    use crate::model::{PointItem, PD_VIRTUAL_ROLE};

    fn with(item: Item, id: &str, parent: &str, end_attrs: J) -> Item {
        match item {
            Item::Span(mut s) => {
                s.span_id = J::from(id);
                s.parent_span_id = J::from(parent);
                s.attrs.end_attrs = end_attrs;
                Item::Span(s)
            }
            other => other,
        }
    }

    fn point(state: State, name: &str, id: &str, parent: &str, attrs: J) -> Item {
        Item::Event(PointItem {
            state,
            name: J::from(name),
            ts: 1.0,
            attempt: 0,
            span_id: J::from(id),
            parent_span_id: J::from(parent),
            parent_span_name: J::Null,
            lane: 0,
            depth: 0,
            attrs,
        })
    }

    /// A request's own attributes win; of its PD items' `pd_*` values the first item's win
    /// (a PD event adds to the span it is under); an orphan end is a request, with nothing
    /// added (PD items are found under spans only); a `[P]`/`[D]` virtual span named like a
    /// request is none.
    #[test]
    fn requests_merge_their_pd_values_under_their_own() {
        let closed = |name: &str| span(name, 0.0, Some(1.0), 1.0, 0);
        let orphan = match point(State::OrphanEnd, "sglang_generate", "g2", "", json!({})) {
            Item::Event(p) => Item::OrphanEnd(PointItem {
                attrs: json!({"e2e_latency": 7}),
                ..p
            }),
            other => other,
        };
        let r = row(vec![
            with(
                closed("sglang_generate"),
                "g1",
                "",
                json!({"pd_x": 1, "e2e_latency": 2}),
            ),
            with(
                closed("sglang_pd_decode"),
                "c1",
                "g1",
                json!({"pd_x": 99, "pd_y": 3}),
            ),
            with(
                closed("sglang_pd_prefill"),
                "c2",
                "c1",
                json!({"pd_y": 4, "pd_z": 5, "z": 6}),
            ),
            with(
                closed("sglang_generate"),
                "v",
                "g1",
                json!({PD_VIRTUAL_ROLE: "prefill", "e2e_latency": 0}),
            ),
            orphan,
            point(
                State::PointEvent,
                "sglang_pd_summary",
                "",
                "g1",
                json!({"pd_w": 8}),
            ),
            point(
                State::PointEvent,
                "sglang_pd_summary",
                "",
                "g2",
                json!({"pd_v": 9}),
            ),
        ]);
        let pd = request_pd_values(&r);
        let got = request_attrs(&r, &pd);
        assert_eq!(got.len(), 2);
        let (g1, g2) = (got[0], got[1]);
        let n = |v: Option<&J>| v.and_then(J::as_f64);
        assert_eq!(n(g1.get("pd_x")), Some(1.0), "its own value wins");
        assert_eq!(n(g1.get("pd_y")), Some(3.0), "the first PD item's wins");
        assert_eq!(n(g1.get("pd_z")), Some(5.0), "a grandchild adds");
        assert_eq!(g1.get("z"), None, "only pd_* values are added");
        assert_eq!(n(g1.get("e2e_latency")), Some(2.0));
        assert_eq!(n(g2.get("e2e_latency")), Some(7.0));
        assert_eq!(n(g1.get("pd_w")), Some(8.0), "a PD event under the request");
        assert_eq!(
            g2.get("pd_v"),
            None,
            "an orphan end is no span to find PD items under"
        );
        assert!(request_pd_values(&row(vec![closed("sglang_generate")])).is_empty());
    }
}

//! 3.5 PD virtual lanes: `[P]`/`[D]` spans for spans that carry `pd_*` durations flat in
//! their end attrs (the older producer shape).

use serde_json::{Map, Value as J};

use super::{round6, Span, ITEM_OVERHEAD};
use crate::json::{float_json, py_str, Output};
use crate::model::{Item, SpanAttrs, SpanItem, State};
use crate::sglang::{PdRole, PD_PHASES};

/// 3.5: `[P]`/`[D]` lanes for spans that carry `pd_*` durations flat in their end attrs;
/// `max_lane` is the highest lane of the other items.
pub(super) fn pd_lanes(closed: &[Span], max_lane: Option<u32>, out: &mut Output) -> Vec<Item> {
    let mut items = Vec::new();
    let mut next = max_lane.map_or(-1, i64::from);
    for s in closed {
        let Some(end) = s.end_ts else { continue };
        // `str(name or "")`: only a string's text can start so.
        if matches!(&s.name, J::String(n) if n.starts_with("sglang_pd_")) {
            continue;
        }
        let J::Object(end_attrs) = &s.end_attrs else {
            continue;
        };
        // Each role's positive phase values, in one pass over the attributes (most spans
        // have no `pd_*` key at all).
        let mut by_role = [Map::new(), Map::new()];
        for (k, v) in end_attrs.iter().filter(|(k, _)| k.starts_with("pd_")) {
            let Some(phase) = PD_PHASES.iter().find(|p| p.attr == k) else {
                continue;
            };
            let positive = match v {
                J::Number(n) => n.as_f64().is_some_and(|f| f > 0.0),
                J::Bool(b) => *b,
                _ => false,
            };
            if positive {
                by_role[phase.role as usize].insert(k.clone(), v.clone());
            }
        }
        for (role, mut kept) in PdRole::ALL.into_iter().zip(by_role) {
            if kept.is_empty() {
                continue;
            }
            next += 1;
            let name = py_str(&s.name);
            let id = py_str(&s.span_id);
            // The name is written four times (name, parent name, attrs, id), the span's id
            // twice (in this item's id and as its parent).
            out.bytes += (ITEM_OVERHEAD + 4 * name.len() + 2 * id.len() + 256) as u64;
            kept.insert(
                crate::model::PD_VIRTUAL_ROLE.into(),
                J::String(role.name().into()),
            );
            kept.insert("timeline_pd_parent_name".into(), s.name.clone());
            kept.insert(
                "timeline_pd_parent_duration".into(),
                float_json(round6((end - s.start_ts).max(0.0))),
            );
            let lane = next.max(0) as u32;
            items.push(Item::Span(SpanItem {
                state: State::ClosedSpan,
                name: J::String([&name, " [", role.suffix(), "]"].concat()),
                start_ts: round6(s.start_ts),
                end_ts: Some(round6(end)),
                display_end_ts: round6(s.display_end_ts),
                attempt: s.attempt,
                span_id: J::String(format!("{id}:pd:{}", role.name())),
                parent_span_id: s.span_id.clone(),
                parent_span_name: s.name.clone(),
                lane,
                depth: lane,
                attrs: SpanAttrs {
                    start_attrs: J::Object(Map::new()),
                    end_attrs: J::Object(kept),
                },
            }));
        }
    }
    items
}

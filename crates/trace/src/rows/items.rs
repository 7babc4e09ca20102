//! 3.2 (events → spans, point events and orphan ends) and 3.6 (those → the row's items,
//! with 3.5's PD virtual spans last), as slime's `_build_items_from_trace` does them.

use serde_json::{Map, Value as J};

use super::events::{Event, Kind};
use super::layout::Placed;
use super::{json_len, round6, Budget, Shown, Span, Stop, ITEM_OVERHEAD};
use crate::json::{cmp_json, py_str, truthy};
use crate::model::{Item, PointItem, SpanAttrs, SpanItem, State};

/// What 3.2 makes of a sample's events.
pub(super) struct Paired {
    /// Closed spans (in end order), then the spans still open (in start order).
    pub spans: Vec<Span>,
    pub n_closed: usize,
    pub points: Vec<Event>,
    pub orphans: Vec<Event>,
}

/// 3.2: starts and ends paired by span id into spans; other events are points, an end with
/// no open start an orphan. Events are consumed: their values move, never copied.
pub(super) fn pair_events(events: Vec<Event>, warn: &mut Vec<String>) -> Paired {
    let mut slots: Vec<Option<Span>> = Vec::new();
    let mut open_at: pt::hashing::HashMap<String, usize> = pt::hashing::map(events.len() / 2);
    let mut closed: Vec<Span> = Vec::new();
    let mut point_events: Vec<Event> = Vec::new();
    let mut orphans: Vec<Event> = Vec::new();
    let mut reopened = Shown::default();
    for ev in events {
        match ev.kind {
            Kind::Start if truthy(&ev.span_id) => {
                let key = ev.span_key;
                if open_at.contains_key(&key) {
                    reopened.add(|| py_str(&ev.span_id));
                }
                let span = Span {
                    name: ev.name,
                    start_ts: ev.ts,
                    end_ts: None,
                    display_end_ts: ev.ts,
                    attempt: ev.attempt,
                    span_id: ev.span_id,
                    key: key.clone(),
                    parent: ev.parent,
                    parent_key: ev.parent_key,
                    start_attrs: ev.attrs,
                    end_attrs: J::Object(Map::new()),
                };
                if let Some(&at) = open_at.get(&key) {
                    // Python dict assignment: the new record takes the old one's place.
                    slots[at] = Some(span);
                } else {
                    open_at.insert(key, slots.len());
                    slots.push(Some(span));
                }
            }
            Kind::End => {
                let open = if truthy(&ev.span_id) {
                    open_at.remove(&ev.span_key).and_then(|at| slots[at].take())
                } else {
                    None
                };
                match open {
                    Some(mut span) => {
                        span.end_ts = Some(ev.ts);
                        span.display_end_ts = ev.ts;
                        span.end_attrs = ev.attrs;
                        closed.push(span);
                    }
                    None => orphans.push(ev),
                }
            }
            _ => point_events.push(ev),
        }
    }
    if reopened.count > 0 {
        warn.push(format!(
            "span id {} started again while open; the earlier start is dropped",
            reopened.text()
        ));
    }
    let n_closed = closed.len();
    let mut spans: Vec<Span> = closed;
    spans.extend(slots.into_iter().flatten());
    let mut backwards = Shown::default();
    for s in &spans {
        if s.end_ts.is_some_and(|e| e < s.start_ts) {
            backwards.add(|| py_str(&s.name));
        }
    }
    if backwards.count > 0 {
        warn.push(format!("span {} ends before it starts", backwards.text()));
    }

    Paired {
        spans,
        n_closed,
        points: point_events,
        orphans,
    }
}

/// 3.5 and 3.6: the row's items — spans, point events, orphan ends, then PD virtual spans —
/// each charged to the budget with its parent's name, sorted by lane, start, end and name.
/// `Err` when they would pass the file's item or output limit.
pub(super) fn make_items(
    spans: Vec<Span>,
    n_closed: usize,
    point_events: Vec<Event>,
    orphans: Vec<Event>,
    placed: &Placed,
    budget: &mut Budget,
) -> Result<Vec<Item>, Stop> {
    // Depth of a span by its key, and of a point by its parent's key: through the span that
    // holds the key (the last one), as slime's dict lookups do.
    let depth_by_key = |key: &str| placed.by_id.get(key).map(|&i| placed.depths[i]);
    let parent_name = |pid: &J, key: &str| -> J {
        if !truthy(pid) {
            return J::Null;
        }
        placed
            .by_id
            .get(key)
            .map(|&p| spans[p].name.clone())
            .unwrap_or(J::Null)
    };
    // Per span and point: (depth, parent name), computed before the spans are consumed.
    let span_info: Vec<(u32, J)> = spans
        .iter()
        .map(|s| {
            (
                depth_by_key(&s.key).unwrap_or(0),
                parent_name(&s.parent, &s.parent_key),
            )
        })
        .collect();
    let point_info = |ev: &Event| {
        (
            depth_by_key(&ev.parent_key).map_or(0, |d| d.saturating_add(1)),
            parent_name(&ev.parent, &ev.parent_key),
        )
    };
    let point_events: Vec<(Event, (u32, J))> = point_events
        .into_iter()
        .map(|e| {
            let info = point_info(&e);
            (e, info)
        })
        .collect();
    let orphans: Vec<(Event, (u32, J))> = orphans
        .into_iter()
        .map(|e| {
            let info = point_info(&e);
            (e, info)
        })
        .collect();
    let max_lane = span_info
        .iter()
        .map(|x| x.0)
        .chain(point_events.iter().chain(&orphans).map(|(_, x)| x.0))
        .max();
    // 3.5 PD virtual spans (listed after the rest).
    let virtual_items = super::pd::pd_lanes(&spans[..n_closed], max_lane, &mut budget.out);

    // 3.6 Items: spans, point events, orphan ends, then PD virtual spans. Each charges its
    // fixed fields and its parent's name (a copy the events did not pay for).
    let mut charge = |parent_name: &J| {
        budget.out.bytes += (ITEM_OVERHEAD + json_len(parent_name)) as u64;
    };
    let mut items: Vec<Item> =
        Vec::with_capacity(spans.len() + point_events.len() + orphans.len() + virtual_items.len());
    for (i, (s, (depth, parent_span_name))) in spans.into_iter().zip(span_info).enumerate() {
        charge(&parent_span_name);
        items.push(Item::Span(SpanItem {
            state: if i < n_closed {
                State::ClosedSpan
            } else {
                State::OpenSpan
            },
            name: s.name,
            start_ts: round6(s.start_ts),
            end_ts: s.end_ts.map(round6),
            display_end_ts: round6(s.display_end_ts),
            attempt: s.attempt,
            span_id: s.span_id,
            parent_span_id: s.parent,
            parent_span_name,
            lane: depth,
            depth,
            attrs: SpanAttrs {
                start_attrs: s.start_attrs,
                end_attrs: s.end_attrs,
            },
        }));
    }
    // Point events first, then orphan ends, each in event order.
    for (state, list) in [
        (State::PointEvent, point_events),
        (State::OrphanEnd, orphans),
    ] {
        for (ev, (depth, parent_span_name)) in list {
            charge(&parent_span_name);
            let p = PointItem {
                state,
                name: ev.name,
                ts: round6(ev.ts),
                attempt: ev.attempt,
                span_id: if state == State::PointEvent {
                    J::Null
                } else {
                    ev.span_id
                },
                parent_span_id: ev.parent,
                parent_span_name,
                lane: depth,
                depth,
                attrs: ev.attrs,
            };
            items.push(if state == State::PointEvent {
                Item::Event(p)
            } else {
                Item::OrphanEnd(p)
            });
        }
    }
    items.extend(virtual_items);
    if budget.items + items.len() > budget.max_items {
        return Err(Stop::Items);
    }
    budget.check_bytes()?;

    items.sort_by(|a, b| {
        a.lane()
            .cmp(&b.lane())
            .then(a.start().total_cmp(&b.start()))
            .then(a.display_end().total_cmp(&b.display_end()))
            .then_with(|| cmp_json(a.name(), b.name()))
    });
    Ok(items)
}

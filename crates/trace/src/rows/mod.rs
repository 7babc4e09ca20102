//! One sample's trace events → one timeline row (cache v1, spec §3).
//!
//! The steps and their names follow slime's `_build_items_from_trace` so the two can be
//! read side by side: `events.rs` (3.1), this file (3.2, 3.6, 3.7), `layout.rs` (3.3, 3.4),
//! `pd.rs` (3.5), `fields.rs` (3.7's sample fields). Where the reference would crash or hang
//! (a `None` name compared with a string, a parent cycle of open spans, a non-finite time) we
//! keep going and say so in a [`Warning`](crate::Warning).
//!
//! **Bounded work and output.** Every step is O(n log n) in a sample's events (the reference
//! is quadratic on deep open nesting, FIFO ends and open siblings; see `layout.rs` and the
//! span stack in `events.rs`). What a row produces is charged to a [`Budget`] shared by the
//! whole build: a sample over [`crate::MAX_SAMPLE_EVENTS`] events is skipped with a warning,
//! and once the file's trace events visited (kept or skipped), items or output bytes would
//! pass [`crate::MAX_FILE_EVENTS`] / [`crate::MAX_FILE_ITEMS`] / [`crate::MAX_OUTPUT_BYTES`]
//! the build stops adding rows ([`Stop`]).

mod events;
mod fields;
mod layout;
mod pd;

use std::collections::HashMap;

use pt::{NodeId, Tree, Value};
use serde_json::{Map, Value as J};

use crate::json::{cmp_json, py_str, to_json_counted, truthy, Output};
use crate::model::{Item, PointItem, Row, SpanAttrs, SpanItem, State};
use crate::values::dict_of;
use events::{attempt_of, Kind};

/// JSON text an item writes besides its name, ids and attrs (keys, times, lanes), counted
/// from above so the output budget is not undercounted.
const ITEM_OVERHEAD: usize = 224;
/// The same for a row's own fields (keys, times, counts).
const ROW_OVERHEAD: usize = 512;

/// What the whole build may still produce, shared by every row.
#[derive(Debug)]
pub struct Budget {
    /// JSON text produced so far (approximately, from above).
    pub out: Output,
    pub max_bytes: u64,
    /// Items in the rows built so far.
    pub items: usize,
    pub max_items: usize,
    pub max_sample_events: usize,
    /// Trace events visited so far, kept or skipped: a skipped event produces nothing, so
    /// only this bounds the work of samples full of them.
    pub events: usize,
    pub max_events: usize,
    /// `_infer_source`'s metadata scans, per metadata dict.
    source_memo: HashMap<NodeId, Option<usize>>,
}

/// Why the build stopped before a sample: which of the file's limits it would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Items,
    Events,
    Bytes,
}

impl Budget {
    pub fn new(limits: &crate::BuildLimits) -> Self {
        Budget {
            out: Output::default(),
            max_bytes: limits.max_output_bytes,
            items: 0,
            max_items: limits.max_file_items,
            max_sample_events: limits.max_sample_events,
            events: 0,
            max_events: limits.max_file_events,
            source_memo: HashMap::new(),
        }
    }

    fn check_bytes(&self) -> Result<(), Stop> {
        if self.out.bytes > self.max_bytes {
            Err(Stop::Bytes)
        } else {
            Ok(())
        }
    }
}

struct Span {
    name: J,
    start_ts: f64,
    end_ts: Option<f64>,
    display_end_ts: f64,
    attempt: i64,
    span_id: J,
    key: String,
    parent: J,
    parent_key: String,
    start_attrs: J,
    end_attrs: J,
}

/// A hashable key for a span id (ids are usually hex strings, but any value can occur).
fn key_of(j: &J) -> String {
    match j {
        J::String(s) => format!("s{s}"),
        other => format!("j{other}"),
    }
}

/// `round(x, 6)`: correctly rounded, as Python's `round` is.
///
/// Every time of every item goes through here, so the exact decimal route (format, parse) is
/// kept for the rare case it is needed. Fast path: `x = i + f` with `i` its integer part (both
/// exact), `f × 10^6` is within 2^-30 of exact, so unless it lies within 10^-6 of a half, its
/// rounding `r` is the correctly rounded one; `n = i × 10^6 + r` is an exact integer below
/// 2^53, and `n / 10^6` (one correctly rounded division) is the double nearest the decimal
/// `n × 10^-6`, which is what parsing the 6-digit text gives (`round6_fast_path_is_exact`).
pub fn round6(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= 1e15 {
        return x;
    }
    if let Some(y) = round6_fast(x) {
        return y;
    }
    format!("{x:.6}").parse().unwrap_or(x)
}

fn round6_fast(x: f64) -> Option<f64> {
    let i = x.trunc();
    let p = (x - i) * 1e6;
    let floor = p.floor();
    let frac = p - floor;
    if (frac - 0.5).abs() <= 1e-6 {
        return None;
    }
    let n = i * 1e6 + if frac > 0.5 { floor + 1.0 } else { floor };
    // A zero keeps the sign of `x` (`round(-1e-7, 6)` is `-0.0`, as the text "-0.000000").
    (n.abs() < 9.0e15).then(|| {
        if n == 0.0 {
            0.0f64.copysign(x)
        } else {
            n / 1e6
        }
    })
}

/// A class name as shown in a message: long names are cut.
fn class_shown(class: &str) -> String {
    if class.chars().count() <= 120 {
        return class.to_string();
    }
    let head: String = class.chars().take(120).collect();
    format!("{head}…")
}

fn describe(tree: &Tree, v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Int(_) | Value::BigInt(_) => "an int".into(),
        Value::Float(_) => "a float".into(),
        Value::Str(_) => "a str".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::Global(g) => format!("the class {}", class_shown(g)),
        Value::Node(_) => match tree.node_of(v) {
            Some(pt::Node::List(_)) | Some(pt::Node::ElidedList { .. }) => "a list".into(),
            Some(pt::Node::Tuple(_)) => "a tuple".into(),
            Some(pt::Node::Dict(_)) => "a dict".into(),
            Some(pt::Node::Set(_)) | Some(pt::Node::FrozenSet(_)) => "a set".into(),
            Some(pt::Node::Object(o)) => format!("a {} object", class_shown(&o.class)),
            Some(pt::Node::Persistent(_)) => "a persistent reference".into(),
            Some(pt::Node::Released) => {
                "a value of an earlier sample, released once that sample was read".into()
            }
            None => "a value".into(),
        },
    }
}

/// Builds the row for one sample: `Ok(None)` when it has no usable trace (or is skipped),
/// `Err(Stop)` when building it would pass one of the file's limits (nothing of it is kept).
/// Problems go to `warn` as plain sentences (the caller adds the sample index).
pub fn build_row(
    tree: &Tree,
    sample: &Value,
    row_id: usize,
    budget: &mut Budget,
    warn: &mut Vec<String>,
) -> Result<Option<Row>, Stop> {
    let Some(fields) = dict_of(tree, sample) else {
        warn.push(format!(
            "is {}, not a dict or a Sample object; skipped",
            describe(tree, sample)
        ));
        return Ok(None);
    };
    let Some(trace) = fields.get_str("trace") else {
        return Ok(None);
    };
    let trace_dict = match dict_of(tree, trace) {
        Some(d) => d,
        None if trace.is_none() => return Ok(None),
        None => {
            warn.push(format!(
                "trace is {}, not a dict; skipped",
                describe(tree, trace)
            ));
            return Ok(None);
        }
    };
    let raw_events: &[Value] = match trace_dict.get_str("events") {
        None | Some(Value::None) => return Ok(None),
        Some(v) => match (tree.as_seq(v), tree.node_of(v)) {
            (Some(s), _) => s,
            (None, Some(pt::Node::ElidedList { .. })) => {
                warn.push("trace events is a list of numbers; skipped".into());
                return Ok(None);
            }
            _ => {
                warn.push(format!(
                    "trace events is {}, not a list; skipped",
                    describe(tree, v)
                ));
                return Ok(None);
            }
        },
    };
    if raw_events.len() > budget.max_sample_events {
        warn.push(format!(
            "has {} trace events, more than the limit of {} per sample; skipped",
            raw_events.len(),
            budget.max_sample_events
        ));
        return Ok(None);
    }
    // Every event is charged before any is visited, kept or not: the sample that would pass
    // the file's event limit is not read at all. The file's item limit is checked once the
    // row's items are known: the work of the one sample that passes it is bounded by the
    // per-sample limit above.
    let events_after = budget.events.saturating_add(raw_events.len());
    if events_after > budget.max_events {
        return Err(Stop::Events);
    }
    budget.events = events_after;
    let trace_attempt = trace_dict.get_str("attempt");

    // 3.1 Normalising events.
    let events = events::normalise(tree, raw_events, trace_attempt, budget, warn)?;
    if events.is_empty() {
        return Ok(None);
    }

    let row_end_ts = events
        .iter()
        .map(|e| e.ts)
        .fold(f64::NEG_INFINITY, f64::max);

    // 3.2 Items. Events are consumed: their values move into spans and items, never copied.
    let mut slots: Vec<Option<Span>> = Vec::new();
    let mut open_at: HashMap<String, usize> = HashMap::with_capacity(events.len() / 2);
    let mut closed: Vec<Span> = Vec::new();
    let mut point_events: Vec<events::Event> = Vec::new();
    let mut orphans: Vec<events::Event> = Vec::new();
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

    // span_by_id: the last span with an id wins, as in a dict comprehension.
    let mut by_id: HashMap<String, usize> = HashMap::with_capacity(spans.len());
    for (i, s) in spans.iter().enumerate() {
        by_id.insert(s.key.clone(), i);
    }

    // 3.4 Depths (memoised, cycle gives 0 where detected), iteratively.
    let (depths, cyclic) = layout::span_depths(&spans, &by_id);
    if cyclic {
        warn.push("span parent ids form a cycle; depths are cut where it closes".into());
    }

    // 3.3 Open-span display end.
    let ancestor_cycle = layout::clip_open_spans(&mut spans, n_closed, &by_id, row_end_ts);
    if ancestor_cycle && !cyclic {
        warn.push("span parent ids form a cycle".into());
    }

    // Depth of a span by its key, and of a point by its parent's key: through the span that
    // holds the key (the last one), as slime's dict lookups do.
    let depth_by_key = |key: &str| by_id.get(key).map(|&i| depths[i]);
    let parent_name = |pid: &J, key: &str| -> J {
        if !truthy(pid) {
            return J::Null;
        }
        by_id
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
    let point_info = |ev: &events::Event| {
        (
            depth_by_key(&ev.parent_key).map_or(0, |d| d.saturating_add(1)),
            parent_name(&ev.parent, &ev.parent_key),
        )
    };
    let point_events: Vec<(events::Event, (u32, J))> = point_events
        .into_iter()
        .map(|e| {
            let info = point_info(&e);
            (e, info)
        })
        .collect();
    let orphans: Vec<(events::Event, (u32, J))> = orphans
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
    let virtual_items = pd::pd_lanes(&spans[..n_closed], max_lane, &mut budget.out);

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

    // 3.7 The row.
    let start = items.iter().map(Item::start).fold(f64::INFINITY, f64::min);
    let end = items
        .iter()
        .map(Item::display_end)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut total_len: i64 = 0;
    let mut max_len: i64 = 0;
    for item in &items {
        for payload in item.attr_payloads() {
            if let Some(n) = payload
                .get("response_length")
                .and_then(fields::response_length)
            {
                total_len = total_len.saturating_add(n);
                max_len = max_len.max(n);
            }
        }
    }
    let get = |k: &str| fields.get_str(k);
    let json_of = |k: &str, out: &mut Output| {
        get(k)
            .map(|v| to_json_counted(tree, v, out))
            .unwrap_or(J::Null)
    };
    let count = |s: State| items.iter().filter(|i| i.state() == s).count();
    let lane_count = 1 + items.iter().map(Item::lane).max().unwrap_or(0);
    let row_attempt = match attempt_of(trace_attempt) {
        Ok(a) => a,
        Err(e) => {
            warn.push(format!("trace {e}; 0 used"));
            0
        }
    };
    let out = &mut budget.out;
    let sample_index = match get("index") {
        Some(v) => to_json_counted(tree, v, out),
        None => J::from(row_id),
    };
    let group_index = json_of("group_index", out);
    let source = fields::infer_source(
        tree,
        fields,
        get("metadata"),
        &mut budget.source_memo,
        &mut budget.out,
    );
    let out = &mut budget.out;
    let status = json_of("status", out);
    let label = json_of("label", out);
    let reward = json_of("reward", out);
    let trace_id = trace_dict
        .get_str("trace_id")
        .map(|v| to_json_counted(tree, v, out))
        .unwrap_or(J::Null);
    budget.out.bytes += ROW_OVERHEAD as u64;
    budget.check_bytes()?;
    budget.items += items.len();
    Ok(Some(Row {
        row_id,
        sample_index,
        group_index,
        source: fields::compact_text(source, 64),
        status: fields::compact_text(status, 64),
        label: fields::compact_text(label, 256),
        reward,
        trace_id,
        attempt: row_attempt,
        start,
        end,
        duration: round6((end - start).max(0.0)),
        lane_count,
        item_count: items.len(),
        closed_span_count: count(State::ClosedSpan),
        open_span_count: count(State::OpenSpan),
        point_event_count: count(State::PointEvent),
        orphan_count: count(State::OrphanEnd),
        total_response_length: total_len,
        max_response_length: max_len,
        items,
    }))
}

/// The first few of a list of names for a warning, and how many there were.
#[derive(Default)]
struct Shown {
    first: Vec<String>,
    count: usize,
}

impl Shown {
    fn add(&mut self, text: impl FnOnce() -> String) {
        if self.first.len() < 3 {
            let t = text();
            let cut: String = t.chars().take(80).collect();
            self.first.push(if cut.len() < t.len() {
                format!("{cut}…")
            } else {
                t
            });
        }
        self.count += 1;
    }

    fn text(&self) -> String {
        let shown: Vec<String> = self.first.iter().map(|s| format!("{s:?}")).collect();
        let more = if self.count > 3 {
            format!(" and {} more", self.count - 3)
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    }
}

/// `str(name or fallback)`.
fn name_or(name: &J, fallback: &str) -> String {
    if truthy(name) {
        py_str(name)
    } else {
        fallback.into()
    }
}

/// Length of a JSON value's text, roughly (for charging copies of names).
fn json_len(j: &J) -> usize {
    match j {
        J::Null => 4,
        J::Bool(_) => 5,
        J::Number(_) => 24,
        J::String(s) => s.len() + 2,
        other => other.to_string().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::round6;

    /// The fast path against the exact decimal route on timestamps, durations, tiny,
    /// negative and near-half values (a deterministic spread of a few hundred thousand).
    #[test]
    fn round6_fast_path_is_exact() {
        let slow = |x: f64| -> f64 { format!("{x:.6}").parse().unwrap() };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut fast_hits = 0;
        for k in 0..300_000 {
            let u = next();
            let x = match k % 6 {
                0 => 1.79e9 + u * 1e6,
                1 => u * 100.0,
                2 => -u * 1e4,
                3 => u * 1e-5,
                4 => (u * 1e6).round() / 1e6 + 5e-7, // at or near a half
                _ => (u - 0.5) * 1e14,
            };
            assert_eq!(round6(x).to_bits(), slow(x).to_bits(), "{x:e}");
            fast_hits += super::round6_fast(x).is_some() as usize;
        }
        assert!(fast_hits > 200_000, "the fast path is taken: {fast_hits}");
        for x in [
            0.0,
            -0.0,
            0.5e-6,
            1.5e-6,
            2.5e-6,
            -2.5e-6,
            1e15 - 1.0,
            0.1 + 0.2,
        ] {
            assert_eq!(round6(x).to_bits(), slow(x).to_bits(), "{x:e}");
        }
    }
}

//! One sample's trace events → one timeline row (cache v1, spec §3).
//!
//! The steps and their names follow slime's `_build_items_from_trace` so the two can be
//! read side by side. Where the reference would crash or hang (a `None` name compared with a
//! string, a parent cycle of open spans, a non-finite time) we keep going and say so in a
//! [`Warning`](crate::Warning).

use std::collections::{HashMap, HashSet};

use pt::{Tree, Value};
use serde_json::{Map, Value as J};

use crate::json::{cmp_json, float_json, py_str, to_json, truthy};
use crate::model::{Item, PointItem, Row, SpanAttrs, SpanItem, State};

/// Why an event was skipped, counted per sample.
#[derive(Default)]
struct Skipped {
    not_dict: usize,
    no_ts: usize,
    bad_ts: usize,
    non_finite: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    End,
    Other,
}

struct Event {
    ts: f64,
    kind: Kind,
    name: J,
    attempt: i64,
    span_id: J,
    /// Explicit parent if truthy, else the innermost open span id when it arrived.
    parent: J,
    /// `key_of(parent)`, computed once: every later lookup by parent uses it.
    parent_key: String,
    attrs: J,
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
pub fn round6(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= 1e15 {
        return x;
    }
    format!("{x:.6}").parse().unwrap_or(x)
}

/// Python `float(ts)` for the kinds of value a `ts` can hold.
fn timestamp(tree: &Tree, v: &Value) -> Result<f64, &'static str> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as u8 as f64),
        Value::BigInt(s) => s.parse::<f64>().map_err(|_| "not a number"),
        Value::Str(s) => pt::pickle::parse_py_float(s).ok_or("not a number"),
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(pt::pickle::parse_py_float)
            .ok_or("not a number"),
        _ => {
            let _ = tree;
            Err("not a number")
        }
    }
}

/// Python `int(v or 0)` for an attempt number.
fn attempt_of(v: Option<&Value>) -> Result<i64, String> {
    let v = match v {
        None | Some(Value::None) => return Ok(0),
        Some(v) => v,
    };
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
        Value::Str(s) if s.is_empty() => Ok(0),
        Value::Str(s) => s
            .trim()
            .replace('_', "")
            .parse::<i64>()
            .map_err(|_| format!("attempt {s:?} is not an integer")),
        Value::Float(f) => Err(format!("attempt {f} is not finite")),
        _ => Err("attempt is not an integer".into()),
    }
}

fn describe(tree: &Tree, v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Int(_) | Value::BigInt(_) => "an int".into(),
        Value::Float(_) => "a float".into(),
        Value::Str(_) => "a str".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::Global(g) => format!("the class {g}"),
        Value::Node(_) => match tree.node_of(v) {
            Some(pt::Node::List(_)) | Some(pt::Node::ElidedList { .. }) => "a list".into(),
            Some(pt::Node::Tuple(_)) => "a tuple".into(),
            Some(pt::Node::Dict(_)) => "a dict".into(),
            Some(pt::Node::Set(_)) | Some(pt::Node::FrozenSet(_)) => "a set".into(),
            Some(pt::Node::Object(o)) => format!("a {} object", o.class),
            Some(pt::Node::Persistent(_)) => "a persistent reference".into(),
            None => "a value".into(),
        },
    }
}

/// Builds the row for one sample, or `None` when it has no usable trace. Problems go to
/// `warn` as plain sentences (the caller adds the sample index).
pub fn build_row(
    tree: &Tree,
    sample: &Value,
    row_id: usize,
    warn: &mut Vec<String>,
) -> Option<Row> {
    let Some(fields) = tree.as_dict(sample) else {
        warn.push(format!(
            "is {}, not a dict or a Sample object; skipped",
            describe(tree, sample)
        ));
        return None;
    };
    let trace = fields.get_str("trace")?;
    let trace_dict = match tree.as_dict(trace) {
        Some(d) => d,
        None if trace.is_none() => return None,
        None => {
            warn.push(format!(
                "trace is {}, not a dict; skipped",
                describe(tree, trace)
            ));
            return None;
        }
    };
    let raw_events: &[Value] = match trace_dict.get_str("events") {
        None | Some(Value::None) => return None,
        Some(v) => match (tree.as_seq(v), tree.node_of(v)) {
            (Some(s), _) => s,
            (None, Some(pt::Node::ElidedList { .. })) => {
                warn.push("trace events is a list of numbers; skipped".into());
                return None;
            }
            _ => {
                warn.push(format!(
                    "trace events is {}, not a list; skipped",
                    describe(tree, v)
                ));
                return None;
            }
        },
    };
    let trace_attempt = trace_dict.get_str("attempt");

    // 3.1 Normalising events.
    let mut skipped = Skipped::default();
    let mut events: Vec<Event> = Vec::with_capacity(raw_events.len());
    let mut stack: Vec<J> = Vec::new();
    let mut name_problems = 0usize;
    let mut attempt_problems: Vec<String> = Vec::new();
    for raw in raw_events {
        let Some(ev) = tree.as_dict(raw).filter(|_| tree.class_of(raw).is_none()) else {
            skipped.not_dict += 1;
            continue;
        };
        let ts = match ev.get_str("ts") {
            None | Some(Value::None) => {
                skipped.no_ts += 1;
                continue;
            }
            Some(v) => match timestamp(tree, v) {
                Ok(t) if t.is_finite() => t,
                Ok(_) => {
                    skipped.non_finite += 1;
                    continue;
                }
                Err(_) => {
                    skipped.bad_ts += 1;
                    continue;
                }
            },
        };
        let get = |k: &str| ev.get_str(k).map(|v| to_json(tree, v)).unwrap_or(J::Null);
        let kind = match ev.get_str("type").and_then(Value::as_str) {
            Some("span_start") => Kind::Start,
            Some("span_end") => Kind::End,
            _ => Kind::Other,
        };
        let name = get("name");
        if !name.is_string() {
            name_problems += 1;
        }
        let attempt = match attempt_of(ev.get_str("attempt").or(trace_attempt)) {
            Ok(a) => a,
            Err(e) => {
                attempt_problems.push(e);
                0
            }
        };
        let span_id = get("span_id");
        let explicit = get("parent_span_id");
        let inferred = stack.last().cloned().unwrap_or(J::Null);
        let parent = if truthy(&explicit) {
            explicit
        } else {
            inferred
        };
        let attrs = ev
            .get_str("attrs")
            .map(|v| to_json(tree, v))
            .filter(truthy)
            .unwrap_or_else(|| J::Object(Map::new()));
        if truthy(&span_id) {
            match kind {
                Kind::Start => stack.push(span_id.clone()),
                Kind::End => {
                    if let Some(at) = stack.iter().rposition(|s| s == &span_id) {
                        stack.remove(at);
                    }
                }
                Kind::Other => {}
            }
        }
        let parent_key = key_of(&parent);
        events.push(Event {
            ts,
            kind,
            name,
            attempt,
            span_id,
            parent,
            parent_key,
            attrs,
        });
    }
    let total_skipped = skipped.not_dict + skipped.no_ts + skipped.bad_ts + skipped.non_finite;
    if total_skipped > 0 {
        let mut why = Vec::new();
        for (n, what) in [
            (skipped.not_dict, "not a dict"),
            (skipped.no_ts, "no ts"),
            (skipped.bad_ts, "ts not a number"),
            (skipped.non_finite, "ts not finite"),
        ] {
            if n > 0 {
                why.push(format!("{n} {what}"));
            }
        }
        let tail = if events.is_empty() {
            "; no usable events, no row"
        } else {
            ""
        };
        warn.push(format!(
            "skipped {total_skipped} of {} trace events ({}){tail}",
            raw_events.len(),
            why.join(", ")
        ));
    }
    if name_problems > 0 {
        warn.push(format!(
            "{name_problems} trace events have a name that is not a string"
        ));
    }
    if let Some(first) = attempt_problems.first() {
        warn.push(format!(
            "{} trace events have a bad attempt ({first}); 0 used",
            attempt_problems.len()
        ));
    }
    if events.is_empty() {
        return None;
    }

    // 3.2 Items.
    let mut slots: Vec<Option<Span>> = Vec::new();
    let mut open_at: HashMap<String, usize> = HashMap::new();
    let mut closed: Vec<Span> = Vec::new();
    let mut points: Vec<(State, &Event)> = Vec::new();
    let mut reopened: Vec<String> = Vec::new();
    for ev in &events {
        match ev.kind {
            Kind::Start if truthy(&ev.span_id) => {
                let key = key_of(&ev.span_id);
                let span = Span {
                    name: ev.name.clone(),
                    start_ts: ev.ts,
                    end_ts: None,
                    display_end_ts: ev.ts,
                    attempt: ev.attempt,
                    span_id: ev.span_id.clone(),
                    key: key.clone(),
                    parent: ev.parent.clone(),
                    parent_key: ev.parent_key.clone(),
                    start_attrs: ev.attrs.clone(),
                    end_attrs: J::Object(Map::new()),
                };
                if let Some(&at) = open_at.get(&key) {
                    // Python dict assignment: the new record takes the old one's place.
                    reopened.push(py_str(&ev.span_id));
                    slots[at] = Some(span);
                } else {
                    open_at.insert(key, slots.len());
                    slots.push(Some(span));
                }
            }
            Kind::End => {
                let open = if truthy(&ev.span_id) {
                    open_at
                        .remove(&key_of(&ev.span_id))
                        .and_then(|at| slots[at].take())
                } else {
                    None
                };
                match open {
                    Some(mut span) => {
                        span.end_ts = Some(ev.ts);
                        span.display_end_ts = ev.ts;
                        span.end_attrs = ev.attrs.clone();
                        closed.push(span);
                    }
                    None => points.push((State::OrphanEnd, ev)),
                }
            }
            _ => points.push((State::PointEvent, ev)),
        }
    }
    if !reopened.is_empty() {
        warn.push(format!(
            "span id {} started again while open; the earlier start is dropped",
            quote_list(&reopened)
        ));
    }
    let n_closed = closed.len();
    let mut spans: Vec<Span> = closed;
    spans.extend(slots.into_iter().flatten());
    let backwards: Vec<String> = spans
        .iter()
        .filter(|s| s.end_ts.is_some_and(|e| e < s.start_ts))
        .map(|s| py_str(&s.name))
        .collect();
    if !backwards.is_empty() {
        warn.push(format!(
            "span {} ends before it starts",
            quote_list(&backwards)
        ));
    }

    let row_end_ts = events
        .iter()
        .map(|e| e.ts)
        .fold(f64::NEG_INFINITY, f64::max);
    // span_by_id: the last span with an id wins, as in a dict comprehension.
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        by_id.insert(s.key.clone(), i);
    }

    // 3.4 Depths (memoised, cycle gives 0 where detected), iteratively.
    let (depths, cyclic) = span_depths(&spans, &by_id);
    if cyclic {
        warn.push("span parent ids form a cycle; depths are cut where it closes".into());
    }

    // 3.3 Open-span display end.
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        groups.entry(s.parent_key.clone()).or_default().push(i);
    }
    for g in groups.values_mut() {
        g.sort_by(|&a, &b| {
            let (x, y) = (&spans[a], &spans[b]);
            let end = |s: &Span| match s.end_ts {
                Some(e) if e != 0.0 => e,
                _ => f64::INFINITY,
            };
            x.start_ts
                .total_cmp(&y.start_ts)
                .then(end(x).total_cmp(&end(y)))
                .then_with(|| name_or(&x.name, "span").cmp(&name_or(&y.name, "span")))
        });
    }
    let mut ancestor_cycle = false;
    for i in n_closed..spans.len() {
        let start = spans[i].start_ts;
        let mut best = (row_end_ts, "row_end");
        if let Some(g) = groups.get(&spans[i].parent_key) {
            if let Some(&j) = g.iter().find(|&&j| j != i && spans[j].start_ts > start) {
                if spans[j].start_ts < best.0 {
                    best = (spans[j].start_ts, "next_sibling_start");
                }
            }
        }
        // Nearest closed ancestor; an unknown id ends the walk; a cycle too (we record it).
        let mut seen: HashSet<usize> = HashSet::new();
        let mut cur = spans[i].parent.clone();
        let mut ancestor_end = None;
        while truthy(&cur) {
            let Some(&p) = by_id.get(key_of(&cur).as_str()) else {
                break;
            };
            if !seen.insert(p) {
                ancestor_cycle = true;
                break;
            }
            if let Some(e) = spans[p].end_ts {
                ancestor_end = Some(e);
                break;
            }
            cur = spans[p].parent.clone();
        }
        if let Some(e) = ancestor_end {
            if e > start && e < best.0 {
                best = (e, "ancestor_end");
            }
        }
        if best.0 <= start {
            best = (start, "self");
        }
        spans[i].display_end_ts = best.0;
        if let J::Object(m) = &mut spans[i].end_attrs {
            m.insert("clipped_by".into(), J::String(best.1.into()));
        }
    }
    if ancestor_cycle && !cyclic {
        warn.push("span parent ids form a cycle".into());
    }

    // Both take a parent id and its precomputed key.
    let parent_name = |pid: &J, key: &str| -> J {
        if !truthy(pid) {
            return J::Null;
        }
        by_id
            .get(key)
            .map(|&p| spans[p].name.clone())
            .unwrap_or(J::Null)
    };
    let depth_of_parent = |key: &str| -> u32 { depths.get(key).map(|d| d + 1).unwrap_or(0) };

    // 3.6 Items: spans, point events, orphan ends, then PD virtual spans.
    let mut items: Vec<Item> = Vec::with_capacity(spans.len() + points.len());
    for (i, s) in spans.iter().enumerate() {
        let depth = depths.get(s.key.as_str()).copied().unwrap_or(0);
        items.push(Item::Span(SpanItem {
            state: if i < n_closed {
                State::ClosedSpan
            } else {
                State::OpenSpan
            },
            name: s.name.clone(),
            start_ts: round6(s.start_ts),
            end_ts: s.end_ts.map(round6),
            display_end_ts: round6(s.display_end_ts),
            attempt: s.attempt,
            span_id: s.span_id.clone(),
            parent_span_id: s.parent.clone(),
            parent_span_name: parent_name(&s.parent, &s.parent_key),
            lane: depth,
            depth,
            attrs: SpanAttrs {
                start_attrs: s.start_attrs.clone(),
                end_attrs: s.end_attrs.clone(),
            },
        }));
    }
    // Point events first, then orphan ends, each in event order.
    for want in [State::PointEvent, State::OrphanEnd] {
        for (state, ev) in points.iter().filter(|(s, _)| *s == want) {
            let depth = depth_of_parent(&ev.parent_key);
            let p = PointItem {
                state: *state,
                name: ev.name.clone(),
                ts: round6(ev.ts),
                attempt: ev.attempt,
                span_id: if *state == State::PointEvent {
                    J::Null
                } else {
                    ev.span_id.clone()
                },
                parent_span_id: ev.parent.clone(),
                parent_span_name: parent_name(&ev.parent, &ev.parent_key),
                lane: depth,
                depth,
                attrs: ev.attrs.clone(),
            };
            items.push(if want == State::PointEvent {
                Item::Event(p)
            } else {
                Item::OrphanEnd(p)
            });
        }
    }
    add_pd_lanes(&spans[..n_closed], &mut items);

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
        let mut look = |attrs: &J| {
            if let Some(n) = attrs.get("response_length").and_then(response_length) {
                total_len = total_len.saturating_add(n);
                max_len = max_len.max(n);
            }
        };
        for payload in item.attr_payloads() {
            look(payload);
        }
    }
    let get = |k: &str| fields.get_str(k);
    let json_of = |k: &str| get(k).map(|v| to_json(tree, v)).unwrap_or(J::Null);
    let metadata = get("metadata").and_then(|m| tree.as_dict(m));
    let count = |s: State| items.iter().filter(|i| i.state() == s).count();
    let lane_count = 1 + items.iter().map(Item::lane).max().unwrap_or(0);
    let row_attempt = match attempt_of(trace_attempt) {
        Ok(a) => a,
        Err(e) => {
            warn.push(format!("trace {e}; 0 used"));
            0
        }
    };
    Some(Row {
        row_id,
        sample_index: match get("index") {
            Some(v) => to_json(tree, v),
            None => J::from(row_id),
        },
        group_index: json_of("group_index"),
        source: compact_text(infer_source(tree, fields, metadata), 64),
        status: compact_text(json_of("status"), 64),
        label: compact_text(json_of("label"), 256),
        reward: json_of("reward"),
        trace_id: trace_dict
            .get_str("trace_id")
            .map(|v| to_json(tree, v))
            .unwrap_or(J::Null),
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
    })
}

fn response_length(j: &J) -> Option<i64> {
    match j {
        J::Bool(b) => Some(*b as i64),
        J::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    }
}

fn quote_list(ids: &[String]) -> String {
    let shown: Vec<String> = ids.iter().take(3).map(|s| format!("{s:?}")).collect();
    let more = if ids.len() > 3 {
        format!(" and {} more", ids.len() - 3)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

/// `str(name or fallback)`.
fn name_or(name: &J, fallback: &str) -> String {
    if truthy(name) {
        py_str(name)
    } else {
        fallback.into()
    }
}

/// Depth per span id, memoised; the boolean says whether a cycle was met.
fn span_depths(spans: &[Span], by_id: &HashMap<String, usize>) -> (HashMap<String, u32>, bool) {
    let mut cache: HashMap<String, u32> = HashMap::new();
    let mut cyclic = false;
    for s in spans {
        if cache.contains_key(s.key.as_str()) {
            continue;
        }
        // Walk up until a known depth, a root, or a repeat; then assign on the way back,
        // exactly as the recursive reference does (including its result on cycles).
        let mut path: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut cur: String = s.key.clone();
        let base: u32 = loop {
            if let Some(&d) = cache.get(&cur) {
                break d;
            }
            if !seen.insert(cur.clone()) {
                cache.insert(cur, 0);
                cyclic = true;
                break 0;
            }
            let Some(&at) = by_id.get(&cur) else {
                cache.insert(cur, 0);
                break 0;
            };
            let span = &spans[at];
            if truthy(&span.parent) && by_id.contains_key(&span.parent_key) {
                path.push(std::mem::replace(&mut cur, span.parent_key.clone()));
            } else {
                cache.insert(cur, 0);
                break 0;
            }
        };
        let mut d = base;
        for k in path.into_iter().rev() {
            d += 1;
            cache.insert(k, d);
        }
    }
    (cache, cyclic)
}

const PD_ROLES: [(&str, &str, [&str; 5]); 2] = [
    (
        "prefill",
        "P",
        [
            "pd_prefill_bootstrap_queue_duration",
            "pd_prefill_bootstrap_duration",
            "pd_prefill_alloc_wait_duration",
            "pd_prefill_forward_duration",
            "pd_prefill_transfer_queue_duration",
        ],
    ),
    (
        "decode",
        "D",
        [
            "pd_decode_prealloc_duration",
            "pd_decode_bootstrap_duration",
            "pd_decode_alloc_wait_duration",
            "pd_decode_transfer_duration",
            "pd_decode_forward_duration",
        ],
    ),
];

/// 3.5: `[P]`/`[D]` lanes for spans that carry `pd_*` durations flat in their end attrs.
fn add_pd_lanes(closed: &[Span], items: &mut Vec<Item>) {
    let mut next = items.iter().map(|i| i.lane() as i64).max().unwrap_or(-1);
    for s in closed {
        let Some(end) = s.end_ts else { continue };
        if name_or(&s.name, "").starts_with("sglang_pd_") {
            continue;
        }
        let J::Object(end_attrs) = &s.end_attrs else {
            continue;
        };
        for (role, suffix, keys) in PD_ROLES {
            let mut kept = Map::new();
            for k in keys {
                if let Some(v) = end_attrs.get(k) {
                    let positive = match v {
                        J::Number(n) => n.as_f64().is_some_and(|f| f > 0.0),
                        J::Bool(b) => *b,
                        _ => false,
                    };
                    if positive {
                        kept.insert(k.to_string(), v.clone());
                    }
                }
            }
            if kept.is_empty() {
                continue;
            }
            next += 1;
            let name = py_str(&s.name);
            kept.insert(crate::model::PD_VIRTUAL_ROLE.into(), J::String(role.into()));
            kept.insert("timeline_pd_parent_name".into(), s.name.clone());
            kept.insert(
                "timeline_pd_parent_duration".into(),
                float_json(round6((end - s.start_ts).max(0.0))),
            );
            let lane = next.max(0) as u32;
            items.push(Item::Span(SpanItem {
                state: State::ClosedSpan,
                name: J::String(format!("{name} [{suffix}]")),
                start_ts: round6(s.start_ts),
                end_ts: Some(round6(end)),
                display_end_ts: round6(s.display_end_ts),
                attempt: s.attempt,
                span_id: J::String(format!("{}:pd:{role}", py_str(&s.span_id))),
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
}

/// slime's `_infer_source`.
fn infer_source(tree: &Tree, sample: &pt::Dict, metadata: Option<&pt::Dict>) -> J {
    let present = |v: Option<&Value>| match v {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) if s.is_empty() => None,
        Some(v) => Some(to_json(tree, v)),
    };
    if let Some(j) = present(sample.get_str("source")) {
        return j;
    }
    let Some(meta) = metadata else { return J::Null };
    for key in ["source", "source_name"] {
        if let Some(j) = present(meta.get_str(key)) {
            return j;
        }
    }
    for (k, v) in &meta.entries {
        let key = match k {
            Value::Str(s) => s.to_lowercase(),
            other => pt::walk::repr(tree, other, 200).to_lowercase(),
        };
        if key.contains("source") {
            if let Some(j) = present(Some(v)) {
                return j;
            }
        }
    }
    J::Null
}

/// slime's `_compact_text`: long text becomes its first `max` characters plus a marker.
fn compact_text(j: J, max: usize) -> J {
    match j {
        J::String(s) => {
            let n = s.chars().count();
            if n <= max {
                J::String(s)
            } else {
                let head: String = s.chars().take(max).collect();
                J::String(format!("{head}...<truncated:{n}>"))
            }
        }
        other => other,
    }
}

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
mod items;
mod layout;
mod pd;
mod row;

use std::collections::HashMap;

use pt::{NodeId, Tree, Value};
use serde_json::Value as J;

use crate::json::Output;
use crate::model::Row;
use crate::values::dict_of;

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
    /// What one sample's converted values may hold ([`crate::MAX_SAMPLE_HELD`]).
    pub max_sample_held: u64,
    /// JSON text converted for samples then skipped for what they held: not charged to the
    /// output (the file's other samples keep their room), but bounded by the same limit, so
    /// samples that each name one heavy trace cannot make the work unbounded.
    pub discarded: u64,
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
    /// What samples skipped for what they held had converted ([`Budget::discarded`]).
    Discarded,
}

impl Budget {
    pub fn new(limits: &crate::BuildLimits) -> Self {
        Budget {
            out: Output::default(),
            max_bytes: limits.max_output_bytes,
            items: 0,
            max_items: limits.max_file_items,
            max_sample_events: limits.max_sample_events,
            max_sample_held: limits.max_sample_held,
            discarded: 0,
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
    // Built by hand: every span id goes through here, and `format!` costs several times more.
    match j {
        J::String(s) => {
            let mut k = String::with_capacity(1 + s.len());
            k.push('s');
            k.push_str(s);
            k
        }
        // `j` and the compact JSON text (what `Display` writes).
        other => "j".to_string() + &serde_json::to_string(other).unwrap_or_default(),
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
/// Problems go to `warn` as plain sentences (the caller adds the sample index). The steps are
/// the spec's, one function each.
pub fn build_row(
    tree: &Tree,
    sample: &Value,
    row_id: usize,
    budget: &mut Budget,
    warn: &mut Vec<String>,
) -> Result<Option<Row>, Stop> {
    let Some(found) = find_trace(tree, sample, budget, warn)? else {
        return Ok(None);
    };
    let trace_attempt = found.trace.get_str("attempt");
    // 3.1 Normalising events.
    let events = events::normalise(tree, found.events, trace_attempt, budget, warn)?;
    if events.is_empty() {
        return Ok(None);
    }
    let row_end_ts = events
        .iter()
        .map(|e| e.ts)
        .fold(f64::NEG_INFINITY, f64::max);
    // 3.2 Spans, point events and orphan ends.
    let paired = items::pair_events(events, warn);
    // 3.3 and 3.4: depths and the display end of open spans.
    let mut spans = paired.spans;
    let placed = layout::place_spans(&mut spans, paired.n_closed, row_end_ts, warn);
    // 3.5 to 3.6: the items, PD virtual spans last, sorted as slime sorts them.
    let items = items::make_items(
        spans,
        paired.n_closed,
        paired.points,
        paired.orphans,
        &placed,
        budget,
    )?;
    // 3.7 The row.
    row::make_row(tree, &found, row_id, items, budget, warn).map(Some)
}

/// The parts of a sample a row is built from.
struct Found<'a> {
    /// The sample's fields.
    fields: &'a pt::Dict,
    /// Its `trace` dict.
    trace: &'a pt::Dict,
    /// `trace["events"]`, charged to the budget.
    events: &'a [Value],
}

/// The sample's fields, trace and events, or `None` (with a warning when the shape is wrong)
/// when it has no trace to show; the events are charged to the file's event limit here,
/// before any is visited: the sample that would pass it is not read at all.
fn find_trace<'a>(
    tree: &'a Tree,
    sample: &Value,
    budget: &mut Budget,
    warn: &mut Vec<String>,
) -> Result<Option<Found<'a>>, Stop> {
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
    let raw_events: &'a [Value] = match trace_dict.get_str("events") {
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
    Ok(Some(Found {
        fields,
        trace: trace_dict,
        events: raw_events,
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

//! 3.1 Normalising events: which trace events are kept, what each one records, and slime's
//! stack of open span ids that gives an event its inferred parent.

use pt::{Tree, Value};
use serde_json::{Map, Value as J};

use super::{json_len, key_of, Budget, Stop};
use crate::json::{key_json_counted, to_json_counted, truthy, Output};
use crate::values::dict_of;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Start,
    End,
    Other,
}

pub(super) struct Event {
    pub ts: f64,
    pub kind: Kind,
    pub name: J,
    pub attempt: i64,
    pub span_id: J,
    /// `key_of(span_id)` when the id is truthy (else empty): computed once.
    pub span_key: String,
    /// Explicit parent if truthy, else the innermost open span id when it arrived.
    pub parent: J,
    /// `key_of(parent)`, computed once: every later lookup by parent uses it.
    pub parent_key: String,
    pub attrs: J,
}

/// Why an event was skipped, counted per sample.
#[derive(Default)]
struct Skipped {
    not_dict: usize,
    no_ts: usize,
    bad_ts: usize,
    long_ts: usize,
    non_finite: usize,
}

impl Skipped {
    /// An event's finite time, or `None` with the reason counted.
    fn ts_of(&mut self, ts: Option<&Value>) -> Option<f64> {
        let count = match ts {
            None | Some(Value::None) => &mut self.no_ts,
            Some(v) => match timestamp(v) {
                Ok(t) if t.is_finite() => return Some(t),
                Ok(_) => &mut self.non_finite,
                Err(BadTs::NotANumber) => &mut self.bad_ts,
                Err(BadTs::TooLong) => &mut self.long_ts,
            },
        };
        *count += 1;
        None
    }

    /// One warning for the events skipped of `raw` (none if none was), saying that no row
    /// is made when `none_kept`.
    fn warning(&self, raw: usize, none_kept: bool) -> Option<String> {
        let total = self.not_dict + self.no_ts + self.bad_ts + self.long_ts + self.non_finite;
        if total == 0 {
            return None;
        }
        let long_ts = format!("ts a text over {MAX_NUMBER_TEXT} bytes");
        let why: Vec<String> = [
            (self.not_dict, "not a dict"),
            (self.no_ts, "no ts"),
            (self.bad_ts, "ts not a number"),
            (self.long_ts, long_ts.as_str()),
            (self.non_finite, "ts not finite"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let tail = if none_kept {
            "; no usable events, no row"
        } else {
            ""
        };
        Some(format!(
            "skipped {total} of {raw} trace events ({}){tail}",
            why.join(", ")
        ))
    }
}

/// slime's stack of span ids: a start with an id pushes it; an end with an id removes the
/// innermost equal entry. Removal is O(1): each live entry links to the next-outer live entry
/// with the same key, the map holds the innermost one, a removed entry becomes a hole, and
/// holes are dropped once they reach the top. A linear search from the top would make ends
/// in start order (FIFO) quadratic.
struct SpanStack {
    /// (id, what it holds in memory, position of the next-outer live entry with the same key).
    entries: Vec<Option<(J, u64, Option<usize>)>>,
    innermost: pt::hashing::HashMap<String, usize>,
}

impl Default for SpanStack {
    fn default() -> Self {
        SpanStack {
            entries: Vec::new(),
            innermost: pt::hashing::map(0),
        }
    }
}

impl SpanStack {
    fn push(&mut self, key: &str, id: &J, held: u64) {
        let at = self.entries.len();
        let outer = match self.innermost.get_mut(key) {
            Some(slot) => Some(std::mem::replace(slot, at)),
            None => {
                self.innermost.insert(key.to_string(), at);
                None
            }
        };
        self.entries.push(Some((id.clone(), held, outer)));
    }

    fn remove(&mut self, key: &str) {
        let Some(&at) = self.innermost.get(key) else {
            return;
        };
        let outer = self
            .entries
            .get_mut(at)
            .and_then(Option::take)
            .and_then(|e| e.2);
        match (outer, self.innermost.get_mut(key)) {
            (Some(o), Some(slot)) => *slot = o,
            _ => {
                self.innermost.remove(key);
            }
        }
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
    }

    /// The innermost live id (holes never stay on top) and what it holds in memory.
    fn top(&self) -> (J, u64) {
        match self.entries.last() {
            Some(Some((id, held, _))) => (id.clone(), *held),
            _ => (J::Null, 0),
        }
    }
}

/// Longest text read as a number (a `ts` or an `attempt` given as text). A shared value is
/// met once per event that names it: parsing a 1 MiB digit string for each of 4 000 events
/// took 79 s. Honest texts are a float's or an int's repr (≤ 24 characters); slime's
/// `float(ts)` would accept longer ones only as padding, underscores or absurd precision.
pub const MAX_NUMBER_TEXT: usize = 100;

/// An int whose decimal text is longer than this (sign included) is past `f64::MAX`
/// (309 digits): Python's `float()` raises OverflowError, and here it is not finite.
const MAX_FLOAT_INT_TEXT: usize = 312;

/// Why a `ts` gives no time.
#[derive(Debug, PartialEq)]
enum BadTs {
    NotANumber,
    TooLong,
}

/// Python `float(ts)` for the kinds of value a `ts` can hold; texts over
/// [`MAX_NUMBER_TEXT`] are refused unread.
fn timestamp(v: &Value) -> Result<f64, BadTs> {
    let text = |s: &str| {
        if s.len() > MAX_NUMBER_TEXT {
            return Err(BadTs::TooLong);
        }
        pt::pickle::parse_py_float(s).ok_or(BadTs::NotANumber)
    };
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as u8 as f64),
        Value::BigInt(s) if s.len() > MAX_FLOAT_INT_TEXT => Ok(f64::INFINITY),
        Value::BigInt(s) => s.parse::<f64>().map_err(|_| BadTs::NotANumber),
        Value::Str(s) => text(s),
        Value::Bytes(b) if b.len() > MAX_NUMBER_TEXT => Err(BadTs::TooLong),
        Value::Bytes(b) => std::str::from_utf8(b)
            .map_err(|_| BadTs::NotANumber)
            .and_then(text),
        _ => Err(BadTs::NotANumber),
    }
}

/// Python `int(v or 0)` for an attempt number; texts over [`MAX_NUMBER_TEXT`] are refused
/// unread.
pub(super) fn attempt_of(v: Option<&Value>) -> Result<i64, String> {
    let v = match v {
        None | Some(Value::None) => return Ok(0),
        Some(v) => v,
    };
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
        Value::Str(s) if s.is_empty() => Ok(0),
        Value::Str(s) if s.len() > MAX_NUMBER_TEXT => Err(format!(
            "attempt is a text of {} bytes, longer than the limit of {MAX_NUMBER_TEXT}",
            s.len()
        )),
        Value::Str(s) => s.trim().replace('_', "").parse::<i64>().map_err(|_| {
            let shown: String = s.chars().take(40).collect();
            format!("attempt {shown:?} is not an integer")
        }),
        Value::Float(f) => Err(format!("attempt {f} is not finite")),
        _ => Err("attempt is not an integer".into()),
    }
}

/// The fields of an event dict that 3.1 reads, found in one pass over its entries (a dict's
/// keys are distinct, so each is what `get_str` would give).
#[derive(Default)]
struct Fields<'a> {
    kind: Option<&'a Value>,
    name: Option<&'a Value>,
    ts: Option<&'a Value>,
    attempt: Option<&'a Value>,
    span_id: Option<&'a Value>,
    parent_span_id: Option<&'a Value>,
    attrs: Option<&'a Value>,
}

impl<'a> Fields<'a> {
    fn of(ev: &'a pt::Dict) -> Self {
        // A large dict is looked up by key (its index): a sample can name one event with a
        // million keys a million times, and a pass over it each time would be quadratic.
        if ev.has_index() {
            return Fields {
                kind: ev.get_str("type"),
                name: ev.get_str("name"),
                ts: ev.get_str("ts"),
                attempt: ev.get_str("attempt"),
                span_id: ev.get_str("span_id"),
                parent_span_id: ev.get_str("parent_span_id"),
                attrs: ev.get_str("attrs"),
            };
        }
        let mut f = Fields::default();
        for (k, v) in &ev.entries {
            let Value::Str(k) = k else { continue };
            let slot = match &**k {
                "type" => &mut f.kind,
                "name" => &mut f.name,
                "ts" => &mut f.ts,
                "attempt" => &mut f.attempt,
                "span_id" => &mut f.span_id,
                "parent_span_id" => &mut f.parent_span_id,
                "attrs" => &mut f.attrs,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }
}

/// Keeps the events of one trace (3.1). `Err(Stop)` when the build's output budget runs out
/// part way.
pub(super) fn normalise(
    tree: &Tree,
    raw_events: &[Value],
    trace_attempt: Option<&Value>,
    budget: &mut Budget,
    warn: &mut Vec<String>,
) -> Result<Vec<Event>, Stop> {
    let mut skipped = Skipped::default();
    // Buffers grow with the events kept, never from the raw count: a sample can name one
    // skipped event a million times.
    let mut events: Vec<Event> = Vec::new();
    let mut stack = SpanStack::default();
    let mut name_problems = 0usize;
    // Counted, with the first one's text: one message per event would be as many strings.
    let mut attempt_problems = 0usize;
    let mut first_attempt_problem: Option<String> = None;
    // The trace's own attempt stands for every event without one: read it once.
    let trace_attempt = attempt_of(trace_attempt);
    let before = budget.out;
    let mut most_name_held = 0u64;
    for raw in raw_events {
        let Some(ev) = dict_of(tree, raw).filter(|_| tree.class_of(raw).is_none()) else {
            skipped.not_dict += 1;
            continue;
        };
        let ev = Fields::of(ev);
        let Some(ts) = skipped.ts_of(ev.ts) else {
            continue;
        };
        // Names and ids are copied into other items and events: converted within less.
        // Gives the value and what it holds in memory (`Output::held`).
        let get = |v: Option<&Value>, out: &mut Output| {
            let held = out.held;
            let j = v.map(|v| key_json_counted(tree, v, out)).unwrap_or(J::Null);
            (j, out.held - held)
        };
        let kind = match ev.kind.and_then(Value::as_str) {
            Some("span_start") => Kind::Start,
            Some("span_end") => Kind::End,
            _ => Kind::Other,
        };
        let (name, name_held) = get(ev.name, &mut budget.out);
        most_name_held = most_name_held.max(name_held);
        if !name.is_string() {
            name_problems += 1;
        }
        let own;
        let attempt = match ev.attempt {
            Some(v) => {
                own = attempt_of(Some(v));
                &own
            }
            None => &trace_attempt,
        };
        let attempt = match attempt {
            Ok(a) => *a,
            Err(e) => {
                attempt_problems += 1;
                if first_attempt_problem.is_none() {
                    first_attempt_problem = Some(e.clone());
                }
                0
            }
        };
        let (span_id, span_id_held) = get(ev.span_id, &mut budget.out);
        let (explicit, explicit_held) = get(ev.parent_span_id, &mut budget.out);
        let attrs = ev
            .attrs
            .map(|v| to_json_counted(tree, v, &mut budget.out))
            .unwrap_or(J::Null);
        let attrs = if truthy(&attrs) {
            attrs
        } else {
            J::Object(Map::new())
        };
        let (parent, parent_held) = if truthy(&explicit) {
            (explicit, explicit_held)
        } else {
            // A copy of the open span's id, held by this event and written in its item's
            // `parent_span_id`: charged again, to memory and to the output.
            let (id, held) = stack.top();
            budget.out.held += held;
            budget.out.bytes += json_len(&id) as u64;
            (id, held)
        };
        // The keys below copy the id and the parent's text once more.
        budget.out.held += span_id_held + parent_held;
        let span_key = if truthy(&span_id) {
            key_of(&span_id)
        } else {
            String::new()
        };
        match kind {
            Kind::Start if !span_key.is_empty() => stack.push(&span_key, &span_id, span_id_held),
            Kind::End if !span_key.is_empty() => stack.remove(&span_key),
            _ => {}
        }
        let parent_key = key_of(&parent);
        events.push(Event {
            ts,
            kind,
            name,
            attempt,
            span_id,
            span_key,
            parent,
            parent_key,
            attrs,
        });
        // Each item copies its parent's name later: charged as the largest name once per
        // event. An estimate, not a bound: a span's [P]/[D] items copy its name up to four
        // times, while `HELD_PER_VALUE` is about twice what a small value really takes.
        // (Before the output check: a sample past both is skipped, and the samples after it
        // stay.)
        let held =
            budget.out.held - before.held + (events.len() as u64).saturating_mul(most_name_held);
        if held > budget.max_sample_held {
            // Nothing of this sample is kept: what it charged to the file's output goes back,
            // and counts as work discarded, under the same limit.
            let converted = budget.out.bytes - before.bytes;
            budget.out = before;
            budget.discarded = budget.discarded.saturating_add(converted);
            if budget.discarded > budget.max_bytes {
                return Err(Stop::Discarded);
            }
            warn.push(format!(
                "its trace events' values would take more than {} MiB of memory (the limit \
                 per sample) after {} of its {} events; skipped",
                budget.max_sample_held >> 20,
                events.len(),
                raw_events.len()
            ));
            return Ok(Vec::new());
        }
        budget.check_bytes()?;
    }
    if let Some(w) = skipped.warning(raw_events.len(), events.is_empty()) {
        warn.push(w);
    }
    if name_problems > 0 {
        warn.push(format!(
            "{name_problems} trace events have a name that is not a string"
        ));
    }
    if let Some(first) = first_attempt_problem {
        warn.push(format!(
            "{attempt_problems} trace events have a bad attempt ({first}); 0 used"
        ));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_texts_are_read_up_to_the_limit() {
        let s = |t: String| Value::Str(t.into());
        // Padding is what Python's float() accepts beyond a repr: kept up to the limit.
        let padded = format!("{:>width$}", "1.5", width = MAX_NUMBER_TEXT);
        assert_eq!(timestamp(&s(padded)), Ok(1.5));
        let longer = format!("{:>width$}", "1.5", width = MAX_NUMBER_TEXT + 1);
        assert_eq!(timestamp(&s(longer.clone())), Err(BadTs::TooLong));
        assert_eq!(
            timestamp(&Value::Bytes(longer.clone().into_bytes().into())),
            Err(BadTs::TooLong)
        );
        // An int past f64::MAX is not finite, as float() overflows on it.
        let digits = |n: usize| Value::BigInt("9".repeat(n).into());
        assert_eq!(timestamp(&digits(300)), Ok(1e300));
        assert_eq!(timestamp(&digits(309)).map(f64::is_finite), Ok(false));
        assert_eq!(timestamp(&digits(1 << 20)), Ok(f64::INFINITY));
        assert_eq!(attempt_of(Some(&s(format!("{:>99}", "3")))), Ok(3));
        assert!(attempt_of(Some(&s(format!("{:>101}", "3"))))
            .unwrap_err()
            .contains("longer than the limit of 100"));
    }

    #[test]
    fn the_stack_removes_the_innermost_equal_entry() {
        let mut s = SpanStack::default();
        let j = |x: &str| J::String(x.into());
        for id in ["a", "b", "a", "c"] {
            s.push(&key_of(&j(id)), &j(id), id.len() as u64);
        }
        s.remove(&key_of(&j("a"))); // the inner "a" (third entry) goes
        assert_eq!(s.top(), (j("c"), 1));
        s.remove(&key_of(&j("c")));
        assert_eq!(
            s.top(),
            (j("b"), 1),
            "the hole left by the inner a is skipped"
        );
        s.remove(&key_of(&j("zzz"))); // not on the stack: nothing happens
        assert_eq!(s.top(), (j("b"), 1));
        s.remove(&key_of(&j("b")));
        assert_eq!(s.top(), (j("a"), 1));
        s.remove(&key_of(&j("a")));
        assert_eq!(s.top(), (J::Null, 0));
    }
}

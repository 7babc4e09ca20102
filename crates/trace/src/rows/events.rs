//! 3.1 Normalising events: which trace events are kept, what each one records, and slime's
//! stack of open span ids that gives an event its inferred parent.

use std::collections::HashMap;

use pt::{Tree, Value};
use serde_json::{Map, Value as J};

use super::{key_of, Budget, Stop};
use crate::json::{to_json_counted, truthy};
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
    non_finite: usize,
}

/// slime's stack of span ids: a start with an id pushes it; an end with an id removes the
/// innermost equal entry. Removal is O(1): each live entry links to the next-outer live entry
/// with the same key, the map holds the innermost one, a removed entry becomes a hole, and
/// holes are dropped once they reach the top. A linear search from the top would make ends
/// in start order (FIFO) quadratic.
#[derive(Default)]
struct SpanStack {
    /// (id, position of the next-outer live entry with the same key).
    entries: Vec<Option<(J, Option<usize>)>>,
    innermost: HashMap<String, usize>,
}

impl SpanStack {
    fn push(&mut self, key: &str, id: &J) {
        let at = self.entries.len();
        let outer = match self.innermost.get_mut(key) {
            Some(slot) => Some(std::mem::replace(slot, at)),
            None => {
                self.innermost.insert(key.to_string(), at);
                None
            }
        };
        self.entries.push(Some((id.clone(), outer)));
    }

    fn remove(&mut self, key: &str) {
        let Some(&at) = self.innermost.get(key) else {
            return;
        };
        let outer = self
            .entries
            .get_mut(at)
            .and_then(Option::take)
            .and_then(|e| e.1);
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

    /// The innermost live id (holes never stay on top).
    fn top(&self) -> J {
        match self.entries.last() {
            Some(Some((id, _))) => id.clone(),
            _ => J::Null,
        }
    }
}

/// Python `float(ts)` for the kinds of value a `ts` can hold.
fn timestamp(v: &Value) -> Result<f64, &'static str> {
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
        _ => Err("not a number"),
    }
}

/// Python `int(v or 0)` for an attempt number.
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
        Value::Str(s) => s.trim().replace('_', "").parse::<i64>().map_err(|_| {
            let shown: String = s.chars().take(40).collect();
            format!("attempt {shown:?} is not an integer")
        }),
        Value::Float(f) => Err(format!("attempt {f} is not finite")),
        _ => Err("attempt is not an integer".into()),
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
    let mut events: Vec<Event> = Vec::with_capacity(raw_events.len());
    let mut stack = SpanStack {
        entries: Vec::new(),
        innermost: HashMap::with_capacity(raw_events.len() / 2),
    };
    let mut name_problems = 0usize;
    let mut attempt_problems: Vec<String> = Vec::new();
    for raw in raw_events {
        let Some(ev) = dict_of(tree, raw).filter(|_| tree.class_of(raw).is_none()) else {
            skipped.not_dict += 1;
            continue;
        };
        let ts = match ev.get_str("ts") {
            None | Some(Value::None) => {
                skipped.no_ts += 1;
                continue;
            }
            Some(v) => match timestamp(v) {
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
        let mut get = |k: &str| {
            ev.get_str(k)
                .map(|v| to_json_counted(tree, v, &mut budget.out))
                .unwrap_or(J::Null)
        };
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
        let attrs = get("attrs");
        let attrs = if truthy(&attrs) {
            attrs
        } else {
            J::Object(Map::new())
        };
        let parent = if truthy(&explicit) {
            explicit
        } else {
            stack.top()
        };
        let span_key = if truthy(&span_id) {
            key_of(&span_id)
        } else {
            String::new()
        };
        match kind {
            Kind::Start if !span_key.is_empty() => stack.push(&span_key, &span_id),
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
        budget.check_bytes()?;
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
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_removes_the_innermost_equal_entry() {
        let mut s = SpanStack::default();
        let j = |x: &str| J::String(x.into());
        for id in ["a", "b", "a", "c"] {
            s.push(&key_of(&j(id)), &j(id));
        }
        s.remove(&key_of(&j("a"))); // the inner "a" (third entry) goes
        assert_eq!(s.top(), j("c"));
        s.remove(&key_of(&j("c")));
        assert_eq!(s.top(), j("b"), "the hole left by the inner a is skipped");
        s.remove(&key_of(&j("zzz"))); // not on the stack: nothing happens
        assert_eq!(s.top(), j("b"));
        s.remove(&key_of(&j("b")));
        assert_eq!(s.top(), j("a"));
        s.remove(&key_of(&j("a")));
        assert_eq!(s.top(), J::Null);
    }
}

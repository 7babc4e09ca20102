//! One line of a verl generation log → its [`SampleRow`] (and, for the open step, its
//! [`SampleDetail`]).
//!
//! verl's `_write_generations` writes `input`, `output`, `gts`, `score`, `step` and every
//! `reward_extra_infos` list of the batch's length (`acc`, `pred`, `uid`, `request_id`, …),
//! through `json.dumps(…, default=str)`. In a row: `score` is the reward (a number, or a bool as
//! 0/1), `gts` the label, `uid` the group, and every other key a reward field (one column of the
//! step table each). What verl does not record (tokens, status, timings, train-side fields)
//! stays `None`, never 0.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value as J};
use sha2::{Digest, Sha256};

use super::super::sample::{cut, fnv, has_repetition, hex, max_line_chars};
use super::super::{Prompt, SampleDetail, SampleRow, MAX_TEXT_CHARS};

/// The keys every line has (the rest are `reward_extra_infos`).
pub const BASE_KEYS: [&str; 5] = ["input", "output", "gts", "score", "step"];

/// Most extra keys kept per line as reward fields (the row's limit).
const MAX_FIELDS: usize = 32;

/// Longest text kept in a reward field or a group id.
const FIELD_CHARS: usize = 200;

/// A line as its keys and their values' JSON text, borrowed from the line: nothing is built
/// for a value until it is read ([`value`]). Keys in order, a repeated key's last value (as a
/// `serde_json` map). Only the base keys, `uid` and the first [`MAX_FIELDS`] other keys (by
/// name, the ones a row shows) are kept; the other keys' values are skipped unread and counted
/// (a line of a million keys costs its keys one at a time, not a map of them).
#[derive(Default)]
pub struct RawLine<'a> {
    pub kept: BTreeMap<String, &'a RawValue>,
    /// Extra keys past the [`MAX_FIELDS`] kept.
    pub skipped: usize,
}

fn is_base(key: &str) -> bool {
    BASE_KEYS.contains(&key) || key == "uid"
}

impl<'de> Deserialize<'de> for RawLine<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawLine<'de>, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = RawLine<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<RawLine<'de>, M::Error> {
                let mut line = RawLine::default();
                let mut extras = 0usize;
                while let Some(key) = m.next_key::<String>()? {
                    if is_base(&key) || line.kept.contains_key(&key) {
                        line.kept.insert(key, m.next_value()?);
                        continue;
                    }
                    if extras < MAX_FIELDS {
                        extras += 1;
                        line.kept.insert(key, m.next_value()?);
                        continue;
                    }
                    line.skipped += 1;
                    // Kept are the first keys by name: a smaller one takes the largest's place.
                    let largest = line.kept.keys().rev().find(|k| !is_base(k)).cloned();
                    match largest {
                        Some(l) if key < l => {
                            line.kept.remove(&l);
                            line.kept.insert(key, m.next_value()?);
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(line)
            }
        }
        d.deserialize_map(Keys)
    }
}

/// Longest JSON text of a list or object built as a value; a longer one is a short note
/// ([`value`]), never a value tree (a 60 MB `[0,0,…]` would be 1 GB of values).
const MAX_BUILT_BYTES: usize = 64 << 10;

/// A line's kept values ([`value`] each), or the first that cannot be one (a number out of
/// range), as a problem naming its key.
pub fn values(raw: BTreeMap<String, &RawValue>) -> Result<Map<String, J>, String> {
    raw.into_iter()
        .map(|(k, v)| match value(v) {
            Ok(v) => Ok((k, v)),
            Err(e) => {
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                Err(format!(
                    "the value of {:?} cannot be read ({msg})",
                    cut(&k, 40)
                ))
            }
        })
        .collect()
}

/// A raw value as a value: a list or object longer than [`MAX_BUILT_BYTES`] as a note saying
/// what it is and its size.
fn value(raw: &RawValue) -> Result<J, serde_json::Error> {
    let text = raw.get();
    let what = match text.as_bytes().first() {
        Some(b'[') => "a list",
        Some(b'{') => "an object",
        _ => "",
    };
    if !what.is_empty() && text.len() > MAX_BUILT_BYTES {
        return Ok(J::String(format!(
            "<{what} of {} bytes, not read>",
            text.len()
        )));
    }
    serde_json::from_str(text)
}

/// A group id as a short text: a longer uid is cut, with a hash of the whole of it so that
/// two uids alike in their first characters stay two groups.
fn group_id(v: &J) -> J {
    let whole = match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    };
    if whole.chars().nth(FIELD_CHARS).is_none() {
        return small(v);
    }
    J::String(format!(
        "{}…#{:016x}",
        whole.chars().take(FIELD_CHARS).collect::<String>(),
        fnv(whole.as_bytes())
    ))
}

/// One line read: its row, its detail when asked for, the `step` it names, and what was wrong
/// with it (one line each, the line number added by the caller).
pub struct LineSample {
    pub row: SampleRow,
    pub detail: Option<SampleDetail>,
    pub step: Option<i64>,
    pub problems: Vec<String>,
}

/// `score` as a reward: a finite number, or a bool as 0/1.
fn score_of(v: &J) -> Result<Option<f64>, String> {
    match v {
        J::Null => Ok(None),
        J::Bool(b) => Ok(Some(f64::from(u8::from(*b)))),
        J::Number(n) => match n.as_f64().filter(|x| x.is_finite()) {
            Some(x) => Ok(Some(x)),
            None => Err(format!("score {n} is not a finite number")),
        },
        J::String(s) => Err(format!(
            "score is a string ({:?}), not a number",
            cut(s, 40)
        )),
        other => Err(format!("score is {}, not a number", kind(other))),
    }
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a bool",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}

/// A value as a short table cell: text cut to [`FIELD_CHARS`], containers as their JSON.
fn small(v: &J) -> J {
    match v {
        J::String(s) => J::String(cut(s, FIELD_CHARS)),
        J::Array(_) | J::Object(_) => J::String(cut(&v.to_string(), FIELD_CHARS)),
        other => other.clone(),
    }
}

fn text(v: Option<&J>) -> &str {
    v.and_then(J::as_str).unwrap_or("")
}

/// Reads one parsed line (`position`: its place among the file's samples; `skipped`: its extra
/// keys past those kept, [`RawLine::skipped`]).
pub fn read_line(
    mut obj: Map<String, J>,
    skipped: usize,
    position: usize,
    detail: bool,
) -> LineSample {
    let mut problems = Vec::new();
    let mut row = SampleRow {
        position,
        index: J::Null,
        group_index: J::Null,
        ..SampleRow::default()
    };
    row.reward = match obj.get("score").map(score_of) {
        None => {
            problems.push("no score".into());
            None
        }
        Some(Ok(x)) => x,
        Some(Err(e)) => {
            problems.push(e);
            None
        }
    };
    let step = obj.get("step").and_then(J::as_i64);
    let input = obj.get("input");
    if input.is_some_and(|v| !v.is_string()) {
        problems.push("input is not text".into());
    }
    let prompt_text = text(input);
    row.prompt_chars = prompt_text.chars().count();
    row.prompt_hash = fnv(prompt_text.as_bytes());
    let response = text(obj.get("output"));
    row.response_chars = response.chars().count();
    row.response_max_line_chars = max_line_chars(response);
    row.response_sha256 = hex(&Sha256::digest(response.as_bytes()));
    row.repetition = has_repetition(response);
    row.label = obj.get("gts").map_or(J::Null, |v| match v {
        J::String(s) => J::String(cut(s, 4096)),
        other => small(other),
    });
    if let Some(uid) = obj.get("uid").filter(|v| !v.is_null()) {
        row.group_index = group_id(uid);
    }
    let extra: Vec<(&String, &J)> = obj
        .iter()
        .filter(|(k, _)| !BASE_KEYS.contains(&k.as_str()))
        .collect();
    for (k, v) in extra.iter().take(MAX_FIELDS) {
        row.reward_fields.push((cut(k, FIELD_CHARS), small(v)));
    }
    let more = extra.len().saturating_sub(MAX_FIELDS) + skipped;
    if more > 0 {
        problems.push(format!(
            "{more} more extra keys than the {MAX_FIELDS} shown"
        ));
    }
    let detail = detail.then(|| {
        let prompt = match obj.remove("input") {
            Some(J::String(s)) => Prompt::Text(cut(&s, MAX_TEXT_CHARS)),
            Some(other) => Prompt::Other(other),
            None => Prompt::Other(J::Null),
        };
        let response = match obj.remove("output") {
            Some(J::String(s)) if s.chars().nth(MAX_TEXT_CHARS).is_none() => s,
            Some(J::String(s)) => cut(&s, MAX_TEXT_CHARS),
            _ => String::new(),
        };
        let reward = obj.remove("score").unwrap_or(J::Null);
        let label = obj.remove("gts").unwrap_or(J::Null);
        obj.remove("step");
        SampleDetail {
            row: row.clone(),
            prompt,
            response,
            label,
            reward,
            metadata: J::Object(obj),
            ..SampleDetail::default()
        }
    });
    LineSample {
        row,
        detail,
        step,
        problems,
    }
}

//! One sample of a run's dump → its table line ([`SampleRow`]), what its trace events add to
//! the rollout's metrics ([`SampleEvents`]), and, for the open step, its [`SampleDetail`].
//!
//! Semantics follow slime's `Sample` and metric functions: `effective_response_length` is
//! `sum(loss_mask)` when there is a loss mask; a dict reward counts as its `score` (slime's
//! `reward_key`); `has_repetition` is "more than 10 000 characters and the last 10 000
//! compress (zlib, level 9) more than tenfold"; request metrics read the attrs of every
//! `span_end` named `sglang_generate` (int or float, not bool, finite).

use std::io::Write;

use pt::{Node, Tree, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use sha2::{Digest, Sha256};

use super::{SampleDetail, SampleRow, MAX_TEXT_CHARS};
use crate::json::to_json;
use crate::sglang::REQUEST_PERF_FIELDS;
use crate::values::dict_of;

/// A prompt: slime's `prompt` is a string or a list of chat messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Prompt {
    Text(String),
    Messages(Vec<Message>),
    /// Anything else, as JSON.
    Other(J),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::Other(J::Null)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    /// The content when it is a string; else its JSON.
    pub content: J,
}

/// Chat messages of one prompt read (a real conversation has far fewer).
const MAX_MESSAGES: usize = 10_000;

/// Trace events one sample may have visited here (as the timeline's per-sample limit).
const MAX_EVENTS: usize = crate::MAX_SAMPLE_EVENTS;

/// What a sample's trace events add to its rollout.
#[derive(Debug, Clone, Default)]
pub struct SampleEvents {
    /// Earliest `span_start` and latest `span_end` timestamp.
    pub first_start: Option<f64>,
    pub last_end: Option<f64>,
    /// Per [`crate::sglang::REQUEST_PERF_FIELDS`] entry, the values of this sample's requests.
    pub request_values: Vec<Vec<f64>>,
}

/// `metadata` keys that name a sample's eval dataset, first found wins.
pub const DATASET_KEYS: [&str; 3] = ["eval_dataset", "dataset", "dataset_name"];

/// A number as slime's metrics take it: int or float (bool too, as numpy would), finite.
pub(crate) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(x) => Some(*x as f64),
        Value::Float(x) if x.is_finite() => Some(*x),
        Value::Bool(b) => Some(*b as u8 as f64),
        _ => None,
    }
}

/// Short JSON for an index-like value.
fn small_json(tree: &Tree, v: &Value) -> J {
    match v {
        Value::None => J::Null,
        Value::Int(x) => J::from(*x),
        Value::Bool(b) => J::Bool(*b),
        Value::Float(f) => crate::json::float_json(*f),
        Value::Str(s) => J::String(cut(s, 200)),
        _ => J::String(pt::walk::repr(tree, v, 200)),
    }
}

/// `s` cut to `max` characters, with a visible note saying how many more there were.
pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => {
            let more = s[at..].chars().count();
            format!("{}…<cut: {more} more characters>", &s[..at])
        }
    }
}

/// The key of a dict reward that slime's metrics use (`args.reward_key`): `score`, else
/// `reward`, else the first numeric entry.
fn reward_key(d: &pt::Dict) -> Option<(String, f64)> {
    for k in ["score", "reward"] {
        if let Some(x) = d.get_str(k).and_then(num) {
            return Some((k.to_string(), x));
        }
    }
    d.entries.iter().find_map(|(k, v)| {
        let k = k.as_str()?;
        num(v).map(|x| (k.to_string(), x))
    })
}

/// slime's `has_repetition`: over 10 000 characters and the last 10 000 compress more than
/// tenfold with zlib at level 9.
pub fn has_repetition(text: &str) -> bool {
    let Some((at, _)) = text.char_indices().rev().nth(9_999) else {
        return false;
    };
    if at == 0 {
        // Exactly 10 000 characters: Python's `len(text) > 10000` is false.
        return false;
    }
    let tail = &text.as_bytes()[at..];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(9));
    if z.write_all(tail).is_err() {
        return false;
    }
    match z.finish() {
        Ok(c) if !c.is_empty() => tail.len() as f64 / c.len() as f64 > 10.0,
        _ => false,
    }
}

/// Characters in the longest line (`text.split("\n")`).
pub(crate) fn max_line_chars(text: &str) -> usize {
    text.split('\n')
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
}

/// A numeric list's sum (an elided list keeps its sum), or `None` if `v` is not a list.
fn list_sum(tree: &Tree, v: &Value) -> Option<f64> {
    match tree.node_of(v)? {
        Node::ElidedList { sum, .. } => Some(*sum),
        Node::List(items) | Node::Tuple(items) => Some(items.iter().filter_map(num).sum()),
        _ => None,
    }
}

/// The work a scan may still do, in bytes of text read (events count 64, list items 8).
///
/// A sample's cost follows its values, and a crafted pickle can name one large response, one
/// event list or one token list from every sample (each reference costs it a few bytes), so
/// a scan's work is bounded by its input: [`Allowance::for_input`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowance {
    pub spent: u64,
    pub limit: u64,
}

impl Allowance {
    /// 64 units of work per byte of input plus 64 MiB: an honest dump reads each value once
    /// (≈ 1 unit per byte).
    pub fn for_input(bytes: u64) -> u64 {
        bytes.saturating_mul(64).saturating_add(64 << 20)
    }
}

/// What reading sample `s` in full costs (see [`Allowance`]).
fn cost(tree: &Tree, d: &pt::Dict, detail: bool) -> u64 {
    let len = |k: &str| -> u64 {
        match d.get_str(k) {
            Some(Value::Str(s)) => s.len() as u64,
            Some(v) => match tree.node_of(v) {
                Some(Node::List(x) | Node::Tuple(x)) => 8 * x.len() as u64,
                _ => 0,
            },
            None => 0,
        }
    };
    let prompt = match d.get_str("prompt").and_then(|p| tree.as_seq(p)) {
        Some(items) => items
            .iter()
            .take(MAX_MESSAGES)
            .map(|m| {
                16 + dict_of(tree, m)
                    .and_then(|m| m.get_str("content"))
                    .and_then(Value::as_str)
                    .map_or(0, |c| c.len() as u64)
            })
            .sum(),
        None => len("prompt"),
    };
    let events = d
        .get_str("trace")
        .and_then(|t| dict_of(tree, t))
        .and_then(|t| t.get_str("events"))
        .and_then(|e| tree.as_seq(e))
        .map_or(0, |e| 64 * e.len().min(MAX_EVENTS) as u64);
    let mut c = 1024 + len("response") + prompt + events;
    if detail {
        // The JSON of label, reward and metadata is at most 64 KiB each.
        c += len("tokens") + len("loss_mask") + len("rollout_log_probs") + (3 << 16);
    }
    c
}

/// Sample `position` → its table line and what its events add. `detail`: also build the
/// whole [`SampleDetail`] (the value tree must then hold the token lists, not elided). A
/// sample that would pass `allow` gives only its cheap fields (index, status, reward,
/// lengths) and `false`.
pub fn read_sample(
    tree: &Tree,
    s: &Value,
    position: usize,
    detail: bool,
    allow: &mut Allowance,
) -> (SampleRow, SampleEvents, Option<SampleDetail>, bool) {
    let mut row = SampleRow {
        position,
        index: J::Null,
        group_index: J::Null,
        label: J::Null,
        ..SampleRow::default()
    };
    let mut ev = SampleEvents {
        request_values: vec![Vec::new(); REQUEST_PERF_FIELDS.len()],
        ..SampleEvents::default()
    };
    let Some(d) = dict_of(tree, s) else {
        return (row, ev, detail.then(SampleDetail::default), true);
    };
    let get = |k: &str| d.get_str(k);
    let c = cost(tree, d, detail);
    let within = allow.spent.saturating_add(c) <= allow.limit;
    if within {
        allow.spent += c;
    }
    row.index = get("index").map_or(J::Null, |v| small_json(tree, v));
    row.group_index = get("group_index").map_or(J::Null, |v| small_json(tree, v));
    row.status = get("status")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(64).collect());
    read_reward(tree, get("reward"), &mut row);
    row.response_length = get("response_length").and_then(num);
    let loss = get("loss_mask").and_then(|v| list_sum(tree, v));
    row.effective_response_length = loss.or(row.response_length);
    if !within {
        return (row, ev, detail.then(SampleDetail::default), false);
    }
    row.label = get("label").map_or(J::Null, |v| match v {
        Value::Str(s) => J::String(cut(s, 4096)),
        other => small_json(tree, other),
    });
    read_prompt_size(tree, get("prompt"), &mut row);
    let response = get("response").and_then(Value::as_str).unwrap_or("");
    row.response_chars = response.chars().count();
    row.response_max_line_chars = max_line_chars(response);
    row.response_sha256 = hex(&Sha256::digest(response.as_bytes()));
    row.repetition = has_repetition(response);
    // A dataset name, where a config put one into the metadata (`metadata_overrides`).
    row.eval_dataset = get("metadata")
        .and_then(|m| dict_of(tree, m))
        .and_then(|m| {
            DATASET_KEYS
                .iter()
                .find_map(|k| m.get_str(k).and_then(Value::as_str))
                .map(|s| cut(s, 200))
        });
    row.non_generation_time = get("non_generation_time").and_then(num);
    row.state = super::sample_state::read_state(tree, d);
    if let Some(pc) = get("prefix_cache_info").and_then(|v| dict_of(tree, v)) {
        row.cached_tokens = pc.get_str("cached_tokens").and_then(num);
        row.total_prompt_tokens = pc.get_str("total_prompt_tokens").and_then(num);
    }
    read_events(tree, get("trace"), &mut row, &mut ev);
    let detail = detail.then(|| read_detail(tree, d, &row, allow));
    (row, ev, detail, true)
}

/// `reward`: a number, or a dict (slime's `reward_key` picks its number; every field kept).
fn read_reward(tree: &Tree, reward: Option<&Value>, row: &mut SampleRow) {
    match reward.and_then(|v| dict_of(tree, v)) {
        Some(rd) => {
            row.reward_is_dict = true;
            row.reward = reward_key(rd).map(|(_, x)| x);
            row.reward_fields = rd
                .entries
                .iter()
                .take(32)
                .map(|(k, v)| {
                    (
                        pt::walk::repr(tree, k, 64).trim_matches('\'').to_string(),
                        small_json(tree, v),
                    )
                })
                .collect();
        }
        None => row.reward = reward.and_then(num),
    }
}

/// The prompt's size in characters (a chat's: its messages' contents) and its hash.
fn read_prompt_size(tree: &Tree, prompt: Option<&Value>, row: &mut SampleRow) {
    if let Some(p) = prompt {
        match p {
            Value::Str(s) => row.prompt_chars = s.chars().count(),
            _ => {
                if let Some(items) = tree.as_seq(p) {
                    row.prompt_is_messages = true;
                    row.prompt_chars = items
                        .iter()
                        .take(MAX_MESSAGES)
                        .filter_map(|m| dict_of(tree, m)?.get_str("content")?.as_str())
                        .map(|c| c.chars().count())
                        .sum();
                }
            }
        }
    }
    row.prompt_hash = prompt.map_or(0, |p| fnv(pt::walk::repr(tree, p, 1 << 16).as_bytes()));
}

/// Sample `d` in full for the inspector; `row`: its table line, already read.
fn read_detail(tree: &Tree, d: &pt::Dict, row: &SampleRow, allow: &mut Allowance) -> SampleDetail {
    let get = |k: &str| d.get_str(k);
    let (prompt_tokens, tokens) = split_tokens(tree, get("tokens"), row.response_length);
    let images = super::images::read_images(tree, get("multimodal_inputs"), allow);
    let response = get("response").and_then(Value::as_str).unwrap_or("");
    SampleDetail {
        row: row.clone(),
        prompt: read_prompt(tree, get("prompt"), row.prompt_is_messages),
        response: cut(response, MAX_TEXT_CHARS),
        label: row.label.clone(),
        reward: get("reward").map_or(J::Null, |v| to_json(tree, v)),
        metadata: get("metadata").map_or(J::Null, |v| to_json(tree, v)),
        tokens,
        prompt_tokens,
        loss_mask: numbers(tree, get("loss_mask"))
            .into_iter()
            .map(|x| (x != 0.0) as u8)
            .collect(),
        rollout_log_probs: numbers(tree, get("rollout_log_probs"))
            .into_iter()
            .map(|x| x as f32)
            .collect(),
        train: None,
        pieces: None,
        prompt_pieces: None,
        images,
    }
}

/// The prompt for the inspector: its text, its chat messages, or it as JSON.
fn read_prompt(tree: &Tree, prompt: Option<&Value>, is_messages: bool) -> Prompt {
    match prompt {
        None => Prompt::Other(J::Null),
        Some(Value::Str(s)) => Prompt::Text(cut(s, MAX_TEXT_CHARS)),
        Some(p) => match tree.as_seq(p) {
            Some(items) if is_messages => Prompt::Messages(
                items
                    .iter()
                    .take(MAX_MESSAGES)
                    .map(|m| {
                        let md = dict_of(tree, m);
                        let role = md
                            .and_then(|m| m.get_str("role"))
                            .and_then(Value::as_str)
                            .map_or_else(|| "?".into(), |r| cut(r, 64));
                        let content = match md.and_then(|m| m.get_str("content")) {
                            Some(Value::Str(c)) => J::String(cut(c, MAX_TEXT_CHARS)),
                            Some(c) => to_json(tree, c),
                            None => to_json(tree, m),
                        };
                        Message { role, content }
                    })
                    .collect(),
            ),
            _ => Prompt::Other(to_json(tree, p)),
        },
    }
}

/// The numbers of a list (non-numbers read as NaN), or nothing.
fn numbers(tree: &Tree, v: Option<&Value>) -> Vec<f64> {
    v.and_then(|v| tree.as_seq(v))
        .map(|items| items.iter().map(|x| num(x).unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

/// `tokens` cut into the prompt's ids and the response's (the last `response_length`); ids
/// outside u32 become `u32::MAX`. Without a `response_length` nothing is the response and
/// the split is unknown: no prompt ids either.
fn split_tokens(tree: &Tree, tokens: Option<&Value>, len: Option<f64>) -> (Vec<u32>, Vec<u32>) {
    let (Some(items), Some(len)) = (tokens.and_then(|v| tree.as_seq(v)), len) else {
        return (Vec::new(), Vec::new());
    };
    let n = (len.max(0.0) as usize).min(items.len());
    let ids = |vs: &[Value]| {
        vs.iter()
            .map(|v| match v {
                Value::Int(x) => u32::try_from(*x).unwrap_or(u32::MAX),
                _ => u32::MAX,
            })
            .collect()
    };
    let (prompt, response) = items.split_at(items.len() - n);
    (ids(prompt), ids(response))
}

/// Walks the sample's trace events (at most [`MAX_EVENTS`]).
fn read_events(tree: &Tree, trace: Option<&Value>, row: &mut SampleRow, ev: &mut SampleEvents) {
    let Some(events) = trace
        .and_then(|t| dict_of(tree, t))
        .and_then(|t| t.get_str("events"))
        .and_then(|e| tree.as_seq(e))
    else {
        return;
    };
    row.traced = !events.is_empty();
    let events: Vec<&pt::Dict> = events
        .iter()
        .take(MAX_EVENTS)
        .filter_map(|e| dict_of(tree, e))
        .collect();
    let pd = super::pd::pd_values(tree, &events);
    let mut e2e = None::<f64>;
    for e in &events {
        let ty = e.get_str("type").and_then(Value::as_str);
        let ts = e.get_str("ts").and_then(num);
        match (ty, ts) {
            (Some("span_start"), Some(t)) => {
                ev.first_start = Some(ev.first_start.map_or(t, |m| m.min(t)));
            }
            (Some("span_end"), Some(t)) => {
                ev.last_end = Some(ev.last_end.map_or(t, |m| m.max(t)));
            }
            _ => {}
        }
        if ty != Some("span_end")
            || e.get_str("name").and_then(Value::as_str) != Some("sglang_generate")
        {
            continue;
        }
        let Some(attrs) = e.get_str("attrs").and_then(|a| tree.as_dict(a)) else {
            continue;
        };
        let extra = e
            .get_str("span_id")
            .and_then(Value::as_str)
            .and_then(|id| pd.get(id));
        row.requests += 1;
        for (i, (_, key)) in REQUEST_PERF_FIELDS.iter().enumerate() {
            // The request's own value, else one its `sglang_pd_*` children carry.
            let v = match attrs.get_str(key) {
                Some(v) => super::pd::finite(v),
                None => extra
                    .and_then(|x| x.iter().find(|(k, _)| k == key))
                    .and_then(|(_, v)| *v),
            };
            if let Some(v) = v {
                ev.request_values[i].push(v);
                if i == 0 {
                    e2e = Some(e2e.unwrap_or(0.0) + v);
                }
            }
        }
    }
    row.e2e_latency = e2e;
}

/// FNV-1a: a stable hash for telling prompts apart.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_follows_slime() {
        assert!(!has_repetition(&"=".repeat(10_000)));
        assert!(has_repetition(&"=".repeat(10_001)));
        // Varied text does not compress tenfold.
        let varied: String = (0..20_000u32)
            .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20_000).unwrap_or('x'))
            .collect();
        assert!(!has_repetition(&varied));
    }

    #[test]
    fn cut_says_how_much() {
        assert_eq!(cut("abcdef", 10), "abcdef");
        assert_eq!(cut("abcdef", 2), "ab…<cut: 4 more characters>");
    }
}

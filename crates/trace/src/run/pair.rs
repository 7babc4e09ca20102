//! Two runs side by side (`rollscope run A B`, the run explorer's second run): which dump of
//! run A goes with which of run B, what changed between them (B − A), and, for a replay (the
//! same prompts trained again, slime's `--load-debug-rollout-data` under another TP/PP/CP),
//! how far apart the two runs' train-side log probs are, token by token.
//!
//! Everything here works on what both runs already have: the records of `rollscope run --json`
//! ([`super::rollout_record`], [`super::sample_record`]) and the train dumps read with their
//! per-token values ([`TrainData::read`] with `tokens`). The CLI, Python and the browser call
//! these same functions; the JSON they write is [`super::pair_json`]'s.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use super::TrainData;
use crate::json::float_json;

/// How two runs' dumps are put side by side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// The same `rollout_id` (and kind).
    #[default]
    RolloutId,
    /// The same number of samples trained on ([`samples_seen`]), for runs whose rollouts
    /// differ in size.
    SamplesSeen,
}

impl Align {
    pub fn as_str(self) -> &'static str {
        match self {
            Align::RolloutId => "rollout_id",
            Align::SamplesSeen => "samples_seen",
        }
    }
}

/// How the samples of two dumps of the same rollout are matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleMatch {
    /// The same sample `index` (the train payload's `sample_index`, else its
    /// `rollout_position`): a replay of the same saved rollout.
    #[default]
    Index,
    /// The same prompt token ids (the train payload's `tokens` without the response): the
    /// k-th sample of a prompt in A goes with the k-th of that prompt in B.
    Prompt,
}

impl SampleMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleMatch::Index => "index",
            SampleMatch::Prompt => "prompt",
        }
    }
}

/// Samples trained on up to each dump of a run (records in any order): a train dump counts
/// its own `sample_count` and every train dump with a smaller `rollout_id`; an eval dump counts
/// the train dumps before its `rollout_id` (slime evaluates before training that rollout).
/// `None` for a dump without a `rollout_id`.
pub fn samples_seen(records: &[Map<String, J>]) -> Vec<Option<u64>> {
    let mut train: Vec<(i64, u64)> = records
        .iter()
        .filter(|r| kind(r) == "train")
        .filter_map(|r| Some((rollout_id(r)?, r.get("sample_count")?.as_u64().unwrap_or(0))))
        .collect();
    train.sort_unstable();
    let before = |id: i64, inclusive: bool| -> u64 {
        train
            .iter()
            .take_while(|(t, _)| *t < id || (inclusive && *t == id))
            .fold(0u64, |s, (_, n)| s.saturating_add(*n))
    };
    records
        .iter()
        .map(|r| Some(before(rollout_id(r)?, kind(r) == "train")))
        .collect()
}

/// The dumps of A and B side by side, as indices into `a` and `b`: a dump in one run only has
/// `None` on the other side. Ordered by kind (train first), then by the alignment key; a key
/// that occurs twice in one run (two files for one rollout) pairs its first occurrences first.
pub fn align(
    a: &[Map<String, J>],
    b: &[Map<String, J>],
    by: Align,
) -> Vec<(Option<usize>, Option<usize>)> {
    let keys = |rs: &[Map<String, J>]| -> Vec<Option<(bool, i64)>> {
        let seen = samples_seen(rs);
        rs.iter()
            .zip(seen)
            .map(|(r, s)| {
                let k = match by {
                    Align::RolloutId => rollout_id(r)?,
                    Align::SamplesSeen => i64::try_from(s?).unwrap_or(i64::MAX),
                };
                Some((kind(r) != "train", k))
            })
            .collect()
    };
    let (ka, kb) = (keys(a), keys(b));
    let mut pairs = pair_keys(&ka, &kb);
    pairs.sort_by_key(|&(i, j)| {
        let k = i.and_then(|i| ka[i]).or_else(|| j.and_then(|j| kb[j]));
        (k.is_none(), k, i, j)
    });
    pairs
}

/// The k-th occurrence of a key in `a` with the k-th in `b`; then what is left of each, alone.
/// `None` keys pair with nothing.
fn pair_keys<K: Eq + Hash + Clone>(
    a: &[Option<K>],
    b: &[Option<K>],
) -> Vec<(Option<usize>, Option<usize>)> {
    let mut in_b: HashMap<K, std::collections::VecDeque<usize>> = HashMap::new();
    for (j, k) in b.iter().enumerate() {
        if let Some(k) = k {
            in_b.entry(k.clone()).or_default().push_back(j);
        }
    }
    let mut used = vec![false; b.len()];
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    for (i, k) in a.iter().enumerate() {
        let j = k
            .as_ref()
            .and_then(|k| in_b.get_mut(k))
            .and_then(|q| q.pop_front());
        if let Some(j) = j {
            used[j] = true;
        }
        out.push((Some(i), j));
    }
    out.extend(
        used.iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(j, _)| (None, Some(j))),
    );
    out
}

/// B − A for every key whose value is a number in both records (`rollout_id`, `position` and
/// the other keys that say which dump or sample it is are left out), a number one level down
/// named `key/inner` (`pass_rate/pass@1`), and `pass@1`, the change of [`pass_at_of`] (a
/// train dump's pass rate or the mean over an eval's sets).
pub fn deltas(a: &Map<String, J>, b: &Map<String, J>) -> Map<String, J> {
    const WHICH: [&str; 6] = [
        "rollout_id",
        "position",
        "index",
        "group_index",
        "train/rollout_position",
        "train/sample_index",
    ];
    let mut out = Map::new();
    for (k, x) in a.iter().filter(|(k, _)| !WHICH.contains(&k.as_str())) {
        let Some(y) = b.get(k) else { continue };
        if let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) {
            out.insert(k.clone(), float_json(y - x));
        } else if let (Some(x), Some(y)) = (x.as_object(), y.as_object()) {
            for (inner, u) in x {
                if let (Some(u), Some(v)) = (u.as_f64(), y.get(inner).and_then(J::as_f64)) {
                    out.insert(format!("{k}/{inner}"), float_json(v - u));
                }
            }
        }
    }
    if let (Some(x), Some(y)) = (super::pass_at_of(a, 1), super::pass_at_of(b, 1)) {
        out.insert("pass@1".into(), float_json(y - x));
    }
    out
}

/// How far apart two samples' train log probs are, over the tokens both have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogProbDiff {
    /// Tokens both samples have (the shorter sample's count).
    pub tokens: usize,
    /// Of those, tokens whose A − B is not a number (a NaN or an infinite log prob on either
    /// side): left out of the mean and the max, and counted here, never taken as equal.
    #[serde(default)]
    pub non_finite: usize,
    /// The two samples have different token counts (only the first `tokens` are compared).
    pub length_differs: bool,
    /// Mean and largest |A − B|; `max_at` is the token (response position) of the largest.
    pub mean_abs: f64,
    pub max_abs: f64,
    pub max_at: usize,
}

/// A − B per token, over the tokens both have.
pub fn per_token_diff(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// [`LogProbDiff`] of two samples' log probs; `None` when either has none. Non-finite
/// differences (a NaN log prob) are left out of the mean and the max and counted
/// ([`LogProbDiff::non_finite`]); with no finite one, mean and max are 0 and every token
/// compared is counted there.
pub fn logprob_diff(a: &[f32], b: &[f32]) -> Option<LogProbDiff> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (mut sum, mut n, mut max_abs, mut max_at) = (0.0f64, 0usize, 0.0f64, 0usize);
    let mut non_finite = 0;
    for (j, d) in per_token_diff(a, b).into_iter().enumerate() {
        let d = f64::from(d).abs();
        if !d.is_finite() {
            non_finite += 1;
            continue;
        }
        sum += d;
        n += 1;
        if d > max_abs {
            (max_abs, max_at) = (d, j);
        }
    }
    Some(LogProbDiff {
        tokens: a.len().min(b.len()),
        non_finite,
        length_differs: a.len() != b.len(),
        mean_abs: if n > 0 { sum / n as f64 } else { 0.0 },
        max_abs,
        max_at,
    })
}

/// Two train dumps of one rollout, their samples matched ([`SampleMatch`]) and compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainPair {
    /// (position in A, position in B, the difference when both have log probs).
    pub samples: Vec<(usize, usize, Option<LogProbDiff>)>,
    /// Samples of one run with no match in the other.
    pub only_a: usize,
    pub only_b: usize,
    /// Mean |A − B| over every compared token of the rollout, and the largest.
    pub mean_abs: Option<f64>,
    pub max_abs: Option<f64>,
}

/// The samples of two train dumps of one rollout (read with per-token values) matched `by`
/// and compared. Samples are taken in `rollout_position` order.
pub fn compare_train(a: &TrainData, b: &TrainData, by: SampleMatch) -> TrainPair {
    let positions = |t: &TrainData| {
        let mut p: Vec<usize> = t.fields.keys().copied().collect();
        p.sort_unstable();
        p
    };
    let (pa, pb) = (positions(a), positions(b));
    let key = |t: &TrainData, p: usize| -> Option<u64> {
        match by {
            SampleMatch::Index => {
                let f = t.fields.get(&p)?;
                Some(f.sample_index.unwrap_or(p as i64) as u64)
            }
            SampleMatch::Prompt => prompt_hash(t, p),
        }
    };
    let ka: Vec<_> = pa.iter().map(|&p| key(a, p)).collect();
    let kb: Vec<_> = pb.iter().map(|&p| key(b, p)).collect();
    let mut out = TrainPair::default();
    let (mut sum, mut n, mut max) = (0.0, 0usize, None::<f64>);
    for (i, j) in pair_keys(&ka, &kb) {
        match (i, j) {
            (Some(i), Some(j)) => {
                let (x, y) = (pa[i], pb[j]);
                let lp = log_probs;
                let d = logprob_diff(lp(a, x).unwrap_or(&[]), lp(b, y).unwrap_or(&[]));
                if let Some(d) = d {
                    sum += d.mean_abs * d.tokens as f64;
                    n += d.tokens;
                    max = Some(max.map_or(d.max_abs, |m: f64| m.max(d.max_abs)));
                }
                out.samples.push((x, y, d));
            }
            (Some(_), None) => out.only_a += 1,
            _ => out.only_b += 1,
        }
    }
    out.mean_abs = (n > 0).then(|| sum / n as f64);
    out.max_abs = max;
    out
}

/// A hash of a train sample's prompt token ids (`tokens` without its last `response_lengths`).
fn prompt_hash(t: &TrainData, p: usize) -> Option<u64> {
    let ids = &t.tokens.get(&p)?.tokens;
    let resp = t.fields.get(&p)?.response_length?;
    let resp = if resp.is_finite() && resp >= 0.0 {
        resp as usize
    } else {
        return None;
    };
    let prompt = ids.get(..ids.len().checked_sub(resp)?)?;
    let mut h = std::hash::DefaultHasher::new();
    prompt.hash(&mut h);
    Some(h.finish())
}

/// Samples that differ most: `(rollout_id, position in A, position in B, diff)`: those with
/// tokens that are not a number on one side first, then by mean |A − B| (then max), largest
/// first, at most `n`.
pub fn most_different(
    pairs: &[(i64, &TrainPair)],
    n: usize,
) -> Vec<(i64, usize, usize, LogProbDiff)> {
    let mut all: Vec<_> = pairs
        .iter()
        .flat_map(|(id, p)| {
            p.samples
                .iter()
                .filter_map(move |&(x, y, d)| Some((*id, x, y, d?)))
        })
        .collect();
    all.sort_by(|a, b| {
        (b.3.non_finite > 0)
            .cmp(&(a.3.non_finite > 0))
            .then(
                (b.3.mean_abs, b.3.max_abs)
                    .partial_cmp(&(a.3.mean_abs, a.3.max_abs))
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then((a.0, a.1).cmp(&(b.0, b.1)))
    });
    all.truncate(n);
    all
}

pub(super) fn rollout_id(r: &Map<String, J>) -> Option<i64> {
    r.get("rollout_id")?.as_i64()
}

pub(super) fn kind(r: &Map<String, J>) -> &str {
    r.get("kind").and_then(J::as_str).unwrap_or("train")
}

#[cfg(test)]
#[path = "pair_tests.rs"]
mod tests;

fn log_probs(t: &TrainData, p: usize) -> Option<&[f32]> {
    t.tokens.get(&p).map(|t| t.log_probs.as_slice())
}

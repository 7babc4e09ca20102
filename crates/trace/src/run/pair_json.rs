//! The document of `rollscope run A B --json` and `rollscope.compare_runs(a, b)`: both runs as
//! `rollscope run --json` writes each, then what changed (B − A) per dump and per sample, and
//! the samples whose train log probs differ most (docs/cli.md, "Two runs").

use std::collections::HashMap;

use serde_json::{json, Map, Value as J};

use super::pair::{align, deltas, kind, most_different, rollout_id, samples_seen};
use super::pair::{Align, LogProbDiff, SampleMatch, TrainPair};
use crate::json::float_json;

/// Samples listed under `most_different`.
pub const MOST_DIFFERENT: usize = 20;

/// One run as `rollscope run --json` gives it, and the name it is shown under.
pub struct RunSide<'a> {
    pub name: &'a str,
    pub rollouts: &'a [Map<String, J>],
    pub samples: &'a [Map<String, J>],
}

/// The train dumps of two aligned rollouts compared: (A's `rollout_id`, B's, the pair).
pub type TrainPairs = [(i64, i64, TrainPair)];

/// The whole comparison document (see the module doc).
pub fn pair_json(
    a: &RunSide,
    b: &RunSide,
    by: Align,
    matched: SampleMatch,
    train: &TrainPairs,
) -> J {
    let (seen_a, seen_b) = (samples_seen(a.rollouts), samples_seen(b.rollouts));
    let by_ids: HashMap<(i64, i64), &TrainPair> =
        train.iter().map(|(x, y, p)| ((*x, *y), p)).collect();
    let index = (sample_index(a), sample_index(b));
    let mut rollouts = Vec::new();
    let mut samples = Vec::new();
    for (i, j) in align(a.rollouts, b.rollouts, by) {
        let (ra, rb) = (i.map(|i| &a.rollouts[i]), j.map(|j| &b.rollouts[j]));
        let mut m = Map::new();
        let k = ra.or(rb).map_or("train", kind);
        m.insert("kind".into(), J::from(k));
        let id = |r: Option<&Map<String, J>>| r.and_then(rollout_id).map_or(J::Null, J::from);
        m.insert("a_rollout_id".into(), id(ra));
        m.insert("b_rollout_id".into(), id(rb));
        let seen =
            |s: &[Option<u64>], i: Option<usize>| i.and_then(|i| s[i]).map_or(J::Null, J::from);
        m.insert("a_samples_seen".into(), seen(&seen_a, i));
        m.insert("b_samples_seen".into(), seen(&seen_b, j));
        let (Some(ra), Some(rb)) = (ra, rb) else {
            m.insert("delta".into(), J::Null);
            rollouts.push(J::Object(m));
            continue;
        };
        m.insert("delta".into(), J::Object(deltas(ra, rb)));
        let ids = (rollout_id(ra), rollout_id(rb));
        let pair = match ids {
            (Some(x), Some(y)) if k == "train" => by_ids.get(&(x, y)).copied(),
            _ => None,
        };
        if let Some(p) = pair {
            m.insert(
                "logprob".into(),
                json!({
                    "matched": p.samples.len(),
                    "only_a": p.only_a,
                    "only_b": p.only_b,
                    "mean_abs": p.mean_abs.map_or(J::Null, float_json),
                    "max_abs": p.max_abs.map_or(J::Null, float_json),
                }),
            );
        }
        if let (Some(x), Some(y)) = ids {
            let positions = match pair {
                Some(p) => p.samples.iter().map(|&(i, j, d)| (i, j, d)).collect(),
                None if matched == SampleMatch::Index => by_index(a, b, k, x, y),
                None => Vec::new(),
            };
            for (pa, pb, d) in positions {
                let ra = index.0.get(&(k == "train", x, pa)).map(|&i| &a.samples[i]);
                let rb = index.1.get(&(k == "train", y, pb)).map(|&i| &b.samples[i]);
                samples.push(sample_json((ra, rb), k, (x, y), (pa, pb), d));
            }
        }
        rollouts.push(J::Object(m));
    }
    let pairs: Vec<(i64, &TrainPair)> = train.iter().map(|(x, _, p)| (*x, p)).collect();
    let most: Vec<J> = most_different(&pairs, MOST_DIFFERENT)
        .into_iter()
        .map(|(id, x, y, d)| {
            let mut m = Map::new();
            m.insert("a_rollout_id".into(), J::from(id));
            m.insert("a_position".into(), J::from(x));
            m.insert("b_position".into(), J::from(y));
            diff_into(&mut m, &d);
            J::Object(m)
        })
        .collect();
    let side = |s: &RunSide| json!({"name": s.name, "rollouts": s.rollouts, "samples": s.samples});
    json!({
        "a": side(a),
        "b": side(b),
        "align": by.as_str(),
        "match": matched.as_str(),
        "rollouts": rollouts,
        "samples": samples,
        "most_different": most,
    })
}

/// Samples of two dumps without train data on both sides, matched by their record's `index`
/// (else `position`).
fn by_index(
    a: &RunSide,
    b: &RunSide,
    k: &str,
    x: i64,
    y: i64,
) -> Vec<(usize, usize, Option<LogProbDiff>)> {
    let of = |s: &RunSide, id: i64| -> HashMap<i64, usize> {
        s.samples
            .iter()
            .filter(|r| kind(r) == k && rollout_id(r) == Some(id))
            .filter_map(|r| {
                let pos = r.get("position")?.as_u64()? as usize;
                let idx = r.get("index").and_then(J::as_i64).unwrap_or(pos as i64);
                Some((idx, pos))
            })
            .collect()
    };
    let (ia, ib) = (of(a, x), of(b, y));
    let mut out: Vec<_> = ia
        .iter()
        .filter_map(|(idx, &pa)| Some((pa, *ib.get(idx)?, None)))
        .collect();
    out.sort_unstable_by_key(|&(pa, pb, _)| (pa, pb));
    out
}

/// Where each sample record is: (is a train dump's, `rollout_id`, `position`) → index.
fn sample_index(s: &RunSide) -> HashMap<(bool, i64, usize), usize> {
    s.samples
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let p = usize::try_from(r.get("position")?.as_u64()?).ok()?;
            Some(((kind(r) == "train", rollout_id(r)?, p), i))
        })
        .collect()
}

type Records<'a> = (Option<&'a Map<String, J>>, Option<&'a Map<String, J>>);

fn sample_json(
    records: Records,
    k: &str,
    (x, y): (i64, i64),
    (pa, pb): (usize, usize),
    d: Option<LogProbDiff>,
) -> J {
    let mut m = Map::new();
    m.insert("kind".into(), J::from(k));
    m.insert("a_rollout_id".into(), J::from(x));
    m.insert("b_rollout_id".into(), J::from(y));
    m.insert("a_position".into(), J::from(pa));
    m.insert("b_position".into(), J::from(pb));
    let delta = match records {
        (Some(ra), Some(rb)) => J::Object(deltas(ra, rb)),
        _ => J::Null,
    };
    m.insert("delta".into(), delta);
    if let Some(d) = d {
        diff_into(&mut m, &d);
    }
    J::Object(m)
}

fn diff_into(m: &mut Map<String, J>, d: &LogProbDiff) {
    m.insert("logprob_tokens".into(), J::from(d.tokens));
    m.insert("logprob_length_differs".into(), J::from(d.length_differs));
    m.insert("logprob_non_finite".into(), J::from(d.non_finite));
    m.insert("logprob_mean_abs".into(), float_json(d.mean_abs));
    m.insert("logprob_max_abs".into(), float_json(d.max_abs));
    m.insert("logprob_max_at".into(), J::from(d.max_at));
}

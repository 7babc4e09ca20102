//! `train_data/{id}.pt`: the train side of a rollout, aligned to its dump by
//! `rollout_position`.
//!
//! slime's `_build_dump_payload` writes `{"format_version", "rollout_id", "rank", "samples":
//! [...], "dp_shards": [...], "raw_reward": [...]}`, `samples` sorted by `rollout_position`;
//! each sample holds scalars (`local_raw_reward`, `rewards`, `response_lengths`, …) and
//! per-token tensors (`advantages`, `returns`, `kl`, `log_probs`, `rollout_log_probs`,
//! `loss_masks`). Tensors are read from the archive's storages (`pt::Archive`). A sample is
//! found by its `rollout_position` (not its place in the list), so a partial train dump (some
//! ranks only) still aligns; what is missing stays empty.

use std::collections::HashMap;

use pt::{Archive, Limits, TensorRef, Tree, Value};
use serde::{Deserialize, Serialize};

use super::sample::num;
use super::TrainFields;
use crate::values::dict_of;

/// Per-token train-side values of one sample (one per response token).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainTokens {
    pub log_probs: Vec<f32>,
    pub rollout_log_probs: Vec<f32>,
    pub advantages: Vec<f32>,
    pub returns: Vec<f32>,
    pub kl: Vec<f32>,
    pub loss_masks: Vec<u8>,
}

/// A train dump, by rollout position.
#[derive(Debug, Clone, Default)]
pub struct TrainData {
    pub fields: HashMap<usize, TrainFields>,
    /// Per-token values, when read with `tokens: true`.
    pub tokens: HashMap<usize, TrainTokens>,
    /// What could not be read, one line each (a tensor with a bad storage, a sample without
    /// `rollout_position`).
    pub notes: Vec<String>,
}

/// Per-token values read per tensor at most (a sample of 16 M tokens is far past any model).
const MAX_TENSOR_ELEMS: u64 = 1 << 24;
/// Notes kept.
const MAX_NOTES: usize = 20;

impl TrainData {
    /// Reads a whole train dump. `tokens`: keep the per-token values too (the open step);
    /// else only the means are kept (a run's summaries).
    pub fn read(bytes: &[u8], tokens: bool) -> Result<TrainData, String> {
        let limits = Limits {
            keep_numeric_list_max: None,
            ..Limits::default()
        };
        let dump = pt::read(bytes, &limits).map_err(|e| e.to_string())?;
        let tree = &dump.tree;
        let archive = match dump.format {
            pt::Format::Zip { .. } => Some(Archive::open(bytes).map_err(|e| e.to_string())?),
            _ => None,
        };
        let root = dict_of(tree, &tree.root).ok_or(
            "not a train dump: the file holds no dict (expected slime's _build_dump_payload)",
        )?;
        let samples = root
            .get_str("samples")
            .and_then(|s| tree.as_seq(s))
            .ok_or("not a train dump: no 'samples' list")?;
        let mut out = TrainData::default();
        for (i, s) in samples.iter().enumerate() {
            let Some(d) = dict_of(tree, s) else {
                out.note(format!("samples[{i}] is not a dict"));
                continue;
            };
            let int = |k: &str| match d.get_str(k) {
                Some(Value::Int(x)) => Some(*x),
                _ => None,
            };
            let Some(pos) = int("rollout_position").and_then(|p| usize::try_from(p).ok()) else {
                out.note(format!("samples[{i}] has no rollout_position"));
                continue;
            };
            let mut series = |k: &str| -> Option<Vec<f64>> {
                let v = d.get_str(k)?;
                match values(tree, v, archive.as_ref()) {
                    Ok(x) => x,
                    Err(e) => {
                        out.notes.push(format!("samples[{i}].{k}: {e}"));
                        None
                    }
                }
            };
            let adv = series("advantages");
            let ret = series("returns");
            let kl = series("kl");
            let lp = series("log_probs");
            let rlp = series("rollout_log_probs");
            let mask = series("loss_masks");
            let mean = |v: &Option<Vec<f64>>| {
                v.as_ref()
                    .filter(|v| !v.is_empty())
                    .map(|v| v.iter().sum::<f64>() / v.len() as f64)
            };
            let gap = match (&lp, &rlp) {
                (Some(a), Some(b)) if !a.is_empty() && a.len() == b.len() => {
                    let on = |j: usize| {
                        mask.as_ref()
                            .is_none_or(|m| m.get(j).is_none_or(|&x| x != 0.0))
                    };
                    let (sum, n) = a
                        .iter()
                        .zip(b)
                        .enumerate()
                        .filter(|(j, _)| on(*j))
                        .fold((0.0, 0usize), |(s, n), (_, (x, y))| (s + x - y, n + 1));
                    (n > 0).then(|| sum / n as f64)
                }
                _ => None,
            };
            let scalar = |k: &str| d.get_str(k).and_then(|v| scalar(tree, v, archive.as_ref()));
            out.fields.insert(
                pos,
                TrainFields {
                    raw_reward: scalar("local_raw_reward"),
                    normalized_reward: scalar("rewards"),
                    advantage_mean: mean(&adv),
                    return_mean: mean(&ret),
                    kl_mean: mean(&kl),
                    logprob_gap_mean: gap,
                    response_length: scalar("response_lengths"),
                    rollout_position: Some(pos as i64),
                    sample_index: int("sample_index"),
                    data_parallel_rank: int("data_parallel_rank"),
                },
            );
            if tokens {
                let f32s = |v: Option<Vec<f64>>| -> Vec<f32> {
                    v.unwrap_or_default()
                        .into_iter()
                        .map(|x| x as f32)
                        .collect()
                };
                out.tokens.insert(
                    pos,
                    TrainTokens {
                        loss_masks: mask
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|x| (x != 0.0) as u8)
                            .collect(),
                        log_probs: f32s(lp),
                        rollout_log_probs: f32s(rlp),
                        advantages: f32s(adv),
                        returns: f32s(ret),
                        kl: f32s(kl),
                    },
                );
            }
        }
        Ok(out)
    }

    fn note(&mut self, s: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(s);
        }
    }
}

/// A tensor's or a list's numbers.
fn values(tree: &Tree, v: &Value, archive: Option<&Archive>) -> Result<Option<Vec<f64>>, String> {
    if let Some(t) = TensorRef::of(tree, v) {
        let a = archive.ok_or("a tensor outside a torch ZIP")?;
        return a
            .values(&t, MAX_TENSOR_ELEMS)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    Ok(tree
        .as_seq(v)
        .map(|items| items.iter().map(|x| num(x).unwrap_or(f64::NAN)).collect()))
}

/// A number, or a one-element tensor's value.
fn scalar(tree: &Tree, v: &Value, archive: Option<&Archive>) -> Option<f64> {
    num(v).or_else(|| match values(tree, v, archive) {
        Ok(Some(x)) if x.len() == 1 => Some(x[0]),
        _ => None,
    })
}

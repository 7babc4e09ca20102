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

use super::sample::{num, Allowance};
use super::train_metrics::{TrainRollout, TrainSample};
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
    /// Every other per-token series of the sample, by its key in the dump (`ref_log_probs`,
    /// `entropy`, `values`, `teacher_log_probs`, `opd_reverse_kl`, …), in the dump's order.
    pub other: Vec<(String, Vec<f32>)>,
    /// `tokens`: the prompt's ids then the response's (slime's `tokens`).
    pub tokens: Vec<u32>,
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
    /// The payload's `rollout_id` and writer `rank` (`writer_rank`), when it has them.
    pub rollout_id: Option<i64>,
    pub writer_rank: Option<i64>,
    /// What slime's `log_rollout_data` reads ([`super::train_rollout_metrics`]).
    pub rollout: TrainRollout,
}

/// A sample's keys that say where it sits, not what was trained.
const BOOKKEEPING: [&str; 3] = ["rollout_position", "sample_index", "data_parallel_rank"];
/// Keys read per sample at most.
const MAX_KEYS: usize = 64;

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
        // Every element produced (and every byte inflated) is charged: a file can name one
        // tensor from every sample, or a stride-0 tensor of 16 M elements over 4 bytes, so
        // what a read costs is bounded by the file's size, as a rollout scan's is.
        let mut reader = Reader {
            tree,
            archive: archive.as_ref(),
            allow: Allowance {
                spent: 0,
                limit: Allowance::for_input(bytes.len() as u64),
            },
            over: false,
        };
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
            let mut series = reader.sample(&mut out, i, d, tokens);
            let sample = TrainSample::new(
                pos,
                int("data_parallel_rank"),
                &series.per_token,
                std::mem::take(&mut series.scalars),
                series.mask.as_deref(),
            );
            for e in &sample.problems {
                out.note(format!("samples[{i}]: {e}"));
            }
            let mut fields = series.fields(&sample);
            fields.rollout_position = Some(pos as i64);
            fields.sample_index = int("sample_index");
            fields.data_parallel_rank = int("data_parallel_rank");
            out.fields.insert(pos, fields);
            out.rollout.samples.push(sample);
            if tokens {
                out.tokens.insert(pos, series.into_tokens());
            }
        }
        out.read_rollout(tree, root);
        Ok(out)
    }

    /// The payload's own fields: `rollout_id`, the writer's rank, `raw_reward`, and the DP
    /// shards' `partition` and `global_batch_sizes`.
    fn read_rollout(&mut self, tree: &Tree, root: &pt::Dict) {
        let int = |v: Option<&Value>| match v {
            Some(Value::Int(x)) => Some(*x),
            _ => None,
        };
        let nums = |v: Option<&Value>| -> Option<Vec<f64>> {
            let items = tree.as_seq(v?)?;
            Some(items.iter().take(1 << 22).filter_map(num).collect())
        };
        self.rollout_id = int(root.get_str("rollout_id"));
        self.writer_rank = int(root.get_str("writer_rank")).or(int(root.get_str("rank")));
        self.rollout.raw_reward = nums(root.get_str("raw_reward"));
        let shards = root.get_str("dp_shards").and_then(|s| tree.as_seq(s));
        for s in shards.unwrap_or_default().iter().take(1 << 16) {
            let Some(d) = dict_of(tree, s) else { continue };
            let rank = int(d.get_str("data_parallel_rank"));
            if let Some(p) = nums(d.get_str("partition")) {
                self.rollout.partitions.push((rank, p));
            }
            if self.rollout.global_batch_size.is_none() {
                self.rollout.global_batch_size =
                    nums(d.get_str("global_batch_sizes")).map(|g| g.iter().sum());
            }
        }
    }

    fn note(&mut self, s: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(s);
        }
    }
}

/// Why a tensor's or a list's numbers were not read.
enum Skip {
    /// The work allowance (its limit) is spent.
    Spent(u64),
    Failed(String),
}
use Skip::{Failed, Spent};

/// A tensor's or a list's numbers, charged to `allow` before they are produced.
fn values(
    tree: &Tree,
    v: &Value,
    archive: Option<&Archive>,
    allow: &mut Allowance,
) -> Result<Option<Vec<f64>>, Skip> {
    let mut charge = |c: u64| {
        let spent = allow.spent.saturating_add(c);
        if spent > allow.limit {
            return Err(Spent(allow.limit));
        }
        allow.spent = spent;
        Ok(())
    };
    if let Some(t) = TensorRef::of(tree, v) {
        let a = archive.ok_or(Failed("a tensor outside a torch ZIP".into()))?;
        // A tensor that cannot be read, or has too many elements, costs nothing: `values`
        // says why before doing any work.
        if t.numel().is_some_and(|n| n <= MAX_TENSOR_ELEMS) {
            charge(a.cost(&t).unwrap_or(0))?;
        }
        return a
            .values(&t, MAX_TENSOR_ELEMS)
            .map(Some)
            .map_err(|e| Failed(e.to_string()));
    }
    let Some(items) = tree.as_seq(v) else {
        return Ok(None);
    };
    charge(items.len() as u64)?;
    Ok(Some(
        items.iter().map(|x| num(x).unwrap_or(f64::NAN)).collect(),
    ))
}

/// What reads a dump's tensors and lists: the archive and the work allowance they are
/// charged to.
struct Reader<'a> {
    tree: &'a Tree,
    archive: Option<&'a Archive<'a>>,
    allow: Allowance,
    /// The allowance ran out (noted once).
    over: bool,
}

/// One sample's numbers, in the dump's order.
struct SampleSeries {
    /// Every per-token series but `loss_masks` and `tokens`.
    per_token: Vec<(String, Vec<f64>)>,
    scalars: Vec<(String, f64)>,
    mask: Option<Vec<f64>>,
    token_ids: Option<Vec<f64>>,
}

impl Reader<'_> {
    /// Every per-token series and every number of sample `i` (`tokens`: its `tokens` too);
    /// what cannot be read is noted in `out`.
    fn sample(
        &mut self,
        out: &mut TrainData,
        i: usize,
        d: &pt::Dict,
        tokens: bool,
    ) -> SampleSeries {
        let mut s = SampleSeries {
            per_token: Vec::new(),
            scalars: Vec::new(),
            mask: None,
            token_ids: None,
        };
        for (k, v) in d.entries.iter().take(MAX_KEYS) {
            let Some(k) = k.as_str() else { continue };
            if BOOKKEEPING.contains(&k) || (k == "tokens" && !tokens) {
                continue;
            }
            if let Some(x) = num(v) {
                s.scalars.push((k.to_string(), x));
                continue;
            }
            let zero_d = TensorRef::of(self.tree, v).is_some_and(|t| t.shape.is_empty());
            let Some(x) = self.series(out, i, k, v) else {
                continue;
            };
            match k {
                _ if zero_d => {
                    if let Some(&x) = x.first() {
                        s.scalars.push((k.to_string(), x));
                    }
                }
                "loss_masks" => s.mask = Some(x),
                "tokens" => s.token_ids = Some(x),
                _ => s.per_token.push((k.to_string(), x)),
            }
        }
        s
    }

    /// The numbers of `samples[i].k`, or nothing (why, noted in `out`).
    fn series(&mut self, out: &mut TrainData, i: usize, k: &str, v: &Value) -> Option<Vec<f64>> {
        match values(self.tree, v, self.archive, &mut self.allow) {
            Ok(x) => x,
            Err(Spent(limit)) => {
                if !self.over {
                    self.over = true;
                    out.note(format!(
                        "samples[{i}].{k} and later: per-token values left out: the \
                         read's work limit ({limit} units for this file's size) is \
                         spent (a file that names large tensors from many samples)"
                    ));
                }
                None
            }
            Err(Failed(e)) => {
                out.note(format!("samples[{i}].{k}: {e}"));
                None
            }
        }
    }
}

impl SampleSeries {
    fn get(&self, k: &str) -> Option<&Vec<f64>> {
        self.per_token.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    /// The sample's train fields but where it sits (position, index, rank).
    fn fields(&self, sample: &TrainSample) -> TrainFields {
        let mean = |v: Option<&Vec<f64>>| {
            v.filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        };
        let scalar = |k: &str| sample.scalar(k);
        TrainFields {
            raw_reward: scalar("local_raw_reward"),
            normalized_reward: scalar("rewards"),
            advantage_mean: mean(self.get("advantages")),
            advantage_masked_mean: sample.masked_mean("advantages"),
            return_mean: mean(self.get("returns")),
            kl_mean: mean(self.get("kl")),
            kl_masked_mean: sample.masked_mean("kl"),
            logprob_gap_mean: self.logprob_gap(),
            logprob_abs_diff: sample.abs_diff,
            response_length: scalar("response_lengths"),
            ..TrainFields::default()
        }
    }

    /// Mean of `log_probs - rollout_log_probs` over the tokens `loss_masks` keeps.
    fn logprob_gap(&self) -> Option<f64> {
        match (self.get("log_probs"), self.get("rollout_log_probs")) {
            (Some(a), Some(b)) if !a.is_empty() && a.len() == b.len() => {
                let on = |j: usize| {
                    self.mask
                        .as_ref()
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
        }
    }

    /// The per-token values kept for the open step.
    fn into_tokens(self) -> TrainTokens {
        let f32s = |v: Option<&Vec<f64>>| -> Vec<f32> {
            v.map(|v| v.iter().map(|&x| x as f32).collect())
                .unwrap_or_default()
        };
        let known = [
            "log_probs",
            "rollout_log_probs",
            "advantages",
            "returns",
            "kl",
        ];
        TrainTokens {
            loss_masks: self
                .mask
                .as_ref()
                .map(|m| m.iter().map(|&x| (x != 0.0) as u8).collect())
                .unwrap_or_default(),
            log_probs: f32s(self.get("log_probs")),
            rollout_log_probs: f32s(self.get("rollout_log_probs")),
            advantages: f32s(self.get("advantages")),
            returns: f32s(self.get("returns")),
            kl: f32s(self.get("kl")),
            other: self
                .per_token
                .iter()
                .filter(|(k, _)| !known.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), f32s(Some(v))))
                .collect(),
            tokens: self
                .token_ids
                .map(|t| {
                    t.iter()
                        .map(|&x| x.clamp(0.0, u32::MAX as f64) as u32)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

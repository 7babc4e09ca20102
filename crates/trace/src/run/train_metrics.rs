//! slime's train-side numbers, from a train dump (`save_debug_train_data`): the per-sample
//! loss-masked means its loss uses, and what `log_rollout_data`, `log_multi_turn_data` and
//! `log_passrate` (`slime/observability/train_metric_utils.py`) log for the rollout.
//!
//! A per-sample masked mean is slime's `get_sum_of_sample_mean` term: Σ(x·loss_mask) /
//! max(`rollout_mask_sums`, 1) (the mask's sum where the dump has no `rollout_mask_sums`).
//! `log_rollout_data` runs on each DP rank over that rank's samples and
//! `gather_and_reduce_log_dict` combines the ranks' `(sum, count)` pairs as Σsum/Σcount:
//! - `log_probs`, `ref_log_probs`, `rollout_log_probs`, `returns`, `advantages`, `values`,
//!   `teacher_log_probs`, `opd_reverse_kl`: Σ over samples of the masked mean, divided by the
//!   rollout's sample count (Σ `global_batch_sizes`);
//! - every other per-token series (`kl`, `entropy`, …): each rank's plain mean over all its
//!   response tokens, weighted by the rank's sample count;
//! - numbers (`response_lengths`, `total_lengths`, `rewards`, `truncated`, …), `partition`
//!   and `raw_reward`: plain means; `step` = the rollout id.
//!
//! `multi_turn/…` values are each rank's, averaged over the ranks (so `max`/`min` are the mean
//! of the ranks' max/min); `passrate/pass@k` is `compute_pass_rate(raw_reward, group size)`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use super::metrics::pass_rate;
use crate::json::float_json;

/// The per-token series whose rollout value is a per-sample masked mean (slime's
/// `per_rollout_mean_keys`).
const PER_ROLLOUT_MEAN: [&str; 8] = [
    "log_probs",
    "ref_log_probs",
    "rollout_log_probs",
    "returns",
    "advantages",
    "values",
    "teacher_log_probs",
    "opd_reverse_kl",
];

/// Keys `log_rollout_data` leaves out (slime's `ignored_keys`).
const IGNORED: [&str; 16] = [
    "tokens",
    "multimodal_train_inputs",
    "loss_masks",
    "sample_indices",
    "rollout_ids",
    "rollout_mask_sums",
    "rollout_topk_token_ids",
    "rollout_topk_log_probs",
    "rollout_top_p_token_ids",
    "rollout_top_p_token_offsets",
    "rollout_routed_experts",
    "global_batch_sizes",
    "num_microbatches",
    "micro_batch_indices",
    "source_names",
    "local_raw_reward",
];

/// One per-token series of a sample, reduced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenAgg {
    /// Σ(x·loss_mask)/max(denominator, 1); `None` when the mask's length differs or a value
    /// is not finite.
    pub masked_mean: Option<f64>,
    /// Σx and the count over every token (no mask), for the plain per-rank mean.
    pub sum: f64,
    pub n: usize,
}

/// One sample of a train dump, reduced to what the train-side metrics need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainSample {
    pub position: usize,
    /// `data_parallel_rank`.
    pub rank: Option<i64>,
    pub tensors: Vec<(String, TokenAgg)>,
    /// Numbers (and 0-d tensors) by key, in the dump's order.
    pub scalars: Vec<(String, f64)>,
    /// The loss mask's length (the response with tool tokens) and sum (without).
    pub mask_len: Option<usize>,
    pub mask_sum: Option<f64>,
    /// Σ(|log_probs − rollout_log_probs|·loss_mask)/max(denominator, 1): the sample's term of
    /// slime's `train/train_rollout_logprob_abs_diff`.
    pub abs_diff: Option<f64>,
    /// What did not add up (a series whose length is not the mask's, a non-finite value).
    pub problems: Vec<String>,
}

/// The train-side of one rollout: its samples and the payload's own fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainRollout {
    pub samples: Vec<TrainSample>,
    /// `raw_reward`: the whole rollout's raw rewards.
    pub raw_reward: Option<Vec<f64>>,
    /// Each DP shard's `data_parallel_rank` and `partition` (rollout positions).
    pub partitions: Vec<(Option<i64>, Vec<f64>)>,
    /// Σ `global_batch_sizes`: the rollout's sample count as the trainer saw it.
    pub global_batch_size: Option<f64>,
}

impl TrainSample {
    pub fn new(
        position: usize,
        rank: Option<i64>,
        per_token: &[(String, Vec<f64>)],
        scalars: Vec<(String, f64)>,
        mask: Option<&[f64]>,
    ) -> TrainSample {
        let mut s = TrainSample {
            position,
            rank,
            scalars,
            mask_len: mask.map(<[f64]>::len),
            mask_sum: mask.map(|m| m.iter().sum()),
            ..TrainSample::default()
        };
        let denom = s
            .scalar("rollout_mask_sums")
            .or(s.mask_sum)
            .unwrap_or(0.0)
            .max(1.0);
        for (k, x) in per_token {
            let agg = TokenAgg {
                masked_mean: s.masked(k, x, mask, denom),
                sum: x.iter().sum(),
                n: x.len(),
            };
            s.tensors.push((k.clone(), agg));
        }
        let get = |k: &str| per_token.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        if let (Some(a), Some(b)) = (get("log_probs"), get("rollout_log_probs")) {
            if a.len() == b.len() {
                let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| (x - y).abs()).collect();
                s.abs_diff = s.masked("|log_probs - rollout_log_probs|", &d, mask, denom);
            } else {
                s.problems.push(format!(
                    "log_probs has {} values, rollout_log_probs {}",
                    a.len(),
                    b.len()
                ));
            }
        }
        s
    }

    /// Σ(x·mask)/denom, or why not (noted).
    fn masked(&mut self, k: &str, x: &[f64], mask: Option<&[f64]>, denom: f64) -> Option<f64> {
        if let Some(m) = mask.filter(|m| m.len() != x.len()) {
            self.problems.push(format!(
                "{k} has {} values for {} loss-mask entries; its masked mean is left out",
                x.len(),
                m.len()
            ));
            return None;
        }
        let sum: f64 = match mask {
            Some(m) => x.iter().zip(m).map(|(a, b)| a * b).sum(),
            None => x.iter().sum(),
        };
        if !sum.is_finite() {
            self.problems
                .push(format!("{k} holds values that are not finite numbers"));
            return None;
        }
        Some(sum / denom)
    }

    /// A number of the sample by key.
    pub fn scalar(&self, k: &str) -> Option<f64> {
        self.scalars.iter().find(|(n, _)| n == k).map(|&(_, x)| x)
    }

    /// A per-token series' masked mean by key.
    pub fn masked_mean(&self, k: &str) -> Option<f64> {
        self.tensors
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, a)| a.masked_mean)
    }
}

/// Σsum/Σcount over the ranks, as `gather_and_reduce_log_dict` reduces `(sum, count)` pairs.
#[derive(Default, Clone, Copy)]
struct SumCount(f64, f64);

impl SumCount {
    fn add(&mut self, s: f64, c: f64) {
        self.0 += s;
        self.1 += c;
    }
    fn value(self) -> f64 {
        if self.1 != 0.0 {
            self.0 / self.1
        } else {
            0.0
        }
    }
}

/// slime's train-side metrics of one rollout (see the module doc), under slime's names.
/// `group_size`: `n_samples_per_prompt` (from the rollout dump); `max_response_len`:
/// `--rollout-max-response-len` (unset: the shortest truncated sample's length).
pub fn train_rollout_metrics(
    t: &TrainRollout,
    rollout_id: i64,
    group_size: usize,
    max_response_len: Option<f64>,
) -> Map<String, J> {
    let mut m = Map::new();
    if t.samples.is_empty() {
        return m;
    }
    let mut ranks: Vec<Option<i64>> = Vec::new();
    for s in &t.samples {
        if !ranks.contains(&s.rank) {
            ranks.push(s.rank);
        }
    }
    let dp_world = t.partitions.len().max(ranks.len()).max(1) as f64;
    let rollouts = t.global_batch_size.unwrap_or(t.samples.len() as f64);
    let mut keys: Vec<&str> = Vec::new();
    for s in &t.samples {
        let names = s.tensors.iter().map(|(k, _)| k.as_str());
        for k in names.chain(s.scalars.iter().map(|(k, _)| k.as_str())) {
            if !keys.contains(&k) && !IGNORED.contains(&k) {
                keys.push(k);
            }
        }
    }
    for k in keys {
        let mut acc = SumCount::default();
        if PER_ROLLOUT_MEAN.contains(&k) {
            for s in &t.samples {
                acc.0 += s.masked_mean(k).unwrap_or(0.0);
            }
            acc.1 = rollouts / dp_world * ranks.len() as f64;
        } else if t
            .samples
            .iter()
            .any(|s| s.tensors.iter().any(|(n, _)| n == k))
        {
            for r in &ranks {
                let mine = t.samples.iter().filter(|s| s.rank == *r);
                let (mut sum, mut n, mut count) = (0.0, 0usize, 0.0);
                for s in mine {
                    if let Some((_, a)) = s.tensors.iter().find(|(n, _)| n == k) {
                        sum += a.sum;
                        n += a.n;
                        count += 1.0;
                    }
                }
                if n > 0 {
                    acc.add(sum / n as f64 * count, count);
                }
            }
        } else {
            for x in t.samples.iter().filter_map(|s| s.scalar(k)) {
                acc.add(x, 1.0);
            }
        }
        m.insert(format!("rollout/{k}"), float_json(acc.value()));
    }
    if !t.partitions.is_empty() {
        let mut acc = SumCount::default();
        for (_, p) in &t.partitions {
            acc.add(p.iter().sum(), p.len() as f64);
        }
        m.insert("rollout/partition".into(), float_json(acc.value()));
    }
    if let Some(raw) = t.raw_reward.as_ref().filter(|r| !r.is_empty()) {
        let mean = raw.iter().sum::<f64>() / raw.len() as f64;
        m.insert("rollout/raw_reward".into(), float_json(mean));
        for (k, v) in pass_rate(raw, group_size).unwrap_or_default() {
            m.insert(format!("passrate/{k}"), v);
        }
    }
    m.insert("rollout/step".into(), J::from(rollout_id));
    multi_turn(&mut m, t, &ranks, max_response_len);
    m
}

/// `log_multi_turn_data`: each rank's response lengths with tool tokens (the loss mask's
/// length) and without (its sum), averaged over the ranks.
fn multi_turn(m: &mut Map<String, J>, t: &TrainRollout, ranks: &[Option<i64>], cap: Option<f64>) {
    let truncated = |s: &TrainSample| s.scalar("truncated").is_some_and(|x| x != 0.0);
    let cap = cap.or_else(|| {
        t.samples
            .iter()
            .filter(|s| truncated(s))
            .filter_map(|s| s.mask_len.map(|n| n as f64))
            .reduce(f64::min)
    });
    let mut sums = [0.0f64; 7];
    let mut n_ranks = 0.0;
    for r in ranks {
        let mine: Vec<&TrainSample> = t.samples.iter().filter(|s| s.rank == *r).collect();
        let raw: Vec<f64> = mine
            .iter()
            .filter_map(|s| s.mask_len.map(|n| n as f64))
            .collect();
        let wo: Vec<f64> = mine.iter().filter_map(|s| s.mask_sum).collect();
        if raw.is_empty() {
            continue;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let clip = cap.map_or(0.0, |c| {
            raw.iter().filter(|&&x| x >= c).count() as f64 / raw.len() as f64
        });
        let vals = [
            mean(&raw),
            max(&raw),
            min(&raw),
            clip,
            mean(&wo),
            max(&wo),
            min(&wo),
        ];
        for (a, v) in sums.iter_mut().zip(vals) {
            *a += v;
        }
        n_ranks += 1.0;
    }
    if n_ranks == 0.0 {
        return;
    }
    let names = [
        "raw_response_length/response_length_mean",
        "raw_response_length/response_length_max",
        "raw_response_length/response_length_min",
        "raw_response_length/response_length_clip_ratio",
        "wo_obs_response_length/response_length_mean",
        "wo_obs_response_length/response_length_max",
        "wo_obs_response_length/response_length_min",
    ];
    for (k, v) in names.iter().zip(sums) {
        m.insert(format!("multi_turn/{k}"), float_json(v / n_ranks));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pos: usize, rank: i64, adv: &[f64], mask: &[f64]) -> TrainSample {
        TrainSample::new(
            pos,
            Some(rank),
            &[
                ("advantages".into(), adv.to_vec()),
                ("kl".into(), adv.to_vec()),
            ],
            vec![("response_lengths".into(), adv.len() as f64)],
            Some(mask),
        )
    }

    #[test]
    fn masked_means_and_rank_weighting_as_slime() {
        // Rank 0: two samples; rank 1: one. Masked mean of [1, 3] with mask [1, 0] is 1.
        let t = TrainRollout {
            samples: vec![
                sample(0, 0, &[1.0, 3.0], &[1.0, 0.0]),
                sample(1, 0, &[2.0, 2.0], &[1.0, 1.0]),
                sample(2, 1, &[4.0], &[1.0]),
            ],
            global_batch_size: Some(3.0),
            ..TrainRollout::default()
        };
        assert_eq!(t.samples[0].masked_mean("advantages"), Some(1.0));
        let m = train_rollout_metrics(&t, 7, 1, None);
        // (1 + 2 + 4) / 3.
        assert_eq!(m["rollout/advantages"].as_f64(), Some(7.0 / 3.0));
        // kl: rank 0's token mean 2 × 2 samples, rank 1's 4 × 1, over 3 samples.
        assert_eq!(m["rollout/kl"].as_f64(), Some(8.0 / 3.0));
        assert_eq!(m["rollout/response_lengths"].as_f64(), Some(5.0 / 3.0));
        assert_eq!(m["rollout/step"], 7);
        // Rank means: rank 0 raw lengths [2, 2] → 2; rank 1 → 1; averaged 1.5.
        assert_eq!(
            m["multi_turn/raw_response_length/response_length_mean"].as_f64(),
            Some(1.5)
        );
    }

    #[test]
    fn a_series_longer_than_its_mask_is_said_not_guessed() {
        let s = sample(0, 0, &[1.0, 2.0, 3.0], &[1.0, 1.0]);
        assert_eq!(s.masked_mean("advantages"), None);
        assert!(s.problems[0].contains("3 values for 2 loss-mask entries"));
        let s = sample(0, 0, &[f64::NAN, 1.0], &[1.0, 1.0]);
        assert_eq!(s.masked_mean("advantages"), None);
        assert!(s.problems[0].contains("not finite"));
    }
}

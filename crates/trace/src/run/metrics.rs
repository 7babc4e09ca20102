//! slime's per-rollout metrics, from a scanned dump: the keys and values of
//! `run_reference.json` (slime's `compute_statistics`, `compute_metrics_from_samples`,
//! `compute_perf_metrics_from_samples`, `compute_pass_rate`, `log_eval_rollout_data`).
//!
//! Not computed, as slime does not without configuration the dump lacks: speculative
//! decoding metrics (`--sglang-speculative-algorithm`), reward categories
//! (`--log-reward-category`), `tokens_per_gpu_per_sec` (the GPU count) and top-p kept vocab
//! (`rollout_top_p_token_offsets`, absent from dumps). `rollout_time` is not stored in a dump;
//! it is taken as the latest `span_end` minus the earliest `span_start` over the rollout's trace
//! events, and a rollout without trace events has no `perf/` keys.

use serde_json::{Map, Value as J};

use super::{DumpKind, DumpRef, RunOptions, SampleRow, Scanned};
use crate::json::float_json;
use crate::metrics::{py_round1, stats};
use crate::sglang::REQUEST_PERF_FIELDS;

/// slime's `compute_statistics` (`mean`, `median`, `max`, `min`) under `prefix`.
fn statistics(out: &mut Map<String, J>, prefix: &str, values: &[f64]) {
    if let Some(s) = stats(values) {
        for (k, v) in [
            ("mean", s.mean),
            ("median", s.median),
            ("max", s.max),
            ("min", s.min),
        ] {
            out.insert(format!("{prefix}{k}"), float_json(v));
        }
    }
}

/// slime's `compute_pass_rate(rewards, group_size)`: `{"pass@1": …, "pass@2": …}` for
/// k = 1, 2, 4, … ≤ `group_size`; a pass is a reward of exactly 1. `None` when the rewards do
/// not fill whole groups (slime asserts), `Some(empty)` for groups of one.
pub fn pass_rate(rewards: &[f64], group_size: usize) -> Option<Map<String, J>> {
    let mut out = Map::new();
    if group_size == 1 {
        return Some(out);
    }
    if group_size == 0 || rewards.is_empty() || !rewards.len().is_multiple_of(group_size) {
        return None;
    }
    let correct: Vec<usize> = rewards
        .chunks(group_size)
        .map(|g| g.iter().filter(|&&r| r == 1.0).count())
        .collect();
    let mut k = 1;
    while k <= group_size {
        let est: f64 = correct
            .iter()
            .map(|&c| {
                let n = group_size;
                if n - c < k {
                    1.0
                } else {
                    // 1 - prod(1 - k / arange(n - c + 1, n + 1))
                    1.0 - (n - c + 1..=n)
                        .map(|i| 1.0 - k as f64 / i as f64)
                        .product::<f64>()
                }
            })
            .sum::<f64>()
            / correct.len() as f64;
        out.insert(format!("pass@{k}"), float_json(est));
        k *= 2;
    }
    Some(out)
}

/// The size of the dump's groups: equal `group_index` groups when every sample has one and
/// all groups are the same size; else runs of samples with the same prompt (evals, whose
/// `group_index` is `None`); else 1.
pub fn group_size(rows: &[SampleRow]) -> usize {
    group_size_of(&rows.iter().collect::<Vec<_>>())
}

/// [`group_size`] over some rows of a dump (one eval set).
fn group_size_of(rows: &[&SampleRow]) -> usize {
    let prompts: Vec<u64> = rows.iter().map(|r| r.prompt_hash).collect();
    let uniform = |sizes: Vec<usize>| -> Option<usize> {
        let first = *sizes.first()?;
        sizes.iter().all(|&s| s == first).then_some(first)
    };
    if !rows.is_empty() && rows.iter().all(|r| !r.group_index.is_null()) {
        let mut sizes: Vec<(String, usize)> = Vec::new();
        for r in rows {
            let g = r.group_index.to_string();
            match sizes.last_mut() {
                Some((last, n)) if *last == g => *n += 1,
                _ => sizes.push((g, 1)),
            }
        }
        if let Some(n) = uniform(sizes.into_iter().map(|(_, n)| n).collect()) {
            return n;
        }
    }
    if prompts.len() == rows.len() && !prompts.is_empty() {
        let mut runs = vec![1usize];
        for w in prompts.windows(2) {
            if w[0] == w[1] {
                if let Some(n) = runs.last_mut() {
                    *n += 1;
                }
            } else {
                runs.push(1);
            }
        }
        if let Some(n) = uniform(runs) {
            return n;
        }
    }
    1
}

/// slime's `compute_metrics_from_samples` over `rows`, under `prefix`. `zero_std`: whether
/// slime counts zero-std groups (not under `--advantage-estimator ppo`).
fn sample_metrics(out: &mut Map<String, J>, prefix: &str, rows: &[&SampleRow], zero_std: bool) {
    let lens: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.effective_response_length)
        .collect();
    statistics(out, &format!("{prefix}response_len/"), &lens);
    // _compute_zero_std_metrics: groups (by group_index, None being one group) whose rewards
    // are all equal, counted by str(round(reward, 1)).
    let mut groups: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    for r in rows {
        let g = r.group_index.to_string();
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(r.reward),
            None => groups.push((g, vec![r.reward])),
        }
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, rewards) in groups.iter().filter(|_| zero_std) {
        let Some(Some(first)) = rewards.first() else {
            continue;
        };
        if rewards.iter().all(|r| *r == Some(*first)) {
            let key = py_round1(*first);
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
    }
    for (k, n) in counts {
        out.insert(format!("{prefix}zero_std/count_{k}"), J::from(n));
    }
    let n = rows.len().max(1) as f64;
    let cached: f64 = rows.iter().filter_map(|r| r.cached_tokens).sum();
    let total: f64 = rows.iter().filter_map(|r| r.total_prompt_tokens).sum();
    if rows.iter().any(|r| r.total_prompt_tokens.is_some()) {
        out.insert(
            format!("{prefix}prefix_cache_hit_rate"),
            float_json(if total > 0.0 { cached / total } else { 0.0 }),
        );
        out.insert(
            format!("{prefix}avg_cached_tokens_per_sample"),
            float_json(cached / n),
        );
    }
    // `_compute_spec_metrics`: slime logs these when speculative decoding is configured; a
    // dump says so by a sample with verify steps.
    if rows
        .iter()
        .any(|r| r.state.spec_verify_ct.is_some_and(|c| c > 0.0))
    {
        let mean = |f: fn(&SampleRow) -> Option<f64>| {
            rows.iter().map(|r| f(r).unwrap_or(0.0)).sum::<f64>() / n
        };
        out.insert(
            format!("{prefix}spec_accept_rate"),
            float_json(mean(|r| r.state.spec_accept_rate)),
        );
        out.insert(
            format!("{prefix}spec_accept_length"),
            float_json(mean(|r| r.state.spec_accept_length)),
        );
    }
    let rep = rows.iter().filter(|r| r.repetition).count() as f64 / n;
    out.insert(format!("{prefix}repetition_frac"), float_json(rep));
    out.insert(
        format!("{prefix}truncated_ratio"),
        float_json(truncated(rows) / n),
    );
}

fn truncated(rows: &[&SampleRow]) -> f64 {
    rows.iter()
        .filter(|r| r.status.as_deref() == Some("truncated"))
        .count() as f64
}

/// slime's `compute_perf_metrics_from_samples` (without `tokens_per_gpu_per_sec`).
fn perf_metrics(out: &mut Map<String, J>, scan: &Scanned, rollout_time: f64) {
    let p = "perf/";
    out.insert(format!("{p}rollout_time"), float_json(rollout_time));
    let ngt: Vec<f64> = scan
        .rows
        .iter()
        .map(|r| r.non_generation_time.unwrap_or(0.0))
        .collect();
    let max_ngt = ngt.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max_ngt > 0.0 {
        statistics(out, &format!("{p}non_generation_time/"), &ngt);
    }
    let mut token_perf = |lens: Vec<f64>, key: &str| {
        let Some(max_len) = lens.iter().copied().reduce(f64::max) else {
            return;
        };
        out.insert(
            format!("{p}longest_{key}sample_tokens_per_sec"),
            float_json(max_len / rollout_time),
        );
        if max_ngt <= 0.0 {
            return;
        }
        let at_max: Vec<f64> = ngt
            .iter()
            .zip(&lens)
            .filter(|(_, &l)| l == max_len)
            .map(|(&t, _)| t)
            .collect();
        let mean = at_max.iter().sum::<f64>() / at_max.len() as f64;
        out.insert(
            format!("{p}longest_{key}sample_non_generation_time"),
            float_json(mean),
        );
        out.insert(
            format!("{p}longest_{key}sample_tokens_per_sec_without_non_generation"),
            float_json(max_len / (rollout_time - mean)),
        );
    };
    token_perf(
        scan.rows
            .iter()
            .map(|r| r.response_length.unwrap_or(0.0))
            .collect(),
        "",
    );
    token_perf(
        scan.rows
            .iter()
            .map(|r| r.effective_response_length.unwrap_or(0.0))
            .collect(),
        "effective_",
    );
    for ((metric, _), values) in REQUEST_PERF_FIELDS.iter().zip(&scan.request_values) {
        statistics(out, &format!("{metric}/"), values);
    }
}

/// The `run_reference.json` entry of one dump.
pub fn rollout_metrics(dump: &DumpRef, scan: &Scanned, opts: &RunOptions) -> Map<String, J> {
    let zero_std = opts.advantage_estimator.as_deref() != Some("ppo");
    let mut m = Map::new();
    let rows = &scan.rows;
    m.insert("rollout_id".into(), J::from(dump.rollout_id));
    m.insert("kind".into(), J::from(dump.kind.as_str()));
    m.insert("file".into(), J::from(dump.file.clone()));
    m.insert("sample_count".into(), J::from(rows.len()));
    m.insert(
        "traced_sample_count".into(),
        J::from(rows.iter().filter(|r| r.traced).count()),
    );
    let gs = group_size(rows);
    m.insert("group_size".into(), J::from(gs));
    let rewards: Vec<f64> = rows.iter().filter_map(|r| r.reward).collect();
    statistics(&mut m, "reward/", &rewards);
    let all: Vec<&SampleRow> = rows.iter().collect();
    match dump.kind {
        DumpKind::Train => {
            sample_metrics(&mut m, "rollout/", &all, zero_std);
            if let (Some(a), Some(b)) = (scan.first_start, scan.last_end) {
                perf_metrics(&mut m, scan, b - a);
            }
            if rewards.len() == rows.len() {
                if let Some(pr) = pass_rate(&rewards, gs) {
                    m.insert("pass_rate".into(), J::Object(pr));
                }
            }
            let dict = rows.iter().any(|r| r.reward_is_dict);
            m.insert(
                "reward_key".into(),
                if dict { J::from("score") } else { J::Null },
            );
            m.insert(
                "train_file".into(),
                dump.train_file.clone().map_or(J::Null, J::from),
            );
        }
        DumpKind::Eval => {
            // The sets as `eval_sets` marked them (rows without a set: one set, `default`).
            let mut sets: Vec<(Option<usize>, String, Vec<&SampleRow>)> = Vec::new();
            for r in rows {
                match sets.iter_mut().find(|(k, _, _)| *k == r.eval_set) {
                    Some((_, _, v)) => v.push(r),
                    None => {
                        let name = r.eval_dataset.clone().unwrap_or_else(|| "default".into());
                        sets.push((r.eval_set, name, vec![r]));
                    }
                }
            }
            for (_, name, mine) in &sets {
                let rw: Vec<f64> = mine.iter().map(|r| r.reward.unwrap_or(0.0)).collect();
                let n = mine.len().max(1) as f64;
                m.insert(
                    format!("eval/{name}"),
                    float_json(rw.iter().sum::<f64>() / n),
                );
                sample_metrics(&mut m, &format!("eval/{name}/"), mine, zero_std);
                m.insert(
                    format!("eval/{name}-truncated_ratio"),
                    float_json(truncated(mine) / n),
                );
                if let Some(pr) = pass_rate(&rw, group_size_of(mine)) {
                    for (k, v) in pr {
                        m.insert(format!("eval/{name}-{k}"), v);
                    }
                }
            }
            let list: Vec<J> = sets
                .iter()
                .map(|(_, name, v)| serde_json::json!({"name": name, "sample_count": v.len()}))
                .collect();
            m.insert("eval/step".into(), J::from(dump.rollout_id));
            m.insert("eval_datasets".into(), J::Array(list));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_at_k_like_slime() {
        // One group of 4 with 1 correct: pass@1 = 0.25, pass@2 = 1 - (3/4 * 2/3) = 0.5.
        let pr = pass_rate(&[1.0, 0.0, 0.0, 0.0], 4).unwrap_or_default();
        assert_eq!(pr["pass@1"], 0.25);
        assert!((pr["pass@2"].as_f64().unwrap_or(0.0) - 0.5).abs() < 1e-12);
        assert_eq!(pr["pass@4"], 1.0);
        assert!(pass_rate(&[1.0, 0.0, 0.0], 4).is_none());
        assert_eq!(pass_rate(&[1.0], 1), Some(Map::new()));
    }
}

//! [`RolloutSummary`]: what a run keeps of each dump (slime's metrics, flags, distributions),
//! small whatever the dump's size.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use super::metrics::{group_size, rollout_metrics};
use super::{eval_sets, train_rollout_metrics, DumpKind, DumpRef, RunOptions, Scanned, TrainData};
use crate::metrics::percentile;

/// Most points kept per distribution: every value up to this many, else this many evenly
/// spaced quantiles (enough for a histogram or a CDF).
pub const DIST_POINTS: usize = 512;

/// A dump's distributions, each sorted ascending (see [`DIST_POINTS`]), with its full count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    pub count: usize,
    pub points: Vec<f64>,
}

impl Dist {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Dist {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let count = v.len();
        if count <= DIST_POINTS {
            return Dist { count, points: v };
        }
        let points = (0..DIST_POINTS)
            .map(|i| percentile(&v, 100.0 * i as f64 / (DIST_POINTS - 1) as f64))
            .collect();
        Dist { count, points }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dists {
    pub reward: Dist,
    /// Effective response length (slime's `response_len`).
    pub response_len: Dist,
    /// Per request (`sglang_generate`), seconds.
    pub e2e_latency: Dist,
}

/// What stands out about a dump, for the run table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    /// One request took at least half the rollout's time and ten times the median request.
    pub straggler: bool,
    /// At least a fifth of the samples were truncated.
    pub truncation_burst: bool,
    /// No sample has trace events (no `perf/` metrics).
    pub untraced: bool,
    /// A train dump whose run has train data, but not for this rollout.
    pub missing_train: bool,
    /// Train data that covers only some samples.
    pub partial_train: bool,
    /// Groups whose rewards are all equal (no learning signal in GRPO).
    pub zero_std_groups: usize,
}

/// One dump of a run, summarised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RolloutSummary {
    pub dump: Option<DumpRef>,
    /// slime's metrics under slime's names: the dump's `run_reference.json` entry.
    pub metrics: Map<String, J>,
    pub flags: Flags,
    pub dists: Dists,
    /// p99 of the requests' e2e latency.
    pub e2e_p99: Option<f64>,
    /// Problems met reading the dump or its train data, one line each.
    pub notes: Vec<String>,
    /// Set instead of everything else when the dump could not be read at all.
    pub error: Option<String>,
    /// What the run explorer charts beside slime's keys (not in `run --json`).
    pub extra: SummaryExtra,
}

/// Per-dump numbers the run explorer shows that slime does not log per rollout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryExtra {
    /// Mean over samples of slime's per-sample `train_rollout_logprob_abs_diff`.
    pub logprob_abs_diff: Option<f64>,
    /// Mean and largest staleness (rollouts between the weights that began a sample and
    /// this rollout).
    pub staleness_mean: Option<f64>,
    pub staleness_max: Option<i64>,
    /// Samples with `remove_sample` set.
    pub removed: usize,
}

impl SummaryExtra {
    fn of(rows: &[super::SampleRow]) -> SummaryExtra {
        let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let stale: Vec<i64> = rows.iter().filter_map(|r| r.staleness).collect();
        SummaryExtra {
            logprob_abs_diff: mean(
                rows.iter()
                    .filter_map(|r| r.train.as_ref()?.logprob_abs_diff)
                    .collect(),
            ),
            staleness_mean: mean(stale.iter().map(|&x| x as f64).collect()),
            staleness_max: stale.iter().copied().max(),
            removed: rows.iter().filter(|r| r.state.remove_sample).count(),
        }
    }
}

impl RolloutSummary {
    /// A dump that could not be read: the run goes on without it.
    pub fn failed(dump: &DumpRef, error: String) -> RolloutSummary {
        RolloutSummary {
            dump: Some(dump.clone()),
            error: Some(error),
            ..RolloutSummary::default()
        }
    }
}

/// A dict reward's `key` entry as each sample's reward (slime's `--reward-key`).
fn pick_reward(scan: &mut Scanned, key: &str, notes: &mut Vec<String>) {
    let mut missing = 0;
    for r in scan.rows.iter_mut().filter(|r| r.reward_is_dict) {
        r.reward = r
            .reward_fields
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| match v {
                // Python adds a bool as 0 or 1.
                J::Bool(b) => Some(f64::from(u8::from(*b))),
                v => v.as_f64(),
            });
        missing += r.reward.is_none() as usize;
    }
    if missing > 0 {
        notes.push(format!(
            "{missing} dict rewards have no number under the reward key {key:?}"
        ));
    }
}

/// Aligns train-side fields to `scan`'s rows by rollout position: (matched, rows without).
pub fn attach_train(scan: &mut Scanned, train: &TrainData) -> (usize, usize) {
    let mut matched = 0;
    for r in &mut scan.rows {
        r.train = train.fields.get(&r.position).cloned().map(Box::new);
        matched += r.train.is_some() as usize;
    }
    (matched, scan.rows.len() - matched)
}

/// Summarises a scanned dump. `train`: its train data, already read (or why it could not be),
/// `None` when the run has none for it.
pub fn summarize(
    dump: &DumpRef,
    scan: Scanned,
    train: Option<Result<TrainData, String>>,
    run_has_train: bool,
) -> (RolloutSummary, Scanned) {
    summarize_with(dump, scan, train, run_has_train, &RunOptions::default())
}

/// [`summarize`] with the user's [`RunOptions`] (reward keys, eval names, …).
pub fn summarize_with(
    dump: &DumpRef,
    mut scan: Scanned,
    train: Option<Result<TrainData, String>>,
    run_has_train: bool,
    opts: &RunOptions,
) -> (RolloutSummary, Scanned) {
    if dump.is_verl() {
        return super::verl::summarize_verl(dump, scan);
    }
    let mut flags = Flags::default();
    let mut notes = scan.notes.clone();
    let key = match dump.kind {
        DumpKind::Train => opts.reward_key.as_ref(),
        DumpKind::Eval => opts.eval_reward_key.as_ref().or(opts.reward_key.as_ref()),
    };
    if let Some(key) = key {
        pick_reward(&mut scan, key, &mut notes);
    }
    if dump.kind == DumpKind::Eval {
        eval_sets(&mut scan.rows, &opts.eval_names);
    }
    let mut train_metrics = None;
    match train {
        Some(Ok(t)) => {
            if let Some(id) = t.rollout_id.filter(|&id| id != dump.rollout_id) {
                notes.push(format!(
                    "{}: holds rollout {id} by its payload, not {}",
                    dump.train_file.as_deref().unwrap_or("train data"),
                    dump.rollout_id
                ));
            }
            train_metrics = Some(train_rollout_metrics(
                &t.rollout,
                dump.rollout_id,
                group_size(&scan.rows),
                opts.rollout_max_response_len,
            ));
            let (_, missing) = attach_train(&mut scan, &t);
            flags.partial_train = missing > 0;
            if missing > 0 {
                notes.push(format!(
                    "{}: {missing} of {} samples have no train data",
                    dump.train_file.as_deref().unwrap_or("train data"),
                    scan.rows.len()
                ));
            }
            notes.extend(t.notes.iter().take(10).cloned());
        }
        Some(Err(e)) => {
            flags.missing_train = true;
            notes.push(format!(
                "{}: {e}",
                dump.train_file.as_deref().unwrap_or("train data")
            ));
        }
        None if run_has_train && dump.kind == DumpKind::Train => {
            flags.missing_train = true;
            notes.push(format!(
                "no {} (train-side fields left empty)",
                super::layout::expected_train(dump)
            ));
        }
        None => {}
    }
    for r in &mut scan.rows {
        r.staleness = r.state.staleness(dump.rollout_id);
    }
    let mut metrics = rollout_metrics(dump, &scan, opts);
    metrics.extend(train_metrics.unwrap_or_default());
    let num = |k: &str| metrics.get(k).and_then(J::as_f64);
    let e2e = &scan.request_values[0];
    let mut sorted = e2e.clone();
    sorted.sort_by(f64::total_cmp);
    let e2e_p99 = (!sorted.is_empty()).then(|| percentile(&sorted, 99.0));
    if let (Some(max), Some(rt)) = (sorted.last(), num("perf/rollout_time")) {
        let median = percentile(&sorted, 50.0);
        flags.straggler = *max >= 0.5 * rt && *max >= 10.0 * median;
    }
    let trunc = num("rollout/truncated_ratio").unwrap_or_else(|| {
        let n = scan.rows.len().max(1) as f64;
        scan.rows
            .iter()
            .filter(|r| r.status.as_deref() == Some("truncated"))
            .count() as f64
            / n
    });
    flags.truncation_burst = trunc >= 0.2;
    flags.untraced = !scan.rows.is_empty() && scan.rows.iter().all(|r| !r.traced);
    flags.zero_std_groups = metrics
        .iter()
        .filter(|(k, _)| k.contains("zero_std/count_"))
        .filter_map(|(_, v)| v.as_u64())
        .sum::<u64>() as usize;
    let dists = Dists {
        reward: Dist::of(scan.rows.iter().filter_map(|r| r.reward)),
        response_len: Dist::of(scan.rows.iter().filter_map(|r| r.effective_response_length)),
        e2e_latency: Dist::of(e2e.iter().copied()),
    };
    let summary = RolloutSummary {
        dump: Some(dump.clone()),
        metrics,
        flags,
        dists,
        e2e_p99,
        notes,
        error: None,
        extra: SummaryExtra::of(&scan.rows),
    };
    (summary, scan)
}

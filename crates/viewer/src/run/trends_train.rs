//! The trend charts of slime's train side, drawn when a run has train data: log probs (train,
//! rollout, reference) as `log_rollout_data` logs them, KL and entropy, the per-sample
//! |train − rollout log prob| (slime's `train_rollout_logprob_abs_diff`, averaged over the
//! rollout), and staleness under async or partial rollouts. A chart whose every value is
//! missing is left out.

use trace::run::{DumpKind, DumpRef, RolloutSummary};

use super::chart_data::{series, Chart, Series, Sums, TRAIN_COLORS};
use super::math::metric;

/// A dump's value of one line.
type Value = Box<dyn Fn(&RolloutSummary) -> Option<f64>>;

/// A chart of `lines` (name, value), or nothing when no dump has any of them.
fn chart(
    id: &'static str,
    title: &'static str,
    dumps: &[DumpRef],
    sums: &Sums,
    lines: Vec<(&'static str, Value)>,
) -> Option<Chart> {
    let series: Vec<Series> = lines
        .into_iter()
        .enumerate()
        .map(|(i, (name, f))| {
            let color = TRAIN_COLORS[i % TRAIN_COLORS.len()];
            series(name, color, DumpKind::Train, dumps, sums, f)
        })
        .filter(|s| s.points.iter().any(|p| p.2.is_some()))
        .collect();
    (!series.is_empty()).then_some(Chart {
        id,
        title,
        unit_range: false,
        series,
        outliers: vec![],
    })
}

fn key(k: &'static str) -> Value {
    Box::new(move |s| metric(s, k))
}

/// The train-side charts (see the module doc).
pub(super) fn charts(dumps: &[DumpRef], sums: &Sums) -> Vec<Chart> {
    let log_probs = chart(
        "train-log-probs",
        "Log probs (rollout/log_probs, rollout_log_probs, ref_log_probs)",
        dumps,
        sums,
        vec![
            ("train", key("rollout/log_probs")),
            ("rollout", key("rollout/rollout_log_probs")),
            ("reference", key("rollout/ref_log_probs")),
        ],
    );
    let kl = chart(
        "train-kl",
        "KL and entropy (rollout/kl, rollout/entropy)",
        dumps,
        sums,
        vec![
            ("kl", key("rollout/kl")),
            ("entropy", key("rollout/entropy")),
        ],
    );
    let abs_diff = chart(
        "train-abs-diff",
        "|train − rollout log prob| (train_rollout_logprob_abs_diff, mean)",
        dumps,
        sums,
        vec![("abs diff", Box::new(|s| s.extra.logprob_abs_diff))],
    );
    let staleness = chart(
        "staleness",
        "Staleness (rollouts behind the weights that began a sample)",
        dumps,
        sums,
        vec![
            ("mean", Box::new(|s| s.extra.staleness_mean)),
            ("max", Box::new(|s| s.extra.staleness_max.map(|x| x as f64))),
        ],
    );
    [log_probs, kl, abs_diff, staleness]
        .into_iter()
        .flatten()
        .collect()
}

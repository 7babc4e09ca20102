//! GRPO groups: which samples form a group, each group's completion time and reward stats,
//! and slime's zero-std group counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::jf64;

use super::SampleFacts;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub group: String,
    pub samples: usize,
    /// From the group's first start to its last end, seconds.
    #[serde(with = "jf64")]
    pub completion: f64,
    #[serde(with = "jf64::opt")]
    pub reward_mean: Option<f64>,
    #[serde(with = "jf64::opt")]
    pub reward_std: Option<f64>,
    pub zero_std: bool,
    /// Rows of this group (indices into the cache's rows).
    pub rows: Vec<usize>,
}

/// Samples by group (`None` for samples without one), groups in name order.
pub(super) fn group_facts(facts: &[SampleFacts]) -> BTreeMap<String, Vec<&SampleFacts>> {
    let mut g: BTreeMap<String, Vec<&SampleFacts>> = BTreeMap::new();
    for f in facts {
        g.entry(f.group.clone().unwrap_or_else(|| "None".into()))
            .or_default()
            .push(f);
    }
    g
}

/// Python's `str(round(r, 1))` for a float reward.
pub(crate) fn py_round1(r: f64) -> String {
    let rounded: f64 = format!("{r:.1}").parse().unwrap_or(r);
    pt::walk::py_float(rounded)
}

/// slime's `rollout/zero_std/count_<r>`: groups whose rewards are all known and all equal,
/// counted by that reward rounded as Python's `round(r, 1)`.
pub(super) fn zero_std_counts(
    groups: &BTreeMap<String, Vec<&SampleFacts>>,
) -> BTreeMap<String, usize> {
    let mut zero_std: BTreeMap<String, usize> = BTreeMap::new();
    for members in groups.values() {
        let rewards: Vec<f64> = members.iter().filter_map(|f| f.reward).collect();
        if rewards.len() != members.len() {
            continue;
        }
        if rewards.iter().all(|r| *r == rewards[0]) {
            if let Some(r) = rewards.first() {
                *zero_std.entry(py_round1(*r)).or_default() += 1;
            }
        }
    }
    zero_std
}

/// Each group's size, completion time (first start to last end of its rows) and reward mean
/// and std, longest completion first.
pub(super) fn group_stats(
    groups: &BTreeMap<String, Vec<&SampleFacts>>,
    rows: &[(f64, f64)],
) -> Vec<Group> {
    let mut out: Vec<Group> = groups
        .iter()
        .map(|(name, members)| {
            let member_rows: Vec<usize> = members.iter().filter_map(|f| f.row).collect();
            let start = member_rows
                .iter()
                .map(|&i| rows[i].0)
                .fold(f64::INFINITY, f64::min);
            let end = member_rows
                .iter()
                .map(|&i| rows[i].1)
                .fold(f64::NEG_INFINITY, f64::max);
            let rewards: Vec<f64> = members.iter().filter_map(|f| f.reward).collect();
            let mean =
                (!rewards.is_empty()).then(|| rewards.iter().sum::<f64>() / rewards.len() as f64);
            let std = mean.map(|m| {
                (rewards.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / rewards.len() as f64)
                    .sqrt()
            });
            Group {
                group: name.clone(),
                samples: members.len(),
                completion: if end > start { end - start } else { 0.0 },
                reward_mean: mean,
                reward_std: std,
                zero_std: rewards.len() == members.len()
                    && rewards.iter().all(|r| Some(*r) == rewards.first().copied()),
                rows: member_rows,
            }
        })
        .collect();
    out.sort_by(|x, y| y.completion.total_cmp(&x.completion));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_rows::{row, span};
    use crate::metrics::{analyze, Thresholds};

    #[test]
    fn group_stats_and_zero_std() {
        let facts: Vec<SampleFacts> = [
            (Some("0"), 1.0),
            (Some("0"), 1.0),
            (Some("1"), 0.0),
            (Some("1"), 1.0),
        ]
        .iter()
        .enumerate()
        .map(|(i, (g, r))| SampleFacts {
            row: Some(i),
            group: g.map(str::to_string),
            reward: Some(*r),
            status: Some("completed".into()),
            response_length: Some(10.0),
            ..SampleFacts::default()
        })
        .collect();
        let rows: Vec<crate::model::Row> = (0..4)
            .map(|i| {
                row(vec![span(
                    "sglang_generate",
                    i as f64,
                    Some(i as f64 + 2.0),
                    i as f64 + 2.0,
                    0,
                )])
            })
            .collect();
        let a = analyze(&rows, &facts, &Thresholds::default());
        let g0 = a.groups.iter().find(|g| g.group == "0").unwrap();
        let g1 = a.groups.iter().find(|g| g.group == "1").unwrap();
        assert!(g0.zero_std && !g1.zero_std);
        assert_eq!((g0.reward_mean, g0.reward_std), (Some(1.0), Some(0.0)));
        assert_eq!((g1.reward_mean, g1.reward_std), (Some(0.5), Some(0.5)));
        assert_eq!(g0.completion, 3.0, "first start 0, last end 3");
        assert_eq!(
            a.slime
                .iter()
                .find(|(k, _)| k == "rollout/zero_std/count_1.0")
                .map(|x| x.1),
            Some(1.0)
        );
        assert!(!a
            .slime
            .iter()
            .any(|(k, _)| k.starts_with("rollout/zero_std/count_0")));
        // Tail: 4 samples, 90% done when the 4th... ceil(3.6) = 4th end: no tail.
        assert_eq!(a.tail_seconds, Some(0.0));
    }

    #[test]
    fn rounding_like_python() {
        assert_eq!(py_round1(1.0), "1.0");
        assert_eq!(py_round1(0.25), "0.2"); // round-half-even on the binary value, as Python
        assert_eq!(py_round1(-0.96), "-1.0");
    }
}

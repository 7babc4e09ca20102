//! What a rollout summary's flags and pass@k say, in one place: each flag's label, test id and
//! explanation, and how pass@k is read from slime's metrics (a train dump's `pass_rate`, an
//! eval's per-dataset `eval/<name>-pass@k`). The CLI's run table and the run explorer's rollout
//! table both show these.

use serde_json::{Map, Value as J};

use super::summary::{Flags, RolloutSummary};

/// One flag a summary can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagInfo {
    /// The short label shown in a table ("truncation burst").
    pub label: &'static str,
    /// A stable identifier (the viewer's `data-testid`).
    pub id: &'static str,
    /// What it means, one line.
    pub explanation: &'static str,
}

/// Whether a flag is raised in [`Flags`].
type IsRaised = fn(&Flags) -> bool;

/// Every on/off flag, in table order, with how to read it from [`Flags`].
const FLAGS: [(IsRaised, FlagInfo); 5] = [
    (
        |f| f.straggler,
        FlagInfo {
            label: "straggler",
            id: "flag-straggler",
            explanation:
                "one request took at least half the rollout time and 10× the median request",
        },
    ),
    (
        |f| f.truncation_burst,
        FlagInfo {
            label: "truncation burst",
            id: "flag-truncation",
            explanation: "at least a fifth of the samples were truncated",
        },
    ),
    (
        |f| f.untraced,
        FlagInfo {
            label: "untraced",
            id: "flag-untraced",
            explanation: "no sample has trace events: no perf/ metrics",
        },
    ),
    (
        |f| f.missing_train,
        FlagInfo {
            label: "missing train data",
            id: "flag-missing-train",
            explanation: "the run has train data, but not for this rollout",
        },
    ),
    (
        |f| f.partial_train,
        FlagInfo {
            label: "partial train data",
            id: "flag-partial-train",
            explanation: "train data covers only some samples",
        },
    ),
];

impl Flags {
    /// The on/off flags raised, in table order (zero-std groups are a count: see
    /// [`Flags::labels`]).
    pub fn raised(&self) -> Vec<FlagInfo> {
        FLAGS
            .iter()
            .filter(|(on, _)| on(self))
            .map(|&(_, info)| info)
            .collect()
    }

    /// Every flag as a table shows it: the raised flags' labels, then `"N zero-std groups"`.
    pub fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = self.raised().iter().map(|f| f.label.to_string()).collect();
        if self.zero_std_groups > 0 {
            out.push(format!("{} zero-std groups", self.zero_std_groups));
        }
        out
    }
}

/// pass@k of a dump's metrics (or of its rollout record, which holds them): a train dump's
/// `pass_rate["pass@k"]`, or for an eval the mean of its datasets' `eval/<name>-pass@k`
/// (`None` when neither is there).
pub fn pass_at_of(metrics: &Map<String, J>, k: usize) -> Option<f64> {
    let key = format!("pass@{k}");
    if let Some(x) = metrics.get("pass_rate").and_then(|p| p.get(&key)) {
        return x.as_f64();
    }
    let suffix = format!("-{key}");
    let v: Vec<f64> = metrics
        .iter()
        .filter(|(name, _)| name.starts_with("eval/") && name.ends_with(&suffix))
        .filter_map(|(_, v)| v.as_f64())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

impl RolloutSummary {
    /// pass@k of this dump ([`pass_at_of`] its metrics).
    pub fn pass_at(&self, k: usize) -> Option<f64> {
        pass_at_of(&self.metrics, k)
    }

    /// The largest k of any pass@k this dump has.
    pub fn max_pass_k(&self) -> Option<usize> {
        let train = self
            .metrics
            .get("pass_rate")
            .and_then(J::as_object)
            .into_iter()
            .flat_map(|p| p.keys())
            .filter_map(|k| k.strip_prefix("pass@"));
        let eval = self
            .metrics
            .keys()
            .filter(|k| k.starts_with("eval/"))
            .filter_map(|k| k.rsplit_once("-pass@").map(|(_, n)| n));
        train.chain(eval).filter_map(|n| n.parse().ok()).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary(metrics: J) -> RolloutSummary {
        RolloutSummary {
            metrics: metrics.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn labels_in_table_order_with_the_zero_std_count_last() {
        let f = Flags {
            untraced: true,
            straggler: true,
            zero_std_groups: 3,
            ..Default::default()
        };
        assert_eq!(f.labels(), ["straggler", "untraced", "3 zero-std groups"]);
        assert_eq!(f.raised()[1].id, "flag-untraced");
        assert!(Flags::default().labels().is_empty());
        let all = Flags {
            straggler: true,
            truncation_burst: true,
            untraced: true,
            missing_train: true,
            partial_train: true,
            zero_std_groups: 0,
        };
        let ids: Vec<&str> = all.raised().iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), 5);
        assert!(ids.iter().all(|id| id.starts_with("flag-")));
    }

    #[test]
    fn pass_at_reads_train_and_eval_dumps() {
        let train = summary(json!({"pass_rate": {"pass@1": 0.25, "pass@4": 0.5}}));
        assert_eq!(train.pass_at(1), Some(0.25));
        assert_eq!(train.pass_at(2), None);
        assert_eq!(train.max_pass_k(), Some(4));
        let eval = summary(json!({
            "eval/aime24-pass@1": 0.5, "eval/math500-pass@1": 0.75,
            "eval/aime24-pass@8": 0.9, "eval/aime24-truncated_ratio": 0.1
        }));
        assert_eq!(eval.pass_at(1), Some(0.625));
        assert_eq!(eval.pass_at(8), Some(0.9));
        assert_eq!(eval.max_pass_k(), Some(8));
        assert_eq!(summary(json!({})).pass_at(1), None);
    }
}

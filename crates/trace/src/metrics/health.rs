//! Health badges: each headline metric against a configurable threshold, with a one-line
//! message saying the value and the limit.

use serde::{Deserialize, Serialize};

use crate::model::jf64;

use super::Analysis;

/// Thresholds for the health badges (common inference-serving practice). All configurable.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Thresholds {
    #[serde(with = "jf64")]
    pub e2e_p99_s: f64,
    #[serde(with = "jf64")]
    pub queue_p99_s: f64,
    #[serde(with = "jf64")]
    pub failed_share: f64,
    #[serde(with = "jf64")]
    pub decode_tok_s: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            e2e_p99_s: 10.0,
            queue_p99_s: 0.5,
            failed_share: 0.01,
            decode_tok_s: 30.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Health {
    pub metric: String,
    #[serde(with = "jf64")]
    pub value: f64,
    #[serde(with = "jf64")]
    pub threshold: f64,
    pub ok: bool,
    /// e.g. "E2E latency p99 12.3 s > 10 s".
    pub message: String,
}

/// The health badges for an analysis under the given thresholds.
pub fn analyze_health(a: &Analysis, t: &Thresholds) -> Vec<Health> {
    let dist = |name: &str| {
        a.distributions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
    };
    let mut out = Vec::new();
    if let Some(s) = dist("perf/request/e2e_latency") {
        out.push(Health {
            metric: "e2e_latency_p99".into(),
            value: s.p99,
            threshold: t.e2e_p99_s,
            ok: s.p99 <= t.e2e_p99_s,
            message: format!("E2E latency p99 {:.2} s (limit {} s)", s.p99, t.e2e_p99_s),
        });
    }
    if let Some(s) = dist("perf/request/queue_time") {
        out.push(Health {
            metric: "queue_time_p99".into(),
            value: s.p99,
            threshold: t.queue_p99_s,
            ok: s.p99 <= t.queue_p99_s,
            message: format!(
                "queue time p99 {:.0} ms (limit {:.0} ms)",
                s.p99 * 1e3,
                t.queue_p99_s * 1e3
            ),
        });
    }
    if a.samples > 0 {
        let bad = a.failed_samples;
        let share = bad as f64 / a.samples as f64;
        out.push(Health {
            metric: "aborted_failed_share".into(),
            value: share,
            threshold: t.failed_share,
            ok: share <= t.failed_share,
            message: format!(
                "aborted/failed {:.1}% of samples ({bad} of {}; limit {:.1}%)",
                share * 100.0,
                a.samples,
                t.failed_share * 100.0
            ),
        });
    }
    if let Some(s) = dist("perf/decode/throughput") {
        out.push(Health {
            metric: "decode_throughput_p50".into(),
            value: s.p50,
            threshold: t.decode_tok_s,
            ok: s.p50 >= t.decode_tok_s,
            message: format!(
                "decode throughput p50 {:.1} tok/s (floor {} tok/s)",
                s.p50, t.decode_tok_s
            ),
        });
    }
    out
}

//! The performance picture of one rollout step, from the dump alone (spec §5 and beyond).
//!
//! slime's own metrics keep slime's names and semantics (`perf/request/*`, `perf/decode/*`,
//! `perf/prefill/*`, `rollout/response_len/*`, `rollout/truncated_ratio`,
//! `rollout/zero_std/count_<r>`). One deliberate difference: PD timings that newer producers
//! put on `sglang_pd_*` child spans (and the `sglang_pd_summary` event) are attached to their
//! `sglang_generate` request, so both PD shapes give the same `perf/prefill/*` and
//! `perf/decode/*` values (slime's code reads only the request's own end attrs and misses them).
//!
//! Inputs: request attributes come from the rows (every `span_end` is in a row, as a closed
//! span or an orphan end); sample facts (response length, status, reward, group) come from the
//! dump's samples, so untraced samples count too. A cache JSON has no samples: sample facts then
//! come from the rows' fields, and the response length is unknown.
//!
//! Files: `summary` (numpy-style statistics, histograms, counts), `facts` (what is known about
//! each sample), `requests` (per-request attrs with PD children attached, slime's metric
//! names), `activity` (time by span, in-flight requests, token rate), `groups` (GRPO group
//! stats, zero-std counts), `health` (badges and their thresholds), `accum` (the [`Analyzer`]:
//! one row at a time, so a build never needs every row in memory at once); this file holds the
//! `Analysis` type and the `analyze` entry.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::model::{jf64, Row};

mod accum;
mod activity;
mod facts;
mod groups;
mod health;
mod requests;
mod summary;
#[cfg(test)]
mod test_rows;

pub use accum::Analyzer;
pub use activity::in_flight;
pub use facts::{facts_from_rows, sample_fact, sample_facts, SampleFacts};
pub(crate) use groups::py_round1;
pub use groups::Group;
pub use health::{analyze_health, Health, Thresholds};
pub use requests::{request_attrs, request_pd_values, RequestAttrs};
pub use summary::{histogram, percentile, stats, Stats};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlowSample {
    pub row: usize,
    pub sample_index: J,
    #[serde(with = "jf64")]
    pub duration: f64,
}

/// The whole performance picture.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Analysis {
    /// slime's metrics under slime's names, in a stable order.
    #[serde(with = "jf64::named")]
    pub slime: Vec<(String, f64)>,
    /// Per metric (slime's base name): count, mean, median, max, min, p50, p90, p99.
    pub distributions: Vec<(String, Stats)>,
    pub requests: usize,
    #[serde(with = "jf64")]
    pub completion_tokens: f64,
    #[serde(with = "jf64")]
    pub wall_time: f64,
    #[serde(with = "jf64::opt")]
    pub tokens_per_sec: Option<f64>,
    #[serde(with = "jf64::opt")]
    pub prefix_cache_hit_rate: Option<f64>,
    pub finish_reasons: Vec<(String, usize)>,
    pub statuses: Vec<(String, usize)>,
    pub prompt_tokens_hist: Vec<(String, usize)>,
    pub output_tokens_hist: Vec<(String, usize)>,
    /// (span name, total seconds, share of all sample time) sorted by total.
    #[serde(with = "jf64::named2")]
    pub time_by_span: Vec<(String, f64, f64)>,
    /// Step function of running `sglang_generate` spans: (time, count from then on).
    #[serde(with = "jf64::steps")]
    pub in_flight: Vec<(f64, u32)>,
    /// Completed tokens per second in equal bins: (bin start, tokens/s); bin width below.
    #[serde(with = "jf64::pairs")]
    pub tokens_rate: Vec<(f64, f64)>,
    #[serde(with = "jf64")]
    pub tokens_rate_bin: f64,
    pub slowest: Vec<SlowSample>,
    /// Seconds from 90% of samples done to the last one done, and its share of wall time.
    #[serde(with = "jf64::opt")]
    pub tail_seconds: Option<f64>,
    #[serde(with = "jf64::opt")]
    pub tail_share: Option<f64>,
    pub groups: Vec<Group>,
    /// Samples whose status is `aborted` or `failed`, and all samples.
    pub failed_samples: usize,
    pub samples: usize,
    pub health: Vec<Health>,
}

impl Analysis {
    /// One flat object: slime's names exactly, then rollscope's own keys under `rollscope/`.
    pub fn flat(&self) -> Map<String, J> {
        let mut m = Map::new();
        for (k, v) in &self.slime {
            m.insert(k.clone(), crate::json::float_json(*v));
        }
        let f = crate::json::float_json;
        for (name, s) in &self.distributions {
            for (suffix, v) in [("p50", s.p50), ("p90", s.p90), ("p99", s.p99)] {
                m.insert(format!("{name}/{suffix}"), f(v));
            }
            m.insert(format!("{name}/count"), J::from(s.count));
        }
        m.insert("rollscope/requests".into(), J::from(self.requests));
        m.insert(
            "rollscope/completion_tokens".into(),
            f(self.completion_tokens),
        );
        m.insert("rollscope/wall_time".into(), f(self.wall_time));
        let opt = |x: Option<f64>| x.map_or(J::Null, f);
        m.insert("rollscope/tokens_per_sec".into(), opt(self.tokens_per_sec));
        m.insert(
            "rollscope/prefix_cache_hit_rate".into(),
            opt(self.prefix_cache_hit_rate),
        );
        m.insert("rollscope/tail_seconds".into(), opt(self.tail_seconds));
        m.insert("rollscope/tail_share".into(), opt(self.tail_share));
        for (k, n) in &self.finish_reasons {
            m.insert(format!("rollscope/finish_reason/{k}"), J::from(*n));
        }
        for (k, n) in &self.statuses {
            m.insert(format!("rollscope/status/{k}"), J::from(*n));
        }
        for (k, n) in &self.prompt_tokens_hist {
            m.insert(format!("rollscope/prompt_tokens/{k}"), J::from(*n));
        }
        for (k, n) in &self.output_tokens_hist {
            m.insert(format!("rollscope/output_tokens/{k}"), J::from(*n));
        }
        for (name, secs, share) in &self.time_by_span {
            m.insert(format!("rollscope/span_time/{name}"), f(*secs));
            m.insert(format!("rollscope/span_share/{name}"), f(*share));
        }
        m.insert(
            "rollscope/zero_std_groups".into(),
            J::from(self.groups.iter().filter(|g| g.zero_std).count()),
        );
        for h in &self.health {
            m.insert(format!("rollscope/health/{}", h.metric), J::Bool(h.ok));
        }
        m
    }
}

/// Everything, from rows and sample facts: [`Analyzer`] fed every row.
pub fn analyze(rows: &[Row], facts: &[SampleFacts], thresholds: &Thresholds) -> Analysis {
    let mut an = Analyzer::default();
    for r in rows {
        an.add_row(r);
    }
    an.finish(facts, thresholds)
}

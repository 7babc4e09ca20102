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
//! stats, zero-std counts), `health` (badges and their thresholds); this file holds the
//! `Analysis` type and the `analyze` entry that puts them together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::json::py_str;
use crate::model::{jf64, Row};

mod activity;
mod facts;
mod groups;
mod health;
mod requests;
mod summary;
#[cfg(test)]
mod test_rows;

pub use activity::in_flight;
pub use facts::{facts_from_rows, sample_facts, SampleFacts};
pub use groups::Group;
pub use health::{analyze_health, Health, Thresholds};
pub use requests::request_attrs;
pub use summary::{histogram, percentile, stats, Stats};

use activity::{time_by_span, tokens_rate};
use groups::{group_facts, group_stats, zero_std_counts};
use requests::{finite_number, DECODE_FIELDS, PREFILL_FIELDS, REQUEST_FIELDS};
use summary::count_sorted;

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

/// Everything, from rows and sample facts.
pub fn analyze(rows: &[Row], facts: &[SampleFacts], thresholds: &Thresholds) -> Analysis {
    let requests = request_attrs(rows);
    let mut a = Analysis {
        requests: requests.len(),
        ..Analysis::default()
    };
    // slime's per-request metrics, in slime's key order.
    let mut by_metric: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for attrs in &requests {
        for (metric, key) in REQUEST_FIELDS
            .iter()
            .chain(&PREFILL_FIELDS)
            .chain(&DECODE_FIELDS)
        {
            if let Some(x) = finite_number(attrs.get(*key)) {
                if !by_metric.contains_key(metric) {
                    order.push(metric);
                }
                by_metric.entry(metric).or_default().push(x);
            }
        }
    }
    let push_stats = |a: &mut Analysis, name: &str, values: &[f64]| {
        if let Some(s) = stats(values) {
            for (suffix, v) in [
                ("mean", s.mean),
                ("median", s.median),
                ("max", s.max),
                ("min", s.min),
            ] {
                a.slime.push((format!("{name}/{suffix}"), v));
            }
            a.distributions.push((name.to_string(), s));
        }
    };
    for metric in &order {
        push_stats(&mut a, metric, &by_metric[metric]);
    }
    // rollout/*: from every sample.
    let lens: Vec<f64> = facts.iter().filter_map(|f| f.response_length).collect();
    push_stats(&mut a, "rollout/response_len", &lens);
    if !facts.is_empty() {
        let truncated = facts
            .iter()
            .filter(|f| f.status.as_deref() == Some("truncated"))
            .count();
        a.slime.push((
            "rollout/truncated_ratio".into(),
            truncated as f64 / facts.len() as f64,
        ));
    }
    let groups = group_facts(facts);
    for (r, n) in zero_std_counts(&groups) {
        a.slime
            .push((format!("rollout/zero_std/count_{r}"), n as f64));
    }

    // Beyond slime.
    let global_start = rows.iter().map(|r| r.start).fold(f64::INFINITY, f64::min);
    let global_end = rows.iter().map(|r| r.end).fold(f64::NEG_INFINITY, f64::max);
    a.wall_time = if global_end > global_start {
        global_end - global_start
    } else {
        0.0
    };
    let tokens: Vec<f64> = requests
        .iter()
        .filter_map(|r| finite_number(r.get("completion_tokens")))
        .collect();
    let prompts: Vec<f64> = requests
        .iter()
        .filter_map(|r| finite_number(r.get("prompt_tokens")))
        .collect();
    let cached: f64 = requests
        .iter()
        .filter_map(|r| finite_number(r.get("cached_tokens")))
        .sum();
    a.completion_tokens = tokens.iter().sum();
    if a.wall_time > 0.0 && !tokens.is_empty() {
        a.tokens_per_sec = Some(a.completion_tokens / a.wall_time);
    }
    let prompt_total: f64 = prompts.iter().sum();
    if prompt_total > 0.0 {
        a.prefix_cache_hit_rate = Some(cached / prompt_total);
    }
    a.finish_reasons = count_sorted(requests.iter().filter_map(|r| {
        r.get("finish_reason").map(|v| match v {
            J::Object(o) => o.get("type").map(py_str).unwrap_or_else(|| "other".into()),
            other => py_str(other),
        })
    }));
    a.statuses = count_sorted(
        facts
            .iter()
            .map(|f| f.status.clone().unwrap_or_else(|| "None".into())),
    );
    // Request size buckets as dashboards draw them (prompt in 1024s, output in 1000s).
    a.prompt_tokens_hist = histogram(
        &prompts,
        &[1024.0, 4096.0, 8192.0],
        &["<1K", "1K-4K", "4K-8K", ">8K"],
    );
    a.output_tokens_hist = histogram(
        &tokens,
        &[100.0, 500.0, 1000.0],
        &["<100", "100-500", "500-1K", ">1K"],
    );
    a.time_by_span = time_by_span(rows);
    a.in_flight = in_flight(rows);
    let (rate, bin) = tokens_rate(rows, global_start, global_end);
    a.tokens_rate = rate;
    a.tokens_rate_bin = bin;
    let mut by_duration: Vec<(usize, &Row)> = rows.iter().enumerate().collect();
    by_duration.sort_by(|x, y| y.1.duration.total_cmp(&x.1.duration));
    a.slowest = by_duration
        .iter()
        .take(10)
        .map(|(i, r)| SlowSample {
            row: *i,
            sample_index: r.sample_index.clone(),
            duration: r.duration,
        })
        .collect();
    if !rows.is_empty() && a.wall_time > 0.0 {
        let mut ends: Vec<f64> = rows.iter().map(|r| r.end).collect();
        ends.sort_by(f64::total_cmp);
        let k = ((ends.len() as f64 * 0.9).ceil() as usize).clamp(1, ends.len());
        let tail = global_end - ends[k - 1];
        a.tail_seconds = Some(tail);
        a.tail_share = Some(tail / a.wall_time);
    }
    a.groups = group_stats(&groups, rows);
    a.samples = facts.len();
    a.failed_samples = facts
        .iter()
        .filter(|f| matches!(f.status.as_deref(), Some("aborted" | "failed")))
        .count();
    a.health = analyze_health(&a, thresholds);
    a
}

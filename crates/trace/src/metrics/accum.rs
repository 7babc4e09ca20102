//! [`Analyzer`]: the performance picture accumulated one row at a time.
//!
//! A build hands each row over as it is made and then keeps only the compact store, so the
//! analysis may not look at all rows at the end. What it needs from a row is small: the
//! numbers of each request (slime's per-request metrics, tokens, finish reason), seconds per
//! span name, the `sglang_generate` edges of the in-flight track, token counts at request
//! ends, and the row's own start/end/duration. Values are collected in row order, so the
//! result is exactly what a pass over every row gives (same sums in the same order).

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::activity::{in_flight_of_edges, span_seconds, token_ends, tokens_rate_of};
use super::groups::{group_facts, group_stats, zero_std_counts};
use super::requests::{finite_number, request_attrs, request_pd_values};
use super::summary::{count_sorted, histogram, stats};
use super::{analyze_health, Analysis, SampleFacts, SlowSample, Thresholds};
use crate::json::py_str;
use crate::model::Row;
use crate::sglang::REQUEST_PERF_FIELDS;

/// One row's own times, as the analysis keeps them.
struct RowTimes {
    start: f64,
    end: f64,
    duration: f64,
    sample_index: J,
}

/// Feed every row with [`Analyzer::add_row`], in order, then [`Analyzer::finish`].
#[derive(Default)]
pub struct Analyzer {
    requests: usize,
    /// Values of each of [`REQUEST_PERF_FIELDS`], by its position there.
    by_metric: [Vec<f64>; REQUEST_PERF_FIELDS.len()],
    /// Those positions in the order each metric was first met.
    order: Vec<usize>,
    tokens: Vec<f64>,
    prompts: Vec<f64>,
    cached: Vec<f64>,
    finish_reasons: Vec<String>,
    span_secs: BTreeMap<String, f64>,
    edges: Vec<(f64, i32)>,
    token_ends: Vec<(f64, f64)>,
    rows: Vec<RowTimes>,
}

impl Analyzer {
    pub fn add_row(&mut self, row: &Row) {
        let pd = request_pd_values(row);
        for attrs in request_attrs(row, &pd) {
            self.requests += 1;
            for (m, (_, key)) in REQUEST_PERF_FIELDS.iter().enumerate() {
                if let Some(x) = finite_number(attrs.get(key)) {
                    if self.by_metric[m].is_empty() {
                        self.order.push(m);
                    }
                    self.by_metric[m].push(x);
                }
            }
            self.tokens
                .extend(finite_number(attrs.get("completion_tokens")));
            self.prompts
                .extend(finite_number(attrs.get("prompt_tokens")));
            self.cached
                .extend(finite_number(attrs.get("cached_tokens")));
            if let Some(v) = attrs.get("finish_reason") {
                self.finish_reasons.push(match v {
                    J::Object(o) => o.get("type").map(py_str).unwrap_or_else(|| "other".into()),
                    other => py_str(other),
                });
            }
        }
        span_seconds(row, &mut self.span_secs, &mut self.edges);
        token_ends(row, &mut self.token_ends);
        self.rows.push(RowTimes {
            start: row.start,
            end: row.end,
            duration: row.duration,
            sample_index: row.sample_index.clone(),
        });
    }

    /// The analysis of the rows fed so far, with the dump's sample facts.
    pub fn finish(self, facts: &[SampleFacts], thresholds: &Thresholds) -> Analysis {
        let mut a = Analysis {
            requests: self.requests,
            ..Analysis::default()
        };
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
        // slime's per-request metrics, in slime's key order.
        for &m in &self.order {
            push_stats(&mut a, REQUEST_PERF_FIELDS[m].0, &self.by_metric[m]);
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
        let rows = &self.rows;
        let global_start = rows.iter().map(|r| r.start).fold(f64::INFINITY, f64::min);
        let global_end = rows.iter().map(|r| r.end).fold(f64::NEG_INFINITY, f64::max);
        a.wall_time = if global_end > global_start {
            global_end - global_start
        } else {
            0.0
        };
        let cached: f64 = self.cached.iter().sum();
        a.completion_tokens = self.tokens.iter().sum();
        if a.wall_time > 0.0 && !self.tokens.is_empty() {
            a.tokens_per_sec = Some(a.completion_tokens / a.wall_time);
        }
        let prompt_total: f64 = self.prompts.iter().sum();
        if prompt_total > 0.0 {
            a.prefix_cache_hit_rate = Some(cached / prompt_total);
        }
        a.finish_reasons = count_sorted(self.finish_reasons.into_iter());
        a.statuses = count_sorted(
            facts
                .iter()
                .map(|f| f.status.clone().unwrap_or_else(|| "None".into())),
        );
        // Request size buckets as dashboards draw them (prompt in 1024s, output in 1000s).
        a.prompt_tokens_hist = histogram(
            &self.prompts,
            &[1024.0, 4096.0, 8192.0],
            &["<1K", "1K-4K", "4K-8K", ">8K"],
        );
        a.output_tokens_hist = histogram(
            &self.tokens,
            &[100.0, 500.0, 1000.0],
            &["<100", "100-500", "500-1K", ">1K"],
        );
        let total: f64 = rows.iter().map(|r| r.duration).sum();
        let mut by_span: Vec<(String, f64, f64)> = self
            .span_secs
            .into_iter()
            .map(|(k, secs)| (k, secs, if total > 0.0 { secs / total } else { 0.0 }))
            .collect();
        by_span.sort_by(|a, b| b.1.total_cmp(&a.1));
        a.time_by_span = by_span;
        a.in_flight = in_flight_of_edges(self.edges);
        let (rate, bin) = tokens_rate_of(&self.token_ends, global_start, global_end);
        a.tokens_rate = rate;
        a.tokens_rate_bin = bin;
        let mut by_duration: Vec<(usize, &RowTimes)> = rows.iter().enumerate().collect();
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
        let spans: Vec<(f64, f64)> = rows.iter().map(|r| (r.start, r.end)).collect();
        a.groups = group_stats(&groups, &spans);
        a.samples = facts.len();
        a.failed_samples = facts
            .iter()
            .filter(|f| matches!(f.status.as_deref(), Some("aborted" | "failed")))
            .count();
        a.health = analyze_health(&a, thresholds);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_rows::{row, span};
    use crate::model::Item;
    use serde_json::json;

    /// slime's request metrics come in the order each was first met, not in the order of
    /// [`REQUEST_PERF_FIELDS`]: a prefill duration met first is listed before the latency.
    #[test]
    fn request_metrics_keep_the_order_first_met() {
        let request = |end_attrs: J| {
            let mut s = span("sglang_generate", 0.0, Some(1.0), 1.0, 0);
            if let Item::Span(s) = &mut s {
                s.attrs.end_attrs = end_attrs;
            }
            row(vec![s])
        };
        let mut an = Analyzer::default();
        an.add_row(&request(json!({"pd_prefill_forward_duration": 0.5})));
        an.add_row(&request(
            json!({"e2e_latency": 2.0, "pd_prefill_forward_duration": 1.5}),
        ));
        let a = an.finish(&[], &Thresholds::default());
        let means: Vec<(&str, f64)> = a
            .slime
            .iter()
            .filter(|(k, _)| k.starts_with("perf/") && k.ends_with("/mean"))
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            means,
            [
                ("perf/prefill/forward_duration/mean", 1.0),
                ("perf/request/e2e_latency/mean", 2.0)
            ]
        );
    }
}

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

use std::collections::{BTreeMap, HashMap};

use pt::{Tree, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::json::py_str;
use crate::model::{jf64, Item, Row, State};
use crate::values::{dict_of, text_of};

const REQUEST_FIELDS: [(&str, &str); 3] = [
    ("perf/request/e2e_latency", "e2e_latency"),
    ("perf/request/queue_time", "queue_time"),
    ("perf/decode/throughput", "decode_throughput"),
];
const PREFILL_FIELDS: [(&str, &str); 8] = [
    (
        "perf/prefill/bootstrap_queue_duration",
        "pd_prefill_bootstrap_queue_duration",
    ),
    (
        "perf/prefill/bootstrap_duration",
        "pd_prefill_bootstrap_duration",
    ),
    (
        "perf/prefill/alloc_wait_duration",
        "pd_prefill_alloc_wait_duration",
    ),
    (
        "perf/prefill/forward_duration",
        "pd_prefill_forward_duration",
    ),
    (
        "perf/prefill/transfer_queue_duration",
        "pd_prefill_transfer_queue_duration",
    ),
    ("perf/prefill/transfer_speed_gb_s", "pd_transfer_speed_gb_s"),
    ("perf/prefill/transfer_total_mb", "pd_transfer_total_mb"),
    ("perf/prefill/retry_count", "pd_prefill_retry_count"),
];
const DECODE_FIELDS: [(&str, &str); 5] = [
    (
        "perf/decode/prealloc_duration",
        "pd_decode_prealloc_duration",
    ),
    (
        "perf/decode/bootstrap_duration",
        "pd_decode_bootstrap_duration",
    ),
    (
        "perf/decode/alloc_wait_duration",
        "pd_decode_alloc_wait_duration",
    ),
    (
        "perf/decode/transfer_duration",
        "pd_decode_transfer_duration",
    ),
    ("perf/decode/forward_duration", "pd_decode_forward_duration"),
];

/// Summary statistics of a list of values, numpy semantics (median of an even count is the
/// mean of the two middle values; percentiles interpolate linearly, numpy's default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: usize,
    #[serde(with = "jf64")]
    pub mean: f64,
    #[serde(with = "jf64")]
    pub median: f64,
    #[serde(with = "jf64")]
    pub max: f64,
    #[serde(with = "jf64")]
    pub min: f64,
    #[serde(with = "jf64")]
    pub p50: f64,
    #[serde(with = "jf64")]
    pub p90: f64,
    #[serde(with = "jf64")]
    pub p99: f64,
}

/// `None` for an empty list; non-finite values must be filtered out by the caller.
pub fn stats(values: &[f64]) -> Option<Stats> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Stats {
        count: n,
        mean: v.iter().sum::<f64>() / n as f64,
        median,
        max: v[n - 1],
        min: v[0],
        p50: percentile(&v, 50.0),
        p90: percentile(&v, 90.0),
        p99: percentile(&v, 99.0),
    })
}

/// numpy's default ("linear") percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = idx.floor() as usize;
    let hi = idx.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo as f64)
}

/// Counts per bucket: `edges` are the upper bounds (exclusive) of all but the last bucket.
pub fn histogram(values: &[f64], edges: &[f64], labels: &[&str]) -> Vec<(String, usize)> {
    let mut counts = vec![0usize; edges.len() + 1];
    for &x in values {
        let i = edges.iter().position(|&e| x < e).unwrap_or(edges.len());
        counts[i] += 1;
    }
    labels.iter().map(|l| l.to_string()).zip(counts).collect()
}

/// What is known about one sample, wherever it came from.
#[derive(Debug, Clone, Default)]
pub struct SampleFacts {
    pub row: Option<usize>,
    pub sample_index: J,
    pub group: Option<String>,
    pub status: Option<String>,
    pub reward: Option<f64>,
    /// `effective_response_length`: `sum(loss_mask)` if there is a loss mask, else
    /// `response_length`.
    pub response_length: Option<f64>,
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlowSample {
    pub row: usize,
    pub sample_index: J,
    #[serde(with = "jf64")]
    pub duration: f64,
}

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

/// Facts about every sample of a dump. Work per sample is bounded: a `loss_mask` list shared
/// by many samples is summed once, and a sample's index and group are read as short text.
pub fn sample_facts(tree: &Tree, samples: &[Value], rows: &[Row]) -> Vec<SampleFacts> {
    let row_of: HashMap<usize, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.row_id, i))
        .collect();
    let num = |v: &Value| match v {
        Value::Int(x) => Some(*x as f64),
        Value::Float(x) if x.is_finite() => Some(*x),
        Value::Bool(b) => Some(*b as u8 as f64),
        _ => None,
    };
    let mut sums: HashMap<pt::NodeId, Option<f64>> = HashMap::new();
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let Some(d) = dict_of(tree, s) else {
                return SampleFacts::default();
            };
            let loss_sum = match d.get_str("loss_mask") {
                Some(Value::Node(id)) => *sums.entry(*id).or_insert_with(|| match tree.node(*id) {
                    pt::Node::ElidedList { sum, .. } => Some(*sum),
                    pt::Node::List(v) => Some(v.iter().filter_map(num).sum()),
                    _ => None,
                }),
                _ => None,
            };
            let row = row_of.get(&i).copied();
            SampleFacts {
                row,
                // The row's own index when there is one; else short text (facts are kept for
                // every sample, so no sample may bring a large value here).
                sample_index: match (row, d.get_str("index")) {
                    (Some(r), _) => rows[r].sample_index.clone(),
                    (None, None) => J::from(i),
                    (None, Some(Value::Int(x))) => J::from(*x),
                    (None, Some(Value::None)) => J::Null,
                    (None, Some(v)) => J::String(text_of(tree, v, 80)),
                },
                group: d.get_str("group_index").map(|g| text_of(tree, g, 80)),
                status: d
                    .get_str("status")
                    .and_then(|v| v.as_str())
                    .map(|s| s.chars().take(64).collect()),
                reward: d.get_str("reward").and_then(num),
                response_length: loss_sum.or_else(|| d.get_str("response_length").and_then(num)),
            }
        })
        .collect()
}

/// Facts from rows alone (a cache JSON): no response length.
pub fn facts_from_rows(rows: &[Row]) -> Vec<SampleFacts> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| SampleFacts {
            row: Some(i),
            sample_index: r.sample_index.clone(),
            group: (!r.group_index.is_null()).then(|| py_str(&r.group_index)),
            status: r.status.as_str().map(str::to_string),
            reward: r.reward.as_f64(),
            response_length: None,
        })
        .collect()
}

/// Attributes of each request: every `sglang_generate` end (closed span or orphan end), with
/// `pd_*` values from its `sglang_pd_*` descendants and `sglang_pd_summary` added where the
/// request's own attrs lack them.
pub fn request_attrs(rows: &[Row]) -> Vec<Map<String, J>> {
    let mut out = Vec::new();
    for row in rows {
        let is_pd = |it: &Item| {
            matches!(it, Item::Span(_) | Item::Event(_))
                && it
                    .name()
                    .as_str()
                    .is_some_and(|n| n.starts_with("sglang_pd_"))
        };
        // Spans by id, only for rows with PD child items (the walk below needs them).
        let mut by_span: HashMap<&str, &Item> = HashMap::new();
        if row.items.iter().any(is_pd) {
            for it in &row.items {
                if let Item::Span(s) = it {
                    if let J::String(id) = &s.span_id {
                        by_span.insert(id, it);
                    }
                }
            }
        }
        // Which generate request a PD item belongs to: walk parents to a sglang_generate
        // (at most 64 steps: each item's walk is bounded, so a deep chain stays linear).
        let request_of = |start: &J| -> Option<String> {
            let mut cur = start.as_str()?;
            for _ in 0..64 {
                let Item::Span(s) = by_span.get(cur)? else {
                    return None;
                };
                if s.name.as_str() == Some("sglang_generate") {
                    return Some(cur.to_string());
                }
                cur = s.parent_span_id.as_str()?;
            }
            None
        };
        let mut pd: HashMap<String, Map<String, J>> = HashMap::new();
        for it in &row.items {
            let (name, attrs, anchor) = match it {
                Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                    (s.name.as_str(), &s.attrs.end_attrs, &s.span_id)
                }
                Item::Event(p) => (p.name.as_str(), &p.attrs, &p.parent_span_id),
                _ => continue,
            };
            if !name.is_some_and(|n| n.starts_with("sglang_pd_")) {
                continue;
            }
            let (Some(req), Some(attrs)) = (request_of(anchor), attrs.as_object()) else {
                continue;
            };
            let slot = pd.entry(req).or_default();
            for (k, v) in attrs {
                if k.starts_with("pd_") && !slot.contains_key(k) {
                    slot.insert(k.clone(), v.clone());
                }
            }
        }
        for it in &row.items {
            let (attrs, span_id) = match it {
                Item::Span(s) if s.state == State::ClosedSpan && s.pd_virtual_role().is_none() => {
                    (&s.attrs.end_attrs, &s.span_id)
                }
                Item::OrphanEnd(p) => (&p.attrs, &p.span_id),
                _ => continue,
            };
            if it.name().as_str() != Some("sglang_generate") {
                continue;
            }
            let Some(own) = attrs.as_object() else {
                continue;
            };
            let mut merged = own.clone();
            if let Some(extra) = span_id.as_str().and_then(|id| pd.get(id)) {
                for (k, v) in extra {
                    if !merged.contains_key(k) {
                        merged.insert(k.clone(), v.clone());
                    }
                }
            }
            out.push(merged);
        }
    }
    out
}

/// slime's `add_value`: a finite int or float, bools excluded.
fn finite_number(v: Option<&J>) -> Option<f64> {
    match v? {
        J::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
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
    for (r, n) in zero_std {
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
    a.groups = groups
        .iter()
        .map(|(name, members)| {
            let member_rows: Vec<usize> = members.iter().filter_map(|f| f.row).collect();
            let start = member_rows
                .iter()
                .map(|&i| rows[i].start)
                .fold(f64::INFINITY, f64::min);
            let end = member_rows
                .iter()
                .map(|&i| rows[i].end)
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
    a.groups
        .sort_by(|x, y| y.completion.total_cmp(&x.completion));
    a.samples = facts.len();
    a.failed_samples = facts
        .iter()
        .filter(|f| matches!(f.status.as_deref(), Some("aborted" | "failed")))
        .count();
    a.health = analyze_health(&a, thresholds);
    a
}

fn group_facts(facts: &[SampleFacts]) -> BTreeMap<String, Vec<&SampleFacts>> {
    let mut g: BTreeMap<String, Vec<&SampleFacts>> = BTreeMap::new();
    for f in facts {
        g.entry(f.group.clone().unwrap_or_else(|| "None".into()))
            .or_default()
            .push(f);
    }
    g
}

/// Python's `str(round(r, 1))` for a float reward.
fn py_round1(r: f64) -> String {
    let rounded: f64 = format!("{r:.1}").parse().unwrap_or(r);
    pt::walk::py_float(rounded)
}

fn count_sorted(items: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for k in items {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn time_by_span(rows: &[Row]) -> Vec<(String, f64, f64)> {
    let total: f64 = rows.iter().map(|r| r.duration).sum();
    let mut m: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows {
        for it in &r.items {
            if let Item::Span(s) = it {
                if s.pd_virtual_role().is_none() {
                    *m.entry(py_str(&s.name)).or_default() +=
                        (s.display_end_ts - s.start_ts).max(0.0);
                }
            }
        }
    }
    let mut v: Vec<(String, f64, f64)> = m
        .into_iter()
        .map(|(k, secs)| (k, secs, if total > 0.0 { secs / total } else { 0.0 }))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v
}

/// Running `sglang_generate` spans over time (open spans until their display end).
pub fn in_flight(rows: &[Row]) -> Vec<(f64, u32)> {
    let mut edges: Vec<(f64, i32)> = Vec::new();
    for r in rows {
        for it in &r.items {
            if let Item::Span(s) = it {
                if s.name.as_str() == Some("sglang_generate") {
                    edges.push((s.start_ts, 1));
                    edges.push((s.display_end_ts.max(s.start_ts), -1));
                }
            }
        }
    }
    // Ends before starts at the same instant: back-to-back requests do not overlap.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<(f64, u32)> = Vec::new();
    let mut n: i32 = 0;
    for (t, d) in edges {
        n += d;
        let v = n.max(0) as u32;
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 = v,
            _ => out.push((t, v)),
        }
    }
    out
}

/// Completion tokens per second in 100 equal bins, counted at each request's end.
fn tokens_rate(rows: &[Row], start: f64, end: f64) -> (Vec<(f64, f64)>, f64) {
    if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
        return (Vec::new(), 0.0);
    }
    const BINS: usize = 100;
    let width = (end - start) / BINS as f64;
    let mut bins = vec![0.0f64; BINS];
    for r in rows {
        for it in &r.items {
            if let Item::Span(s) = it {
                if s.name.as_str() != Some("sglang_generate") || s.state != State::ClosedSpan {
                    continue;
                }
                if let (Some(e), Some(tok)) = (
                    s.end_ts,
                    finite_number(s.attrs.end_attrs.get("completion_tokens")),
                ) {
                    let i = (((e - start) / width) as usize).min(BINS - 1);
                    bins[i] += tok;
                }
            }
        }
    }
    let rate = bins
        .iter()
        .enumerate()
        .map(|(i, tok)| (start + i as f64 * width, tok / width))
        .collect();
    (rate, width)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_numpy() {
        let s = stats(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.mean, s.median, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        // np.percentile([1,2,3,4], 90) == 3.7; 99 -> 3.97
        assert!((s.p90 - 3.7).abs() < 1e-12);
        assert!((s.p99 - 3.97).abs() < 1e-12);
        let odd = stats(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(odd.median, 3.0);
        assert_eq!(stats(&[7.0]).unwrap().p99, 7.0);
        assert!(stats(&[]).is_none());
    }

    #[test]
    fn histogram_edges_are_exclusive_upper_bounds() {
        let h = histogram(
            &[0.0, 99.0, 100.0, 499.0, 500.0, 1000.0, 5e6],
            &[100.0, 500.0, 1000.0],
            &["a", "b", "c", "d"],
        );
        assert_eq!(
            h,
            vec![
                ("a".into(), 2),
                ("b".into(), 2),
                ("c".into(), 1),
                ("d".into(), 2)
            ]
        );
    }

    fn span(name: &str, start: f64, end: Option<f64>, display_end: f64, lane: u32) -> Item {
        Item::Span(crate::model::SpanItem {
            state: if end.is_some() {
                State::ClosedSpan
            } else {
                State::OpenSpan
            },
            name: J::String(name.into()),
            start_ts: start,
            end_ts: end,
            display_end_ts: display_end,
            attempt: 0,
            span_id: J::Null,
            parent_span_id: J::Null,
            parent_span_name: J::Null,
            lane,
            depth: lane,
            attrs: crate::model::SpanAttrs {
                start_attrs: J::Object(Map::new()),
                end_attrs: serde_json::json!({"completion_tokens": 10}),
            },
        })
    }

    fn row(items: Vec<Item>) -> Row {
        let start = items.iter().map(Item::start).fold(f64::INFINITY, f64::min);
        let end = items
            .iter()
            .map(Item::display_end)
            .fold(f64::NEG_INFINITY, f64::max);
        Row {
            row_id: 0,
            sample_index: J::from(0),
            group_index: J::from(0),
            source: J::Null,
            status: J::Null,
            label: J::Null,
            reward: J::Null,
            trace_id: J::Null,
            attempt: 0,
            start,
            end,
            duration: end - start,
            lane_count: 3,
            item_count: items.len(),
            closed_span_count: 0,
            open_span_count: 0,
            point_event_count: 0,
            orphan_count: 0,
            total_response_length: 0,
            max_response_length: 0,
            items,
        }
    }

    #[test]
    fn in_flight_counts_overlaps_nesting_and_open_spans() {
        let rows = vec![
            row(vec![
                span("generate_and_rm", 0.0, Some(10.0), 10.0, 0), // not a request: ignored
                span("sglang_generate", 1.0, Some(4.0), 4.0, 1),
                span("sglang_generate", 2.0, Some(3.0), 3.0, 2), // nested in the first
                span("sglang_generate", 4.0, Some(5.0), 5.0, 1), // starts as the first ends
            ]),
            row(vec![span("sglang_generate", 2.5, None, 6.0, 0)]), // open: counts to its display end
        ];
        let f = in_flight(&rows);
        let at = |t: f64| f.iter().take_while(|p| p.0 <= t).last().map_or(0, |p| p.1);
        assert_eq!(at(0.5), 0);
        assert_eq!(at(1.5), 1);
        assert_eq!(at(2.2), 2);
        assert_eq!(at(2.7), 3);
        assert_eq!(at(3.5), 2);
        assert_eq!(
            at(4.0),
            2,
            "back to back: the end and the next start at 4.0 do not overlap"
        );
        assert_eq!(at(5.5), 1);
        assert_eq!(at(7.0), 0);
    }

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
        let rows: Vec<Row> = (0..4)
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

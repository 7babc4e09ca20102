//! Summary statistics with numpy's semantics, bucket histograms and sorted counts: the
//! arithmetic every metric uses, independent of where the values came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::jf64;

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

pub(super) fn count_sorted(items: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for k in items {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
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
}

//! How the step's time and load are spread: seconds per span name, running requests over time
//! (the in-flight counter track) and completed tokens per second.

use std::collections::BTreeMap;

use serde_json::Value as J;

use crate::json::py_str;
use crate::model::{Item, Row, State};

use super::requests::finite_number;

/// Seconds per span name over all rows, and each row's share of the rows' total duration.
#[cfg(test)]
pub(super) fn time_by_span(rows: &[Row]) -> Vec<(String, f64, f64)> {
    let total: f64 = rows.iter().map(|r| r.duration).sum();
    let mut m: BTreeMap<String, f64> = BTreeMap::new();
    let mut edges = Vec::new();
    for r in rows {
        span_seconds(r, &mut m, &mut edges);
    }
    let mut v: Vec<(String, f64, f64)> = m
        .into_iter()
        .map(|(k, secs)| (k, secs, if total > 0.0 { secs / total } else { 0.0 }))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v
}

/// Adds one row's span seconds per name (`[P]`/`[D]` virtual spans left out) to `secs`, and
/// its `sglang_generate` start/end edges (open spans until their display end) to `edges`.
pub(super) fn span_seconds(r: &Row, secs: &mut BTreeMap<String, f64>, edges: &mut Vec<(f64, i32)>) {
    for it in &r.items {
        if let Item::Span(s) = it {
            if s.pd_virtual_role().is_none() {
                let d = (s.display_end_ts - s.start_ts).max(0.0);
                match &s.name {
                    J::String(n) => match secs.get_mut(n.as_str()) {
                        Some(v) => *v += d,
                        None => {
                            secs.insert(n.clone(), d);
                        }
                    },
                    other => *secs.entry(py_str(other)).or_default() += d,
                }
            }
            if s.name.as_str() == Some("sglang_generate") {
                edges.push((s.start_ts, 1));
                edges.push((s.display_end_ts.max(s.start_ts), -1));
            }
        }
    }
}

/// Running `sglang_generate` spans over time (open spans until their display end).
pub fn in_flight(rows: &[Row]) -> Vec<(f64, u32)> {
    let mut edges: Vec<(f64, i32)> = Vec::new();
    let mut secs = BTreeMap::new();
    for r in rows {
        span_seconds(r, &mut secs, &mut edges);
    }
    in_flight_of_edges(edges)
}

/// The in-flight step series from `sglang_generate` start (+1) and end (−1) edges.
pub(super) fn in_flight_of_edges(mut edges: Vec<(f64, i32)>) -> Vec<(f64, u32)> {
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

/// Adds `(end, completion_tokens)` of each closed `sglang_generate` span of a row.
pub(super) fn token_ends(r: &Row, out: &mut Vec<(f64, f64)>) {
    for it in &r.items {
        if let Item::Span(s) = it {
            if s.name.as_str() != Some("sglang_generate") || s.state != State::ClosedSpan {
                continue;
            }
            if let (Some(e), Some(tok)) = (
                s.end_ts,
                finite_number(s.attrs.end_attrs.get("completion_tokens")),
            ) {
                out.push((e, tok));
            }
        }
    }
}

/// Completion tokens per second in 100 equal bins, counted at each request's end.
#[cfg(test)]
pub(super) fn tokens_rate(rows: &[Row], start: f64, end: f64) -> (Vec<(f64, f64)>, f64) {
    let mut ends = Vec::new();
    for r in rows {
        token_ends(r, &mut ends);
    }
    tokens_rate_of(&ends, start, end)
}

/// [`tokens_rate`] from the `(end, tokens)` pairs of [`token_ends`].
pub(super) fn tokens_rate_of(ends: &[(f64, f64)], start: f64, end: f64) -> (Vec<(f64, f64)>, f64) {
    if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
        return (Vec::new(), 0.0);
    }
    const BINS: usize = 100;
    let width = (end - start) / BINS as f64;
    let mut bins = vec![0.0f64; BINS];
    for &(e, tok) in ends {
        let i = (((e - start) / width) as usize).min(BINS - 1);
        bins[i] += tok;
    }
    let rate = bins
        .iter()
        .enumerate()
        .map(|(i, tok)| (start + i as f64 * width, tok / width))
        .collect();
    (rate, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_rows::{row, span};

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
}

//! 3.3 open-span display ends and 3.4 depths, each O(n log n) in spans.
//!
//! slime walks ancestors once per open span and scans sibling groups linearly; on 30 000
//! nested open spans or 50 000 open siblings that is quadratic. Here the same answers come
//! from memoised walks and binary searches over the sorted groups.

use std::collections::HashMap;

use serde_json::Value as J;

use super::{name_or, Span};
use crate::json::truthy;

/// Depth per span, memoised (read it through `by_id`: the span that holds a key); the
/// boolean says whether a cycle was met. Walks up until a known depth, a root or a repeat,
/// then assigns on the way back, exactly as the recursive reference does (including its
/// result on cycles: the repeat gets 0, then the walk's own assignments). Every span is
/// walked once.
pub(super) fn span_depths(spans: &[Span], by_id: &HashMap<String, usize>) -> (Vec<u32>, bool) {
    // The span each span's key leads to, and its parent's: ids are what slime walks by.
    let canon: Vec<usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| by_id.get(s.key.as_str()).copied().unwrap_or(i))
        .collect();
    let up: Vec<Option<usize>> = spans
        .iter()
        .map(|s| {
            truthy(&s.parent)
                .then(|| by_id.get(s.parent_key.as_str()).copied())
                .flatten()
        })
        .collect();
    let mut depth: Vec<Option<u32>> = vec![None; spans.len()];
    let mut on_path = vec![false; spans.len()];
    let mut cyclic = false;
    let mut path: Vec<usize> = Vec::new();
    for &start in &canon {
        if depth[start].is_some() {
            continue;
        }
        path.clear();
        let mut cur = start;
        let base: u32 = loop {
            if let Some(d) = depth[cur] {
                break d;
            }
            if on_path[cur] {
                depth[cur] = Some(0);
                cyclic = true;
                break 0;
            }
            on_path[cur] = true;
            match up[cur] {
                Some(p) => {
                    path.push(cur);
                    cur = p;
                }
                None => {
                    depth[cur] = Some(0);
                    break 0;
                }
            }
        };
        on_path[cur] = false;
        let mut d = base;
        for &k in path.iter().rev() {
            d = d.saturating_add(1);
            depth[k] = Some(d);
            on_path[k] = false;
        }
    }
    (depth.into_iter().map(|d| d.unwrap_or(0)).collect(), cyclic)
}

/// 3.3: sets `display_end_ts` and `end_attrs["clipped_by"]` of every open span (those from
/// `first_open` on). Returns whether an ancestor walk met a cycle.
pub(super) fn clip_open_spans(
    spans: &mut [Span],
    first_open: usize,
    by_id: &HashMap<String, usize>,
    row_end_ts: f64,
) -> bool {
    if first_open >= spans.len() {
        return false;
    }
    // Sibling groups sorted by (start, end with open = +inf, name), names formatted once.
    let names: Vec<String> = spans.iter().map(|s| name_or(&s.name, "span")).collect();
    let end_key = |s: &Span| match s.end_ts {
        Some(e) if e != 0.0 => e,
        _ => f64::INFINITY,
    };
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        groups.entry(s.parent_key.as_str()).or_default().push(i);
    }
    for g in groups.values_mut() {
        g.sort_by(|&a, &b| {
            let (x, y) = (&spans[a], &spans[b]);
            x.start_ts
                .total_cmp(&y.start_ts)
                .then(end_key(x).total_cmp(&end_key(y)))
                .then_with(|| names[a].cmp(&names[b]))
        });
    }
    // The first span of the group, in that order, starting strictly later: as the group is
    // sorted by start first, that is where "starts at or before" ends (never the span itself).
    let next_sibling_start: Vec<Option<f64>> = (first_open..spans.len())
        .map(|i| {
            let start = spans[i].start_ts;
            let g = groups.get(spans[i].parent_key.as_str())?;
            let at = g.partition_point(|&j| spans[j].start_ts <= start);
            g.get(at).map(|&j| spans[j].start_ts)
        })
        .collect();
    let (ancestor_ends, cycle) = closed_ancestor_ends(spans, first_open, by_id);
    for i in first_open..spans.len() {
        let start = spans[i].start_ts;
        let mut best = (row_end_ts, "row_end");
        if let Some(t) = next_sibling_start[i - first_open] {
            if t < best.0 {
                best = (t, "next_sibling_start");
            }
        }
        if let Some(e) = ancestor_ends[i - first_open] {
            if e > start && e < best.0 {
                best = (e, "ancestor_end");
            }
        }
        if best.0 <= start {
            best = (start, "self");
        }
        spans[i].display_end_ts = best.0;
        if let J::Object(m) = &mut spans[i].end_attrs {
            m.insert("clipped_by".into(), J::String(best.1.into()));
        }
    }
    cycle
}

/// For each open span, the end of its nearest closed ancestor (walking parent ids through
/// spans of this row; an unknown id or a cycle ends the walk with none), and whether any
/// walk met a cycle. Memoised: a span's walk is the walk of its parent's span, so each span
/// is visited once however deep the nesting.
fn closed_ancestor_ends(
    spans: &[Span],
    first_open: usize,
    by_id: &HashMap<String, usize>,
) -> (Vec<Option<f64>>, bool) {
    let next: Vec<Option<usize>> = spans
        .iter()
        .map(|s| {
            truthy(&s.parent)
                .then(|| by_id.get(s.parent_key.as_str()).copied())
                .flatten()
        })
        .collect();
    // Per span: the result of a walk that starts at it (None = not computed yet).
    let mut memo: Vec<Option<(Option<f64>, bool)>> = vec![None; spans.len()];
    let mut on_path: Vec<bool> = vec![false; spans.len()];
    let mut any_cycle = false;
    let mut out = Vec::with_capacity(spans.len() - first_open);
    for i in first_open..spans.len() {
        let Some(first) = next[i] else {
            out.push(None);
            continue;
        };
        let mut path: Vec<usize> = Vec::new();
        let mut cur = first;
        let result = loop {
            if let Some(r) = memo[cur] {
                break r;
            }
            if on_path[cur] {
                break (None, true);
            }
            if let Some(e) = spans[cur].end_ts {
                break (Some(e), false);
            }
            on_path[cur] = true;
            path.push(cur);
            match next[cur] {
                Some(n) => cur = n,
                None => break (None, false),
            }
        };
        for p in path {
            on_path[p] = false;
            memo[p] = Some(result);
        }
        any_cycle |= result.1;
        out.push(result.0);
    }
    (out, any_cycle)
}

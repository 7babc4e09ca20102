//! 3.3 open-span display ends and 3.4 depths, each O(n log n) in spans.
//!
//! slime walks ancestors once per open span and scans sibling groups linearly; on 30 000
//! nested open spans or 50 000 open siblings that is quadratic. Here the same answers come
//! from memoised walks and binary searches over the sorted groups.

use pt::hashing::HashMap;

use serde_json::Value as J;

use super::Span;
use crate::json::truthy;

/// 3.3 and 3.4 for a row: where each span id leads (the last span with it) and each span's depth.
pub(super) struct Placed {
    pub by_id: HashMap<String, usize>,
    pub depths: Vec<u32>,
}

/// 3.4 depths, then 3.3's display end of the open spans (`spans[n_closed..]`), with a
/// warning for a parent cycle.
pub(super) fn place_spans(
    spans: &mut [Span],
    n_closed: usize,
    row_end_ts: f64,
    warn: &mut Vec<String>,
) -> Placed {
    // span_by_id: the last span with an id wins, as in a dict comprehension.
    let mut by_id: HashMap<String, usize> = pt::hashing::map(spans.len());
    for (i, s) in spans.iter().enumerate() {
        by_id.insert(s.key.clone(), i);
    }

    // 3.4 Depths (memoised, cycle gives 0 where detected), iteratively.
    let (depths, cyclic) = span_depths(spans, &by_id);
    if cyclic {
        warn.push("span parent ids form a cycle; depths are cut where it closes".into());
    }

    // 3.3 Open-span display end.
    let ancestor_cycle = clip_open_spans(spans, n_closed, &by_id, row_end_ts);
    if ancestor_cycle && !cyclic {
        warn.push("span parent ids form a cycle".into());
    }
    Placed { by_id, depths }
}

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
    // slime sorts each sibling group by (start, end with open = +inf, name) and takes the
    // first span, other than itself, starting strictly later. Only that span's start is used,
    // and in a list sorted by start first it is the smallest start greater than this one, so
    // the tie-breaks cannot change it: one sort of (group, start) pairs answers every span by
    // binary search, with no per-group lists and no names.
    let mut group_of: HashMap<&str, u32> = pt::hashing::map(spans.len());
    let gids: Vec<u32> = spans
        .iter()
        .map(|s| {
            let next = group_of.len() as u32;
            *group_of.entry(s.parent_key.as_str()).or_insert(next)
        })
        .collect();
    let mut starts: Vec<(u32, f64)> = gids
        .iter()
        .zip(spans.iter())
        .map(|(&g, s)| (g, s.start_ts))
        .collect();
    starts.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let next_sibling_start: Vec<Option<f64>> = (first_open..spans.len())
        .map(|i| {
            let (g, start) = (gids[i], spans[i].start_ts);
            let lo = starts.partition_point(|&(h, _)| h < g);
            let hi = starts.partition_point(|&(h, _)| h <= g);
            let group = &starts[lo..hi];
            let at = group.partition_point(|&(_, t)| t <= start);
            group.get(at).map(|&(_, t)| t)
        })
        .collect();
    drop(group_of);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::py_str;
    use crate::rows::key_of;
    use serde_json::Map;

    /// `str(name or fallback)`.
    fn name_or(name: &J, fallback: &str) -> String {
        if truthy(name) {
            py_str(name)
        } else {
            fallback.into()
        }
    }

    /// slime's 3.3 as written (per open span: scan the sorted group, walk the ancestors).
    fn naive(
        spans: &[Span],
        first_open: usize,
        by_id: &HashMap<String, usize>,
        row_end: f64,
    ) -> Vec<(f64, &'static str)> {
        let end_key = |s: &Span| match s.end_ts {
            Some(e) if e != 0.0 => e,
            _ => f64::INFINITY,
        };
        (first_open..spans.len())
            .map(|i| {
                let start = spans[i].start_ts;
                let mut group: Vec<usize> = (0..spans.len())
                    .filter(|&j| spans[j].parent_key == spans[i].parent_key)
                    .collect();
                group.sort_by(|&a, &b| {
                    spans[a]
                        .start_ts
                        .total_cmp(&spans[b].start_ts)
                        .then(end_key(&spans[a]).total_cmp(&end_key(&spans[b])))
                        .then_with(|| {
                            name_or(&spans[a].name, "span").cmp(&name_or(&spans[b].name, "span"))
                        })
                });
                let mut best = (row_end, "row_end");
                if let Some(&j) = group.iter().find(|&&j| j != i && spans[j].start_ts > start) {
                    if spans[j].start_ts < best.0 {
                        best = (spans[j].start_ts, "next_sibling_start");
                    }
                }
                let mut seen = std::collections::HashSet::new();
                let mut cur = spans[i].parent.clone();
                let mut anc = None;
                while truthy(&cur) {
                    let Some(&p) = by_id.get(&key_of(&cur)) else {
                        break;
                    };
                    if !seen.insert(p) {
                        break;
                    }
                    if let Some(e) = spans[p].end_ts {
                        anc = Some(e);
                        break;
                    }
                    cur = spans[p].parent.clone();
                }
                if let Some(e) = anc {
                    if e > start && e < best.0 {
                        best = (e, "ancestor_end");
                    }
                }
                if best.0 <= start {
                    best = (start, "self");
                }
                best
            })
            .collect()
    }

    #[test]
    fn clipping_matches_slimes_loop_on_random_rows() {
        let mut x: u64 = 7;
        let mut rnd = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        for _ in 0..300 {
            let n = 1 + rnd(12) as usize;
            let closed = rnd(n as u64 + 1) as usize;
            let mut spans: Vec<Span> = (0..n)
                .map(|i| {
                    let id = J::String(format!("{}", rnd(n as u64)));
                    let parent = if rnd(4) == 0 {
                        J::Null
                    } else {
                        J::String(format!("{}", rnd(n as u64)))
                    };
                    let start = rnd(5) as f64;
                    Span {
                        name: J::String(["a", "b", ""][rnd(3) as usize].into()),
                        start_ts: start,
                        end_ts: (i < closed).then(|| start + rnd(4) as f64 - 1.0),
                        display_end_ts: start,
                        attempt: 0,
                        key: key_of(&id),
                        span_id: id,
                        parent_key: key_of(&parent),
                        parent,
                        start_attrs: J::Object(Map::new()),
                        end_attrs: J::Object(Map::new()),
                    }
                })
                .collect();
            let mut by_id = pt::hashing::map(spans.len());
            for (i, s) in spans.iter().enumerate() {
                by_id.insert(s.key.clone(), i);
            }
            let want = naive(&spans, closed, &by_id, 9.0);
            clip_open_spans(&mut spans, closed, &by_id, 9.0);
            let got: Vec<(f64, String)> = spans[closed..]
                .iter()
                .map(|s| {
                    (
                        s.display_end_ts,
                        s.end_attrs["clipped_by"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let want: Vec<(f64, String)> =
                want.into_iter().map(|(t, w)| (t, w.to_string())).collect();
            assert_eq!(got, want);
        }
    }
}

//! Display lanes of a row: slime's lanes, compacted, with `[P]`/`[D]` virtual spans packed.
//!
//! Two promises, because rows may come from an untrusted cache JSON:
//! - **Sizes follow the items present.** A claimed `lane` of 4 294 967 294 is a number, not
//!   a size: lanes are renumbered to the distinct lanes used (in order), so a row never
//!   needs more display lanes than it has items, and nothing here allocates or loops per
//!   claimed lane (`Row::lane_count` is never read).
//! - **O(n log n) in items.** Packing is greedy interval partitioning with two heaps (busy
//!   lanes by end time, free lanes by number), so 200 000 `[P]` spans in 100 000 lanes cost
//!   what sorting them does.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use trace::{Item, Row};

use crate::Track;

/// The lanes a row is drawn with: slime's lanes (the cache's `lane`) renumbered to the
/// distinct lanes used, except that the `[P]`/`[D]` virtual spans, which the cache puts one
/// per new lane, are packed into as few lanes as their overlaps need (prefill lanes first,
/// then decode), below all others. Display only: the rows are unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLanes {
    /// Per item (same order as `row.items`), each `< count`.
    pub lanes: Vec<u32>,
    /// Lanes the row needs when expanded: at least 1, at most the item count (or 1).
    pub count: u32,
}

impl RowLanes {
    /// The lane of item `i`: its display lane when expanded, 0 when collapsed.
    pub fn of(&self, i: usize, expanded: bool) -> u32 {
        if expanded {
            self.lanes.get(i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// The indices of the items `keep` accepts, grouped by display lane (`count` groups when
    /// expanded, one when collapsed), each group in item order. One pass over the items: a
    /// caller drawing lane by lane need not scan every item once per lane.
    pub fn by_lane(&self, expanded: bool, keep: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
        let groups = if expanded { self.count.max(1) } else { 1 } as usize;
        let mut out = vec![Vec::new(); groups];
        for i in (0..self.lanes.len()).filter(|&i| keep(i)) {
            let lane = (self.of(i, expanded) as usize).min(groups - 1);
            out[lane].push(i);
        }
        out
    }
}

/// `Some(true)` for a `[P]` virtual span, `Some(false)` for `[D]`, `None` otherwise.
pub(crate) fn pd_role(item: &Item) -> Option<bool> {
    match item {
        Item::Span(s) => s
            .pd_virtual_role()
            .map(|r| trace::sglang::PdRole::of_attr(r) == trace::sglang::PdRole::Prefill),
        _ => None,
    }
}

/// A time as a heap key: total order, NaN last (a lane ending at NaN is never free again,
/// as `NaN <= t` is never true).
#[derive(Clone, Copy)]
pub(crate) struct Time(pub(crate) f64);

impl PartialEq for Time {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Time {}
impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |t: f64| if t.is_nan() { f64::INFINITY } else { t };
        key(self.0)
            .total_cmp(&key(other.0))
            .then(self.0.is_nan().cmp(&other.0.is_nan()))
    }
}

/// Display lanes of a `trace` row. See [`RowLanes`]; O(n log n) in items.
pub fn row_lanes(row: &Row) -> RowLanes {
    let items = &row.items;
    let roles: Vec<Option<bool>> = items.iter().map(pd_role).collect();
    display_lanes(
        &roles,
        |i| items[i].lane(),
        |i| (items[i].start(), items[i].display_end()),
    )
}

/// Display lanes of a [`Track`]: the same lanes [`row_lanes`] gives for the row it was made
/// from (the `[P]`/`[D]` roles come from its `KIND_PD_*` flags). O(n log n) in items, one
/// `u32` per item.
pub fn track_lanes(track: &Track) -> RowLanes {
    // Columns of unequal length (a malformed buffer) are read up to the shortest.
    let n = track
        .start
        .len()
        .min(track.end.len())
        .min(track.kind.len())
        .min(track.lane.len());
    let roles: Vec<Option<bool>> = (0..n).map(|i| track.pd_role(i)).collect();
    display_lanes(
        &roles,
        |i| track.lane[i],
        |i| (track.start[i], track.end[i]),
    )
}

/// The one packing behind [`row_lanes`] and [`track_lanes`]: item `i` (of `roles.len()`) has
/// PD role `roles[i]`, cache lane `lane(i)` and display extent `extent(i)`.
fn display_lanes(
    roles: &[Option<bool>],
    lane: impl Fn(usize) -> u32,
    extent: impl Fn(usize) -> (f64, f64),
) -> RowLanes {
    let n = roles.len();
    // Slime's lanes of the other items, renumbered 0.. in order over the distinct values.
    let mut used: Vec<u32> = (0..n).filter(|&i| roles[i].is_none()).map(&lane).collect();
    used.sort_unstable();
    used.dedup();
    let mut lanes: Vec<u32> = (0..n)
        .map(|i| match roles[i] {
            None => used.binary_search(&lane(i)).unwrap_or(0) as u32,
            Some(_) => 0,
        })
        .collect();
    let mut next = used.len() as u32;
    for prefill in [true, false] {
        let mut order: Vec<usize> = (0..n).filter(|&i| roles[i] == Some(prefill)).collect();
        order.sort_by(|&a, &b| extent(a).0.total_cmp(&extent(b).0));
        // Greedy interval partitioning: each span goes to the lowest-numbered lane free at
        // its start (free = its last span ended at or before this start).
        let mut busy: BinaryHeap<Reverse<(Time, u32)>> = BinaryHeap::new();
        let mut free: BinaryHeap<Reverse<u32>> = BinaryHeap::new();
        let mut slots: u32 = 0;
        for i in order {
            let (start, end) = extent(i);
            while let Some(&Reverse((Time(e), slot))) = busy.peek() {
                if e <= start {
                    busy.pop();
                    free.push(Reverse(slot));
                } else {
                    break;
                }
            }
            let slot = match free.pop() {
                Some(Reverse(s)) => s,
                None => {
                    slots += 1;
                    slots - 1
                }
            };
            busy.push(Reverse((Time(end), slot)));
            lanes[i] = next + slot;
        }
        next += slots;
    }
    RowLanes {
        lanes,
        count: next.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{point, row, span};

    /// The packing before it was made O(n log n): first lane whose last end ≤ start, found
    /// by a scan. Kept as the reference the fast one must match exactly.
    fn reference_slots(spans: &[(f64, f64)]) -> Vec<u32> {
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by(|&a, &b| spans[a].0.total_cmp(&spans[b].0));
        let mut ends: Vec<f64> = Vec::new();
        let mut out = vec![0; spans.len()];
        for i in order {
            let (start, end) = spans[i];
            let slot = match ends.iter().position(|&e| e <= start) {
                Some(k) => k,
                None => {
                    ends.push(f64::NEG_INFINITY);
                    ends.len() - 1
                }
            };
            ends[slot] = end;
            out[i] = slot as u32;
        }
        out
    }

    #[test]
    fn packing_matches_the_scan_it_replaced() {
        // A small deterministic generator: overlapping, touching, equal and empty spans.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..200 {
            let n = 1 + (next() % 40) as usize;
            let spans: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    let s = (next() % 20) as f64;
                    (s, s + (next() % 6) as f64)
                })
                .collect();
            let items = spans
                .iter()
                .map(|&(s, e)| span("x [P]", s, e, 7, Some("prefill")))
                .chain([span("real", 0.0, 1.0, 3, None)])
                .collect();
            let rl = row_lanes(&row(items));
            let want = reference_slots(&spans);
            let got: Vec<u32> = rl.lanes[..n].iter().map(|l| l - 1).collect();
            assert_eq!(got, want, "round {round}: {spans:?}");
            assert_eq!(rl.count, 1 + want.iter().max().unwrap() + 1);
        }
    }

    #[test]
    fn crafted_lane_numbers_are_compacted_not_allocated() {
        // Lanes an untrusted cache JSON may claim: near u32::MAX, with gaps.
        let r = row(vec![
            span("a", 0.0, 10.0, u32::MAX - 1, None),
            span("b", 1.0, 2.0, u32::MAX, None),
            point("e", 3.0, u32::MAX),
            span("c", 0.0, 1.0, 5, None),
            span("a [D]", 0.0, 10.0, u32::MAX, Some("decode")),
        ]);
        let rl = row_lanes(&r);
        assert_eq!(rl.lanes, vec![1, 2, 2, 0, 3]);
        assert_eq!(rl.count, 4, "three distinct lanes and one [D] lane");
        let groups = rl.by_lane(true, |_| true);
        assert_eq!(groups, vec![vec![3], vec![0], vec![1, 2], vec![4]]);
        assert_eq!(rl.by_lane(false, |i| i != 2), vec![vec![0, 1, 3, 4]]);
        // Drawing needs count × lane height: small, whatever was claimed.
        let l = crate::layout([rl.count], 14.0, 3.0);
        assert_eq!(l.total_height, 4.0 * 14.0 + 3.0);
        // And the row's own lane_count (also untrusted) is never consulted.
        let mut huge = r.clone();
        huge.lane_count = u32::MAX - 1;
        assert_eq!(row_lanes(&huge), rl);
        assert_eq!(row_lanes(&row(Vec::new())).count, 1);
    }

    #[test]
    fn many_pd_lanes_pack_in_n_log_n() {
        // 200 000 virtual spans: 100 000 [P] that all overlap (100 000 lanes, which a scan
        // of the lanes per span would make 5·10⁹ steps) and 100 000 [D] back to back.
        let n = 100_000;
        let mut items: Vec<Item> = (0..n)
            .map(|i| span("g [P]", i as f64 * 1e-3, 1e6, 0, Some("prefill")))
            .collect();
        items.extend((0..n).map(|i| span("g [D]", i as f64, i as f64 + 1.0, 0, Some("decode"))));
        items.push(span("g", 0.0, 1e6, 0, None));
        let r = row(items);
        let t = std::time::Instant::now();
        let rl = row_lanes(&r);
        let secs = t.elapsed().as_secs_f64();
        // Bound: generous for a debug build on a shared machine (release: ~20 ms).
        assert!(secs < 5.0, "row_lanes took {secs:.2} s for {} items", 2 * n);
        assert_eq!(rl.count, 1 + n as u32 + 1, "one real lane, n [P], one [D]");
        assert!(rl.lanes[n..2 * n].iter().all(|&l| l == 1 + n as u32));
        let t = std::time::Instant::now();
        let groups = rl.by_lane(true, |_| true);
        assert!(t.elapsed().as_secs_f64() < 5.0);
        assert_eq!(groups.len(), rl.count as usize);
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 2 * n + 1);
    }
}

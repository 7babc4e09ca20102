//! Drawing follows pixels: a per-row index of items by display lane and start, so the items
//! a time window shows, and the item under the pointer, are found by binary search and a
//! small tree walk instead of a scan of the row.
//!
//! The one hard case is a long span that starts long before the window (a sample's root
//! span, or anything in a collapsed row): sorting by start alone would have to scan every item
//! before the window to find it. A max-of-end tree over blocks of positions finds exactly the
//! blocks holding an item that is still running at the window's left edge.

use crate::{RowLanes, Track, Viewport, MARKER_PX};

/// Positions per leaf of the max-end tree: the tree costs `2 × 8` bytes per `BLOCK` items
/// (about 1 byte per item), and a reported block is scanned whole (at most `BLOCK` looks).
const BLOCK: usize = 16;

/// The items of one class (spans or points), grouped by display lane, each lane in start order.
#[derive(Debug, Clone, Default)]
struct Sorted {
    /// `off[l]..off[l + 1]`: lane `l`'s positions in `order`.
    off: Vec<u32>,
    /// Item indices, lane by lane, each lane by (start, index).
    order: Vec<u32>,
    /// Max end over each block of `BLOCK` positions of `order`, as an implicit binary tree:
    /// leaves at `leaves..leaves + blocks`, node `k` = max of nodes `2k` and `2k + 1`.
    tree: Vec<f64>,
    leaves: usize,
}

impl Sorted {
    fn new(track: &Track, lane_of: &[u32], lanes: usize, keep: impl Fn(usize) -> bool) -> Sorted {
        let n = lane_of.len();
        // Counting sort by lane, then each lane by start: O(n log n), no per-lane Vec.
        let mut off = vec![0u32; lanes + 1];
        for i in (0..n).filter(|&i| keep(i)) {
            off[lane_of[i] as usize + 1] += 1;
        }
        for l in 0..lanes {
            off[l + 1] += off[l];
        }
        let mut fill: Vec<u32> = off[..lanes].to_vec();
        let mut order = vec![0u32; off[lanes] as usize];
        for i in (0..n).filter(|&i| keep(i)) {
            let l = lane_of[i] as usize;
            order[fill[l] as usize] = i as u32;
            fill[l] += 1;
        }
        for l in 0..lanes {
            order[off[l] as usize..off[l + 1] as usize].sort_unstable_by(|&a, &b| {
                track.start[a as usize]
                    .total_cmp(&track.start[b as usize])
                    .then(a.cmp(&b))
            });
        }
        let blocks = order.len().div_ceil(BLOCK).max(1);
        let leaves = blocks.next_power_of_two();
        let mut tree = vec![f64::NEG_INFINITY; 2 * leaves];
        for (b, chunk) in order.chunks(BLOCK).enumerate() {
            tree[leaves + b] = chunk
                .iter()
                .map(|&i| track.end[i as usize])
                .fold(f64::NEG_INFINITY, f64::max);
        }
        for k in (1..leaves).rev() {
            tree[k] = tree[2 * k].max(tree[2 * k + 1]);
        }
        Sorted {
            off,
            order,
            tree,
            leaves,
        }
    }

    /// Appends to `out`, in start order, the items of `lane` with `start ≤ t1` and `end ≥ t0`.
    /// Returns how many positions it looked at (binary searches aside), which tests bound.
    fn query(&self, track: &Track, lane: u32, t0: f64, t1: f64, out: &mut Vec<u32>) -> usize {
        let lane = lane as usize;
        // An inverted or NaN window shows nothing.
        if lane + 1 >= self.off.len() || t0.partial_cmp(&t1).is_none_or(|o| o.is_gt()) {
            return 0;
        }
        let mut looked = 0;
        let (a, b) = (self.off[lane] as usize, self.off[lane + 1] as usize);
        let lane_items = &self.order[a..b];
        let start = |i: u32| track.start[i as usize];
        let end = |i: u32| track.end[i as usize];
        let mid = a + lane_items.partition_point(|&i| start(i) < t0);
        let hi = a + lane_items.partition_point(|&i| start(i) <= t1);
        if mid > a {
            // Items that started before the window and still run at t0: walk the tree down
            // to the blocks whose max end reaches t0, left to right (so in start order).
            let (lb, rb) = (a / BLOCK, (mid - 1) / BLOCK);
            let mut stack = vec![(1usize, 0usize, self.leaves - 1)];
            while let Some((node, lo, hi_leaf)) = stack.pop() {
                if hi_leaf < lb || lo > rb || self.tree[node] < t0 {
                    continue;
                }
                if node >= self.leaves {
                    let from = (lo * BLOCK).max(a);
                    let to = ((lo + 1) * BLOCK).min(mid);
                    looked += to.saturating_sub(from);
                    out.extend(self.order[from..to].iter().filter(|&&i| end(i) >= t0));
                    continue;
                }
                let m = (lo + hi_leaf) / 2;
                stack.push((2 * node + 1, m + 1, hi_leaf));
                stack.push((2 * node, lo, m));
            }
        }
        // Items starting inside the window: all shown (an end before its start, which only a
        // crafted cache has, is still tested).
        out.extend(self.order[mid..hi].iter().filter(|&&i| end(i) >= t0));
        looked + (hi - mid)
    }
}

/// A row's items by display lane, each lane in start order, with a max-of-end tree: the items
/// a time window shows are found in O(log n + k) (k: items shown, plus at most a block of 16
/// neighbours for each item that started before the window), never by scanning the row.
/// Spans and points are kept apart (spans go through level of detail, points are markers).
///
/// Built once per row and per expansion state in O(n log n); holds about 5 bytes per item
/// (an index and its share of the tree) and reads times from the [`Track`] it was built from,
/// which every query takes again. Items whose start or end is not finite are left out (no
/// pixel can show them; `trace` never produces them).
#[derive(Debug, Clone, Default)]
pub struct LaneIndex {
    expanded: bool,
    /// The track length it was built for: a query with another track finds nothing.
    len: usize,
    lanes: u32,
    spans: Sorted,
    points: Sorted,
}

impl LaneIndex {
    /// Indexes `track` with its display lanes `lanes` (from [`crate::track_lanes`]) when
    /// `expanded`, or all in one lane (lane 0) when collapsed.
    pub fn new(track: &Track, lanes: &RowLanes, expanded: bool) -> LaneIndex {
        let n = track.start.len().min(track.end.len()).min(track.kind.len());
        let count = if expanded { lanes.count.max(1) } else { 1 };
        // Lane numbers come from `lanes`, which may belong to another track: clamp them, so
        // nothing is ever sized or indexed by a number that was not checked.
        let lane_of: Vec<u32> = (0..n)
            .map(|i| lanes.of(i, expanded).min(count - 1))
            .collect();
        let lanes_n = count as usize;
        let ok = |i: usize| track.start[i].is_finite() && track.end[i].is_finite();
        LaneIndex {
            expanded,
            len: track.len(),
            lanes: count,
            spans: Sorted::new(track, &lane_of, lanes_n, |i| ok(i) && track.is_span(i)),
            points: Sorted::new(track, &lane_of, lanes_n, |i| ok(i) && !track.is_span(i)),
        }
    }

    pub fn expanded(&self) -> bool {
        self.expanded
    }

    /// Lanes indexed: the row's display lane count when expanded, 1 when collapsed.
    pub fn lanes(&self) -> u32 {
        self.lanes
    }

    /// Fills `out` (cleared first) with the spans of `lane` that overlap `[t0, t1]` (start ≤ t1
    /// and end ≥ t0), in start order: what [`crate::lane_prims_track`] wants. `track` must be
    /// the one the index was built from (another length finds nothing). Cost O(log n + k) as
    /// in the type's doc; `out` is reused so a frame allocates nothing once warm.
    pub fn spans(&self, track: &Track, lane: u32, t0: f64, t1: f64, out: &mut Vec<u32>) {
        out.clear();
        if track.len() == self.len {
            self.spans.query(track, lane, t0, t1, out);
        }
    }

    /// [`LaneIndex::spans`], returning the positions looked at (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn spans_looked(
        &self,
        track: &Track,
        lane: u32,
        t0: f64,
        t1: f64,
        out: &mut Vec<u32>,
    ) -> usize {
        out.clear();
        self.spans.query(track, lane, t0, t1, out)
    }

    /// Like [`LaneIndex::spans`], for the points (events and orphan ends) of `lane` with a
    /// time in `[t0, t1]`: O(log n + k).
    pub fn points(&self, track: &Track, lane: u32, t0: f64, t1: f64, out: &mut Vec<u32>) {
        out.clear();
        if track.len() == self.len {
            self.points.query(track, lane, t0, t1, out);
        }
    }
}

/// [`crate::hit`] over a [`Track`] and its [`LaneIndex`] (which says whether the row is
/// expanded): the item under `(x, y_in_row)`, points first (they sit on top), then the
/// innermost (narrowest) span, the first in item order on ties. Same answer as `hit` on the
/// row the track was made from, but found by binary search in the pointer's lane: O(log n +
/// items within a few pixels of `x`), so a 300 000-item row costs what a small one does.
/// A view with no width or no span hits nothing.
pub fn hit_track(
    track: &Track,
    index: &LaneIndex,
    view: &Viewport,
    x: f64,
    y_in_row: f64,
    lane_h: f64,
) -> Option<usize> {
    if y_in_row < 0.0 || !(view.width > 0.0 && view.span() > 0.0 && x.is_finite()) {
        return None;
    }
    let lane = (y_in_row / lane_h).floor() as u32;
    // Candidates by time with a margin (pixels and rounding: at deep zoom on epoch times a
    // pixel can be finer than an f64 step), then the exact pixel test `hit` makes.
    let window = |lo_px: f64, hi_px: f64| {
        let (a, b) = (view.t(x + lo_px), view.t(x + hi_px));
        let eps = (a.abs() + b.abs() + view.t0.abs() + view.t1.abs()) * 1e-15;
        (a - eps, b + eps)
    };
    let mut best: Option<(usize, f64)> = None;
    let mut consider = |i: usize, score: f64| {
        if best.is_none_or(|(j, s)| score < s || (score == s && i < j)) {
            best = Some((i, score));
        }
    };
    let mut buf = Vec::new();
    let (t0, t1) = window(-MARKER_PX / 2.0 - 2.0, MARKER_PX / 2.0 + 2.0);
    index.points(track, lane, t0, t1, &mut buf);
    for &i in &buf {
        let x0 = view.x(track.start[i as usize]);
        if x >= x0 - MARKER_PX / 2.0 && x <= x0 + MARKER_PX / 2.0 {
            consider(i as usize, -1.0);
        }
    }
    let (t0, t1) = window(-3.0, 2.0);
    index.spans(track, lane, t0, t1, &mut buf);
    for &i in &buf {
        let (x0, x1) = (
            view.x(track.start[i as usize]),
            view.x(track.end[i as usize]),
        );
        let hi = x1.max(x0 + 1.0);
        if x >= x0 && x <= hi {
            consider(i as usize, hi - x0);
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;

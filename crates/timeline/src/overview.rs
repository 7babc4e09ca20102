//! Overview at scale: a row collapsed to a few pixels, a whole rollout on one screen.
//!
//! What a pixel column of a collapsed row shows is what a painter would leave visible there:
//! spans painted deepest last (then later starts last), so the innermost activity is on top,
//! as in slime's collapsed rows. The column's *dominant* name is the one whose visible pieces
//! cover most of the column (a column of a hundred 1 ms `tool` calls and one 5 ms `generate`
//! is `tool`). `[P]`/`[D]` virtual spans are deepest of all (spec §3.5 puts them below every
//! lane), so a PD generate call shows its role colour ([`crate::pd_color`]).

use std::collections::BinaryHeap;

use crate::{LaneIndex, Track, Viewport};

/// Pixel columns an overview computes at most (a wider canvas is cut to this).
pub const MAX_COLS: usize = 1 << 14;

/// One run of pixel columns `[x0, x1)` of a collapsed row with the same dominant name and kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub x0: u32,
    pub x1: u32,
    /// The dominant name (an id into the page's [`crate::Names`]): colour it with
    /// [`crate::pd_color`] or [`crate::color_for`] of its text.
    pub name: u32,
    /// The `KIND_*` of `item`.
    pub kind: u8,
    /// The item contributing most of `name` in the run's first column.
    pub item: u32,
    /// Fraction of the run's time some span covers, in `(0, 1]` (a sparse stretch can be drawn
    /// lighter).
    pub busy: f32,
}

/// Calls `emit(a, b, item)` for the visible pieces of `spans` (item indices of `track`) over
/// `[t0, t1]`, left to right, as a painter drawing deepest last leaves them: disjoint, at
/// most `2 × spans.len() + 1` pieces. O(k log k) for k spans.
pub(crate) fn paint(
    track: &Track,
    spans: &mut [u32],
    t0: f64,
    t1: f64,
    mut emit: impl FnMut(f64, f64, u32),
) {
    let start = |i: u32| track.start[i as usize].max(t0);
    let end = |i: u32| track.end[i as usize].min(t1);
    let order = |a: &u32, b: &u32| start(*a).total_cmp(&start(*b)).then(a.cmp(b));
    // A collapsed row's index already gives its spans in this order: check before sorting.
    if !spans.is_sorted_by(|a, b| order(a, b).is_le()) {
        spans.sort_unstable_by(order);
    }
    // Top of the heap = what is painted last: deepest, then latest start, then last item.
    // Ended spans are dropped lazily when they reach the top.
    let key = |i: u32| {
        (
            track.depth[i as usize],
            crate::lanes::Time(track.start[i as usize]),
            i,
        )
    };
    let mut heap = BinaryHeap::new();
    // Ended spans buried under a newer top (back-to-back siblings) are not popped by the lazy
    // rule: purge them whenever the heap doubles, so it holds O(running spans), amortised.
    let mut purge_at = 64;
    let mut next = 0;
    let mut t = t0;
    while t < t1 {
        while next < spans.len() && start(spans[next]) <= t {
            let i = spans[next];
            if end(i) > start(i) {
                heap.push(key(i));
            }
            next += 1;
        }
        if heap.len() >= purge_at {
            heap.retain(|&(_, _, i)| end(i) > t);
            purge_at = (2 * heap.len()).max(64);
        }
        while heap.peek().is_some_and(|&(_, _, i)| end(i) <= t) {
            heap.pop();
        }
        let next_start = spans.get(next).map_or(t1, |&i| start(i)).min(t1);
        let Some(&(_, _, top)) = heap.peek() else {
            t = next_start;
            if next >= spans.len() {
                break;
            }
            continue;
        };
        let b = end(top).min(next_start);
        emit(t, b, top);
        t = b;
    }
}

/// Whether every column of `track` has the same length (a track assembled from buffers that
/// disagree is drawn as empty rather than read out of bounds).
pub(crate) fn columns_agree(t: &Track) -> bool {
    let n = t.start.len();
    [
        t.end.len(),
        t.name.len(),
        t.kind.len(),
        t.lane.len(),
        t.depth.len(),
    ]
    .iter()
    .all(|&l| l == n)
}

/// Where a piece of a row falls in pixel columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cols {
    /// Column `c`, covered in part (the cover is in `(0, 1)`).
    Part(usize, f64),
    /// Columns `c0..c1`, covered whole.
    Whole(usize, usize),
}

/// The piece `[a, b)` in pixel columns `0..cols`: at most a part, a whole run and a part, in
/// column order. O(1) whatever the piece's width.
pub(crate) fn split(view: &Viewport, cols: usize, a: f64, b: f64) -> [Option<Cols>; 3] {
    let (xa, xb) = (
        view.x(a).clamp(0.0, cols as f64),
        view.x(b).clamp(0.0, cols as f64),
    );
    // Nothing on screen (or NaN).
    if xb.partial_cmp(&xa).is_none_or(|o| o.is_le()) {
        return [None; 3];
    }
    let (fa, fb) = (xa.floor(), xb.floor());
    if fa == fb {
        return [Some(Cols::Part(fa as usize, xb - xa)), None, None];
    }
    let mut out = [None; 3];
    let mut first_whole = fa as usize;
    if xa > fa {
        out[0] = Some(Cols::Part(fa as usize, fa + 1.0 - xa));
        first_whole += 1;
    }
    let end_whole = (fb as usize).min(cols);
    if end_whole > first_whole {
        out[1] = Some(Cols::Whole(first_whole, end_whole));
    }
    if xb > fb && (fb as usize) < cols {
        out[2] = Some(Cols::Part(fb as usize, xb - fb));
    }
    out
}

/// One piece of a column: its name, how much of the column it covers, its item and kind.
type Piece = (u32, f64, u32, u8);

/// Pieces of one column merged by name as they come (a linear search while few names, as
/// in practice; past `MERGE_NAMES` they are kept apart and merged by a sort at the end, so
/// a column of many distinct names costs O(m log m), not O(m²)).
#[derive(Default)]
struct Column {
    /// `(name, total cover, biggest piece's item, its cover, its kind)`.
    names: Vec<(u32, f64, u32, f64, u8)>,
}

const MERGE_NAMES: usize = 32;

impl Column {
    fn add(&mut self, (name, cover, item, kind): Piece) {
        if self.names.len() <= MERGE_NAMES {
            if let Some(e) = self.names.iter_mut().find(|e| e.0 == name) {
                e.1 += cover;
                if cover > e.3 || (cover == e.3 && item < e.2) {
                    (e.2, e.3, e.4) = (item, cover, kind);
                }
                return;
            }
        }
        self.names.push((name, cover, item, cover, kind));
    }

    /// The dominant name (most cover, the smaller id on ties) with its biggest piece's item
    /// and kind, and the column's total cover; the column is emptied.
    fn take(&mut self) -> Option<(u32, u8, u32, f64)> {
        if self.names.len() > MERGE_NAMES {
            self.names.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then(b.3.total_cmp(&a.3)).then(a.2.cmp(&b.2))
            });
            self.names.dedup_by(|next, kept| {
                let same = next.0 == kept.0;
                if same {
                    kept.1 += next.1;
                }
                same
            });
        }
        let total: f64 = self.names.iter().map(|e| e.1).sum();
        let best = self.names.iter().copied().reduce(|b, e| {
            if e.1 > b.1 || (e.1 == b.1 && e.0 < b.0) {
                e
            } else {
                b
            }
        });
        self.names.clear();
        best.map(|(name, _, item, _, kind)| (name, kind, item, total))
    }
}

/// The cells under construction, column by column, left to right.
struct Cells {
    cells: Vec<Cell>,
    busy_sum: Vec<f64>,
}

impl Cells {
    /// Columns `c0..c1` with this dominant name, kind, item and total cover.
    fn push(&mut self, c0: usize, c1: usize, (name, kind, item, cover): (u32, u8, u32, f64)) {
        match self.cells.last_mut() {
            Some(last) if last.x1 as usize == c0 && last.name == name && last.kind == kind => {
                last.x1 = c1 as u32;
                if let Some(b) = self.busy_sum.last_mut() {
                    *b += cover;
                }
            }
            _ => {
                self.cells.push(Cell {
                    x0: c0 as u32,
                    x1: c1 as u32,
                    name,
                    kind,
                    item,
                    busy: 0.0,
                });
                self.busy_sum.push(cover);
            }
        }
    }
}

/// A collapsed row as runs of pixel columns, each with its dominant name (see the module
/// doc): what to paint for a row a few pixels high. `index` is the row's [`LaneIndex`]
/// (expanded or not: every lane is read). Columns `0..width` (at most [`MAX_COLS`]) map
/// `view`; columns no span covers have no cell.
///
/// Cost: O(log n + k log k + cells) for the k spans in view (found through the index, never
/// by a scan of the row; a span covering many columns costs one step, not one per column);
/// output at most one cell per column, fewer where neighbours agree.
pub fn overview_cells(track: &Track, index: &LaneIndex, view: &Viewport, width: f64) -> Vec<Cell> {
    if !columns_agree(track) {
        return Vec::new();
    }
    let cols = if width.is_finite() && width >= 1.0 {
        (width as usize).min(MAX_COLS)
    } else {
        0
    };
    let (t0, t1) = (view.t(0.0), view.t(cols as f64));
    if cols == 0 || !(t0.is_finite() && t1.is_finite() && t0 < t1) {
        return Vec::new();
    }
    let mut spans = Vec::new();
    let mut buf = Vec::new();
    for lane in 0..index.lanes() {
        index.spans(track, lane, t0, t1, &mut buf);
        spans.extend_from_slice(&buf);
    }
    let mut out = Cells {
        cells: Vec::new(),
        busy_sum: Vec::new(),
    };
    // The column being summed (usize::MAX: none) and its pieces so far.
    let mut col = usize::MAX;
    let mut column = Column::default();
    paint(track, &mut spans, t0, t1, |a, b, item| {
        let i = item as usize;
        let piece = |cover| (track.name[i], cover, item, track.kind[i]);
        for step in split(view, cols, a, b).into_iter().flatten() {
            let c0 = match step {
                Cols::Part(c, _) | Cols::Whole(c, _) => c,
            };
            if c0 != col && col != usize::MAX {
                if let Some(d) = column.take() {
                    out.push(col, col + 1, d);
                }
                col = usize::MAX;
            }
            match step {
                // A partial column: summed with the column's other pieces.
                Cols::Part(c, cover) => {
                    col = c;
                    column.add(piece(cover));
                }
                // Whole columns: nothing else shows there.
                Cols::Whole(c0, c1) => {
                    let (name, _, _, kind) = piece(1.0);
                    out.push(c0, c1, (name, kind, item, (c1 - c0) as f64));
                }
            }
        }
    });
    if col != usize::MAX {
        if let Some(d) = column.take() {
            out.push(col, col + 1, d);
        }
    }
    let Cells {
        mut cells,
        busy_sum,
    } = out;
    for (cell, sum) in cells.iter_mut().zip(busy_sum) {
        cell.busy = (sum / (cell.x1 - cell.x0) as f64).clamp(0.0, 1.0) as f32;
    }
    cells
}

/// Rows from which a dump opens on the overview instead of today's expanded rows.
pub const OVERVIEW_ROWS: usize = 200;

/// The thinnest a row is drawn on its own in the overview. With more rows than the viewport
/// holds at this height, rows share pixel rows: see [`overview_bands`].
pub const MIN_ROW_PX: f64 = 2.0;

/// Whether a dump of `rows` rows opens on the overview (every row on screen, collapsed to a
/// few pixels) rather than expanded: from [`OVERVIEW_ROWS`] rows, or when its rows would take
/// more than four viewports even collapsed at 16 px each (a small embedded viewer). Small
/// dumps keep the expanded view. O(1).
pub fn overview_first(rows: usize, viewport_height_px: f64) -> bool {
    rows >= OVERVIEW_ROWS || rows as f64 * 16.0 > 4.0 * viewport_height_px.max(0.0)
}

/// The height of each row in the overview: the viewport shared by the rows, between
/// [`MIN_ROW_PX`] and one lane (`lane_h`), so rows never grow past a lane when few and never
/// shrink below what a colour shows. O(1).
pub fn overview_row_height(rows: usize, viewport_height_px: f64, lane_h: f64) -> f64 {
    let share = viewport_height_px / rows.max(1) as f64;
    let top = if lane_h.is_finite() {
        lane_h.max(MIN_ROW_PX)
    } else {
        MIN_ROW_PX
    };
    if share.is_nan() {
        return MIN_ROW_PX;
    }
    share.clamp(MIN_ROW_PX, top)
}

/// Whether `rows` rows need to share pixel rows to all fit `viewport_height_px` (fewer than
/// [`MIN_ROW_PX`] each): then the overview is the grid of [`crate::minimap`] at the canvas's
/// size (each pixel row a band of rows), rather than one [`overview_cells`] strip per row.
/// O(1).
pub fn overview_bands(rows: usize, viewport_height_px: f64) -> bool {
    rows as f64 * MIN_ROW_PX > viewport_height_px
}

#[cfg(test)]
#[path = "overview_tests.rs"]
mod tests;

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
    spans.sort_unstable_by(|&a, &b| start(a).total_cmp(&start(b)).then(a.cmp(&b)));
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

/// Pieces split into pixel columns: `(column, name, covered columns)`, consecutive entries
/// for the same column and name merged as they come.
pub(crate) fn split(view: &Viewport, cols: usize, a: f64, b: f64, mut add: impl FnMut(usize, f64)) {
    let (xa, xb) = (
        view.x(a).clamp(0.0, cols as f64),
        view.x(b).clamp(0.0, cols as f64),
    );
    // Nothing on screen (or NaN).
    if xb.partial_cmp(&xa).is_none_or(|o| o.is_le()) {
        return;
    }
    let (first, last) = (xa.floor() as usize, (xb.ceil() as usize).min(cols));
    for c in first..last {
        let cover = xb.min(c as f64 + 1.0) - xa.max(c as f64);
        if cover > 0.0 {
            add(c, cover);
        }
    }
}

/// The dominant entry of one column's `(name, cover, item, kind)` pieces: the name with the
/// most cover (the smaller id on ties), with its biggest piece's item and kind, and the total
/// cover. O(m log m).
fn dominant(pieces: &mut [(u32, f64, u32, u8)]) -> Option<(u32, u8, u32, f64)> {
    pieces.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    let total: f64 = pieces.iter().map(|p| p.1).sum();
    let mut best: Option<(u32, u8, u32, f64)> = None;
    for group in pieces.chunk_by(|a, b| a.0 == b.0) {
        let sum: f64 = group.iter().map(|p| p.1).sum();
        if best.is_none_or(|b| sum > b.3) {
            best = Some((group[0].0, group[0].3, group[0].2, sum));
        }
    }
    best.map(|(name, kind, item, _)| (name, kind, item, total))
}

/// A collapsed row as runs of pixel columns, each with its dominant name (see the module
/// doc): what to paint for a row a few pixels high. `index` is the row's [`LaneIndex`]
/// (expanded or not: every lane is read). Columns `0..width` (at most [`MAX_COLS`]) map
/// `view`; columns no span covers have no cell.
///
/// Cost: O(log n + k log k + width) for the k spans in view (found through the index, never
/// by a scan of the row); output at most one cell per column, fewer where neighbours agree.
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
    let mut cells: Vec<Cell> = Vec::new();
    let mut busy_sum: Vec<f64> = Vec::new();
    let mut col = usize::MAX;
    let mut pieces: Vec<(u32, f64, u32, u8)> = Vec::new();
    let mut finish = |c: usize, pieces: &mut Vec<(u32, f64, u32, u8)>| {
        if let Some((name, kind, item, cover)) = dominant(pieces) {
            match cells.last_mut() {
                Some(last) if last.x1 as usize == c && last.name == name && last.kind == kind => {
                    last.x1 += 1;
                    *busy_sum.last_mut().unwrap_or(&mut 0.0) += cover;
                }
                _ => {
                    cells.push(Cell {
                        x0: c as u32,
                        x1: c as u32 + 1,
                        name,
                        kind,
                        item,
                        busy: 0.0,
                    });
                    busy_sum.push(cover);
                }
            }
        }
        pieces.clear();
    };
    paint(track, &mut spans, t0, t1, |a, b, item| {
        let i = item as usize;
        split(view, cols, a, b, |c, cover| {
            if c != col {
                if col != usize::MAX {
                    finish(col, &mut pieces);
                }
                col = c;
            }
            pieces.push((track.name[i], cover, item, track.kind[i]));
        });
    });
    if col != usize::MAX {
        finish(col, &mut pieces);
    }
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

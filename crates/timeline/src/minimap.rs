//! The whole rollout in a fixed grid: a minimap beside the scroll bar, and the overview itself
//! when there are more samples than pixel rows. Each grid row is a band of consecutive rows
//! (samples); each cell says how busy the band is there and which name dominates it, by the
//! painter's rule of [`crate::overview_cells`].

use std::borrow::Borrow;

use crate::overview::{columns_agree, paint, split, Cols};
use crate::{Track, Viewport, MAX_COLS};

/// `Minimap::name` of a cell no span covers.
pub const NO_NAME: u32 = u32::MAX;

/// Contributions kept before they are merged by (column, name): bounds the scratch memory of
/// a band to this plus what merging leaves (at most columns × distinct names).
const COMPACT_AT: usize = 1 << 16;

/// A `cols × rows` grid, row-major (cell `r * cols + c`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Minimap {
    pub cols: usize,
    pub rows: usize,
    /// Per cell, the share of the band's time some span covers, 0 (idle) to 255 (every row
    /// of the band busy all through the cell), averaged over the band's rows.
    pub busy: Vec<u8>,
    /// Per cell, the dominant name id (covering the most of the cell over the band's rows),
    /// or [`NO_NAME`].
    pub name: Vec<u32>,
}

/// The grid for `tracks` (the rows, top to bottom) over `[t0, t1]`, `cols` wide and `rows_px`
/// high (each at most [`MAX_COLS`]). Grid row `r` is the band of rows `r·n/rows_px ..
/// (r+1)·n/rows_px` (one row repeated over several grid rows when there are fewer rows than
/// pixels). Takes `&[Track]`, `&[&Track]` or `&[Arc<Track>]`.
///
/// Cost: one pass over every item (O(N log N) for the per-row sort of spans), computed once
/// per resize or filter, not per frame. Output: exactly `cols × rows_px` cells whatever the
/// span count; scratch memory per band is bounded by 65 536 contributions plus
/// columns × distinct names. A track whose columns disagree in length counts as idle.
pub fn minimap<T: Borrow<Track>>(
    tracks: &[T],
    t0: f64,
    t1: f64,
    cols: usize,
    rows_px: usize,
) -> Minimap {
    let (cols, rows) = (cols.min(MAX_COLS), rows_px.min(MAX_COLS));
    let mut m = Minimap {
        cols,
        rows,
        busy: vec![0; cols * rows],
        name: vec![NO_NAME; cols * rows],
    };
    let n = tracks.len();
    if cols == 0 || rows == 0 || n == 0 || !(t0.is_finite() && t1.is_finite() && t0 < t1) {
        return m;
    }
    let view = Viewport {
        t0,
        t1,
        width: cols as f64,
    };
    let mut prev: Option<(usize, usize)> = None;
    let mut contrib: Vec<(u32, u32, f64)> = Vec::new();
    let mut busy = vec![0.0f64; cols];
    let mut spans: Vec<u32> = Vec::new();
    for r in 0..rows {
        let lo = r * n / rows;
        let hi = ((r + 1) * n / rows).max(lo + 1).min(n);
        let cells = r * cols..(r + 1) * cols;
        if prev == Some((lo, hi)) {
            // The same band as the grid row above (fewer rows than pixels): copy it.
            m.busy
                .copy_within(cells.start - cols..cells.start, cells.start);
            m.name
                .copy_within(cells.start - cols..cells.start, cells.start);
            continue;
        }
        prev = Some((lo, hi));
        contrib.clear();
        busy.iter_mut().for_each(|b| *b = 0.0);
        for t in &tracks[lo..hi] {
            let t: &Track = t.borrow();
            if !columns_agree(t) {
                continue;
            }
            spans.clear();
            spans.extend((0..t.len() as u32).filter(|&i| {
                let (s, e) = (t.start[i as usize], t.end[i as usize]);
                t.is_span(i as usize) && s.is_finite() && e.is_finite() && s <= t1 && e >= t0
            }));
            paint(t, &mut spans, t0, t1, |a, b, item| {
                let name = t.name[item as usize];
                let mut add = |c: usize, cover: f64| {
                    busy[c] += cover;
                    match contrib.last_mut() {
                        Some(last) if last.0 == c as u32 && last.1 == name => last.2 += cover,
                        _ => contrib.push((c as u32, name, cover)),
                    }
                };
                for step in split(&view, cols, a, b).into_iter().flatten() {
                    match step {
                        Cols::Part(c, cover) => add(c, cover),
                        Cols::Whole(c0, c1) => (c0..c1).for_each(|c| add(c, 1.0)),
                    }
                }
            });
            if contrib.len() > COMPACT_AT {
                compact(&mut contrib);
            }
        }
        compact(&mut contrib);
        let band = (hi - lo) as f64;
        for (c, b) in busy.iter().enumerate() {
            m.busy[cells.start + c] = ((b / band).clamp(0.0, 1.0) * 255.0).round() as u8;
        }
        // After compaction: one entry per (column, name), sorted; keep each column's largest.
        for group in contrib.chunk_by(|a, b| a.0 == b.0) {
            let best =
                group
                    .iter()
                    .fold(None::<(u32, f64)>, |best, &(_, name, cover)| match best {
                        Some((_, c)) if c >= cover => best,
                        _ => Some((name, cover)),
                    });
            if let Some((name, _)) = best {
                m.name[cells.start + group[0].0 as usize] = name;
            }
        }
    }
    m
}

/// Merges contributions by (column, name), sorted by them.
fn compact(contrib: &mut Vec<(u32, u32, f64)>) {
    contrib.sort_unstable_by_key(|a| (a.0, a.1));
    contrib.dedup_by(|next, kept| {
        if (next.0, next.1) == (kept.0, kept.1) {
            kept.2 += next.2;
            true
        } else {
            false
        }
    });
}

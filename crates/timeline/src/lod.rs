//! Level of detail for one lane: wide spans one by one, sub-pixel spans merged into runs, so
//! the canvas calls per frame follow pixels, not spans.

use trace::Row;

use crate::{item_x, Track, Viewport};

/// What to draw for one lane: wide spans one by one, sub-pixel spans merged into runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Prim {
    /// An item drawn as itself (index into the row's items).
    Item(usize),
    /// Several spans too narrow to tell apart, covering `[x0, x1]` pixels; `first` names the
    /// first of them (for its colour).
    Run {
        x0: f64,
        x1: f64,
        count: usize,
        first: usize,
    },
}

/// Spans narrower than this many pixels are merged into coverage runs.
pub const LOD_PX: f64 = 1.5;

/// Level of detail for the spans of one lane of `row` (`lane_items`: indices of its span
/// items, in start order), clipped to `[0, width]` pixels. The result has at most about two
/// primitives per pixel column whatever the span count; off-screen spans are skipped.
pub fn lane_prims(row: &Row, lane_items: &[usize], view: &Viewport, width: f64) -> Vec<Prim> {
    lod(
        lane_items.iter().map(|&i| {
            let (x0, x1) = item_x(view, &row.items[i]);
            (i, x0, x1)
        }),
        width,
    )
}

/// [`lane_prims`] over a [`Track`]: `lane_items` are span indices of one lane in start order,
/// as [`crate::LaneIndex::spans`] gives them for the visible window. Same primitives as
/// `lane_prims` on the row the track was made from. Cost O(`lane_items`); output at most about
/// two primitives per pixel column. An index past the track's end is skipped.
pub fn lane_prims_track(
    track: &Track,
    lane_items: &[u32],
    view: &Viewport,
    width: f64,
) -> Vec<Prim> {
    lod(
        lane_items.iter().filter_map(|&i| {
            let i = i as usize;
            let (s, e) = (*track.start.get(i)?, *track.end.get(i)?);
            Some((i, view.x(s), view.x(e)))
        }),
        width,
    )
}

/// The merging behind both: `(index, x0, x1)` in start order.
fn lod(items: impl Iterator<Item = (usize, f64, f64)>, width: f64) -> Vec<Prim> {
    let mut out = Vec::new();
    let mut run: Option<(f64, f64, usize, usize)> = None;
    let flush = |run: &mut Option<(f64, f64, usize, usize)>, out: &mut Vec<Prim>| {
        if let Some((x0, x1, count, first)) = run.take() {
            out.push(if count == 1 {
                Prim::Item(first)
            } else {
                Prim::Run {
                    x0,
                    x1,
                    count,
                    first,
                }
            });
        }
    };
    for (i, x0, x1) in items {
        if x1 < 0.0 || x0 > width {
            continue;
        }
        if x1 - x0 >= LOD_PX {
            flush(&mut run, &mut out);
            out.push(Prim::Item(i));
            continue;
        }
        match &mut run {
            Some(r) if x0 <= r.1 + 1.0 => {
                r.1 = r.1.max(x1);
                r.2 += 1;
            }
            _ => {
                flush(&mut run, &mut out);
                run = Some((x0, x1.max(x0 + 1.0), 1, i));
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

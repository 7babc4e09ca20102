//! The overview's strips painted as one picture. A strip is a row a few pixels high coloured
//! per pixel column by its dominant span (`timeline::overview_cells`); with thousands of rows
//! that is tens of thousands of coloured runs, so the runs are written as RGBA pixels into a
//! buffer (reused from frame to frame) and handed to an offscreen canvas, which the timeline
//! draws with one `drawImage`.
//!
//! The picture is kept between frames and redrawn only where it must be: its columns sit on a
//! fixed time grid (column `k` covers `[k·s, (k+1)·s)` for the frame's seconds per pixel `s`),
//! so a pan shifts the picture (a canvas-to-canvas copy) and paints only the newly exposed
//! columns; a frame that changes nothing the strips show (cursor, hover, selection, the
//! counter tracks) paints nothing. Zooming, scrolling, another file or order repaint it whole.
//! Zoomed out, a strip is painted from a summary (its dominant names at a fixed 2 048 or
//! 16 384 columns over its own extent, made when the row arrives: a binary search finds the
//! cells of the columns being painted); zoomed in past the finer one, the cells are computed
//! exactly for those columns only.

use std::ops::Range;
use std::sync::Arc;

use timeline::{overview_cells, span_rgb, Cell, Layout, Viewport};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d as Ctx, HtmlCanvasElement};

use crate::dom::window;
use crate::rows::{Loaded, PageRow, Same};

/// Everything besides the time axis that decides what the picture shows. Holding the `Arc`s
/// keeps them alive, so pointer equality means "the same list" (no reuse of a freed address).
#[derive(Clone)]
pub struct StripsKey {
    pub data: Arc<Loaded>,
    pub shown: Arc<Vec<usize>>,
    pub layout: Arc<Layout>,
    pub expanded: Arc<Vec<bool>>,
    pub overview: bool,
    pub scroll_y: f64,
    pub dark: bool,
}

impl StripsKey {
    fn same(&self, o: &StripsKey) -> bool {
        Arc::ptr_eq(&self.data, &o.data)
            && Arc::ptr_eq(&self.shown, &o.shown)
            && Arc::ptr_eq(&self.layout, &o.layout)
            && Arc::ptr_eq(&self.expanded, &o.expanded)
            && self.overview == o.overview
            && self.scroll_y == o.scroll_y
            && self.dark == o.dark
    }
}

/// What the kept picture shows.
struct Shown {
    key: StripsKey,
    /// Seconds per column.
    scale: f64,
    /// The grid index of the picture's column 0.
    k0: f64,
    /// Whether any pixel is painted.
    any: bool,
}

/// The picture, what it shows, and this frame's columns to paint.
#[derive(Default)]
pub struct Strips {
    /// The picture (`w × h` pixels), and a canvas to shift it through.
    pic: Option<HtmlCanvasElement>,
    spare: Option<HtmlCanvasElement>,
    shown: Option<Shown>,
    w: usize,
    h: usize,
    /// Columns of the picture painted this frame, into `px` (`todo.len() × h` pixels, each a
    /// `u32` whose bytes in memory are R, G, B, A).
    todo: Range<usize>,
    px: Vec<u32>,
    any: bool,
    /// Where to draw the picture relative to the plot's left edge: 0 or -1 (the grid column
    /// holding the view's start begins at most a pixel before it).
    offset: f64,
    /// Colours of the names met: (name id, rgb), and the last one looked up.
    colors: Vec<(u32, [u8; 3])>,
    recent: Option<(u32, [u8; 3])>,
    dark: bool,
    /// The file the colours are of.
    of: Same<Loaded>,
}

/// The pixels' bytes in memory order (R, G, B, A, …), borrowed for as long as `px` is.
fn bytes_of(px: &[u32]) -> &[u8] {
    // SAFETY: the same memory, as long as `px` is borrowed, in bytes: a `u8` needs no
    // alignment, every bit pattern is one, and a `u32` has no padding.
    unsafe { std::slice::from_raw_parts(px.as_ptr().cast::<u8>(), std::mem::size_of_val(px)) }
}

fn new_canvas() -> Option<HtmlCanvasElement> {
    window()
        .document()
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into().ok())
}

fn ctx_of(c: &HtmlCanvasElement) -> Option<Ctx> {
    c.get_context("2d").ok().flatten()?.dyn_into().ok()
}

impl Strips {
    /// Starts a frame of a `w × h` (CSS pixels) plot over `view`: decides what of the kept
    /// picture stays (shifting it on a pan) and which columns the strips paint.
    pub fn begin(&mut self, key: StripsKey, view: &Viewport, w: f64, h: f64) {
        let (cols, rows) = (w.max(0.0).ceil() as usize + 1, h.max(0.0).ceil() as usize);
        // Name ids belong to one file (another file's id 3 is another name), colours to
        // one mode; a handful of names are kept at most.
        if key.dark != self.dark || !self.of.is(&key.data) || self.colors.len() > 4096 {
            self.colors.clear();
            self.recent = None;
            self.dark = key.dark;
            self.of.set(&key.data);
        }
        self.todo = 0..0;
        self.any = false;
        let mut scale = view.span() / view.width.max(1.0);
        if !(scale.is_finite() && scale > 0.0 && view.t0.is_finite()) || cols * rows == 0 {
            self.shown = None;
            return;
        }
        let kept = self.shown.as_ref().filter(|s| {
            s.key.same(&key)
                && (cols, rows) == (self.w, self.h)
                && ((s.scale / scale) - 1.0).abs() < 1e-9
        });
        if let Some(s) = kept {
            // The same grid as the kept picture (a pan keeps the scale up to rounding).
            scale = s.scale;
        }
        let k0 = (view.t0 / scale).floor();
        self.offset = ((k0 * scale - view.t0) / scale).round();
        let shift = kept.map(|s| k0 - s.k0);
        if shift == Some(0.0) {
            return;
        }
        let shifted = match shift {
            Some(d) if d.abs() < cols as f64 => self.shift(d),
            _ => false,
        };
        let d = shift.unwrap_or(0.0) as i64;
        self.todo = match (shifted, d > 0) {
            (true, true) => cols - d as usize..cols,
            (true, false) => 0..(-d) as usize,
            (false, _) => {
                self.w = cols;
                self.h = rows;
                0..cols
            }
        };
        let any = shifted && self.shown.as_ref().is_some_and(|s| s.any);
        self.shown = Some(Shown {
            key,
            scale,
            k0,
            any,
        });
        self.px.clear();
        self.px.resize(self.todo.len() * self.h, 0);
    }

    /// Forgets the picture (no strips are shown).
    pub fn clear(&mut self) {
        self.shown = None;
        self.todo = 0..0;
    }

    /// Moves the picture `d` columns left (right when negative); the columns it uncovers
    /// are left transparent. False if there is no picture to move.
    fn shift(&mut self, d: f64) -> bool {
        let (Some(pic), Some(spare)) = (self.pic.take(), self.spare.take().or_else(new_canvas))
        else {
            return false;
        };
        let (w, h) = (self.w as u32, self.h as u32);
        if spare.width() != w || spare.height() != h {
            spare.set_width(w);
            spare.set_height(h);
        }
        let ok = ctx_of(&spare).is_some_and(|c| {
            c.clear_rect(0.0, 0.0, w as f64, h as f64);
            c.draw_image_with_html_canvas_element(&pic, -d, 0.0).is_ok()
        });
        // The shifted copy becomes the picture; the old one is the next frame's spare.
        self.pic = Some(spare);
        self.spare = Some(pic);
        ok
    }

    fn color(&mut self, d: &Loaded, name: u32) -> [u8; 3] {
        // Neighbouring cells mostly share a name: the last one looked up is tried first.
        if let Some((n, c)) = self.recent {
            if n == name {
                return c;
            }
        }
        let c = match self.colors.iter().find(|(n, _)| *n == name) {
            Some(&(_, c)) => c,
            None => {
                let c = span_rgb(d.name_of(name), self.dark);
                self.colors.push((name, c));
                c
            }
        };
        self.recent = Some((name, c));
        c
    }

    /// Paints this frame's columns of one strip, pixel rows `y..y + h` of the picture.
    pub fn strip(&mut self, d: &Loaded, row: &PageRow, y: f64, h: f64) {
        let Some((scale, k0)) = self.shown.as_ref().map(|s| (s.scale, s.k0)) else {
            return;
        };
        let (c0, c1) = (self.todo.start, self.todo.end);
        let y0 = y.floor().max(0.0) as usize;
        let y1 = ((y + h).floor() as usize).max(y0 + 1).min(self.h);
        if c0 >= c1 || y0 >= y1 {
            return;
        }
        // Picture column of time `t` (relative to the grid's origin, then scaled).
        let col = |t: f64| (t - k0 * scale) / scale;
        // The coarsest summary whose columns are at most a pixel wide.
        let px_of = |s: &crate::rows::Summary1d| (s.t1 - s.t0) / s.cols as f64 / scale;
        let sum = row.summaries.iter().find(|s| px_of(s) <= 1.0);
        let Some(sum) = sum.filter(|s| !s.cells.is_empty()) else {
            // Zoomed in past the fine summary (or nothing summarised): the exact cells of
            // the columns being painted.
            let part = Viewport {
                t0: (k0 + c0 as f64) * scale,
                t1: (k0 + c1 as f64) * scale,
                width: (c1 - c0) as f64,
            };
            for cell in overview_cells(&row.data.track, &row.collapsed, &part, part.width) {
                let x0 = (c0 + cell.x0 as usize) as f64;
                self.run(d, &cell, x0, (c0 + cell.x1 as usize) as f64, y0..y1);
            }
            return;
        };
        let col_s = (sum.t1 - sum.t0) / sum.cols as f64;
        let t_first = k0 * scale + c0 as f64 * scale;
        let first = sum
            .cells
            .partition_point(|c| sum.t0 + c.x1 as f64 * col_s <= t_first);
        let cells = &sum.cells[first..];
        // Picture column of summary column `x`: `col(sum.t0 + x · col_s)` as one multiply-add.
        let (at, per) = (col(sum.t0), col_s / scale);
        let x_of = |x: u32| at + x as f64 * per;
        let mut xa = match cells.first() {
            Some(c) => x_of(c.x0),
            None => return,
        };
        for (i, cell) in cells.iter().enumerate() {
            if xa >= c1 as f64 {
                break;
            }
            let x0 = xa.max(0.0).floor();
            let next = cells.get(i + 1).map(|n| x_of(n.x0));
            // Zoomed out, several summary cells share a pixel column. A cell whose next one
            // starts in the same column is painted over whole by it (cells are in order and
            // apart, so the next one ends no sooner, and it, or a later cell covering it in
            // turn, is painted: it starts before `c1`), so it is skipped: the same picture
            // for less work.
            let covered = next.is_some_and(|n| n < c1 as f64 && n.max(0.0).floor() == x0);
            if !covered {
                let xb = x_of(cell.x1);
                self.run(d, cell, x0, xb.floor().max(x0 + 1.0), y0..y1);
            }
            match next {
                Some(n) => xa = n,
                None => break,
            }
        }
    }

    /// Fills picture columns `x0..x1` (clipped to this frame's) of pixel rows `ys` with
    /// `cell`'s colour.
    fn run(&mut self, d: &Loaded, cell: &Cell, x0: f64, x1: f64, ys: Range<usize>) {
        let [r, g, b] = self.color(d, cell.name);
        let a = ((0.35 + 0.65 * cell.busy as f64).min(1.0) * 255.0).round() as u8;
        let rgba = u32::from_ne_bytes([r, g, b, a]);
        let (c0, c1) = (self.todo.start, self.todo.end);
        let x0 = (x0.max(c0 as f64) as usize).min(c1) - c0;
        let x1 = (x1.max(c0 as f64) as usize).min(c1) - c0;
        if x0 >= x1 {
            return;
        }
        let stride = c1 - c0;
        for yy in ys {
            self.px[yy * stride + x0..yy * stride + x1].fill(rgba);
        }
        self.any = true;
    }

    /// Puts this frame's columns into the picture and draws it at `(x, y)` (CSS pixels, the
    /// plot's top left) over what is already there.
    pub fn finish(&mut self, ctx: &Ctx, x: f64, y: f64) {
        let Some(shown) = self.shown.as_mut() else {
            return;
        };
        if !self.todo.is_empty() {
            if self.pic.is_none() {
                self.pic = new_canvas();
            }
            let Some(pic) = &self.pic else {
                return;
            };
            let (w, h) = (self.w as u32, self.h as u32);
            if pic.width() != w || pic.height() != h {
                pic.set_width(w);
                pic.set_height(h);
            }
            let Some(pctx) = ctx_of(pic) else {
                return;
            };
            let whole = self.todo.len() == self.w;
            if whole && !self.any {
                pctx.clear_rect(0.0, 0.0, w as f64, h as f64);
            } else if self.any {
                // (A shifted picture's uncovered columns are transparent already.)
                let cols = self.todo.len() as u32;
                let Ok(img) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
                    Clamped(bytes_of(&self.px)),
                    cols,
                    h,
                ) else {
                    return;
                };
                let _ = pctx.put_image_data(&img, self.todo.start as f64, 0.0);
            }
            shown.any = if whole {
                self.any
            } else {
                shown.any || self.any
            };
        }
        if let (true, Some(pic)) = (shown.any, &self.pic) {
            let _ = ctx.draw_image_with_html_canvas_element(pic, x + self.offset, y);
        }
    }
}

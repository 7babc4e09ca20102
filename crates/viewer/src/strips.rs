//! The overview's strips painted as one picture. A strip is a row a few pixels high coloured
//! per pixel column by its dominant span (`timeline::overview_cells`); with thousands of rows
//! that is tens of thousands of coloured runs a frame, and one canvas `fillRect` (with a
//! colour string the canvas parses) per run cost ≈ 100 ms a frame on a 1 M-span dump. Here
//! the runs are written as bytes into one RGBA buffer, reused from frame to frame, and the
//! canvas gets one `drawImage`. Zoomed out, a strip is painted from its summary (its dominant
//! names at a fixed 512 columns over its own extent, made when the row arrives): a frame costs
//! the summary's runs per strip, not the row's items; zoomed in past that resolution, the
//! cells are computed exactly for the view.

use timeline::{overview_cells, span_rgb, Cell, Viewport};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::CanvasRenderingContext2d as Ctx;

use crate::dom::window;
use crate::rows::{Loaded, PageRow};

/// The picture being painted, and what is kept between frames.
#[derive(Default)]
pub struct Strips {
    px: Vec<u8>,
    w: usize,
    h: usize,
    any: bool,
    /// Colours of the names met this frame: (name id, rgb).
    colors: Vec<(u32, [u8; 3])>,
    dark: bool,
    canvas: Option<web_sys::HtmlCanvasElement>,
}

impl Strips {
    /// Starts a `w × h` picture (CSS pixels), all transparent.
    pub fn begin(&mut self, w: f64, h: f64, dark: bool) {
        self.w = w.max(0.0).ceil() as usize;
        self.h = h.max(0.0).ceil() as usize;
        self.px.clear();
        self.px.resize(self.w * self.h * 4, 0);
        self.any = false;
        if dark != self.dark {
            self.colors.clear();
            self.dark = dark;
        }
        // Name ids belong to one file; a handful of names are kept at most.
        if self.colors.len() > 4096 {
            self.colors.clear();
        }
    }

    fn color(&mut self, d: &Loaded, name: u32) -> [u8; 3] {
        if let Some(&(_, c)) = self.colors.iter().find(|(n, _)| *n == name) {
            return c;
        }
        let c = span_rgb(d.name_of(name), self.dark);
        self.colors.push((name, c));
        c
    }

    /// Paints one strip `y..y + h` (rows of the picture) for `view` over `width` pixels.
    pub fn strip(&mut self, d: &Loaded, row: &PageRow, view: &Viewport, y: f64, h: f64) {
        let y0 = y.floor().max(0.0) as usize;
        let y1 = ((y + h).floor() as usize).max(y0 + 1).min(self.h);
        if y0 >= y1 {
            return;
        }
        let sum = &row.summary;
        let col_s = (sum.t1 - sum.t0) / sum.cols as f64;
        let col_px = col_s * view.width / view.span().max(f64::MIN_POSITIVE);
        if sum.cells.is_empty() || col_px.is_nan() || col_px > 1.0 {
            // Zoomed in past the summary (or nothing summarised): the exact cells.
            for cell in overview_cells(&row.data.track, &row.collapsed, view, self.w as f64) {
                self.run(d, &cell, cell.x0 as f64, cell.x1 as f64, y0..y1);
            }
            return;
        }
        for cell in &sum.cells {
            let xa = view.x(sum.t0 + cell.x0 as f64 * col_s);
            let xb = view.x(sum.t0 + cell.x1 as f64 * col_s);
            if xb < 0.0 || xa >= self.w as f64 {
                continue;
            }
            let x0 = xa.max(0.0).floor();
            self.run(d, cell, x0, xb.floor().max(x0 + 1.0), y0..y1);
        }
    }

    /// Fills columns `x0..x1` of pixel rows `ys` with `cell`'s colour.
    fn run(&mut self, d: &Loaded, cell: &Cell, x0: f64, x1: f64, ys: std::ops::Range<usize>) {
        let [r, g, b] = self.color(d, cell.name);
        let a = ((0.35 + 0.65 * cell.busy as f64).min(1.0) * 255.0).round() as u8;
        let x0 = (x0.max(0.0) as usize).min(self.w);
        let x1 = (x1.max(0.0) as usize).min(self.w);
        if x0 >= x1 {
            return;
        }
        for yy in ys {
            let line = &mut self.px[(yy * self.w + x0) * 4..(yy * self.w + x1) * 4];
            for p in line.chunks_exact_mut(4) {
                p.copy_from_slice(&[r, g, b, a]);
            }
        }
        self.any = true;
    }

    /// Draws the picture at `(x, y)` (CSS pixels) over what is already there.
    pub fn finish(&mut self, ctx: &Ctx, x: f64, y: f64) {
        if !self.any || self.w == 0 || self.h == 0 {
            return;
        }
        if self.canvas.is_none() {
            self.canvas = window()
                .document()
                .and_then(|d| d.create_element("canvas").ok())
                .and_then(|e| e.dyn_into().ok());
        }
        let Some(canvas) = &self.canvas else {
            return;
        };
        let (w, h) = (self.w as u32, self.h as u32);
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let Ok(img) =
            web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&self.px[..]), w, h)
        else {
            return;
        };
        let Some(off) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<Ctx>().ok())
        else {
            return;
        };
        let _ = off.put_image_data(&img, 0.0, 0.0);
        let _ = ctx.draw_image_with_html_canvas_element(canvas, x, y);
    }
}

//! Counter tracks: a series drawn above the rows on the same time axis, one value per pixel
//! column, with its name and its maximum.

use web_sys::CanvasRenderingContext2d as Ctx;

use super::{short, Palette, Scene, LABEL_W, TRACK_H};

/// A counter drawn above the rows on the same time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Counter {
    pub name: String,
    /// (time, value), sorted by time; each value holds until the next point.
    pub points: Vec<(f64, f64)>,
    pub color: &'static str,
    /// The largest value (computed once, not per frame).
    pub max: f64,
    /// `points` in at most `COARSE_STEPS` steps (`timeline::coarse_steps`), drawn instead of
    /// them while a pixel column is at least `coarse_dt` seconds wide.
    coarse: Vec<(f64, f64)>,
    coarse_dt: f64,
}

/// Steps of a counter's coarse series.
const COARSE_STEPS: usize = 4096;

impl Counter {
    pub fn new(name: String, points: Vec<(f64, f64)>, color: &'static str) -> Counter {
        let max = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
        let (coarse, coarse_dt) = if points.len() > 2 * COARSE_STEPS {
            timeline::coarse_steps(&points, COARSE_STEPS)
        } else {
            (Vec::new(), 0.0)
        };
        Counter {
            name,
            points,
            color,
            max,
            coarse,
            coarse_dt,
        }
    }
}

/// A counter as a filled step chart scaled to its own maximum, with its name and the value
/// range at the left.
pub(super) fn draw_track(ctx: &Ctx, s: &Scene<'_>, t: &Counter, top: f64, css_w: f64, p: &Palette) {
    let max = t.max;
    ctx.set_fill_style_str(p.grid);
    ctx.fill_rect(0.0, top + TRACK_H - 1.0, css_w, 1.0);
    ctx.set_fill_style_str(p.text);
    ctx.set_font("11px system-ui, sans-serif");
    let _ = ctx.fill_text(&short(&t.name, 24), 6.0, top + 11.0);
    ctx.set_fill_style_str(p.muted);
    let _ = ctx.fill_text(&format!("max {}", compact_number(max)), 6.0, top + 24.0);
    ctx.set_font("12px system-ui, sans-serif");
    if max <= 0.0 || t.points.is_empty() {
        return;
    }
    let h = TRACK_H - 6.0;
    let base = top + TRACK_H - 2.0;
    ctx.save();
    ctx.begin_path();
    ctx.rect(LABEL_W, top, css_w - LABEL_W, TRACK_H);
    ctx.clip();
    ctx.begin_path();
    // One value per pixel column (the column's max): the path stays as long as the track
    // is wide, however many points the series has.
    let width = css_w - LABEL_W;
    let coarse = !t.coarse.is_empty() && t.coarse_dt <= s.view.span() / width.max(1.0);
    let points = if coarse { &t.coarse } else { &t.points };
    let cols = timeline::track_columns(points, &s.view, width);
    let Some(&(first, _)) = cols.first() else {
        ctx.restore();
        return;
    };
    ctx.move_to(LABEL_W + first, base);
    for &(x, v) in &cols {
        let y = base - v / max * h;
        ctx.line_to(LABEL_W + x, y);
        ctx.line_to(LABEL_W + x + 1.0, y);
    }
    let last = cols.last().map_or(first, |c| c.0 + 1.0);
    ctx.line_to(LABEL_W + last, base);
    ctx.close_path();
    ctx.set_global_alpha(0.35);
    ctx.set_fill_style_str(t.color);
    ctx.fill();
    ctx.set_global_alpha(1.0);
    ctx.set_stroke_style_str(t.color);
    ctx.stroke();
    ctx.restore();
}

fn compact_number(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

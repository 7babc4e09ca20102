//! `timeline`: rows → what to draw. Viewport math (time ↔ pixels, zoom around a point),
//! row layout, axis ticks, stable colours, and exact hit testing.
//!
//! **Architecture invariant:** `timeline` knows nothing of the DOM or canvas APIs: it answers
//! "where" and "what is under this pixel" in plain numbers, so all of it is tested natively.
//! It reads rows from `trace` and never changes them.

use trace::{Item, Row};

/// The visible time range mapped onto `width` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub t0: f64,
    pub t1: f64,
    pub width: f64,
}

/// The narrowest range a viewport may show, in seconds (1 µs).
const MIN_SPAN: f64 = 1e-6;

impl Viewport {
    /// A viewport showing `[start, end]` with a small margin on each side.
    pub fn fit(start: f64, end: f64, width: f64) -> Self {
        let span = (end - start).max(MIN_SPAN);
        let pad = span * 0.02;
        Viewport {
            t0: start - pad,
            t1: end + pad,
            width: width.max(1.0),
        }
    }

    pub fn span(&self) -> f64 {
        self.t1 - self.t0
    }

    /// Pixel x of time `t`.
    pub fn x(&self, t: f64) -> f64 {
        (t - self.t0) / self.span() * self.width
    }

    /// Time at pixel x.
    pub fn t(&self, x: f64) -> f64 {
        self.t0 + x / self.width * self.span()
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the time under pixel `x` fixed.
    pub fn zoom_at(&mut self, x: f64, factor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let anchor = self.t(x);
        let span = (self.span() / factor).max(MIN_SPAN);
        let frac = x / self.width;
        self.t0 = anchor - frac * span;
        self.t1 = self.t0 + span;
    }

    /// Moves the view by `dx` pixels (positive moves content right, i.e. earlier times).
    pub fn pan_px(&mut self, dx: f64) {
        let dt = dx / self.width * self.span();
        self.t0 -= dt;
        self.t1 -= dt;
    }
}

/// Axis ticks: "nice" steps (1, 2, 5 × 10^k seconds) at least `min_px` apart, labelled
/// relative to `origin` (the start of the rollout) so labels stay short.
pub fn ticks(view: &Viewport, min_px: f64, origin: f64) -> Vec<(f64, String)> {
    let raw = view.span() * min_px / view.width;
    if !(raw.is_finite() && raw > 0.0) {
        return Vec::new();
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = ((view.t0 - origin) / step).ceil() as i64;
    let last = ((view.t1 - origin) / step).floor() as i64;
    (first..=last.min(first + 1000))
        .map(|i| {
            let rel = i as f64 * step;
            (origin + rel, format_duration(rel, step))
        })
        .collect()
}

/// A duration as people read it: `850 ms`, `2.5 s`, `3 min 20 s`.
pub fn format_duration(secs: f64, resolution: f64) -> String {
    let a = secs.abs();
    let sign = if secs < 0.0 { "-" } else { "" };
    if a == 0.0 {
        return "0".into();
    }
    if a < 1e-3 {
        return format!("{sign}{:.0} µs", a * 1e6);
    }
    if a < 1.0 {
        let digits = if resolution >= 1e-3 { 0 } else { 3 };
        return format!("{sign}{:.*} ms", digits, a * 1e3);
    }
    if a < 120.0 {
        let digits = [1.0, 0.1, 0.01]
            .iter()
            .position(|r| resolution >= *r)
            .unwrap_or(3);
        return format!("{sign}{:.*} s", digits, a);
    }
    let m = (a / 60.0).floor();
    format!("{sign}{m:.0} min {:.0} s", a - m * 60.0)
}

/// Where each shown row sits vertically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Top y of each row, in the same order as the rows given to [`layout`].
    pub tops: Vec<f64>,
    pub heights: Vec<f64>,
    pub total_height: f64,
}

/// Stacks rows: each takes `lanes × lane_h` plus `gap`. `lanes` is 1 when collapsed.
pub fn layout(lanes: impl IntoIterator<Item = u32>, lane_h: f64, gap: f64) -> Layout {
    let mut l = Layout::default();
    let mut y = 0.0;
    for n in lanes {
        let h = n.max(1) as f64 * lane_h;
        l.tops.push(y);
        l.heights.push(h);
        y += h + gap;
    }
    l.total_height = y;
    l
}

impl Layout {
    /// The row index at content y (y already includes the scroll offset).
    pub fn row_at(&self, y: f64) -> Option<usize> {
        let i = self.tops.partition_point(|&top| top <= y).checked_sub(1)?;
        (y < self.tops[i] + self.heights[i]).then_some(i)
    }

    /// Rows overlapping the content range `[y0, y1)`.
    pub fn visible(&self, y0: f64, y1: f64) -> std::ops::Range<usize> {
        let first = self
            .tops
            .iter()
            .zip(&self.heights)
            .position(|(t, h)| t + h > y0)
            .unwrap_or(self.tops.len());
        let end = self.tops.partition_point(|&t| t < y1);
        first..end.max(first)
    }
}

/// Pixel extent of an item in a row: `(x0, x1)`; points are zero-width.
pub fn item_x(view: &Viewport, item: &Item) -> (f64, f64) {
    (view.x(item.start()), view.x(item.display_end()))
}

/// The lane an item is drawn in: its lane when expanded, 0 when collapsed.
pub fn item_lane(item: &Item, expanded: bool) -> u32 {
    if expanded {
        item.lane()
    } else {
        0
    }
}

/// Point markers are this many pixels wide for hit testing.
pub const MARKER_PX: f64 = 8.0;

/// The item under `(x, y_in_row)` in `row`: points first (they sit on top), then the
/// innermost span. Exact: it looks at every item of that row, whatever the zoom.
pub fn hit(
    row: &Row,
    view: &Viewport,
    x: f64,
    y_in_row: f64,
    lane_h: f64,
    expanded: bool,
) -> Option<usize> {
    if y_in_row < 0.0 {
        return None;
    }
    let lane = (y_in_row / lane_h).floor() as u32;
    let mut best: Option<(usize, f64)> = None;
    for (i, item) in row.items.iter().enumerate() {
        if item_lane(item, expanded) != lane {
            continue;
        }
        let (x0, x1) = item_x(view, item);
        let is_point = !matches!(item, Item::Span(_));
        let (lo, hi) = if is_point {
            (x0 - MARKER_PX / 2.0, x0 + MARKER_PX / 2.0)
        } else {
            (x0, x1.max(x0 + 1.0))
        };
        if x >= lo && x <= hi {
            // Prefer points, then the narrowest span (the most specific thing there).
            let score = if is_point { -1.0 } else { hi - lo };
            if best.is_none_or(|(_, s)| score < s) {
                best = Some((i, score));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// A stable colour for a span name (FNV-1a hash → hue), as an HSL CSS string.
pub fn color_for(name: &str, dark: bool) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    let hue = h % 360;
    let sat = 55 + (h >> 9) % 20;
    let light = if dark {
        52 + (h >> 17) % 10
    } else {
        58 + (h >> 17) % 12
    };
    format!("hsl({hue} {sat}% {light}%)")
}

/// Colours of the PD phases (the `[P]`/`[D]` lanes and `sglang_pd_*` spans).
pub fn pd_color(name: &str) -> Option<&'static str> {
    if name.ends_with(" [P]") || name.starts_with("sglang_pd_prefill") {
        Some("#4e79a7")
    } else if name.ends_with(" [D]") || name.starts_with("sglang_pd_decode") {
        Some("#f28e2b")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_anchor_and_pan_moves_by_pixels() {
        let mut v = Viewport {
            t0: 0.0,
            t1: 100.0,
            width: 1000.0,
        };
        let before = v.t(250.0);
        v.zoom_at(250.0, 4.0);
        assert!((v.t(250.0) - before).abs() < 1e-9);
        assert!((v.span() - 25.0).abs() < 1e-9);
        v.pan_px(100.0);
        assert!((v.t(350.0) - before).abs() < 1e-9);
        v.zoom_at(0.0, 1e30);
        assert!(v.span() >= MIN_SPAN);
    }

    #[test]
    fn ticks_are_nice_and_spaced() {
        let v = Viewport {
            t0: 1000.0,
            t1: 1010.0,
            width: 1000.0,
        };
        let t = ticks(&v, 80.0, 1000.0);
        assert_eq!(t.first().unwrap().1, "0");
        assert_eq!(t[1].1, "1 s");
        assert!(t.windows(2).all(|w| v.x(w[1].0) - v.x(w[0].0) >= 80.0));
    }

    #[test]
    fn layout_and_row_lookup() {
        let l = layout([1, 3, 2], 10.0, 2.0);
        assert_eq!(l.tops, vec![0.0, 12.0, 44.0]);
        assert_eq!(l.row_at(5.0), Some(0));
        assert_eq!(l.row_at(11.0), None, "the gap");
        assert_eq!(l.row_at(41.0), Some(1));
        assert_eq!(l.row_at(43.0), None);
        assert_eq!(l.row_at(1e9), None);
        assert_eq!(l.visible(13.0, 45.0), 1..3);
    }

    #[test]
    fn colors_are_stable_and_durations_readable() {
        assert_eq!(
            color_for("sglang_generate", false),
            color_for("sglang_generate", false)
        );
        assert_ne!(color_for("a", false), color_for("b", false));
        assert_eq!(format_duration(0.25, 0.05), "250 ms");
        assert_eq!(format_duration(2.5, 0.5), "2.5 s");
        assert_eq!(format_duration(200.0, 10.0), "3 min 20 s");
    }

    #[test]
    fn hit_testing_on_a_real_row() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/slime/pd_1.pt");
        let built = trace::load(&std::fs::read(path).unwrap(), "pd_1.pt", 0.0).unwrap();
        let row = &built.cache.rows[0];
        let view = Viewport::fit(row.start, row.end, 1000.0);
        let (i, target) = row
            .items
            .iter()
            .enumerate()
            .find(|(_, it)| matches!(it, Item::Span(_)) && it.lane() == 1)
            .unwrap();
        let (x0, x1) = item_x(&view, target);
        let got = hit(row, &view, (x0 + x1) / 2.0, 1.5 * 14.0, 14.0, true).unwrap();
        assert_eq!(row.items[got].lane(), 1);
        assert!(item_x(&view, &row.items[got]).0 <= (x0 + x1) / 2.0);
        let _ = i;
        assert_eq!(hit(row, &view, -50.0, 5.0, 14.0, true), None);
    }
}

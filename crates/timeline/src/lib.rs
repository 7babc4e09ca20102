//! `timeline`: rows → what to draw. Viewport math (time ↔ pixels, zoom around a point),
//! row layout, axis ticks, stable colours, and exact hit testing.
//!
//! **The page's model is [`Track`]s**: per row, columns of start, end, name id, kind, lane and
//! depth (no JSON; the worker keeps attributes); the `[P]`/`[D]` segments come alongside, from
//! `trace::store::PdIndex`.
//! From a track come its display lanes ([`track_lanes`]) and a [`LaneIndex`] built once per
//! row, so that a frame finds the items of the visible window by binary search
//! ([`LaneIndex::spans`], [`LaneIndex::points`]) before level of detail
//! ([`lane_prims_track`]) and hit testing ([`hit_track`]): the work per frame follows pixels
//! and the items on screen, never a row's item count. At scale, rows collapse to a few pixels
//! ([`overview_first`], [`overview_row_height`]) drawn from [`overview_cells`] (each pixel
//! column's dominant name), and the whole rollout fits a grid ([`minimap`]).
//! The `Row`-based functions ([`row_lanes`], [`lane_prims`], [`hit`], [`pd_segments`],
//! [`item_x`]) give the same answers on `trace` rows; they are the reference the Track ones
//! are tested against.
//!
//! **Architecture invariant:** `timeline` knows nothing of the DOM or canvas APIs: it answers
//! "where" and "what is under this pixel" in plain numbers, so all of it is tested natively.
//! It reads rows from `trace` and never changes them.

use trace::{Item, Row};

mod inks;
mod lanes;
mod lod;
mod minimap;
mod overview;
mod pd;
mod rgb;
#[cfg(test)]
mod testutil;
mod track;
mod window;

pub use inks::{Inks, INKS};
pub use lanes::{row_lanes, track_lanes, RowLanes};
pub use lod::{lane_prims, lane_prims_track, Prim, LOD_PX};
pub use minimap::{minimap, Minimap, NO_NAME};
pub use overview::{
    overview_bands, overview_cells, overview_first, overview_row_height, Cell, MAX_COLS,
    MIN_ROW_PX, OVERVIEW_ROWS,
};
pub use pd::{pd_color, pd_phase, pd_segments, PD_PHASES};
pub use rgb::{hex_rgb, hsl_rgb, span_rgb};
pub use track::{
    Names, Track, KIND_CLOSED, KIND_EVENT, KIND_OPEN, KIND_ORPHAN, KIND_PD_DECODE, KIND_PD_PREFILL,
    KIND_STATE_MASK,
};
pub use window::{hit_track, LaneIndex};

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

/// Axis ticks: "nice" steps (see [`nice_step`]) at least `min_px` apart, labelled relative
/// to `origin` (the start of the rollout) so labels stay short.
pub fn ticks(view: &Viewport, min_px: f64, origin: f64) -> Vec<(f64, String)> {
    let raw = view.span() * min_px / view.width;
    if !(raw.is_finite() && raw > 0.0) {
        return Vec::new();
    }
    let step = nice_step(raw);
    let first = ((view.t0 - origin) / step).ceil() as i64;
    let last = (((view.t1 - origin) / step).floor() as i64).min(first + 1000);
    // One set of units for the whole axis: "100 s" beside "2 min 30 s" reads as a jump.
    let axis = (first as f64 * step).abs().max((last as f64 * step).abs());
    (first..=last)
        .map(|i| {
            let rel = i as f64 * step;
            (origin + rel, tick_label(rel, step, axis))
        })
        .collect()
}

/// The smallest step of at least `raw` seconds that a clock's hands make: 1, 2, 5 × 10^k
/// below 10 s, then 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, then 1, 2, 5 ×
/// 10^k days (so a minutes axis reads `1 min, 2 min`, not `50 s, 1 min 40 s`).
fn nice_step(raw: f64) -> f64 {
    const CLOCK: [f64; 16] = [
        10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1_800.0, 3_600.0, 7_200.0, 10_800.0,
        21_600.0, 43_200.0, 86_400.0, 172_800.0,
    ];
    let decimal = |raw: f64, unit: f64| {
        let r = raw / unit;
        let mag = 10f64.powf(r.log10().floor());
        unit * [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= r)
            .unwrap_or(10.0 * mag)
    };
    if raw <= 5.0 {
        return decimal(raw, 1.0);
    }
    match CLOCK.iter().find(|s| **s >= raw) {
        Some(s) => *s,
        None => decimal(raw, 86_400.0),
    }
}

/// A tick's label, `rel` seconds from the axis's origin, ticks `step` apart, the farthest tick
/// `axis` from the origin. Past a minute, an hour or a day a tick takes the units the axis's
/// farthest one needs (`1 min 30 s` beside `2 min 30 s`, not `90 s`; below a minute it keeps
/// its own: `30 s`), down to the largest unit no longer than the step (`1 h 59 min 15 s`,
/// `2 min 0.5 s` when zoomed in), so two ticks never read the same. At most three units.
fn tick_label(rel: f64, step: f64, axis: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(86_400.0, "d"), (3_600.0, "h"), (60.0, "min"), (1.0, "s")];
    let a = rel.abs();
    let big = axis.max(a);
    let top = if a < 60.0 || big < 120.0 {
        return format_duration(rel, step);
    } else if a < 3_600.0 || big < 7_200.0 {
        2
    } else if a < 86_400.0 || big < 2.0 * 86_400.0 {
        1
    } else if a < 1e6 * 86_400.0 {
        0
    } else {
        return format_duration(rel, step);
    };
    // The finest unit shown, and the seconds' decimals when the step is under a second.
    let last = UNITS
        .iter()
        .position(|(u, _)| *u <= step)
        .unwrap_or(3)
        .max(top);
    let top = top.max(last.saturating_sub(2));
    // (As many as the step has, down to the viewport's narrowest span, a microsecond.)
    let digits = if last == 3 && step < 1.0 {
        (-step.log10() - 1e-9).ceil().clamp(0.0, 6.0) as usize
    } else {
        0
    };
    let scale = 10f64.powi(digits as i32);
    // Whole counts of the finest unit's 10^-digits, split into the units above it.
    let mut left = (a / UNITS[last].0 * scale).round();
    let mut parts: Vec<(f64, usize)> = Vec::new();
    for (i, (unit, _)) in UNITS.iter().enumerate().take(last + 1).skip(top) {
        let per = unit / UNITS[last].0 * scale;
        let n = if i == last {
            left
        } else {
            (left / per).floor()
        };
        left -= n * per;
        parts.push((n / if i == last { scale } else { 1.0 }, i));
    }
    // Trailing zeros say nothing ("2 min", not "2 min 0 s"); the first part always stays.
    while parts.len() > 1 && parts.last().is_some_and(|p| p.0 == 0.0) {
        parts.pop();
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|&(n, i)| match i {
            3 => format!("{n:.digits$} s"),
            _ => format!("{n:.0} {}", UNITS[i].1),
        })
        .collect();
    let sign = if rel < 0.0 { "-" } else { "" };
    format!("{sign}{}", parts.join(" "))
}

/// A duration as people read it: `850 ms`, `2.5 s`, `3 min 20 s`, `5 h 12 min`, `385 d 19 h`,
/// and past a million days (only crafted times get there) seconds in scientific notation.
/// The smaller unit is left out when `resolution` (the tick step) is at least the larger one.
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
    // Two units, the smaller one rounded and carried into the larger.
    let two = |big: f64, small: f64, big_name: &str, small_name: &str| {
        let total = (a / small).round();
        let ratio = (big / small).round();
        let (hi, lo) = ((total / ratio).floor(), total % ratio);
        if resolution >= big || lo == 0.0 {
            format!("{sign}{hi:.0} {big_name}")
        } else {
            format!("{sign}{hi:.0} {big_name} {lo:.0} {small_name}")
        }
    };
    const DAY: f64 = 86_400.0;
    if a < 7_200.0 {
        two(60.0, 1.0, "min", "s")
    } else if a < 2.0 * DAY {
        two(3_600.0, 60.0, "h", "min")
    } else if a < 1e6 * DAY {
        two(DAY, 3_600.0, "d", "h")
    } else {
        format!("{sign}{a:.3e} s")
    }
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

/// A step series reduced to at most `buckets` steps over its span, each holding the maximum
/// the series reaches in its bucket (the value holding at the bucket's start included), and
/// the bucket width in seconds. Drawn with [`track_columns`] when a pixel column is at least a
/// bucket wide, it gives each column a value at least the exact one (peaks survive) and at
/// most the exact value of the column or its neighbour, whatever the point count: a counter
/// of 500 000 steps then costs `buckets`, not 500 000, per frame. One pass.
pub fn coarse_steps(points: &[(f64, f64)], buckets: usize) -> (Vec<(f64, f64)>, f64) {
    let (Some(&(t0, _)), Some(&(t1, _))) = (points.first(), points.last()) else {
        return (Vec::new(), 0.0);
    };
    let buckets = buckets.max(1);
    let dt = (t1 - t0) / buckets as f64;
    if dt.is_nan() || dt <= 0.0 || !dt.is_finite() {
        return (Vec::new(), 0.0);
    }
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(buckets + 1);
    let mut holding = f64::NEG_INFINITY;
    let mut i = 0;
    for b in 0..=buckets {
        let start = t0 + b as f64 * dt;
        let end = start + dt;
        let mut top = holding;
        while i < points.len() && (points[i].0 < end || b == buckets) {
            top = top.max(points[i].1);
            holding = points[i].1;
            i += 1;
        }
        if top.is_finite() {
            out.push((start, top));
        }
    }
    (out, dt)
}

/// A step series (each value holds until the next point) reduced to one value per pixel
/// column: the maximum the series reaches in that column, so peaks survive. Returns
/// `(x, value)` for columns `0..width` that the series covers; cost is one pass over the
/// points in view, and the output is at most `width` long whatever the point count.
pub fn track_columns(points: &[(f64, f64)], view: &Viewport, width: f64) -> Vec<(f64, f64)> {
    let cols = width.max(1.0).ceil() as usize;
    let mut best: Vec<Option<f64>> = vec![None; cols];
    if points.is_empty() {
        return Vec::new();
    }
    // The value in force at the left edge, then every change inside the view.
    let first_inside = points.partition_point(|p| p.0 < view.t0);
    let mut current = first_inside.checked_sub(1).map(|i| points[i].1);
    let col_of = |t: f64| ((view.x(t)).floor().max(0.0) as usize).min(cols - 1);
    let mut at_col = 0usize;
    for &(t, v) in &points[first_inside..] {
        if t > view.t1 {
            break;
        }
        let c = col_of(t);
        // The previous value holds over the columns up to this change.
        if let Some(cur) = current {
            for slot in best.iter_mut().take(c + 1).skip(at_col) {
                *slot = Some(slot.map_or(cur, |b| b.max(cur)));
            }
        }
        best[c] = Some(best[c].map_or(v, |b| b.max(v)));
        at_col = c;
        current = Some(v);
    }
    if let Some(cur) = current {
        // The last value holds to the right edge.
        for slot in best.iter_mut().skip(at_col) {
            *slot = Some(slot.map_or(cur, |b| b.max(cur)));
        }
    }
    best.into_iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
        .collect()
}

/// Point markers are this many pixels wide for hit testing.
pub const MARKER_PX: f64 = 8.0;

/// The item under `(x, y_in_row)` in `row`: points first (they sit on top), then the
/// innermost span. Exact: it looks at every item of that row, whatever the zoom.
pub fn hit(
    row: &Row,
    lanes: &RowLanes,
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
        if lanes.of(i, expanded) != lane {
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
    let (hue, sat, light) = NameHue::of(name, dark).hsl();
    format!("hsl({hue} {sat}% {light}%)")
}

/// The stable hue, saturation and lightness of a name (FNV-1a of its bytes).
pub(crate) struct NameHue(u32, bool);

impl NameHue {
    pub(crate) fn of(name: &str, dark: bool) -> NameHue {
        let mut h: u32 = 0x811c_9dc5;
        for b in name.bytes() {
            h ^= b as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
        NameHue(h, dark)
    }

    /// (hue in degrees, saturation %, lightness %).
    pub(crate) fn hsl(&self) -> (u32, u32, u32) {
        let h = self.0;
        let light = if self.1 {
            52 + (h >> 17) % 10
        } else {
            58 + (h >> 17) % 12
        };
        (h % 360, 55 + (h >> 9) % 20, light)
    }
}

/// Point markers closer than this many pixels are drawn as one cluster.
pub const CLUSTER_PX: f64 = 10.0;

/// Groups sorted x positions into clusters: each `(x_first, x_last, count, first_index)`.
pub fn clusters(xs: &[(f64, usize)]) -> Vec<(f64, f64, usize, usize)> {
    let mut out: Vec<(f64, f64, usize, usize)> = Vec::new();
    for &(x, i) in xs {
        match out.last_mut() {
            Some(c) if x - c.0 < CLUSTER_PX => {
                c.1 = x;
                c.2 += 1;
            }
            _ => out.push((x, x, 1, i)),
        }
    }
    out
}

/// Whether cluster `k` of `groups` (as [`clusters`] gives them, markers of radius
/// `r`) gets its count "×n" written after its marker: only where the count fits before the
/// next marker. Counts written over each other are read by nobody, and each costs a text
/// draw: a zoomed-out row of a thousand events would write hundreds per frame.
pub fn shows_count(groups: &[(f64, f64, usize, usize)], k: usize, r: f64) -> bool {
    let Some(&(x, _, n, _)) = groups.get(k) else {
        return false;
    };
    // An upper bound of the count's width in the 10 px font: a glyph is at most ≈ 6 px.
    let width = 6.0 * (2 + n.max(1).ilog10()) as f64;
    let room = groups
        .get(k + 1)
        .map_or(f64::INFINITY, |g| g.0 - r - (x + r + 1.0));
    n > 1 && room >= width
}

#[cfg(test)]
mod tests;

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

/// The lanes a row is drawn with: slime's lanes (the cache's `lane`), except that the `[P]`/`[D]`
/// virtual spans, which the cache puts one per new lane, are packed into as few lanes as their
/// overlaps need (prefill lanes first, then decode). Display only: the rows are unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLanes {
    /// Per item (same order as `row.items`).
    pub lanes: Vec<u32>,
    /// Lanes the row needs when expanded.
    pub count: u32,
}

impl RowLanes {
    /// The lane of item `i`: its display lane when expanded, 0 when collapsed.
    pub fn of(&self, i: usize, expanded: bool) -> u32 {
        if expanded {
            self.lanes.get(i).copied().unwrap_or(0)
        } else {
            0
        }
    }
}

/// `Some(true)` for a `[P]` virtual span, `Some(false)` for `[D]`, `None` otherwise.
fn pd_role(item: &Item) -> Option<bool> {
    match item {
        Item::Span(s) => s.pd_virtual_role().map(|r| r == "prefill"),
        _ => None,
    }
}

pub fn row_lanes(row: &Row) -> RowLanes {
    let mut lanes: Vec<u32> = row.items.iter().map(Item::lane).collect();
    let base = row
        .items
        .iter()
        .filter(|i| pd_role(i).is_none())
        .map(|i| i.lane() + 1)
        .max()
        .unwrap_or(0);
    let mut next = base;
    for prefill in [true, false] {
        let mut order: Vec<usize> = (0..row.items.len())
            .filter(|&i| pd_role(&row.items[i]) == Some(prefill))
            .collect();
        order.sort_by(|&a, &b| row.items[a].start().total_cmp(&row.items[b].start()));
        // Greedy interval partitioning: each span goes to the first lane free at its start.
        let mut ends: Vec<f64> = Vec::new();
        for i in order {
            let (start, end) = (row.items[i].start(), row.items[i].display_end());
            let slot = match ends.iter().position(|&e| e <= start) {
                Some(k) => k,
                None => {
                    ends.push(f64::NEG_INFINITY);
                    ends.len() - 1
                }
            };
            ends[slot] = end;
            lanes[i] = next + slot as u32;
        }
        next += ends.len() as u32;
    }
    let count = lanes
        .iter()
        .map(|l| l + 1)
        .max()
        .unwrap_or(1)
        .max(next)
        .max(1);
    RowLanes { lanes, count }
}

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
    for &i in lane_items {
        let (x0, x1) = item_x(view, &row.items[i]);
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

/// The PD (prefill/decode disaggregation) phases, in the order they happen, with the
/// colours used for them everywhere: `[P]`/`[D]` lane segments, `sglang_pd_*` child spans and
/// the legend. `key` is the `pd_*_duration` attribute without `pd_` and `_duration`.
pub const PD_PHASES: [(&str, &str, &str); 10] = [
    ("prefill_bootstrap_queue", "[P] bootstrap queue", "#9c755f"),
    ("prefill_bootstrap", "[P] bootstrap", "#bab0ac"),
    ("prefill_alloc_wait", "[P] alloc wait", "#edc948"),
    ("prefill_forward", "[P] prefill forward", "#4e79a7"),
    ("prefill_transfer_queue", "[P] transfer queue", "#76b7b2"),
    ("decode_prealloc", "[D] prealloc", "#ff9da7"),
    ("decode_bootstrap", "[D] bootstrap", "#b07aa1"),
    ("decode_alloc_wait", "[D] alloc wait", "#e15759"),
    ("decode_transfer", "[D] kv transfer", "#59a14f"),
    ("decode_forward", "[D] decode forward", "#f28e2b"),
];

/// The PD phase a span name or attribute key stands for, if any: `sglang_pd_prefill_forward`
/// and `pd_prefill_forward_duration` both give `prefill_forward`.
pub fn pd_phase(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    let key = name
        .strip_prefix("sglang_pd_")
        .or_else(|| name.strip_prefix("pd_"))?;
    let key = key.strip_suffix("_duration").unwrap_or(key);
    PD_PHASES.iter().find(|(k, _, _)| *k == key)
}

/// Colour for PD spans: a phase's own colour, or the role's for `sglang_pd_prefill`,
/// `sglang_pd_decode` and the `[P]`/`[D]` lanes.
pub fn pd_color(name: &str) -> Option<&'static str> {
    if let Some((_, _, c)) = pd_phase(name) {
        return Some(c);
    }
    if name.ends_with(" [P]") || name == "sglang_pd_prefill" {
        Some("#a0b9d6")
    } else if name.ends_with(" [D]") || name == "sglang_pd_decode" {
        Some("#f7c08a")
    } else {
        None
    }
}

/// Segments drawn inside a `[P]`/`[D]` span: its `pd_*_duration` attrs laid end to end
/// from the span's start, as `(t0, t1, colour)`.
pub fn pd_segments(item: &Item) -> Vec<(f64, f64, &'static str)> {
    let Item::Span(span) = item else {
        return Vec::new();
    };
    let Some(attrs) = span.attrs.end_attrs.as_object() else {
        return Vec::new();
    };
    if span.pd_virtual_role().is_none() {
        return Vec::new();
    }
    let mut t = span.start_ts;
    let mut out = Vec::new();
    for (key, _, color) in PD_PHASES.iter() {
        let attr = format!("pd_{key}_duration");
        if let Some(d) = attrs.get(&attr).and_then(|v| v.as_f64()) {
            if d > 0.0 && d.is_finite() {
                out.push((t, t + d, *color));
                t += d;
            }
        }
    }
    out
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
    fn level_of_detail_is_bounded_by_pixels_and_hits_stay_exact() {
        use trace::{Item, SpanAttrs, SpanItem, State};
        // One lane of 200 000 back-to-back 1 ms spans over 200 s, on 1000 px.
        let n = 200_000;
        let items: Vec<Item> = (0..n)
            .map(|i| {
                Item::Span(SpanItem {
                    state: State::ClosedSpan,
                    name: format!("s{}", i % 7).into(),
                    start_ts: i as f64 * 0.001,
                    end_ts: Some(i as f64 * 0.001 + 0.001),
                    display_end_ts: i as f64 * 0.001 + 0.001,
                    attempt: 0,
                    span_id: serde_json::Value::Null,
                    parent_span_id: serde_json::Value::Null,
                    parent_span_name: serde_json::Value::Null,
                    lane: 0,
                    depth: 0,
                    attrs: SpanAttrs {
                        start_attrs: serde_json::json!({}),
                        end_attrs: serde_json::json!({}),
                    },
                })
            })
            .collect();
        let row = trace::Row {
            row_id: 0,
            sample_index: 0.into(),
            group_index: serde_json::Value::Null,
            source: serde_json::Value::Null,
            status: serde_json::Value::Null,
            label: serde_json::Value::Null,
            reward: serde_json::Value::Null,
            trace_id: serde_json::Value::Null,
            attempt: 0,
            start: 0.0,
            end: n as f64 * 0.001,
            duration: n as f64 * 0.001,
            lane_count: 1,
            item_count: n,
            closed_span_count: n,
            open_span_count: 0,
            point_event_count: 0,
            orphan_count: 0,
            total_response_length: 0,
            max_response_length: 0,
            items,
        };
        let idx: Vec<usize> = (0..n).collect();
        let view = Viewport {
            t0: 0.0,
            t1: n as f64 * 0.001,
            width: 1000.0,
        };
        let prims = lane_prims(&row, &idx, &view, 1000.0);
        assert!(
            prims.len() <= 1000,
            "{} primitives for 1000 px",
            prims.len()
        );
        let covered: usize = prims
            .iter()
            .map(|p| match p {
                Prim::Run { count, .. } => *count,
                Prim::Item(_) => 1,
            })
            .sum();
        assert_eq!(covered, n, "every span is in some primitive");
        // Zoomed in to 10 spans: every one drawn as itself.
        let near = Viewport {
            t0: 50.0,
            t1: 50.01,
            width: 1000.0,
        };
        let prims = lane_prims(&row, &idx, &near, 1000.0);
        assert!(
            prims.iter().all(|p| matches!(p, Prim::Item(_))) && prims.len() <= 12,
            "{prims:?}"
        );
        // Hit testing looks at items, not primitives: exact at any zoom.
        let hit_far = hit(&row, &row_lanes(&row), &view, 500.0, 5.0, 14.0, true).unwrap();
        let (x0, x1) = item_x(&view, &row.items[hit_far]);
        assert!(x0 <= 500.0 && 500.0 <= x1.max(x0 + 1.0));
    }

    #[test]
    fn tracks_reduce_to_pixel_columns_and_keep_peaks() {
        // 100 000 alternating steps 0,1,0,1,… with one spike of 50 in the middle.
        let mut pts: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, (i % 2) as f64)).collect();
        pts[50_000].1 = 50.0;
        let view = Viewport {
            t0: 0.0,
            t1: 100_000.0,
            width: 500.0,
        };
        let cols = track_columns(&pts, &view, 500.0);
        assert!(cols.len() <= 500 && cols.len() >= 499, "{}", cols.len());
        assert!(cols.iter().any(|c| c.1 == 50.0), "the spike survives");
        assert!(cols.iter().all(|c| c.1 >= 1.0), "every column reaches 1");
        // A value set before the view holds across it.
        let held = track_columns(
            &[(0.0, 7.0)],
            &Viewport {
                t0: 10.0,
                t1: 20.0,
                width: 10.0,
            },
            10.0,
        );
        assert_eq!(held.len(), 10);
        assert!(held.iter().all(|c| c.1 == 7.0));
        assert!(track_columns(&[], &view, 500.0).is_empty());
    }

    #[test]
    fn pd_phases_and_clusters() {
        assert_eq!(
            pd_phase("sglang_pd_prefill_forward").unwrap().0,
            "prefill_forward"
        );
        assert_eq!(
            pd_phase("pd_decode_transfer_duration").unwrap().0,
            "decode_transfer"
        );
        assert!(pd_phase("sglang_generate").is_none());
        assert_eq!(pd_color("sglang_pd_decode_forward"), Some("#f28e2b"));
        assert_eq!(pd_color("sglang_generate [P]"), Some("#a0b9d6"));
        let c = clusters(&[(0.0, 0), (4.0, 1), (9.0, 2), (30.0, 3)]);
        assert_eq!(c, vec![(0.0, 9.0, 3, 0), (30.0, 30.0, 1, 3)]);
    }

    #[test]
    fn pd_lanes_are_packed_for_display_only() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/slime/pdflat_5.pt");
        let built = trace::load(&std::fs::read(path).unwrap(), "pdflat_5.pt", 0.0).unwrap();
        for row in &built.cache.rows {
            let rl = row_lanes(row);
            assert!(
                rl.count <= row.lane_count,
                "never more lanes than the cache"
            );
            // Non-virtual items keep their lanes; virtual ones never overlap in a lane.
            for (i, it) in row.items.iter().enumerate() {
                if pd_role(it).is_none() {
                    assert_eq!(rl.lanes[i], it.lane());
                }
                for (j, other) in row.items.iter().enumerate().skip(i + 1) {
                    if pd_role(it).is_some()
                        && pd_role(other).is_some()
                        && rl.lanes[i] == rl.lanes[j]
                    {
                        assert!(
                            it.display_end() <= other.start() || other.display_end() <= it.start()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn pd_segments_of_the_flat_shape() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/slime/pdflat_5.pt");
        let built = trace::load(&std::fs::read(path).unwrap(), "pdflat_5.pt", 0.0).unwrap();
        let virt = built.cache.rows[0]
            .items
            .iter()
            .find(|i| matches!(i, Item::Span(s) if s.name.as_str().is_some_and(|n| n.ends_with(" [D]"))))
            .expect("a [D] lane");
        let segs = pd_segments(virt);
        assert!(!segs.is_empty());
        assert!(
            segs.windows(2).all(|w| (w[0].1 - w[1].0).abs() < 1e-9),
            "end to end"
        );
        assert_eq!(segs[0].0, virt.start());
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
        let rl = row_lanes(row);
        let got = hit(row, &rl, &view, (x0 + x1) / 2.0, 1.5 * 14.0, 14.0, true).unwrap();
        assert_eq!(row.items[got].lane(), 1);
        assert!(item_x(&view, &row.items[got]).0 <= (x0 + x1) / 2.0);
        let _ = i;
        assert_eq!(hit(row, &rl, &view, -50.0, 5.0, 14.0, true), None);
    }
}

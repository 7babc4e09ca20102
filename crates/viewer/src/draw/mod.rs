//! Paints the timeline on a 2D canvas. Geometry comes from `timeline`; this file only turns
//! it into canvas calls. Only rows inside the visible band are visited, and in each row only
//! the items of the visible time window (found by binary search in the row's lane index):
//! the work per frame follows pixels, not spans.
//!
//! Layout: `mod.rs` (the frame: axis, rows, spans, points), `style.rs` (palettes, colours
//! per name, the pen), `track.rs` (counter tracks above the rows).

mod fit;
mod style;
mod track;

use timeline::{clusters, lane_prims_track, ticks, Layout, Prim, Viewport, KIND_OPEN, PD_PHASES};
use web_sys::CanvasRenderingContext2d as Ctx;

use crate::rows::{Loaded, PageRow};
pub use style::span_color;
use style::{Colors, Palette, Pen, DARK, LIGHT};
use track::draw_track;
pub use track::Counter;

/// Width of the row-label column, CSS pixels.
pub const LABEL_W: f64 = 180.0;
/// Height of the time axis band, CSS pixels.
pub const AXIS_H: f64 = 26.0;
/// Height of one counter track (in-flight requests, tokens/s, imported series).
pub const TRACK_H: f64 = 34.0;

/// Where rows begin: below the axis and the counter tracks.
pub fn rows_top(tracks: usize) -> f64 {
    AXIS_H + tracks as f64 * TRACK_H
}

pub struct Scene<'a> {
    pub data: Option<&'a std::sync::Arc<Loaded>>,
    /// Data indices of the shown rows, in display order.
    pub shown: &'a [usize],
    pub layout: &'a Layout,
    pub view: Viewport,
    pub scroll_y: f64,
    pub lane_h: f64,
    /// Per shown row: lanes by depth (true) or everything on one lane (false).
    pub expanded: &'a [bool],
    /// Closed rows are overview strips (coloured by what runs there), not lanes.
    pub overview: bool,
    /// (shown row, item) under selection.
    pub selected: Option<(usize, usize)>,
    pub cursor: Option<f64>,
    pub origin: f64,
    pub dark: bool,
    pub show_events: bool,
    pub show_open: bool,
    pub show_orphans: bool,
    /// Attempt (index into the file's attempts; `u32::MAX` for none) to highlight.
    pub highlight_attempt: Option<u32>,
    /// Attempt to show alone (others hidden), if any.
    pub only_attempt: Option<u32>,
    pub tracks: &'a [Counter],
    /// What the overview picture shows (`strips.rs` keeps it between frames), with a file.
    pub strips: Option<crate::strips::StripsKey>,
}

/// Reused per-frame buffers.
#[derive(Default)]
pub struct Buffers {
    items: Vec<u32>,
    labels: fit::Fitted,
    strips: crate::strips::Strips,
    colors: Colors,
    pen: Pen,
}

pub fn draw(ctx: &Ctx, css_w: f64, css_h: f64, s: &Scene<'_>, buf: &mut Buffers) {
    let p = if s.dark { &DARK } else { &LIGHT };
    ctx.set_fill_style_str(p.bg);
    ctx.fill_rect(0.0, 0.0, css_w, css_h);
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_baseline("middle");

    let top0 = rows_top(s.tracks.len());
    let band_h = (css_h - top0).max(0.0);
    let range = s.layout.visible(s.scroll_y, s.scroll_y + band_h);
    let tick_list = ticks(&s.view, 90.0, s.origin);

    // Grid lines under everything.
    ctx.set_fill_style_str(p.grid);
    for (t, _) in &tick_list {
        let x = LABEL_W + s.view.x(*t);
        ctx.fill_rect(x.floor(), top0, 1.0, band_h);
    }

    if let Some(file) = s.data {
        buf.colors.begin(file, s.dark);
        let d: &Loaded = file;
        // Overview strips thinner than a pixel share it: the first row of each pixel row is
        // drawn, so a frame costs what the screen holds, not what the file holds. They are
        // painted into one picture (`strips.rs`) drawn once, over the grid.
        let mut strips = std::mem::take(&mut buf.strips);
        match &s.strips {
            Some(key) if s.overview => strips.begin(key.clone(), &s.view, css_w - LABEL_W, band_h),
            _ => strips.clear(),
        }
        let mut last_px = f64::NEG_INFINITY;
        for vi in range {
            let Some(row) = s
                .shown
                .get(vi)
                .and_then(|&ri| d.rows.get(ri).map(|r| (ri, r)))
            else {
                continue;
            };
            let top = top0 + s.layout.tops[vi] - s.scroll_y;
            let h = s.layout.heights[vi];
            let expanded = s.expanded.get(vi).copied().unwrap_or(true);
            if s.overview && !expanded {
                if top.floor() <= last_px {
                    continue;
                }
                last_px = top.floor();
                let gap = if h >= 4.0 { 1.0 } else { 0.0 };
                strips.strip(d, row.1, top - top0, (h - gap).max(1.0));
                continue;
            }
            draw_row(ctx, s, d, row, vi, top, h, css_w, css_h, expanded, buf, p);
        }
        strips.finish(ctx, LABEL_W, top0);
        buf.strips = strips;
    }

    // Axis band and counter tracks on top of the scrolled rows.
    ctx.set_fill_style_str(p.bg);
    ctx.fill_rect(0.0, 0.0, css_w, top0);
    for (i, t) in s.tracks.iter().enumerate() {
        draw_track(ctx, s, t, AXIS_H + i as f64 * TRACK_H, css_w, p);
    }
    ctx.set_fill_style_str(p.grid);
    ctx.fill_rect(0.0, AXIS_H - 1.0, css_w, 1.0);
    ctx.fill_rect(LABEL_W - 1.0, 0.0, 1.0, css_h);
    ctx.set_fill_style_str(p.muted);
    for (t, label) in &tick_list {
        let x = LABEL_W + s.view.x(*t);
        // Whole labels only: one the right edge would cut is left out.
        let fits = || {
            ctx.measure_text(label)
                .map_or(true, |m| x + 3.0 + m.width() <= css_w)
        };
        if x >= LABEL_W && fits() {
            let _ = ctx.fill_text(label, x + 3.0, AXIS_H / 2.0);
        }
    }
    if let Some(c) = s.cursor {
        let x = LABEL_W + s.view.x(c);
        if x >= LABEL_W {
            ctx.set_fill_style_str(p.cursor);
            ctx.fill_rect(x, 0.0, 1.5, css_h);
        }
    }
}

/// One row with its lanes (expanded) or on one lane (collapsed), and its label.
#[allow(clippy::too_many_arguments)]
fn draw_row(
    ctx: &Ctx,
    s: &Scene<'_>,
    d: &Loaded,
    (ri, row): (usize, &PageRow),
    vi: usize,
    top: f64,
    h: f64,
    css_w: f64,
    css_h: f64,
    expanded: bool,
    buf: &mut Buffers,
    p: &Palette,
) {
    if vi % 2 == 1 {
        ctx.set_fill_style_str(p.stripe);
        ctx.fill_rect(0.0, top, css_w, h);
    }
    ctx.save();
    ctx.begin_path();
    ctx.rect(LABEL_W, top, css_w - LABEL_W, h);
    ctx.clip();
    let selected = s.selected.filter(|(v, _)| *v == vi).map(|(_, i)| i);
    let track = &row.data.track;
    let index = row.lane_index(expanded);
    let width = css_w - LABEL_W;
    // Only the lanes inside the canvas and inside this row's band.
    let lanes = index.lanes();
    let first = (((rows_top(s.tracks.len()) - top) / s.lane_h)
        .floor()
        .max(0.0)) as u32;
    let last = ((((css_h.min(top + h)) - top) / s.lane_h).ceil().max(0.0) as u32).min(lanes);
    // A pixel's worth of time either side, so a marker centred just outside still shows.
    let margin = s.view.span() / s.view.width.max(1.0) * 10.0;
    for lane in first..last {
        let y = top + lane as f64 * s.lane_h;
        index.spans(track, lane, s.view.t0, s.view.t1, &mut buf.items);
        if let Some(a) = s.only_attempt {
            buf.items.retain(|&i| row.data.attempt[i as usize] == a);
        }
        let pen = &mut buf.pen;
        pen.reset();
        for prim in lane_prims_track(track, &buf.items, &s.view, width) {
            match prim {
                Prim::Item(ii) => {
                    let color = buf.colors.span(d, track.name[ii]);
                    let sel = selected == Some(ii);
                    draw_span(ctx, s, d, row, ii, y, css_w, sel, color, pen, p)
                }
                Prim::Run { x0, x1, first, .. } => {
                    pen.fill(ctx, buf.colors.span(d, track.name[first]));
                    pen.alpha(ctx, 0.8);
                    ctx.fill_rect(LABEL_W + x0, y + 1.0, (x1 - x0).max(1.0), s.lane_h - 2.0);
                }
            }
        }
        pen.alpha(ctx, 1.0);
        index.points(
            track,
            lane,
            s.view.t0 - margin,
            s.view.t1 + margin,
            &mut buf.items,
        );
        if let Some(a) = s.only_attempt {
            buf.items.retain(|&i| row.data.attempt[i as usize] == a);
        }
        let paint = (&mut buf.colors, &mut buf.pen);
        draw_points(ctx, s, d, row, &buf.items, y, selected, paint, p);
    }
    ctx.restore();
    // Row label: sample index, source, status; ▸/▾ shows collapsed/expanded.
    let head = &d.heads[ri];
    ctx.set_fill_style_str(p.text);
    let source = match &head.source {
        None => String::new(),
        Some(v) => format!(" {}", short(v, 10)),
    };
    let label = format!(
        "{} #{}{} {}",
        if expanded { "▾" } else { "▸" },
        head.sample_index,
        source,
        short(&head.status, 10)
    );
    // No label column shows more than 64 characters: the rest is never measured.
    let label = short(&label, 64);
    let label = buf.labels.get(ctx, &label, LABEL_W - 10.0);
    let _ = ctx.fill_text(label, 6.0, top + s.lane_h.min(h) / 2.0);
}

pub(super) fn short(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(n) {
        None => s.into(),
        Some(_) => {
            let head: String = s.chars().take(n.saturating_sub(1)).collect();
            format!("{head}…").into()
        }
    }
}

/// Span `ii` of `row`, on the lane starting at `y`.
#[allow(clippy::too_many_arguments)]
fn draw_span(
    ctx: &Ctx,
    s: &Scene<'_>,
    d: &Loaded,
    row: &PageRow,
    ii: usize,
    y: f64,
    css_w: f64,
    selected: bool,
    color: &str,
    pen: &mut Pen,
    p: &Palette,
) {
    let t = &row.data.track;
    let open = t.state(ii) == KIND_OPEN;
    if open && !s.show_open {
        return;
    }
    let (x0, x1) = (
        LABEL_W + s.view.x(t.start[ii]),
        LABEL_W + s.view.x(t.end[ii]),
    );
    if x1 < LABEL_W - 10.0 || x0 > css_w + 10.0 {
        return;
    }
    let dim = s
        .highlight_attempt
        .is_some_and(|a| a != row.data.attempt[ii]);
    let name = d.name_of(t.name[ii]);
    let w = (x1 - x0).max(1.0);
    pen.alpha(
        ctx,
        match (dim, open) {
            (true, true) => 0.15,
            (true, false) => 0.25,
            (false, true) => 0.45,
            (false, false) => 1.0,
        },
    );
    pen.fill(ctx, color);
    ctx.fill_rect(x0, y + 1.0, w, s.lane_h - 2.0);
    // PD phases drawn inside the [P]/[D] lanes, end to end, in their legend colours.
    if t.pd_role(ii).is_some() {
        let from = row.data.pd.partition_point(|seg| (seg.item as usize) < ii);
        for seg in row.data.pd[from..]
            .iter()
            .take_while(|seg| seg.item as usize == ii)
        {
            let (a, b) = (LABEL_W + s.view.x(seg.t0), LABEL_W + s.view.x(seg.t1));
            if b - a >= 0.5 {
                if let Some((_, _, c)) = PD_PHASES.get(seg.phase as usize) {
                    pen.fill(ctx, c);
                    ctx.fill_rect(a, y + 3.0, (b - a).max(1.0), s.lane_h - 6.0);
                }
            }
        }
    }
    pen.alpha(ctx, if dim { 0.4 } else { 1.0 });
    if open {
        // Open spans: dashed outline, faded fill; the clip reason is in the details.
        ctx.set_stroke_style_str(color);
        ctx.set_line_dash(&js_sys::Array::of2(&4.0.into(), &3.0.into()))
            .ok();
        ctx.stroke_rect(x0 + 0.5, y + 1.5, w - 1.0, s.lane_h - 3.0);
        ctx.set_line_dash(&js_sys::Array::new()).ok();
    }
    if w > 30.0 && s.lane_h >= 12.0 {
        pen.fill(ctx, if s.dark { "#0d1117" } else { "#101418" });
        let visible_x0 = x0.max(LABEL_W);
        let room = (x1.min(css_w) - visible_x0 - 6.0).max(0.0);
        let chars = (room / 6.5) as usize;
        if chars >= 3 {
            let _ = ctx.fill_text(&short(name, chars), visible_x0 + 3.0, y + s.lane_h / 2.0);
        }
    }
    if selected {
        pen.alpha(ctx, 1.0);
        ctx.set_stroke_style_str(p.select);
        ctx.set_line_width(2.0);
        ctx.stroke_rect(x0 - 1.0, y, w + 2.0, s.lane_h);
        ctx.set_line_width(1.0);
    }
    pen.alpha(ctx, 1.0);
}

/// The point events and orphan ends `items` (one lane's, in time order), clustered when
/// closer than `CLUSTER_PX`.
#[allow(clippy::too_many_arguments)]
fn draw_points(
    ctx: &Ctx,
    s: &Scene<'_>,
    d: &Loaded,
    row: &PageRow,
    items: &[u32],
    y: f64,
    selected: Option<usize>,
    (colors, pen): (&mut Colors, &mut Pen),
    p: &Palette,
) {
    let t = &row.data.track;
    let cy = y + s.lane_h / 2.0;
    let r = (s.lane_h / 2.0 - 1.0).clamp(2.5, 5.0);
    for orphan in [false, true] {
        if (orphan && !s.show_orphans) || (!orphan && !s.show_events) {
            continue;
        }
        let want = if orphan {
            timeline::KIND_ORPHAN
        } else {
            timeline::KIND_EVENT
        };
        let xs: Vec<(f64, usize)> = items
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| t.state(i) == want)
            .map(|i| (LABEL_W + s.view.x(t.start[i]), i))
            .collect();
        // Markers of one colour and alpha are one path, filled once (with the frame's pen,
        // whose colours are made once).
        pen.reset();
        let (mut pending, mut small) = (false, false);
        let groups = clusters(&xs);
        for (k, &(x, _, n, first)) in groups.iter().enumerate() {
            let dim = s
                .highlight_attempt
                .is_some_and(|a| a != row.data.attempt[first]);
            let alpha = if dim { 0.25 } else { 1.0 };
            // A red "end without a start" bracket, or a diamond in the event's colour.
            let color = if orphan {
                "#d1242f"
            } else {
                colors.point(d, t.name[first])
            };
            if pending && !pen.holds(color, alpha) {
                ctx.fill();
                pending = false;
            }
            if !pending {
                pen.alpha(ctx, alpha);
                pen.fill(ctx, color);
                ctx.begin_path();
                pending = true;
            }
            ctx.move_to(x, cy - r);
            if orphan {
                ctx.line_to(x, cy + r);
                ctx.line_to(x - r * 1.4, cy);
            } else {
                ctx.line_to(x + r, cy);
                ctx.line_to(x, cy + r);
                ctx.line_to(x - r, cy);
            }
            ctx.close_path();
            if timeline::shows_count(&groups, k, r) {
                ctx.fill();
                pending = false;
                pen.fill(ctx, p.text);
                if !small {
                    ctx.set_font("10px system-ui, sans-serif");
                    small = true;
                }
                let _ = ctx.fill_text(&format!("×{n}"), x + r + 1.0, cy);
            }
        }
        if pending {
            ctx.fill();
        }
        if small {
            ctx.set_font("12px system-ui, sans-serif");
        }
        ctx.set_global_alpha(1.0);
        if let Some(sel) = selected {
            if let Some(&(x, _)) = xs.iter().find(|(_, i)| *i == sel) {
                ctx.set_stroke_style_str(p.select);
                ctx.set_line_width(2.0);
                ctx.stroke_rect(x - r - 2.0, cy - r - 2.0, 2.0 * r + 4.0, 2.0 * r + 4.0);
                ctx.set_line_width(1.0);
            }
        }
    }
}

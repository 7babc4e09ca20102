//! Paints the timeline on a 2D canvas. Geometry comes from `timeline`; this file only turns
//! it into canvas calls. Only rows inside the visible band are visited.

use timeline::{
    clusters, color_for, item_x, lane_prims, pd_color, pd_segments, ticks, Layout, Prim, RowLanes,
    Viewport,
};
use trace::{Item, Row, State};
use web_sys::CanvasRenderingContext2d as Ctx;

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

/// A counter drawn above the rows on the same time axis.
#[derive(Clone, Debug)]
pub struct Track {
    pub name: String,
    /// (time, value), sorted by time; each value holds until the next point.
    pub points: Vec<(f64, f64)>,
    pub color: &'static str,
}

pub struct Scene<'a> {
    pub rows: &'a [&'a Row],
    /// Display lanes of each shown row (parallel to `rows`).
    pub lanes: &'a [&'a RowLanes],
    pub layout: &'a Layout,
    pub view: Viewport,
    pub scroll_y: f64,
    pub lane_h: f64,
    /// Per shown row: lanes by depth (true) or everything on one lane (false).
    pub expanded: &'a [bool],
    /// (shown row, item) under selection.
    pub selected: Option<(usize, usize)>,
    pub cursor: Option<f64>,
    pub origin: f64,
    pub dark: bool,
    pub show_events: bool,
    pub show_open: bool,
    pub show_orphans: bool,
    /// Attempt to highlight (others dimmed), if any.
    pub highlight_attempt: Option<i64>,
    /// Attempt to show alone (others hidden), if any.
    pub only_attempt: Option<i64>,
    pub tracks: &'a [Track],
}

struct Palette {
    bg: &'static str,
    stripe: &'static str,
    text: &'static str,
    muted: &'static str,
    grid: &'static str,
    cursor: &'static str,
    select: &'static str,
}

const LIGHT: Palette = Palette {
    bg: "#ffffff",
    stripe: "#f5f7fa",
    text: "#1f2328",
    muted: "#6e7781",
    grid: "#e4e8ee",
    cursor: "#d1242f",
    select: "#0969da",
};
const DARK: Palette = Palette {
    bg: "#0d1117",
    stripe: "#151b23",
    text: "#e6edf3",
    muted: "#8d96a0",
    grid: "#262c36",
    cursor: "#ff7b72",
    select: "#58a6ff",
};

pub fn name_text(item: &Item) -> String {
    trace::json::py_str(item.name())
}

pub fn draw(ctx: &Ctx, css_w: f64, css_h: f64, s: &Scene<'_>) {
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

    for vi in range {
        let row = s.rows[vi];
        let top = top0 + s.layout.tops[vi] - s.scroll_y;
        let h = s.layout.heights[vi];
        if vi % 2 == 1 {
            ctx.set_fill_style_str(p.stripe);
            ctx.fill_rect(0.0, top, css_w, h);
        }
        ctx.save();
        ctx.begin_path();
        ctx.rect(LABEL_W, top, css_w - LABEL_W, h);
        ctx.clip();
        let expanded = s.expanded.get(vi).copied().unwrap_or(true);
        let selected = s.selected.filter(|(v, _)| *v == vi).map(|(_, i)| i);
        // Spans per lane in start order, through level of detail: sub-pixel spans become
        // coverage runs, so the work per frame follows pixels, not span count.
        let rl = s.lanes[vi];
        // Spans grouped by lane. Only lanes that hold a span are visited, and nothing is
        // sized by a lane number: a row's lanes come from its data (a crafted cache may
        // claim lane 4 294 967 294), so the work follows the items, never the lane count.
        let mut by_lane: Vec<(u32, usize)> = row
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| {
                matches!(item, Item::Span(_)) && s.only_attempt.is_none_or(|a| a == item.attempt())
            })
            .map(|(ii, _)| (rl.of(ii, expanded), ii))
            .collect();
        // Stable: within a lane, items keep row order (start order, as `lane_prims` wants).
        by_lane.sort_by_key(|&(lane, _)| lane);
        if !expanded {
            by_lane
                .sort_by(|&(_, a), &(_, b)| row.items[a].start().total_cmp(&row.items[b].start()));
        }
        let width = css_w - LABEL_W;
        for group in by_lane.chunk_by(|a, b| a.0 == b.0) {
            let lane = group[0].0;
            let idx: Vec<usize> = group.iter().map(|&(_, ii)| ii).collect();
            let y = top + lane as f64 * s.lane_h;
            if y > top + h {
                // Below this row's band (a lane the layout does not make room for).
                continue;
            }
            for prim in lane_prims(row, &idx, &s.view, width) {
                match prim {
                    Prim::Item(ii) => {
                        draw_span(ctx, s, &row.items[ii], y, css_w, selected == Some(ii), p)
                    }
                    Prim::Run { x0, x1, first, .. } => {
                        let name = name_text(&row.items[first]);
                        let color = pd_color(&name)
                            .map(str::to_string)
                            .unwrap_or_else(|| color_for(&name, s.dark));
                        ctx.set_fill_style_str(&color);
                        ctx.set_global_alpha(0.8);
                        ctx.fill_rect(LABEL_W + x0, y + 1.0, (x1 - x0).max(1.0), s.lane_h - 2.0);
                        ctx.set_global_alpha(1.0);
                    }
                }
            }
        }
        draw_points(ctx, s, row, rl, top, css_w, expanded, selected, p);
        ctx.restore();
        // Row label: sample index, source, status; ▸/▾ shows collapsed/expanded.
        ctx.set_fill_style_str(p.text);
        let source = match &row.source {
            serde_json::Value::Null => String::new(),
            v => format!(" {}", short(&trace::json::py_str(v), 10)),
        };
        let label = format!(
            "{} #{}{} {}",
            if expanded { "▾" } else { "▸" },
            trace::json::py_str(&row.sample_index),
            source,
            short(&trace::json::py_str(&row.status), 10)
        );
        let _ = ctx.fill_text(&short(&label, 26), 6.0, top + s.lane_h.min(h) / 2.0);
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
        if x >= LABEL_W {
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

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n - 1).collect();
        format!("{head}…")
    }
}

/// One span whose lane starts at `y`.
fn draw_span(
    ctx: &Ctx,
    s: &Scene<'_>,
    item: &Item,
    y: f64,
    css_w: f64,
    selected: bool,
    p: &Palette,
) {
    let Item::Span(span) = item else { return };
    let open = span.state == State::OpenSpan;
    if open && !s.show_open {
        return;
    }
    let (x0, x1) = item_x(&s.view, item);
    let (x0, x1) = (LABEL_W + x0, LABEL_W + x1);
    if x1 < LABEL_W - 10.0 || x0 > css_w + 10.0 {
        return;
    }
    let dim = s.highlight_attempt.is_some_and(|a| a != item.attempt());
    let name = name_text(item);
    let color = pd_color(&name)
        .map(str::to_string)
        .unwrap_or_else(|| color_for(&name, s.dark));
    let w = (x1 - x0).max(1.0);
    ctx.set_global_alpha(match (dim, open) {
        (true, true) => 0.15,
        (true, false) => 0.25,
        (false, true) => 0.45,
        (false, false) => 1.0,
    });
    ctx.set_fill_style_str(&color);
    ctx.fill_rect(x0, y + 1.0, w, s.lane_h - 2.0);
    // PD phases drawn inside the [P]/[D] lanes, end to end, in their legend colours.
    for (t0, t1, c) in pd_segments(item) {
        let (a, b) = (LABEL_W + s.view.x(t0), LABEL_W + s.view.x(t1));
        if b - a >= 0.5 {
            ctx.set_fill_style_str(c);
            ctx.fill_rect(a, y + 3.0, (b - a).max(1.0), s.lane_h - 6.0);
        }
    }
    ctx.set_global_alpha(if dim { 0.4 } else { 1.0 });
    if open {
        // Open spans: dashed outline, faded fill; the clip reason is in the details.
        ctx.set_stroke_style_str(&color);
        ctx.set_line_dash(&js_sys::Array::of2(&4.0.into(), &3.0.into()))
            .ok();
        ctx.stroke_rect(x0 + 0.5, y + 1.5, w - 1.0, s.lane_h - 3.0);
        ctx.set_line_dash(&js_sys::Array::new()).ok();
    }
    if w > 30.0 && s.lane_h >= 12.0 {
        ctx.set_fill_style_str(if s.dark { "#0d1117" } else { "#101418" });
        let visible_x0 = x0.max(LABEL_W);
        let room = (x1.min(css_w) - visible_x0 - 6.0).max(0.0);
        let chars = (room / 6.5) as usize;
        if chars >= 3 {
            let _ = ctx.fill_text(&short(&name, chars), visible_x0 + 3.0, y + s.lane_h / 2.0);
        }
    }
    if selected {
        ctx.set_global_alpha(1.0);
        ctx.set_stroke_style_str(p.select);
        ctx.set_line_width(2.0);
        ctx.stroke_rect(x0 - 1.0, y, w + 2.0, s.lane_h);
        ctx.set_line_width(1.0);
    }
    ctx.set_global_alpha(1.0);
}

/// Point events and orphan ends, clustered per lane when closer than `CLUSTER_PX`.
#[allow(clippy::too_many_arguments)]
fn draw_points(
    ctx: &Ctx,
    s: &Scene<'_>,
    row: &Row,
    rl: &RowLanes,
    top: f64,
    css_w: f64,
    expanded: bool,
    selected: Option<usize>,
    p: &Palette,
) {
    for orphan in [false, true] {
        if (orphan && !s.show_orphans) || (!orphan && !s.show_events) {
            continue;
        }
        // (lane, x, item), grouped by lane then in x order: one pass over the row's items
        // however many lanes it claims.
        let mut pts: Vec<(u32, f64, usize)> = row
            .items
            .iter()
            .enumerate()
            .filter(|(_, it)| match it {
                Item::Event(_) => !orphan,
                Item::OrphanEnd(_) => orphan,
                Item::Span(_) => false,
            })
            .filter(|(_, it)| s.only_attempt.is_none_or(|a| a == it.attempt()))
            .map(|(i, it)| (rl.of(i, expanded), LABEL_W + s.view.x(it.start()), i))
            .filter(|&(_, x, _)| x >= LABEL_W - 10.0 && x <= css_w + 10.0)
            .collect();
        pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for group in pts.chunk_by(|a, b| a.0 == b.0) {
            let lane = group[0].0;
            let xs: Vec<(f64, usize)> = group.iter().map(|&(_, x, i)| (x, i)).collect();
            let cy = top + lane as f64 * s.lane_h + s.lane_h / 2.0;
            let r = (s.lane_h / 2.0 - 1.0).clamp(2.5, 5.0);
            for (x, _, n, first) in clusters(&xs) {
                let item = &row.items[first];
                let dim = s.highlight_attempt.is_some_and(|a| a != item.attempt());
                ctx.set_global_alpha(if dim { 0.25 } else { 1.0 });
                ctx.begin_path();
                if orphan {
                    // A red "end without a start" bracket.
                    ctx.set_fill_style_str("#d1242f");
                    ctx.move_to(x, cy - r);
                    ctx.line_to(x, cy + r);
                    ctx.line_to(x - r * 1.4, cy);
                } else {
                    ctx.set_fill_style_str(&color_for(&name_text(item), s.dark));
                    ctx.move_to(x, cy - r);
                    ctx.line_to(x + r, cy);
                    ctx.line_to(x, cy + r);
                    ctx.line_to(x - r, cy);
                }
                ctx.close_path();
                ctx.fill();
                if n > 1 {
                    ctx.set_fill_style_str(p.text);
                    ctx.set_font("10px system-ui, sans-serif");
                    let _ = ctx.fill_text(&format!("×{n}"), x + r + 1.0, cy);
                    ctx.set_font("12px system-ui, sans-serif");
                }
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
}

/// A counter as a filled step chart scaled to its own maximum, with its name and the value
/// range at the left.
fn draw_track(ctx: &Ctx, s: &Scene<'_>, t: &Track, top: f64, css_w: f64, p: &Palette) {
    let max = t.points.iter().map(|p| p.1).fold(0.0f64, f64::max);
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
    let cols = timeline::track_columns(&t.points, &s.view, css_w - LABEL_W);
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

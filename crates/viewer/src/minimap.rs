//! The minimap beside the timeline: every shown row over the whole rollout's time, each a
//! strip coloured by what runs there, with the visible window outlined. A click or a drag
//! moves the view there (rows vertically, time horizontally).
//!
//! The map itself is painted only when the rows, their order, the size or the colours change;
//! following the view only moves the outline (a DOM box), so panning costs nothing here.

use std::sync::Arc;

use leptos::prelude::*;

use crate::draw::{rows_top, span_color};
use crate::state::State;

/// Width of the minimap, CSS pixels.
pub const MINI_W: f64 = 72.0;

/// The whole rollout's time range, if the file has one.
fn whole(st: State) -> Option<(f64, f64)> {
    st.data.with(|d| {
        let d = d.as_ref()?;
        let (a, b) = (d.global_start?, d.global_end?);
        (b > a && a.is_finite() && b.is_finite()).then_some((a, b))
    })
}

/// Paints the map (tracked): `timeline::minimap`'s grid, one cell per pixel, each pixel row
/// a band of consecutive shown rows; idle stretches lighter.
fn paint(st: State, canvas: &web_sys::HtmlCanvasElement) {
    let (_, h) = st.size.get();
    let Some(ctx) = crate::dom::hidpi_context(canvas, MINI_W, h) else {
        return;
    };
    let dark = st.dark.get();
    ctx.set_fill_style_str(if dark { "#151b23" } else { "#f5f7fa" });
    ctx.fill_rect(0.0, 0.0, MINI_W, h);
    let top = rows_top(st.track_count());
    let Some(d) = st.data.get() else { return };
    let Some((t0, t1)) = whole(st) else { return };
    let shown: Arc<Vec<usize>> = st.shown.get();
    if shown.is_empty() {
        return;
    }
    let band = (h - top).max(1.0).floor();
    let tracks: Vec<&timeline::Track> = shown
        .iter()
        .filter_map(|&i| d.rows.get(i).map(|r| &r.data.track))
        .collect();
    // Fewer rows than pixels: one grid row per shown row, stretched.
    let grid_rows = (band as usize).min(tracks.len());
    let m = timeline::minimap(&tracks, t0, t1, MINI_W as usize, grid_rows);
    let per = band / m.rows.max(1) as f64;
    for r in 0..m.rows {
        let y = top + r as f64 * per;
        let mut c = 0;
        while c < m.cols {
            let k = r * m.cols + c;
            let name = m.name[k];
            let start = c;
            while c < m.cols && m.name[r * m.cols + c] == name {
                c += 1;
            }
            if name == timeline::NO_NAME {
                continue;
            }
            ctx.set_fill_style_str(&span_color(d.name_of(name), dark));
            ctx.set_global_alpha(0.35 + 0.65 * m.busy[k] as f64 / 255.0);
            ctx.fill_rect(start as f64, y, (c - start) as f64, per.max(1.0));
        }
    }
    ctx.set_global_alpha(1.0);
}

/// The outline of the visible window on the map: (left, top, width, height) in CSS pixels.
fn window_box(st: State) -> Option<(f64, f64, f64, f64)> {
    let (t0, t1) = whole(st)?;
    let v = st.view.get()?;
    let (_, h) = st.size.get();
    let top = rows_top(st.track_count());
    let band = (h - top).max(1.0);
    let n = st.shown.with(|s| s.len());
    if n == 0 {
        return None;
    }
    let (y0, y1) = (st.scroll_y.get(), st.scroll_y.get() + band);
    let (first, last) = st.row_layout.with(|l| {
        let r = l.visible(y0, y1);
        (r.start, r.end.max(r.start + 1))
    });
    let x = |t: f64| ((t - t0) / (t1 - t0) * MINI_W).clamp(0.0, MINI_W);
    let (a, b) = (x(v.t0), x(v.t1));
    // The map's grid rows: one per shown row, or bands of rows when they outnumber pixels.
    let per = band.floor() / n as f64;
    Some((
        a,
        top + first as f64 * per,
        (b - a).max(2.0),
        ((last - first) as f64 * per).max(2.0),
    ))
}

/// Moves the view to the map point `(x, y)`: the row there to the middle of the band, the
/// time there to the middle of the axis (keeping the zoom).
fn go(st: State, x: f64, y: f64) {
    let Some((t0, t1)) = whole(st) else { return };
    let top = st.rows_top_now();
    let band = st.band_height();
    let n = st.shown.with_untracked(|s| s.len());
    if n > 0 {
        let k = (((y - top) / band * n as f64).floor().max(0.0) as usize).min(n - 1);
        let row_top = st.row_layout.with_untracked(|l| l.tops.get(k).copied());
        if let Some(row_top) = row_top {
            st.scroll_y
                .set((row_top - band / 2.0).clamp(0.0, st.max_scroll()));
        }
    }
    let t = t0 + (x / MINI_W).clamp(0.0, 1.0) * (t1 - t0);
    st.view.update(|v| {
        if let Some(v) = v {
            let half = v.span() / 2.0;
            v.t0 = t - half;
            v.t1 = t + half;
        }
    });
}

pub fn minimap_view(st: State) -> impl IntoView {
    let canvas_ref: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let dragging = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(c) = canvas_ref.get() {
            paint(st, &c);
        }
    });
    let at = move |ev: &web_sys::MouseEvent| {
        let Some(c) = canvas_ref.get_untracked() else {
            return;
        };
        let r = c.get_bounding_client_rect();
        go(
            st,
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        );
    };
    view! {
        <div class="minimap" data-testid="minimap">
            <canvas node_ref=canvas_ref
                on:mousedown=move |ev| { dragging.set_value(true); at(&ev); }
                on:mousemove=move |ev| if dragging.get_value() && ev.buttons() & 1 == 1 { at(&ev) }
                on:mouseup=move |_| dragging.set_value(false)
                on:mouseleave=move |_| dragging.set_value(false)></canvas>
            {move || window_box(st).map(|(x, y, w, h)| view! {
                <div class="minimap-window" style=format!("left:{x:.1}px;top:{y:.1}px;width:{w:.1}px;height:{h:.1}px")></div>
            })}
        </div>
    }
}

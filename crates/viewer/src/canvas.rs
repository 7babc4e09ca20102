//! The canvas element: redraw whenever what it shows changes, keep it the size of its box,
//! follow dark mode. `draw/` does the painting.

use leptos::prelude::*;
use timeline::Viewport;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::{bench_hooks, prefers_dark, window};
use crate::draw::{draw, rows_top, Buffers, Scene, LABEL_W};
use crate::input::Input;
use crate::minimap::minimap_view;
use crate::state::{Phase, State};
use crate::strips::StripsKey;

/// Paints one frame from the current state (tracked: an effect reruns it on change).
/// Reads the derived lists in place (`Arc`s): nothing per row is copied per frame.
fn redraw(st: State, buf: StoredValue<Buffers, LocalStorage>) {
    let Some(canvas) = st.canvas_ref.get() else {
        return;
    };
    let (w, h) = st.size.get();
    let Some(ctx) = crate::dom::hidpi_context(&canvas, w, h) else {
        return;
    };
    let d = st.data.get();
    let idx = st.shown.get();
    let lay = st.row_layout.get();
    let flags = st.row_expanded.get();
    let counters = st.counters.get();
    let sel = st.selected.get().and_then(|(ri, ii)| {
        let vi = idx.iter().position(|&i| i == ri)?;
        Some((vi, ii))
    });
    let mut v = st.view.get().unwrap_or(Viewport {
        t0: 0.0,
        t1: 1.0,
        width: 1.0,
    });
    v.width = (w - LABEL_W).max(1.0);
    let attempt_filter = st.attempt_filter.get();
    // The attempt as an index into the file's attempts (`u32::MAX`: one no item has).
    let attempt = st.attempt.get().map(|a| {
        d.as_ref()
            .and_then(|d| d.tables.attempts.iter().position(|&x| x == a))
            .map_or(u32::MAX, |p| p as u32)
    });
    let strips = d.as_ref().map(|d| StripsKey {
        data: d.clone(),
        shown: idx.clone(),
        layout: lay.clone(),
        expanded: flags.clone(),
        overview: st.overview.get().is_some(),
        scroll_y: st.scroll_y.get(),
        dark: st.dark.get(),
    });
    let scene = Scene {
        data: d.as_ref(),
        shown: &idx,
        layout: &lay,
        view: v,
        scroll_y: st.scroll_y.get(),
        lane_h: st.lane_h.get(),
        expanded: &flags,
        overview: st.overview.get().is_some(),
        selected: sel,
        cursor: st.cursor.get(),
        origin: d.as_ref().map_or(0.0, |d| d.origin()),
        dark: st.dark.get(),
        show_events: st.show_events.get(),
        show_open: st.show_open.get(),
        show_orphans: st.show_orphans.get(),
        highlight_attempt: if attempt_filter { None } else { attempt },
        only_attempt: if attempt_filter { attempt } else { None },
        tracks: &counters[..st.track_count().min(counters.len())],
        strips,
    };
    let perf = window().performance();
    let t = perf.as_ref().map(|p| p.now()).unwrap_or(0.0);
    buf.update_value(|b| draw(&ctx, w, h, &scene, b));
    if let Some(p) = perf {
        bench_hooks(p.now(), p.now() - t, !idx.is_empty(), st.painted);
    }
}

/// Keeps the canvas the size of its box: the drawing size follows the box exactly (the
/// bitmap is that × `devicePixelRatio`, `dom::hidpi_context`), so a click lands on what is
/// drawn under it.
fn measure(st: State) {
    if let Some(el) = st.wrap_ref.get_untracked() {
        let r = el.get_bounding_client_rect();
        let size = (r.width(), r.height());
        // A hidden box (the run explorer shown instead) keeps the last size it had.
        if size.0 < 1.0 || size.1 < 1.0 || st.size.get_untracked() == size {
            return;
        }
        st.size.set(size);
        if let Some(mut v) = st.view.get_untracked() {
            v.width = (size.0 - LABEL_W).max(1.0);
            st.view.set(Some(v));
        }
    }
}

/// The observer of the timeline's box, and its callback (kept alive with it).
type Observer = (
    web_sys::ResizeObserver,
    Closure<dyn FnMut(js_sys::Array, web_sys::ResizeObserver)>,
);

/// Measures whenever the box changes size: a window resize, but also a panel, banner or
/// progress bar appearing above or beside it (which no window event reports).
fn observe(st: State, el: &web_sys::Element) -> Option<Observer> {
    let cb = Closure::<dyn FnMut(js_sys::Array, web_sys::ResizeObserver)>::new(
        move |_: js_sys::Array, _: web_sys::ResizeObserver| measure(st),
    );
    let obs = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()).ok()?;
    obs.observe(el);
    Some((obs, cb))
}

/// Starts redrawing, resizing and dark-mode following.
pub fn install(st: State) {
    let buf = StoredValue::new_local(Buffers::default());
    Effect::new(move |_| redraw(st, buf));
    let observer = StoredValue::new_local(None::<Observer>);
    Effect::new(move |_| {
        if let Some(el) = st.wrap_ref.get() {
            measure(st);
            observer.update_value(|o| {
                if let Some((old, _)) = o.take() {
                    old.disconnect();
                }
                *o = observe(st, &el);
            });
        }
    });
    let _resize = window_event_listener(leptos::ev::resize, move |_| measure(st));
    if let Ok(Some(mq)) = window().match_media("(prefers-color-scheme: dark)") {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| st.dark.set(prefers_dark()));
        mq.set_onchange(Some(cb.as_ref().unchecked_ref()));
        cb.forget();
    }
}

/// The timeline box: canvas, hover tooltip, and the note for a file without rows.
pub fn timeline_view(st: State, input: Input) -> impl IntoView {
    view! {
        <div class="canvas-wrap" node_ref=st.wrap_ref>
            <canvas data-testid="timeline" node_ref=st.canvas_ref
                data-rows-top=move || rows_top(st.track_count()).to_string()
                on:wheel=move |ev| input.wheel(ev) on:mousedown=move |ev| input.down(ev)
                on:mousemove=move |ev| input.moved(ev) on:mouseup=move |ev| input.up(ev)
                on:mouseleave=move |_| st.hover.set(None)></canvas>
            {move || st.hover.get().map(|(x, y, text)| view! {
                <div class="tooltip" style=format!("left:{}px;top:{}px", x + 14.0, y + 14.0)>{text}</div>
            })}
            {move || st.overview.get().map(|_| {
                // Rows whose strip lies wholly inside the band: the overview's promise.
                let visible = st.row_layout.with(|l| {
                    let (y0, y1) = (st.scroll_y.get(), st.scroll_y.get() + st.band_height());
                    l.tops.iter().zip(&l.heights).filter(|(t, h)| **t >= y0 - 0.5 && **t + **h <= y1 + 0.5).count()
                });
                let rows = st.shown.with(|s| s.len());
                view! {
                    <div class="overview-badge" data-testid="overview" data-rows=rows.to_string() data-visible=visible.to_string()>
                        {format!("overview · {rows} samples · zoom in or click a row to open it")}
                        <button class="link" on:click=move |_| st.overview.set(None)>"rows"</button>
                    </div>
                }
            })}
            <Show when=move || st.phase.get() == Phase::Ready && st.data.get().is_some_and(|d| d.rows.is_empty())>
                <div class="empty">"This file has no traced samples."</div>
            </Show>
        </div>
        {minimap_view(st)}
    }
}

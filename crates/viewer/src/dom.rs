//! Small DOM helpers: the window, the body's `data-state`, dark mode, benchmark hooks.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::Phase;

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

/// `<body data-state=…>`: what the tests and benchmarks wait for.
pub fn set_body_state(phase: Phase) {
    if let Some(body) = window().document().and_then(|d| d.body()) {
        let _ = body.dataset().set("state", phase.as_str());
    }
}

/// A canvas sized for `w × h` CSS pixels at the device's pixel ratio (resized only when that
/// changes), and its 2D context scaled so that drawing is in CSS pixels.
pub fn hidpi_context(
    canvas: &web_sys::HtmlCanvasElement,
    w: f64,
    h: f64,
) -> Option<web_sys::CanvasRenderingContext2d> {
    let dpr = window().device_pixel_ratio();
    let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.unchecked_into();
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    Some(ctx)
}

pub fn prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// Hooks for the browser benchmark (tests/bench): `window.__rs_first_paint` is set (to
/// `performance.now()`) at the first frame that shows rows of a newly loaded file, and when
/// `window.__rs_frames` is an array each frame's draw time (ms) is appended to it.
pub fn bench_hooks(now: f64, draw_ms: f64, has_rows: bool, painted: StoredValue<bool>) {
    let w = window();
    if has_rows && !painted.get_value() {
        painted.set_value(true);
        let _ = js_sys::Reflect::set(&w, &"__rs_first_paint".into(), &now.into());
    }
    if let Ok(frames) = js_sys::Reflect::get(&w, &"__rs_frames".into()) {
        if let Ok(arr) = frames.dyn_into::<js_sys::Array>() {
            arr.push(&draw_ms.into());
        }
    }
}

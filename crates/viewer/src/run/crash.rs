//! The run app's last words: when its wasm traps (`unreachable` after an allocation failure or
//! a panic under `panic = "abort"`), every later call into it may fail too, so what it shows
//! from then on cannot be trusted ("Select a sample." with no message). Like the timeline's
//! dead-worker banner, this puts a message and a way on (reload, or open the run again) at
//! the top of `#run-root`, written with plain DOM calls (no reactive state that the trap may
//! have left half-updated). Its listeners are installed once, for the page's life.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::worker_boot::js_text;

/// Shows the banner (once: the first report is the cause, later ones its echoes).
pub fn show(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id("run-crashed").is_some() {
        return;
    }
    let Some(root) = doc.get_element_by_id("run-root") else {
        return;
    };
    let Ok(banner) = doc.create_element("div") else {
        return;
    };
    banner.set_id("run-crashed");
    banner.set_class_name("run-crashed");
    let _ = banner.set_attribute("role", "alert");
    let _ = banner.set_attribute("data-testid", "run-crashed");
    // Text content, never HTML: the message may quote the dump.
    banner.set_text_content(Some(&format!(
        "The run explorer stopped ({message}). What it shows now may be stale. "
    )));
    if let Ok(link) = doc.create_element("a") {
        // An empty href reloads this URL: a `?run=` run opens again; a dropped folder is
        // dropped again.
        let _ = link.set_attribute("href", "");
        link.set_text_content(Some("Reload the page"));
        let _ = banner.append_child(&link);
        let _ = banner.append_with_str_1(" and open the run again.");
    }
    let _ = root.prepend_with_node_1(&banner);
}

/// Whether an uncaught error or rejection comes from the run app's module (its wasm or JS
/// glue are named `runapp…`): the timeline page's own errors are not the run app's.
fn from_run_app(ev: &web_sys::Event) -> Option<String> {
    let get = |k: &str| js_sys::Reflect::get(ev, &k.into()).ok();
    let error = get("error").filter(|e| !e.is_undefined() && !e.is_null());
    let reason = get("reason").filter(|e| !e.is_undefined() && !e.is_null());
    let thrown = error.or(reason)?;
    let stack = js_sys::Reflect::get(&thrown, &"stack".into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let file = get("filename")
        .and_then(|f| f.as_string())
        .unwrap_or_default();
    (stack.contains("runapp") || file.contains("runapp")).then(|| js_text(&thrown))
}

/// Installs the panic hook and the `error` / `unhandledrejection` listeners.
pub fn report_crashes() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show(&format!("panic: {info}"));
    }));
    let Some(window) = web_sys::window() else {
        return;
    };
    for kind in ["error", "unhandledrejection"] {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            if let Some(message) = from_run_app(&ev) {
                show(&message);
            }
        });
        let _ = window.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
        // Listening for the page's whole life is the point: nothing ever removes them.
        cb.forget();
    }
}

//! What both workers (the timeline's `bin/worker` and the run explorer's `bin/runworker`) do
//! the same way: post a text message to the page, turn a thrown JS value into text, tell the
//! page when the worker dies, and seed the hashing of dump text.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::{to_text, FromWorker};

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a text message to the page.
pub fn post_text(text: &str) {
    let _ = scope().post_message(&JsValue::from_str(text));
}

/// A thrown JS value as text (an `Error`'s message, or its debug form).
pub fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| {
            js_sys::Reflect::get(v, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

/// Seeds the hashing of text from a dump with 64 bits of `crypto.getRandomValues` (wasm has
/// no per-process random keys of its own: see `pt::hashing`). Without `crypto` (never in a
/// browser that runs this) the hashes stay keyed as wasm's defaults.
pub fn seed_hashes() {
    let mut seed = [0u8; 8];
    if let Ok(c) = scope().crypto() {
        if c.get_random_values_with_u8_array(&mut seed).is_ok() {
            trace::hashing::add_entropy(u64::from_le_bytes(seed));
        }
    }
}

/// Reports the worker's death to the page as `FromWorker::Crashed`. `panic = "abort"` (the
/// wasm-release profile) ends a worker after a panic, so the hook tells the page first; an
/// abort (allocation failure, `unreachable`) is not a panic: the trap surfaces as an uncaught
/// exception or rejection in the worker's scope, reported too (the page also listens for the
/// worker's `error` event, in case this never runs).
pub fn report_crashes() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post_text(&to_text(&FromWorker::Crashed {
            message: format!("panic: {info}"),
        }));
    }));
    for kind in ["error", "unhandledrejection"] {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let reason = js_sys::Reflect::get(&ev, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .or_else(|| {
                    js_sys::Reflect::get(&ev, &"reason".into())
                        .ok()
                        .map(|r| js_text(&r))
                })
                .unwrap_or_else(|| kind.to_string());
            post_text(&to_text(&FromWorker::Crashed { message: reason }));
        });
        let _ = scope().add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
        cb.forget();
    }
}

//! The run explorer's worker (issue #14; messages in `viewer::protocol::run`, the reading in
//! `run.rs`), started by the run app for each opened run. Apart from the timeline's parsing
//! worker so that worker never links the run summaries or the tokenizer.

#[cfg(target_arch = "wasm32")]
mod run;

#[cfg(target_arch = "wasm32")]
mod post {
    use wasm_bindgen::JsCast;

    /// Posts a text message to the page.
    pub fn text(text: &str) {
        let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.post_message(&text.into());
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    use viewer::protocol::{to_text, FromWorker};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    // `panic = "abort"` (the wasm-release profile) ends the worker after a panic: tell the
    // page first, so it can say the run's worker stopped.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post::text(&to_text(&FromWorker::Crashed {
            message: format!("panic: {info}"),
        }));
    }));
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // An abort (allocation failure, `unreachable`) is not a panic: report the trap too.
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
            post::text(&to_text(&FromWorker::Crashed { message: reason }));
        });
        let _ = scope.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
        cb.forget();
    }
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            if let Some(kind) = js_sys::Reflect::get(&data, &"run".into())
                .ok()
                .and_then(|k| k.as_string())
            {
                run::handle(&kind, data);
            }
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post::text(&to_text(&FromWorker::Ready));
}

/// A thrown JS value as text (an `Error`'s message, or its debug form).
#[cfg(target_arch = "wasm32")]
fn js_text(v: &wasm_bindgen::JsValue) -> String {
    v.as_string()
        .or_else(|| {
            js_sys::Reflect::get(v, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the run worker runs in a browser; build it with Trunk");
}

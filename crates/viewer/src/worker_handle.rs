//! A started module worker and its three event handlers, for both page-side clients (the
//! timeline's `worker_client` and the run app's `run::client`). The handle owns the handlers'
//! closures: they live exactly as long as the worker is in use and are freed with it (no
//! `forget()`), and dropping the handle ends the worker. Each client keeps its own "ready"
//! queue and generation (what a replaced worker's last words mean differs between them).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A running worker; derefs to the `web_sys::Worker` for posting.
pub struct WorkerHandle {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    _on_message_error: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl WorkerHandle {
    /// Starts the module worker at `url`: `on_message` gets each message's data, `on_died`
    /// one line when the worker throws or traps uncaught (`panic = "abort"`, out of memory)
    /// or a message from it cannot be received. `None` when the browser refuses to start it.
    pub fn start(
        url: &str,
        mut on_message: impl FnMut(JsValue) + 'static,
        on_died: impl Fn(&str) + 'static,
    ) -> Option<WorkerHandle> {
        let opts = web_sys::WorkerOptions::new();
        opts.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(url, &opts).ok()?;
        let on_died = std::rc::Rc::new(on_died);
        let on_msg =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                on_message(ev.data())
            });
        let died = on_died.clone();
        // An `ErrorEvent` for an uncaught error or a trap; a plain `Event`, with no message,
        // when the worker's script could not be fetched or run (missing, blocked).
        let on_err = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let m = js_sys::Reflect::get(&ev, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .filter(|m| !m.is_empty());
            died(
                m.as_deref()
                    .unwrap_or(if ev.is_instance_of::<web_sys::ErrorEvent>() {
                        "an uncaught error"
                    } else {
                        NO_SCRIPT
                    }),
            );
        });
        let on_msg_err = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            on_died("a message from it could not be received")
        });
        worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
        worker.set_onmessageerror(Some(on_msg_err.as_ref().unchecked_ref()));
        Some(WorkerHandle {
            worker,
            _on_message: on_msg,
            _on_error: on_err,
            _on_message_error: on_msg_err,
        })
    }
}

/// Why a worker died when its script could not be fetched or run: a new one would die too.
pub const NO_SCRIPT: &str = "its script could not be loaded";

impl std::ops::Deref for WorkerHandle {
    type Target = web_sys::Worker;

    fn deref(&self) -> &web_sys::Worker {
        &self.worker
    }
}

impl Drop for WorkerHandle {
    /// Ends the worker and detaches the handlers before their closures are freed (a closure
    /// running now finishes first: wasm-bindgen frees it when it returns).
    fn drop(&mut self) {
        self.worker.terminate();
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.set_onmessageerror(None);
    }
}

//! The parsing worker: receives `{name, buffer}`, answers with JSON text (see `protocol`).
//! Parsing here keeps the page responsive whatever the file size.

#[cfg(target_arch = "wasm32")]
fn main() {
    use viewer::protocol::{process, FromWorker};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let post = move |msg: &FromWorker| {
        // One JSON string per message: see `protocol`.
        let text = serde_json::to_string(msg)
            .unwrap_or_else(|e| format!("{{\"kind\":\"error\",\"message\":\"internal: {e}\"}}"));
        let _ = reply.post_message(&JsValue::from_str(&text));
    };
    let handler_post = post.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            let name = js_sys::Reflect::get(&data, &"name".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| "file".into());
            let Ok(buffer) = js_sys::Reflect::get(&data, &"buffer".into()) else {
                handler_post(&FromWorker::Error {
                    message: format!("{name}: no data received"),
                });
                return;
            };
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            handler_post(&FromWorker::Progress {
                stage: format!("parsing {:.1} MB", bytes.len() as f64 / 1e6),
                done: 0.0,
                total: 0.0,
            });
            let now = js_sys::Date::now() / 1000.0;
            let result = process(&name, &bytes, now, &mut |m| handler_post(m));
            handler_post(&result);
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&FromWorker::Ready);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser; build it with Trunk");
}

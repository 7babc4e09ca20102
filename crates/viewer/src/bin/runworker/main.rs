//! The run explorer's worker (issue #14; messages in `viewer::protocol::run`, the reading in
//! `run.rs`), started by the run app for each opened run. Apart from the timeline's parsing
//! worker so that worker never links the run summaries or the tokenizer.

#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(target_arch = "wasm32")]
mod writing;

#[cfg(target_arch = "wasm32")]
fn main() {
    use viewer::protocol::{to_text, FromWorker};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    viewer::worker_boot::report_crashes();
    viewer::worker_boot::seed_hashes();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
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
    viewer::worker_boot::post_text(&to_text(&FromWorker::Ready));
}

#[cfg(target_arch = "wasm32")]
use viewer::worker_boot::js_text;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the run worker runs in a browser; build it with Trunk");
}

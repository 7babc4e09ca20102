//! Embedding: a parent page sends `{type: "open", name, buffer}`; we say `{type: "ready"}`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::state::{Phase, State};
use crate::worker_client::Client;

/// Listens for `open` messages from the parent window and tells the parent we are ready.
pub fn listen(st: State, client: Client) {
    let _messages = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        let from_parent = match (ev.source(), window().parent().ok().flatten()) {
            (Some(src), Some(parent)) => js_sys::Object::is(&src, &parent),
            _ => false,
        };
        if !from_parent {
            return;
        }
        let data = ev.data();
        let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).ok();
        if get("type").and_then(|t| t.as_string()).as_deref() != Some("open") {
            return;
        }
        let name = get("name")
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "file".into());
        match get("buffer").and_then(|b| b.dyn_into::<js_sys::ArrayBuffer>().ok()) {
            Some(buffer) => client.open_buffer(name, buffer),
            None => {
                st.error.set(Some(format!(
                    "{name}: the message's buffer is not an ArrayBuffer"
                )));
                st.phase.set(Phase::Error);
            }
        }
    });
    if let Ok(Some(parent)) = window().parent() {
        if !js_sys::Object::is(&parent, &window()) {
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"type".into(), &"ready".into());
            let _ = parent.post_message(&msg, "*");
        }
    }
}

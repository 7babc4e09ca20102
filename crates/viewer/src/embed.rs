//! Embedding: a parent page sends `{type: "open", name, buffer}`; we say `{type: "ready"}`.
//!
//! Only the parent window is listened to. With `?origin=<origin>[,<origin>…]` the parent
//! must also have one of those origins: `event.origin` compared as an exact string
//! (`https://example.com:8443`, no trailing slash, no wildcards). An opaque origin (a
//! sandboxed or `file://` parent) is `null`; it matches only when `null` is listed
//! literally, since any sandboxed page has that same origin. A refused message changes
//! nothing but a note on the page and the console.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::origins;
use crate::state::{Phase, State};
use crate::url_state::search_param;
use crate::worker_client::Client;

/// The origins `?origin=` allows (`None`: any, as long as it is the parent window).
fn allowed_origins() -> Option<Vec<String>> {
    search_param("origin").map(|p| origins::parse_list(&p))
}

/// Listens for `open` messages from the parent window and tells the parent we are ready.
pub fn listen(st: State, client: Client) {
    let allowed = allowed_origins();
    let ready_targets: Vec<String> = match &allowed {
        // Say "ready" only to the allowed origins (an opaque one can only be reached by "*").
        Some(list) => list
            .iter()
            .map(|o| if o == "null" { "*".into() } else { o.clone() })
            .collect(),
        None => vec!["*".into()],
    };
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
        let origin = ev.origin();
        if !origins::allowed(allowed.as_deref(), &origin) {
            let note = format!("ignored a file sent from {origin}: this page accepts files only from the origins in ?origin=");
            web_sys::console::warn_1(&note.clone().into());
            st.notice.set(Some(note));
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
            for target in &ready_targets {
                // A target that is not the parent's origin is dropped by the browser.
                let _ = parent.post_message(&msg, target);
            }
        }
    }
}

//! Questions to the worker that holds the shown file: the selected item's details (asked on
//! each selection, shown when they arrive; an answer to an older selection is dropped) and
//! exports (written there, received as a Blob, saved as a download).

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::Client;
use crate::dom::window;
use crate::protocol::FromWorker;
use crate::state::Details;

impl Client {
    fn next_id(&self) -> u32 {
        let id = self.next_id.get_value().wrapping_add(1);
        self.next_id.set_value(id);
        id
    }

    /// Posts a request object to the model worker; false if there is none.
    fn ask(&self, fields: &[(&str, JsValue)]) -> bool {
        let Some((w, _)) = self.model.get_value() else {
            return false;
        };
        let msg = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&msg, &(*k).into(), v);
        }
        w.post_message(&msg).is_ok()
    }

    /// Asks for the details of every new selection (one effect for the page's life).
    pub fn follow_selection(&self) {
        let this = *self;
        let st = self.st;
        Effect::new(move |_| {
            let Some((row, item)) = st.selected.get() else {
                st.details.set(None);
                return;
            };
            if st
                .details
                .with_untracked(|d| d.as_ref().is_some_and(|d| d.at == (row, item)))
            {
                return;
            }
            let id = this.next_id();
            let asked = this.ask(&[
                ("req", "details".into()),
                ("id", id.into()),
                ("row", (row as f64).into()),
                ("item", (item as f64).into()),
            ]);
            st.details.set(Some(Details {
                at: (row, item),
                id,
                answer: (!asked).then(|| {
                    Err("the worker that held this file is gone: open the file again to see details".into())
                }),
            }));
        });
    }

    /// Asks the model worker for an export (`chrome`, `otlp` or `cache`); it arrives as a
    /// Blob and is saved as a download.
    pub fn export(&self, format: &'static str) {
        let id = self.next_id();
        self.export_id.set_value(Some(id));
        let asked = self.ask(&[
            ("req", "export".into()),
            ("id", id.into()),
            ("format", format.into()),
        ]);
        self.st.notice.set(Some(if asked {
            format!("writing the {format} export…")
        } else {
            "the worker that held this file is gone: open the file again to export it".into()
        }));
    }

    /// One message of the model worker.
    pub(super) fn on_model_message(&self, data: JsValue) {
        let st = self.st;
        if let Some(text) = data.as_string() {
            match crate::protocol::decode(&text) {
                Ok(FromWorker::Details {
                    id,
                    row,
                    item,
                    details,
                }) => st.details.update(|d| {
                    if let Some(d) = d.as_mut().filter(|d| d.id == id && d.at == (row, item)) {
                        d.answer = Some(Ok(Arc::new(*details)));
                    }
                }),
                Ok(FromWorker::Failed { id, message }) => {
                    if self.export_id.get_value() == Some(id) {
                        st.notice.set(Some(format!("export failed: {message}")));
                    }
                    st.details.update(|d| {
                        if let Some(d) = d.as_mut().filter(|d| d.id == id) {
                            d.answer = Some(Err(message.clone()));
                        }
                    });
                }
                Ok(FromWorker::Crashed { message }) => self.model_died(&message),
                Ok(_) => {}
                Err(e) => st.notice.set(Some(e)),
            }
            return;
        }
        let kind = js_sys::Reflect::get(&data, &"kind".into())
            .ok()
            .and_then(|k| k.as_string());
        if kind.as_deref() == Some("export") {
            let id = js_sys::Reflect::get(&data, &"id".into())
                .ok()
                .and_then(|v| v.as_f64());
            if id != self.export_id.get_value().map(f64::from) {
                return;
            }
            let suffix = js_sys::Reflect::get(&data, &"suffix".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| "json".into());
            if let Some(blob) = js_sys::Reflect::get(&data, &"blob".into())
                .ok()
                .and_then(|b| b.dyn_into::<web_sys::Blob>().ok())
            {
                save(
                    st.data
                        .with_untracked(|d| d.as_ref().map(|d| d.name.clone())),
                    &suffix,
                    &blob,
                );
                st.notice.set(Some(format!("saved {suffix}")));
            }
        }
    }

    /// The model worker ended: the view stays, but its details and exports are gone.
    pub(super) fn model_died(&self, reason: &str) {
        if let Some((w, _)) = self.model.get_value() {
            w.terminate();
        }
        self.model.set_value(None);
        self.st.notice.set(Some(format!(
            "the worker holding this file stopped ({reason}): open the file again for details and exports"
        )));
    }
}

/// Saves `blob` as `<stem>.<suffix>`.
fn save(name: Option<String>, suffix: &str, blob: &web_sys::Blob) {
    let name = name.unwrap_or_default();
    let stem = name
        .rsplit('/')
        .next()
        .unwrap_or("rollout")
        .trim_end_matches(".pt")
        .trim_end_matches(".json")
        .to_string();
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Some(a) = window()
        .document()
        .and_then(|doc| doc.create_element("a").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(&format!("{stem}.{suffix}"));
        a.click();
    }
    // The download has its own reference to the Blob; the URL can go once clicked (later,
    // so a slow browser has read it).
    let cb = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ =
        window().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 10_000);
}

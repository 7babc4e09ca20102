//! The run explorer's one piece linked into the timeline page (everything else under `run/`
//! is the lazily loaded run app, `bin/runapp`). The page takes a run from the folder input, a
//! dropped folder or `?run=<index URL>`, puts it on `window.__rollscope_run_source`
//! (`{files: [[path, File], …]}` or `{url}`) and starts the run app once (its Trunk loader
//! `runapp_loader.js`, as a module script: same origin, no eval, no snippet in the page's
//! glue, which a one-file report inlines); later runs reach the started app as a
//! `rollscope-run-open` window event. The two apps then talk through window events only:
//! `rollscope-open-timeline` (run app → page: `{file, url, name, rowId}`, all null = just
//! show the timeline) and `rollscope-show-run` (page → run app, "Back to run").

use js_sys::{Array, Function, Promise, Reflect};
use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::dom::window;
use crate::input::Input;
use crate::state::State;
use crate::worker_client::Client;

/// Where the page leaves the run to open for the run app.
pub const SOURCE_KEY: &str = "__rollscope_run_source";
/// Page → run app: a new run is on [`SOURCE_KEY`].
pub const EV_RUN_OPEN: &str = "rollscope-run-open";
/// Run app → page: open a dump (or nothing) in the timeline and show it.
pub const EV_OPEN_TIMELINE: &str = "rollscope-open-timeline";
/// Page → run app: the run view is shown again.
pub const EV_SHOW_RUN: &str = "rollscope-show-run";
/// The run app's start (Trunk's loader shim for the `runapp` bin).
const RUN_APP_LOADER: &str = "./runapp_loader.js";

/// Most files taken from one folder: the run listing's cap, as in the CLI and Python.
const MAX_FILES: usize = trace::run::MAX_RUN_FILES;
/// Deepest folder walked under a dropped folder.
const MAX_DEPTH: usize = 16;

fn prop(v: &JsValue, k: &str) -> Option<JsValue> {
    Reflect::get(v, &k.into())
        .ok()
        .filter(|x| !x.is_undefined() && !x.is_null())
}

/// A one-file report carries the timeline's modules only.
fn in_report() -> bool {
    prop(&window(), "__rollscope_worker_url").is_some()
}

/// Why a one-file report opens no run (said by its "Open run folder…" button).
pub const REPORT_NO_RUN: &str =
    "runs open in the served viewer (rollscope DIR) or the static viewer, not in a one-file report";

/// What the toolbar shows for opening a run: the folder input, or in a report a button that
/// says where runs open.
pub fn run_button(st: State) -> impl IntoView {
    // `webkitdirectory` (choose a folder) has no typed attribute in the view macro.
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = folder.get() {
            let _ = el.set_attribute("webkitdirectory", "");
        }
    });
    if in_report() {
        return Either::Left(view! {
            <button data-testid="run-input-report" title=REPORT_NO_RUN
                on:click=move |_| st.notice.set(Some(REPORT_NO_RUN.into()))>"Open run folder…"</button>
        });
    }
    Either::Right(view! {
        <label class="button" title="A slime --dump-details folder (rollout_data/, train_data/, tokenizer/) or a folder of dumps">
            "Open run folder…"
            <input type="file" data-testid="run-input" node_ref=folder multiple on:change=move |ev| pick_folder(st, ev) />
        </label>
    })
}

/// Hands the run over: on `window`, then to the run app (started now, or told by event).
fn hand_off(st: State, source: JsValue) {
    let _ = Reflect::set(&window(), &SOURCE_KEY.into(), &source);
    // The link is the run explorer's from now on (`url_state` does not write it).
    st.run_link.set(true);
    st.run_shown.set(Some(true));
    if st.run_app.get_untracked() {
        dispatch(EV_RUN_OPEN, &JsValue::NULL);
        return;
    }
    st.run_app.set(true);
    let Some(doc) = window().document() else {
        return;
    };
    let Ok(script) = doc.create_element("script") else {
        return;
    };
    let _ = script.set_attribute("type", "module");
    let _ = script.set_attribute("src", RUN_APP_LOADER);
    let onerror = Closure::once_into_js(move || {
        st.run_app.set(false);
        st.run_shown.set(None);
        st.notice.set(Some(
            "the run explorer could not be loaded (runapp_loader.js)".into(),
        ));
    });
    let _ = Reflect::set(&script, &"onerror".into(), &onerror);
    if let Some(head) = doc.head() {
        let _ = head.append_child(&script);
    }
}

/// `?run=<index URL>`: the run app reads the index.
pub fn open_url(st: State, url: String) {
    let src = js_sys::Object::new();
    let _ = Reflect::set(&src, &"url".into(), &url.into());
    hand_off(st, src.into());
}

fn open_files(st: State, files: Vec<(String, JsValue)>) {
    let list = Array::new();
    for (path, file) in files {
        list.push(&Array::of2(&path.into(), &file));
    }
    let src = js_sys::Object::new();
    let _ = Reflect::set(&src, &"files".into(), &list);
    hand_off(st, src.into());
}

/// A window event for the run app (`detail` as given).
pub fn dispatch(name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = window().dispatch_event(&ev);
    }
}

/// "Back to run".
pub fn show_run(st: State) {
    st.run_shown.set(Some(true));
    dispatch(EV_SHOW_RUN, &JsValue::NULL);
}

/// Shows the timeline instead of the run view (a dump opened from the run, or a file opened
/// with Open… or dropped while the run was shown); "Back to run" returns.
pub fn show_timeline(st: State) {
    if st.run_shown.get_untracked() != Some(true) {
        return;
    }
    st.run_shown.set(Some(false));
    // The timeline measured its box while hidden: measure again once shown.
    let resize = Closure::once_into_js(|| {
        if let Ok(ev) = web_sys::Event::new("resize") {
            let _ = window().dispatch_event(&ev);
        }
    });
    let _ =
        window().set_timeout_with_callback_and_timeout_and_arguments_0(resize.unchecked_ref(), 0);
}

/// Listens for the run app's `rollscope-open-timeline`: opens that dump as any file, then
/// selects the sample's row (its `row_id` is the sample's position in the dump).
pub fn listen(st: State, client: Client, input: Input) {
    let pending = StoredValue::new(None::<usize>);
    let cb = Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |ev: web_sys::CustomEvent| {
        let d = ev.detail();
        let row = prop(&d, "rowId")
            .and_then(|r| r.as_f64())
            .map(|r| r as usize);
        if let Some(f) = prop(&d, "file").and_then(|f| f.dyn_into::<web_sys::File>().ok()) {
            pending.set_value(row);
            client.open_file(f);
        } else if let Some(u) = prop(&d, "url").and_then(|u| u.as_string()) {
            pending.set_value(row);
            client.open_url(u);
        }
        show_timeline(st);
    });
    let _ =
        window().add_event_listener_with_callback(EV_OPEN_TIMELINE, cb.as_ref().unchecked_ref());
    cb.forget();
    Effect::new(move |_| {
        let Some(d) = st.data.get() else { return };
        let Some(pos) = pending.get_value() else {
            return;
        };
        pending.set_value(None);
        match d.heads.iter().position(|h| h.row_id == pos) {
            Some(ri) => input.reveal(ri),
            None => st.notice.set(Some(format!(
                "sample {pos} has no trace events in this dump"
            ))),
        }
    });
}

/// A link naming a run's step or comparison (`#step=…`, `#cmp=…`) without `?run=`: the run
/// was a folder, which only the user can open again.
pub fn folder_link_notice(st: State) {
    let hash = window().location().hash().unwrap_or_default();
    let Ok(p) = web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')) else {
        return;
    };
    let step = p.get("step").filter(|s| !s.is_empty());
    if step.is_none() && p.get("cmp").is_none() {
        return;
    }
    st.run_link.set(true);
    st.notice.set(Some(format!(
        "this link names {} of a run opened from a folder: open that folder again (Open run folder…)",
        step.map(|s| format!("step {s}"))
            .unwrap_or_else(|| "a comparison".into())
    )));
}

/// The folder input's `change`: every file with its `webkitRelativePath`.
fn pick_folder(st: State, ev: leptos::ev::Event) {
    let input: web_sys::HtmlInputElement = event_target(&ev);
    let mut files = Vec::new();
    if let Some(list) = input.files() {
        for i in 0..list.length().min(MAX_FILES as u32) {
            let Some(f) = list.get(i) else { continue };
            let rel = prop(&f, "webkitRelativePath")
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| f.name());
            files.push((rel, JsValue::from(f)));
        }
    }
    input.set_value("");
    if files.is_empty() {
        st.notice.set(Some("the chosen folder has no files".into()));
        return;
    }
    open_files(st, files);
}

/// A drop on the page: a folder (or more than one file) opens as a run and returns true; a
/// single file returns false (the timeline opens it). The entries are taken now, while the
/// drop's data is readable, and walked afterwards.
pub fn drop(st: State, ev: &web_sys::DragEvent) -> bool {
    let Some(dt) = ev.data_transfer() else {
        return false;
    };
    let Some(items) = prop(&dt, "items") else {
        return false;
    };
    let n = prop(&items, "length")
        .and_then(|l| l.as_f64())
        .unwrap_or(0.0) as u32;
    let mut entries = Vec::new();
    for i in 0..n {
        let Ok(item) = Reflect::get_u32(&items, i) else {
            continue;
        };
        if prop(&item, "kind").and_then(|k| k.as_string()).as_deref() != Some("file") {
            continue;
        }
        let entry = prop(&item, "webkitGetAsEntry")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(&item).ok())
            .filter(|e| !e.is_null() && !e.is_undefined());
        if let Some(e) = entry {
            entries.push(e);
        }
    }
    let is_dir = |e: &JsValue| prop(e, "isDirectory").is_some_and(|d| d.is_truthy());
    if !(entries.iter().any(is_dir) || entries.len() > 1) {
        return false;
    }
    ev.prevent_default();
    if in_report() {
        st.notice.set(Some(REPORT_NO_RUN.into()));
        return true;
    }
    leptos::task::spawn_local(async move {
        match walk(entries).await {
            Ok(files) if files.is_empty() => st
                .notice
                .set(Some("the dropped folder has no files".into())),
            Ok(files) => open_files(st, files),
            Err(e) => st.notice.set(Some(format!("the dropped folder: {e}"))),
        }
    });
    true
}

/// A callback-style entry method (`readEntries`, `file`) as a future.
async fn call_cb(target: &JsValue, method: &str) -> Result<JsValue, String> {
    let f = prop(target, method)
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| format!("this browser cannot read dropped folders ({method})"))?;
    let p = Promise::new(&mut |resolve, reject| {
        let _ = f.call2(target, &resolve, &reject);
    });
    JsFuture::from(p).await.map_err(|e| {
        prop(&e, "message")
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "a file could not be read".into())
    })
}

/// Every file under the dropped entries, with its path (the entry's `fullPath`, no leading
/// `/`), breadth first, bounded by [`MAX_FILES`] and [`MAX_DEPTH`].
async fn walk(entries: Vec<JsValue>) -> Result<Vec<(String, JsValue)>, String> {
    let mut out = Vec::new();
    let mut todo: Vec<(JsValue, usize)> = entries.into_iter().map(|e| (e, 0)).collect();
    while let Some((e, depth)) = todo.pop() {
        if out.len() >= MAX_FILES {
            break;
        }
        let path = prop(&e, "fullPath")
            .and_then(|p| p.as_string())
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        if prop(&e, "isDirectory").is_some_and(|d| d.is_truthy()) {
            if depth >= MAX_DEPTH {
                continue;
            }
            let reader = prop(&e, "createReader")
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call0(&e).ok())
                .ok_or("this browser cannot read dropped folders")?;
            // `readEntries` gives a batch at a time until an empty one.
            loop {
                let batch: Array = call_cb(&reader, "readEntries").await?.unchecked_into();
                if batch.length() == 0 || todo.len() + out.len() > MAX_FILES {
                    break;
                }
                for child in batch.iter() {
                    todo.push((child, depth + 1));
                }
            }
        } else {
            let file = call_cb(&e, "file")
                .await
                .map_err(|m| format!("{path}: {m}"))?;
            out.push((path, file));
        }
    }
    Ok(out)
}

//! Opening a run: a folder chosen with the `webkitdirectory` input, a folder (or several
//! dumps) dropped onto the page, or `?run=<index URL>` from `rollscope DIR`. Each gives the
//! run's relative paths and, per path, a `File` or an absolute URL; `RunClient::open` does the
//! rest. A single dropped file is not a run: it opens in the timeline as before.

use js_sys::{Array, Function, Promise, Reflect};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::client::RunClient;
use crate::dom::window;

/// Most files taken from one folder (a run has one dump per rollout: thousands at most).
const MAX_FILES: usize = 200_000;
/// Deepest folder walked under a dropped folder.
const MAX_DEPTH: usize = 16;
/// Largest run index read (`{"files": [...]}`: about 60 bytes per file).
const MAX_INDEX_BYTES: f64 = 64.0 * 1048576.0;

fn prop(v: &JsValue, k: &str) -> Option<JsValue> {
    Reflect::get(v, &k.into())
        .ok()
        .filter(|x| !x.is_undefined() && !x.is_null())
}

/// The run's name: the first path's top folder (`run/rollout_data/0.pt` → `run`).
fn run_name(files: &[(String, JsValue)]) -> String {
    files
        .first()
        .and_then(|(p, _)| p.split_once('/').map(|(top, _)| top.to_string()))
        .unwrap_or_else(|| "run".into())
}

/// The folder input's `change`: every file with its `webkitRelativePath`.
pub fn pick_folder(run: RunClient, ev: leptos::ev::Event) {
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
        run.state()
            .error
            .set(Some("the chosen folder has no files".into()));
        return;
    }
    run.open(run_name(&files), files);
}

/// A drop on the page: a folder (or more than one file) opens as a run and returns true; a
/// single file returns false (the timeline opens it). The entries are taken now, while the
/// drop's data is readable, and walked afterwards.
pub fn drop(run: RunClient, ev: &web_sys::DragEvent) -> bool {
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
    leptos::task::spawn_local(async move {
        match walk(entries).await {
            Ok(files) if files.is_empty() => run
                .state()
                .error
                .set(Some("the dropped folder has no files".into())),
            Ok(files) => run.open(run_name(&files), files),
            Err(e) => run
                .state()
                .error
                .set(Some(format!("the dropped folder: {e}"))),
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

#[derive(Deserialize)]
struct Index {
    files: Vec<IndexFile>,
}

#[derive(Deserialize)]
struct IndexFile {
    path: String,
}

/// `?run=<index URL>`: reads `{"files": [{"path", "size"}…]}` and opens the run with each
/// file at `f/<path, each segment encoded>` beside the index.
pub fn open_index(run: RunClient, url: String) {
    let base = window().location().href().unwrap_or_default();
    let index = match web_sys::Url::new_with_base(&url, &base) {
        Ok(u) => u.href(),
        Err(_) => {
            run.state()
                .error
                .set(Some(format!("?run={url}: not a URL")));
            return;
        }
    };
    run.state().name.set(Some(url.clone()));
    leptos::task::spawn_local(async move {
        match read_index(&index).await {
            Ok(files) => run.open(url, files),
            Err(e) => run.state().error.set(Some(format!("run index {url}: {e}"))),
        }
    });
}

async fn read_index(index: &str) -> Result<Vec<(String, JsValue)>, String> {
    let resp = JsFuture::from(window().fetch_with_str(index))
        .await
        .map_err(|_| "download failed (network error or refused)".to_string())?;
    let resp: web_sys::Response = resp.unchecked_into();
    if !resp.ok() {
        return Err(format!("download failed: HTTP {}", resp.status()));
    }
    let claimed: Option<f64> = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    if claimed.is_some_and(|n| n > MAX_INDEX_BYTES) {
        return Err(format!("larger than {:.0} MB", MAX_INDEX_BYTES / 1e6));
    }
    let text = JsFuture::from(resp.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "download failed while reading".to_string())?
        .as_string()
        .unwrap_or_default();
    if text.len() as f64 > MAX_INDEX_BYTES {
        return Err(format!("larger than {:.0} MB", MAX_INDEX_BYTES / 1e6));
    }
    let parsed: Index = serde_json::from_str(&text)
        .map_err(|e| format!("not a run index ({{\"files\": [{{\"path\": …}}]}}): {e}"))?;
    let mut out = Vec::new();
    for f in parsed.files.into_iter().take(MAX_FILES) {
        // A path is a file under the run: no `..`, `.` or empty segment may lead elsewhere.
        if f.path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(format!("{:?}: not a relative path inside the run", f.path));
        }
        let rel: Vec<String> = f
            .path
            .split('/')
            .map(|s| String::from(js_sys::encode_uri_component(s)))
            .collect();
        let href = web_sys::Url::new_with_base(&format!("f/{}", rel.join("/")), index)
            .map(|u| u.href())
            .map_err(|_| format!("{}: no URL can be made for this path", f.path))?;
        out.push((f.path, JsValue::from(href)));
    }
    Ok(out)
}

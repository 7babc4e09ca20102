//! Opening a run in the run app: what the page handed over (`handoff`): the files of a folder
//! chosen or dropped there, or `?run=<index URL>` from `rollscope DIR`. Each gives the run's
//! relative paths and, per path, a `File` or an absolute URL; `RunClient::open` does the rest.
//! A served run is then followed (`RunClient::follow`: its index polled); a chosen folder can
//! be read again (*Reload*).

use js_sys::{Array, Reflect};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::client::RunClient;
use super::live::Source;
use crate::dom::window;

/// Most files taken from one folder: the run listing's cap, as in the CLI and Python.
const MAX_FILES: usize = trace::run::MAX_RUN_FILES;
/// Largest run index read (`{"files": [...]}`: about 60 bytes per file).
pub const MAX_INDEX_BYTES: f64 = 64.0 * 1048576.0;

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

/// Opens what the page left on `window.__rollscope_run_source` (see `handoff`):
/// `{files: [[path, File], …]}` or `{url}` (a run index). Nothing there: nothing opens.
pub fn open_from_window(run: RunClient) {
    let Some(src) = prop(&window(), super::handoff::SOURCE_KEY) else {
        return;
    };
    if let Some(url) = prop(&src, "url").and_then(|u| u.as_string()) {
        open_index(run, url);
        return;
    }
    let Some(list) = prop(&src, "files").and_then(|l| l.dyn_into::<Array>().ok()) else {
        return;
    };
    let files: Vec<(String, JsValue)> = list
        .iter()
        .take(MAX_FILES)
        .filter_map(|pair| {
            let path = Reflect::get_u32(&pair, 0).ok()?.as_string()?;
            Some((path, Reflect::get_u32(&pair, 1).ok()?))
        })
        .collect();
    if files.is_empty() {
        run.state()
            .error
            .set(Some("the chosen folder has no files".into()));
        return;
    }
    run.open(run_name(&files), files);
    run.state().source.set(Source::Picked);
}

#[derive(Deserialize)]
struct Index {
    /// The run folder's name (`rollscope DIR` writes it).
    #[serde(default)]
    name: Option<String>,
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
            Ok((name, files)) => {
                run.open(name.unwrap_or(url), files);
                run.state().source.set(Source::Served);
                run.follow(index);
            }
            Err(e) => run.state().error.set(Some(format!("run index {url}: {e}"))),
        }
    });
}

/// A run index read: the run's name, when it has one, and its files with their URLs.
pub type IndexRun = (Option<String>, Vec<(String, JsValue)>);

/// The index's run name, when it has one, and its files.
async fn read_index(index: &str) -> Result<IndexRun, String> {
    let too_big = |_| format!("larger than {:.0} MB", MAX_INDEX_BYTES / 1e6);
    let resp = crate::fetch::fetch_capped(index, Some((MAX_INDEX_BYTES, &too_big)))
        .await?
        .response;
    let text = JsFuture::from(resp.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "download failed while reading".to_string())?
        .as_string()
        .unwrap_or_default();
    index_files(&text, index)
}

/// The run's name, when the index has one, and the files its `text` lists, each with its URL
/// beside the index at `index`.
pub fn index_files(text: &str, index: &str) -> Result<IndexRun, String> {
    if text.len() as f64 > MAX_INDEX_BYTES {
        return Err(format!("larger than {:.0} MB", MAX_INDEX_BYTES / 1e6));
    }
    let parsed: Index = serde_json::from_str(text)
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
    let name = parsed
        .name
        .filter(|n| !n.is_empty() && n.chars().count() <= 256);
    Ok((name, out))
}

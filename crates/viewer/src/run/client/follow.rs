//! Keeping an open run current while it is written (issue #21): a served run's index is
//! asked again every [`POLL_MS`] with its `ETag` (`304`: nothing to do, nothing parsed); a
//! folder is read again by *Reload* (picked again, or read through its directory handle,
//! which is then read again every [`POLL_MS`]). Each new list goes through
//! [`RunClient::refresh`]: laid out again, what the page holds moved with its files
//! (`run::live`), and the worker told (`update`), which reads only what it has not read. A
//! poll or re-scan stops when another run is opened (the worker's generation changes).

use std::cell::RefCell;

use js_sys::{Array, Function, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::super::live::{self, Source, POLL_MS};
use super::super::state::RunState;
use super::{set, RunClient};
use crate::dom::window;

/// Most files taken from one folder: the run listing's cap.
const MAX_FILES: usize = trace::run::MAX_RUN_FILES;

thread_local! {
    /// The chosen folder's directory handle (`showDirectoryPicker`), once there is one.
    static HANDLE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// The slot of the dump `file` in the page's list, if it is there.
pub(super) fn slot_of(rs: RunState, file: Option<&str>) -> Option<usize> {
    let file = file?;
    rs.dumps
        .with_untracked(|d| d.iter().position(|x| x.file == file))
}

/// Resolves after `ms`.
async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

impl RunClient {
    /// Whether the run this poll was started for is still the one open.
    fn still(&self, generation: u32) -> bool {
        self.generation.get_value() == generation
    }

    /// Polls the served run index at `index` (an absolute URL) until another run opens.
    pub fn follow(&self, index: String) {
        let this = *self;
        let generation = self.generation.get_value();
        leptos::task::spawn_local(async move {
            let mut etag = String::new();
            loop {
                sleep(POLL_MS).await;
                if !this.still(generation) {
                    return;
                }
                let Some((text, tag)) = poll_index(&index, &etag).await else {
                    continue;
                };
                etag = tag;
                if let Ok((_, files)) = super::super::open::index_files(&text, &index) {
                    if this.still(generation) {
                        this.refresh(files);
                    }
                }
            }
        });
    }

    /// The run's files listed again (every path and its `File` or URL): laid out again, what
    /// the page holds moved with its files, and the worker told what is new.
    pub fn refresh(&self, files: Vec<(String, JsValue)>) {
        let rs = self.rs;
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        let layout = trace::run::layout(&paths);
        if layout.dumps.is_empty() {
            return;
        }
        let old = rs.dumps.get_untracked();
        let unread = rs
            .summaries
            .with_untracked(|s| s.iter().any(Option::is_none));
        if !live::changed(&old, &layout.dumps) && !unread {
            return;
        }
        let mut wanted: Vec<&str> = Vec::new();
        for d in &layout.dumps {
            wanted.push(&d.file);
            wanted.extend(d.train_file.as_deref());
        }
        wanted.extend(layout.tokenizer.as_deref());
        let sources: std::collections::HashMap<String, JsValue> = files
            .into_iter()
            .filter(|(p, _)| wanted.contains(&p.as_str()))
            .collect();
        let map = live::remap(&old, &layout.dumps);
        let n = layout.dumps.len();
        rs.summaries
            .update(|s| *s = std::sync::Arc::new(live::move_slots(s, &map, n)));
        let step_was = rs.open_step.get_untracked();
        let step_now = live::move_index(step_was, &map);
        if step_now != step_was {
            rs.open_step.set(step_now);
        }
        let (a, b) = rs.compare.get_untracked();
        let moved = (live::move_index(a, &map), live::move_index(b, &map));
        if moved != (a, b) {
            rs.compare.set(moved);
        }
        rs.writing
            .update(|w| *w = live::still_writing(w, &layout.dumps));
        if layout.tokenizer.is_some() && !rs.has_tokenizer.get_untracked() {
            rs.has_tokenizer.set(true);
        }
        rs.dumps.set(std::sync::Arc::new(layout.dumps.clone()));
        if rs
            .summaries
            .with_untracked(|s| s.iter().any(Option::is_none))
        {
            rs.done.set(false);
        }
        let msg = js_sys::Object::new();
        set(&msg, "run", &"update".into());
        set(
            &msg,
            "layout",
            &serde_json::to_string(&layout).unwrap_or_default().into(),
        );
        let (p, s) = (Array::new(), Array::new());
        for (path, src) in &sources {
            p.push(&path.into());
            s.push(src);
        }
        set(&msg, "paths", &p);
        set(&msg, "sources", &s);
        self.sources.set_value(sources);
        self.post(msg);
        // A step asked for under its old index is answered under that index and dropped:
        // ask again under the new one.
        if let (Some(was), Some(now)) = (step_was, step_now) {
            if was != now && rs.step.with_untracked(Option::is_none) {
                rs.open_step.set(None);
                self.open_step(now);
            }
        }
    }

    /// *Reload* for a folder opened from disk: read through its directory handle where the
    /// browser gives one (asked for once, then read again every [`POLL_MS`]), else `repick`
    /// (the folder input) chooses it again.
    pub fn reload(&self, repick: &web_sys::HtmlInputElement) {
        let this = *self;
        if let Some(h) = HANDLE.with(|h| h.borrow().clone()) {
            leptos::task::spawn_local(async move { this.rescan(&h).await });
            return;
        }
        let picker = Reflect::get(&window(), &"showDirectoryPicker".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let Some(picker) = picker else {
            repick.click();
            return;
        };
        let Ok(p) = picker.call0(&window()) else {
            repick.click();
            return;
        };
        let generation = self.generation.get_value();
        leptos::task::spawn_local(async move {
            // Cancelled: nothing changes.
            let Ok(handle) = JsFuture::from(Promise::from(p)).await else {
                return;
            };
            HANDLE.with(|h| *h.borrow_mut() = Some(handle.clone()));
            this.rs.source.set(Source::Handle);
            while this.still(generation) {
                this.rescan(&handle).await;
                sleep(POLL_MS).await;
            }
            HANDLE.with(|h| *h.borrow_mut() = None);
        });
    }

    /// The folder input's files chosen again.
    pub fn repicked(&self, input: &web_sys::HtmlInputElement) {
        let mut files = Vec::new();
        if let Some(list) = input.files() {
            for i in 0..list.length().min(MAX_FILES as u32) {
                let Some(f) = list.get(i) else { continue };
                let rel = Reflect::get(&f, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|p| p.as_string())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| f.name());
                files.push((rel, JsValue::from(f)));
            }
        }
        input.set_value("");
        if !files.is_empty() {
            self.refresh(files);
        }
    }

    async fn rescan(&self, handle: &JsValue) {
        match walk_handle(handle).await {
            Ok(files) => self.refresh(files),
            Err(e) => self
                .rs
                .notes
                .update(|n| n.push(format!("reading the folder again: {e}"))),
        }
    }
}

/// The index at `url` unless it is still the one tagged `etag`: its text and new tag.
async fn poll_index(url: &str, etag: &str) -> Option<(String, String)> {
    let headers: Vec<(&str, &str)> = if etag.is_empty() {
        Vec::new()
    } else {
        vec![("If-None-Match", etag)]
    };
    let resp = crate::fetch::fetch_with_headers(url, &headers).await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    let claimed: Option<f64> = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    if claimed.is_some_and(|n| n > super::super::open::MAX_INDEX_BYTES) {
        return None;
    }
    let tag = resp
        .headers()
        .get("etag")
        .ok()
        .flatten()
        .unwrap_or_default();
    let text = JsFuture::from(resp.text().ok()?).await.ok()?.as_string()?;
    Some((text, tag))
}

/// Awaits `target.method()` (a promise).
async fn call(target: &JsValue, method: &str) -> Result<JsValue, String> {
    let f: Function = Reflect::get(target, &method.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("this browser has no {method}"))?;
    let p = f
        .call0(target)
        .map_err(|e| crate::worker_boot::js_text(&e))?;
    JsFuture::from(Promise::from(p))
        .await
        .map_err(|e| crate::worker_boot::js_text(&e))
}

/// The files of a directory handle and of its folders one level down (as the run listing
/// reads a run), as `<folder>/<sub>/<name>` (the folder input's paths), at most
/// [`MAX_FILES`]; names starting with `.` are skipped.
async fn walk_handle(root: &JsValue) -> Result<Vec<(String, JsValue)>, String> {
    let name = |h: &JsValue| {
        Reflect::get(h, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut todo = vec![(root.clone(), name(root), 0)];
    while let Some((dir, path, depth)) = todo.pop() {
        // `values()` gives an async iterator (not a promise); its `next()` gives promises.
        let iter = Reflect::get(&dir, &"values".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(&dir).ok())
            .ok_or("this browser cannot list a folder")?;
        loop {
            let step = call(&iter, "next").await?;
            if Reflect::get(&step, &"done".into()).is_ok_and(|d| d.is_truthy()) {
                break;
            }
            let entry = Reflect::get(&step, &"value".into())
                .map_err(|e| crate::worker_boot::js_text(&e))?;
            let n = name(&entry);
            if n.starts_with('.') || out.len() >= MAX_FILES {
                continue;
            }
            let kind = Reflect::get(&entry, &"kind".into())
                .ok()
                .and_then(|k| k.as_string());
            let p = format!("{path}/{n}");
            match kind.as_deref() {
                Some("file") => out.push((p, call(&entry, "getFile").await?)),
                Some("directory") if depth == 0 => todo.push((entry, p, depth + 1)),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The run head's live part: "live" for a served run, *Reload* for a folder (with the folder
/// input it falls back to), and how many dumps are being written.
pub fn live_head(run: RunClient) -> impl IntoView {
    let rs = run.state();
    let repick = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = repick.get() {
            let _ = el.set_attribute("webkitdirectory", "");
        }
    });
    let writing = move || rs.writing.with(Vec::len);
    view! {
        <span class="run-live">
            {move || (rs.source.get() == Source::Served).then(|| view! {
                <span class="muted" data-testid="run-live" title="rollscope serves this run: new dumps appear as they are written">"live"</span>
            })}
            {move || (rs.source.get() == Source::Handle).then(|| view! {
                <span class="muted" data-testid="run-live" title="the folder is read again every 2 s">"live (folder)"</span>
            })}
            <button data-testid="run-reload" class:hidden=move || !matches!(rs.source.get(), Source::Picked | Source::Handle)
                title="Read the folder again: new dumps are added, nothing read is read again"
                on:click=move |_| if let Some(el) = repick.get_untracked() { run.reload(&el) }>"Reload"</button>
            <input type="file" multiple class="hidden" data-testid="run-reload-input" node_ref=repick
                on:change=move |ev| run.repicked(&event_target(&ev)) />
            {move || (writing() > 0).then(|| view! {
                <span class="badge" data-testid="run-writing" title=move || rs.writing.get().join("\n")>
                    {move || format!("{} being written", writing())}</span>
            })}
        </span>
    }
}

//! The parsing worker seen from the page: starting and stopping it, sending it what to read
//! (a file, a URL, a buffer), and turning its answers into state.

use std::sync::Arc;

use leptos::prelude::*;
use timeline::Viewport;
use trace::Row;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::draw::Track;
use crate::protocol::FromWorker;
use crate::state::{counter_tracks, Loaded, Phase, State};
use crate::url_state::Link;

pub mod health;

use health::now_ms;

/// Colours for imported series tracks.
const SERIES_COLORS: [&str; 6] = [
    "#8250df", "#bf3989", "#953800", "#0a3069", "#1b7c83", "#6e7781",
];

/// What the worker is asked to read (see `protocol`).
#[derive(Clone)]
pub enum Source {
    File(web_sys::File),
    Url(String),
    Buffer(js_sys::ArrayBuffer),
}

#[derive(Clone)]
pub struct Request {
    pub name: String,
    pub source: Source,
}

/// The worker and what to do with its answers.
#[derive(Clone, Copy)]
pub struct Client {
    st: State,
    link: Link,
    worker: StoredValue<Option<web_sys::Worker>, LocalStorage>,
    ready: StoredValue<bool>,
    /// A request waiting for the worker to say it is ready.
    pending: StoredValue<Option<Request>, LocalStorage>,
    /// Rows received in batches from the worker, until its `Done`.
    incoming: StoredValue<Vec<Row>>,
    /// Counts workers started: answers of a replaced worker are ignored.
    generation: StoredValue<u32>,
    /// What the current load is called (for messages about it).
    current: StoredValue<String>,
    /// `performance.now()` when the worker was last heard from, and when it was pinged
    /// since (the watchdog, see [`Client::watch`]).
    heard: StoredValue<f64>,
    pinged: StoredValue<Option<f64>>,
    /// A test-hook message waiting for the worker to be ready.
    pending_test: StoredValue<Option<String>>,
}

impl Client {
    pub fn new(st: State, link: Link) -> Client {
        Client {
            st,
            link,
            worker: StoredValue::new_local(None),
            ready: StoredValue::new(false),
            pending: StoredValue::new_local(None),
            incoming: StoredValue::new(Vec::new()),
            generation: StoredValue::new(0),
            current: StoredValue::new(String::new()),
            heard: StoredValue::new(0.0),
            pinged: StoredValue::new(None),
            pending_test: StoredValue::new(None),
        }
    }

    fn post(&self, req: Request) {
        let Some(w) = self.worker.get_value() else {
            return;
        };
        if !self.ready.get_value() {
            self.pending.set_value(Some(req));
            return;
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"name".into(), &req.name.into());
        let _ = match &req.source {
            Source::File(f) => {
                let _ = js_sys::Reflect::set(&msg, &"file".into(), f);
                w.post_message(&msg)
            }
            Source::Url(u) => {
                let _ = js_sys::Reflect::set(&msg, &"url".into(), &u.into());
                w.post_message(&msg)
            }
            Source::Buffer(b) => {
                let _ = js_sys::Reflect::set(&msg, &"buffer".into(), b);
                w.post_message_with_transfer(&msg, &js_sys::Array::of1(b))
            }
        };
    }

    /// Acts on one answer of the worker (or an already built file of a one-file report).
    pub fn handle(&self, msg: Result<FromWorker, String>) {
        let st = self.st;
        if matches!(
            msg,
            Ok(FromWorker::Done { .. } | FromWorker::Series { .. } | FromWorker::Error { .. })
                | Err(_)
        ) {
            // The load is over: a later failure of the worker is not about this file.
            self.current.set_value(String::new());
        }
        match msg {
            Ok(FromWorker::Ready) => {
                self.ready.set_value(true);
                if let Some(req) = self.pending.get_value() {
                    self.pending.set_value(None);
                    self.post(req);
                }
                if let Some(kind) = self.pending_test.get_value() {
                    self.pending_test.set_value(None);
                    self.post_test(kind);
                }
            }
            Ok(FromWorker::Progress { stage, done, total }) => {
                let name = st.progress.get_untracked().map(|p| p.0).unwrap_or_default();
                if total > 0.0 {
                    let detail = format!("{stage}: {done:.0} of {total:.0}");
                    st.progress.set(Some((name, detail, Some((done, total)))));
                } else {
                    st.progress.set(Some((name, stage, None)));
                }
            }
            Ok(FromWorker::Rows { rows }) => {
                self.incoming.update_value(|v| v.extend(rows));
                let n = self.incoming.with_value(Vec::len);
                let name = st.progress.get_untracked().map(|p| p.0).unwrap_or_default();
                st.progress
                    .set(Some((name, format!("receiving rows: {n}"), None)));
            }
            Ok(FromWorker::Done { built }) => self.done(*built),
            Ok(FromWorker::Crashed { message }) => self.died(&message),
            Ok(FromWorker::Pong) => {}
            Ok(FromWorker::Series { series }) => self.series(series),
            Ok(FromWorker::Error { message }) => {
                st.error.set(Some(message));
                st.progress.set(None);
                // The previous view, if any, stays.
                st.phase.set(Phase::Error);
            }
            Err(e) => {
                st.error.set(Some(e));
                st.progress.set(None);
                st.phase.set(Phase::Error);
            }
        }
    }

    fn done(&self, built: trace::Built) {
        let st = self.st;
        let trace::Built {
            mut cache,
            warnings,
            analysis,
        } = built;
        let streamed = self.incoming.with_value(|v| !v.is_empty());
        if streamed {
            self.incoming
                .update_value(|v| cache.rows = std::mem::take(v));
        }
        let name = cache.pt_path.clone();
        let fit = match (cache.global_start, cache.global_end) {
            (Some(a), Some(b)) => Some(Viewport::fit(a, b, st.plot_width(100.0))),
            _ => None,
        };
        let tracks = counter_tracks(&analysis);
        st.painted.set_value(false);
        st.data.set(Some(Arc::new(Loaded {
            name,
            cache,
            warnings,
            analysis,
            tracks,
        })));
        st.view.set(fit);
        st.selected.set(None);
        st.cursor.set(None);
        st.scroll_y.set(0.0);
        st.toggled.set(Default::default());
        self.link.apply_pending();
        st.error.set(None);
        st.warnings_open.set(true);
        st.progress.set(None);
        st.phase.set(Phase::Ready);
    }

    fn series(&self, series: Vec<trace::interop::Series>) {
        let st = self.st;
        st.progress.set(None);
        match st.data.get_untracked() {
            Some(d) => {
                let mut tracks = d.tracks.clone();
                for (i, s) in series.iter().enumerate() {
                    tracks.push(Track {
                        name: s.title(),
                        points: s.points.clone(),
                        color: SERIES_COLORS[i % SERIES_COLORS.len()],
                    });
                }
                st.data.set(Some(Arc::new(Loaded {
                    name: d.name.clone(),
                    cache: d.cache.clone(),
                    warnings: d.warnings.clone(),
                    analysis: d.analysis.clone(),
                    tracks,
                })));
                st.show_counters.set(true);
                st.notice
                    .set(Some(format!("added {} Prometheus series", series.len())));
                st.phase.set(Phase::Ready);
            }
            None => {
                st.error.set(Some(
                    "Prometheus data: open a rollout dump first; its series are drawn above that timeline".into(),
                ));
                st.phase.set(Phase::Error);
            }
        }
    }

    fn on_message(&self, text: String) {
        self.heard.set_value(now_ms());
        self.pinged.set_value(None);
        match crate::protocol::decode(&text) {
            Ok(msg) => self.handle(Ok(msg)),
            Err(e) => {
                // Stop this load: later batches and `Done` must not show a timeline with
                // the undecodable rows missing.
                self.stop();
                self.incoming.set_value(Vec::new());
                let name = self.current.get_value();
                self.handle(Err(if name.is_empty() {
                    e
                } else {
                    format!("{name}: {e}")
                }));
            }
        }
    }

    fn start(&self) -> Option<web_sys::Worker> {
        if let Some(w) = self.worker.get_value() {
            return Some(w);
        }
        let opts = web_sys::WorkerOptions::new();
        opts.set_type(web_sys::WorkerType::Module);
        let w = web_sys::Worker::new_with_options("./worker_loader.js", &opts).ok()?;
        self.ready.set_value(false);
        self.heard.set_value(now_ms());
        self.pinged.set_value(None);
        let generation = self.generation.get_value().wrapping_add(1);
        self.generation.set_value(generation);
        let this = *self;
        // Every handler checks it belongs to the current worker: a replaced worker's last
        // words are ignored.
        let current = move || this.generation.get_value() == generation;
        let cb =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if !current() {
                    return;
                }
                match ev.data().as_string() {
                    Some(text) => this.on_message(text),
                    None => this.handle(Err(
                        "internal: a message from the worker was not text".into()
                    )),
                }
            });
        w.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        cb.forget();
        // An uncaught exception or a trap (`panic = "abort"`, out of memory) in the worker.
        let onerr =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                if current() {
                    let m = ev.message();
                    this.died(if m.is_empty() {
                        "an uncaught error"
                    } else {
                        &m
                    });
                }
            });
        w.set_onerror(Some(onerr.as_ref().unchecked_ref()));
        onerr.forget();
        let onmsgerr = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            if current() {
                this.died("a message from it could not be received");
            }
        });
        w.set_onmessageerror(Some(onmsgerr.as_ref().unchecked_ref()));
        onmsgerr.forget();
        self.worker.set_value(Some(w.clone()));
        Some(w)
    }

    fn stop(&self) {
        if let Some(w) = self.worker.get_value() {
            w.terminate();
        }
        // Whatever the stopped worker still says is ignored.
        self.generation.update_value(|g| *g = g.wrapping_add(1));
        self.worker.set_value(None);
        self.pending.set_value(None);
    }

    pub fn send(&self, req: Request) {
        let st = self.st;
        // A second file replaces the first: stop a worker that is still busy.
        if st.phase.get_untracked() == Phase::Loading {
            self.stop();
        }
        if self.start().is_none() {
            st.error
                .set(Some("could not start the parsing worker".into()));
            st.phase.set(Phase::Error);
            return;
        };
        self.current.set_value(req.name.clone());
        self.heard.set_value(now_ms());
        self.pinged.set_value(None);
        st.progress
            .set(Some((req.name.clone(), "starting".into(), None)));
        st.phase.set(Phase::Loading);
        self.incoming.set_value(Vec::new());
        self.post(req);
    }

    /// The Cancel button: stops the worker, keeps what is shown.
    pub fn cancel(&self) {
        let st = self.st;
        self.stop();
        st.progress.set(None);
        st.phase.set(if st.data.get_untracked().is_some() {
            Phase::Ready
        } else {
            Phase::Idle
        });
    }

    pub fn open_file(&self, file: web_sys::File) {
        self.st.source_url.set(None);
        self.send(Request {
            name: file.name(),
            source: Source::File(file),
        });
    }

    pub fn open_url(&self, url: String) {
        self.st.source_url.set(Some(url.clone()));
        // The worker resolves URLs against its own script; give it an absolute one.
        let base = window().location().href().unwrap_or_default();
        let absolute = web_sys::Url::new_with_base(&url, &base)
            .map(|u| u.href())
            .unwrap_or_else(|_| url.clone());
        self.send(Request {
            name: url,
            source: Source::Url(absolute),
        });
    }

    /// An `ArrayBuffer` from an embedding page.
    pub fn open_buffer(&self, name: String, buffer: js_sys::ArrayBuffer) {
        self.st.source_url.set(None);
        self.send(Request {
            name,
            source: Source::Buffer(buffer),
        });
    }

    /// A one-file report: the rows are inside the page, already built. Returns false if
    /// this page is not one.
    pub fn open_embedded_report(&self) -> bool {
        let Some((name, bytes)) = take_embedded_data() else {
            return false;
        };
        let msg = serde_json::from_slice::<trace::Built>(&bytes)
            .map(|mut built| {
                built.cache.pt_path = name;
                FromWorker::Done {
                    built: Box::new(built),
                }
            })
            .map_err(|e| format!("this report's data cannot be read: {e}"));
        self.handle(msg);
        true
    }
}

/// The rows a one-file report carries (`window.__rollscope_data`, set by its loader).
fn take_embedded_data() -> Option<(String, Vec<u8>)> {
    let w = window();
    let data = js_sys::Reflect::get(&w, &"__rollscope_data".into()).ok()?;
    if data.is_undefined() || data.is_null() {
        return None;
    }
    let name = js_sys::Reflect::get(&data, &"name".into())
        .ok()?
        .as_string()?;
    let bytes: js_sys::Uint8Array = js_sys::Reflect::get(&data, &"bytes".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let _ = js_sys::Reflect::set(&w, &"__rollscope_data".into(), &JsValue::UNDEFINED);
    Some((name, bytes.to_vec()))
}

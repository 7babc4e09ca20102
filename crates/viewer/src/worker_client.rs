//! The parsing workers seen from the page: starting and stopping them, sending them what to
//! read (a file, a URL, a buffer), turning their answers into state, and asking about the
//! open file (an item's details, exports).
//!
//! Two roles: the *loader* reads the next file; the *model* worker holds the file on screen
//! (its rows, attributes, exports). When a load finishes the loader becomes the model and
//! the old model worker is ended (its whole heap freed: a wasm heap never shrinks). So a
//! cancelled or failed load, or a loader that dies, never takes the shown file's details
//! with it.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use timeline::Viewport;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::dom::window;
use crate::draw::Counter;
use crate::protocol::{decode_batch, decode_head, Columns, FromWorker, RowHead, Tables};
use crate::rows::{Loaded, PageRow};
use crate::state::{counter_tracks, Phase, State};
use crate::url_state::Link;
use crate::worker_handle::WorkerHandle;

pub mod health;
mod model;
mod receive;

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

/// How long after a file is on screen the next file's loader starts (not while the first
/// frames are drawn).
const PRESTART_AFTER_MS: i32 = 1000;

/// Rows received in batches from the loader, until its `Done`.
#[derive(Default)]
pub(crate) struct Incoming {
    heads: Vec<RowHead>,
    rows: Vec<PageRow>,
    tables: Tables,
    /// The analysis's `in_flight` steps, sent as columns before `Done` (a million-span
    /// dump has a million steps: 12 MB as JSON text).
    in_flight: Option<Vec<(f64, u32)>>,
}

/// The workers and what to do with their answers.
#[derive(Clone, Copy)]
pub struct Client {
    st: State,
    link: Link,
    /// The loader (see the module doc) and whether it said it is ready.
    worker: StoredValue<Option<Rc<WorkerHandle>>, LocalStorage>,
    ready: StoredValue<bool>,
    /// The worker holding the shown file, and its generation.
    model: StoredValue<Option<(Rc<WorkerHandle>, u32)>, LocalStorage>,
    /// A request waiting for the loader to say it is ready.
    pending: StoredValue<Option<Request>, LocalStorage>,
    incoming: StoredValue<Incoming, LocalStorage>,
    /// The loader's generation: counts workers started, so answers of a replaced loader
    /// are ignored (the model worker keeps the generation it had as a loader).
    generation: StoredValue<u32>,
    /// What the current load is called (for messages about it).
    current: StoredValue<String>,
    /// `performance.now()` when the loader was last heard from, and when it was pinged
    /// since (the watchdog, see [`Client::watch`]).
    heard: StoredValue<f64>,
    pinged: StoredValue<Option<f64>>,
    /// A test-hook message waiting for the loader to be ready.
    pending_test: StoredValue<Option<String>>,
    /// Whether the loader has work outstanding (a file being read, a test-hook message): one
    /// that dies idle, started ahead of a file or done with one, goes quietly (`health.rs`).
    asked: StoredValue<bool>,
    /// Ids of requests to the model worker (details, exports); the latest export's id.
    next_id: StoredValue<u32>,
    export_id: StoredValue<Option<u32>>,
}

impl Client {
    pub fn new(st: State, link: Link) -> Client {
        Client {
            st,
            link,
            worker: StoredValue::new_local(None),
            ready: StoredValue::new(false),
            model: StoredValue::new_local(None),
            pending: StoredValue::new_local(None),
            incoming: StoredValue::new_local(Incoming::default()),
            generation: StoredValue::new(0),
            current: StoredValue::new(String::new()),
            heard: StoredValue::new(0.0),
            pinged: StoredValue::new(None),
            pending_test: StoredValue::new(None),
            asked: StoredValue::new(false),
            next_id: StoredValue::new(0),
            export_id: StoredValue::new(None),
        }
    }

    fn post(&self, req: Request) {
        let Some(w) = self.worker.get_value() else {
            return;
        };
        self.asked.set_value(true);
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

    /// Acts on one answer of the loader.
    pub fn handle(&self, msg: Result<FromWorker, String>) {
        let st = self.st;
        if matches!(
            msg,
            Ok(FromWorker::Done { .. } | FromWorker::Series { .. } | FromWorker::Error { .. })
                | Err(_)
        ) {
            // The load is over: a later failure of the worker is not about this file, and
            // one while it waits for the next is no one's loss.
            self.current.set_value(String::new());
            self.asked.set_value(false);
        }
        match msg {
            Ok(FromWorker::Ready) => {
                self.ready.set_value(true);
                // The test hook's message first: a test asks for the failure, then opens a
                // file that the failing worker must get (a file posted first could load
                // before a `hang` arrives).
                if let Some(kind) = self.pending_test.get_value() {
                    self.pending_test.set_value(None);
                    self.post_test(kind);
                }
                if let Some(req) = self.pending.get_value() {
                    self.pending.set_value(None);
                    self.post(req);
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
            Ok(FromWorker::Done { summary }) => self.done(*summary),
            Ok(FromWorker::Crashed { message }) => self.died(&message),
            Ok(FromWorker::Pong) => {}
            Ok(FromWorker::Series { series }) => self.series(series),
            Ok(FromWorker::Error { message }) => {
                // Rows sent before the failure: nothing will complete them.
                self.incoming.set_value(Incoming::default());
                st.error.set(Some(message));
                st.progress.set(None);
                // The previous view, if any, stays.
                st.phase.set(Phase::Error);
            }
            // Answers about a file go to the model worker's handler; a loader has none.
            Ok(FromWorker::Details { .. } | FromWorker::Failed { .. }) => {}
            Err(e) => {
                st.error.set(Some(e));
                st.progress.set(None);
                st.phase.set(Phase::Error);
            }
        }
    }

    /// Every batch arrived: the file goes on screen and the loader becomes the model worker.
    fn done(&self, mut summary: crate::protocol::Summary) {
        let st = self.st;
        let Incoming {
            heads,
            rows,
            tables,
            in_flight,
        } = self
            .incoming
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        if rows.len() != summary.rows {
            return self.stop_load(format!(
                "{} of {} rows arrived from the parsing worker; nothing is shown rather than a timeline with rows missing",
                rows.len(),
                summary.rows
            ));
        }
        if let Some(steps) = in_flight {
            summary.analysis.in_flight = steps;
        }
        self.promote();
        let d = Loaded::new(summary, heads, rows, tables);
        let fit = match (d.global_start, d.global_end) {
            (Some(a), Some(b)) => Some(Viewport::fit(a, b, st.plot_width(100.0))),
            _ => None,
        };
        st.counters.set(Arc::new(counter_tracks(&d.analysis)));
        let n = d.rows.len();
        st.painted.set_value(false);
        st.data.set(Some(Arc::new(d)));
        // Many rows open on the overview: every row a strip, the whole rollout on screen.
        // (Set after the data, so the band height counts this file's counter tracks.)
        if timeline::overview_first(n, st.band_height()) {
            st.overview.set(Some(st.overview_fit(n)));
            st.expanded.set(false);
        } else {
            st.overview.set(None);
        }
        st.view.set(fit);
        st.selected.set(None);
        st.details.set(None);
        st.cursor.set(None);
        st.scroll_y.set(0.0);
        st.toggled.set(Default::default());
        self.link.apply_pending();
        st.error.set(None);
        st.warnings_open.set(true);
        st.progress.set(None);
        st.phase.set(Phase::Ready);
        // The next file's loader, once this one is on screen.
        let this = *self;
        let later = Closure::once_into_js(move || {
            if this.st.phase.get_untracked() != Phase::Loading {
                this.prestart();
            }
        });
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(
            later.unchecked_ref(),
            PRESTART_AFTER_MS,
        );
    }

    fn series(&self, series: Vec<trace::interop::Series>) {
        let st = self.st;
        st.progress.set(None);
        if st.data.get_untracked().is_none() {
            st.error.set(Some(
                "Prometheus data: open a rollout dump first; its series are drawn above that timeline".into(),
            ));
            st.phase.set(Phase::Error);
            return;
        }
        let mut tracks: Vec<Counter> = st.counters.get_untracked().as_ref().clone();
        let base = tracks.len();
        for (i, s) in series.iter().enumerate() {
            tracks.push(Counter::new(
                s.title(),
                s.points.clone(),
                SERIES_COLORS[(base + i) % SERIES_COLORS.len()],
            ));
        }
        st.counters.set(Arc::new(tracks));
        st.show_counters.set(true);
        st.notice
            .set(Some(format!("added {} Prometheus series", series.len())));
        st.phase.set(Phase::Ready);
    }

    /// A load that cannot go on (an undecodable message): stop it, say why.
    fn stop_load(&self, e: String) {
        self.stop();
        let name = self.current.get_value();
        self.handle(Err(if name.is_empty() {
            e
        } else {
            format!("{name}: {e}")
        }));
    }

    /// One message of the loader: JSON text, or an object (a batch of rows).
    fn on_message(&self, data: JsValue) {
        self.heard.set_value(now_ms());
        self.pinged.set_value(None);
        if let Some(text) = data.as_string() {
            match crate::protocol::decode(&text) {
                Ok(msg) => self.handle(Ok(msg)),
                Err(e) => self.stop_load(e),
            }
            return;
        }
        let kind = js_sys::Reflect::get(&data, &"kind".into())
            .ok()
            .and_then(|k| k.as_string());
        match kind.as_deref() {
            Some("rows") => {
                if let Err(e) = self.rows(&data) {
                    // Later batches and `Done` must not show a timeline with rows missing.
                    self.stop_load(e);
                }
            }
            // The rows sent so far are not the finished file's: it is sent again.
            Some("rows_restart") => self.incoming.set_value(Incoming::default()),
            Some("in_flight") => match receive::in_flight(&data) {
                Ok(steps) => self.incoming.update_value(|i| i.in_flight = Some(steps)),
                Err(e) => self.stop_load(e),
            },
            _ => self.stop_load("internal: a message from the worker was not understood".into()),
        }
    }

    /// A batch of rows: checked, split into rows, indexed, kept until `Done` (batches come
    /// while the worker reads on; its progress stays on screen).
    fn rows(&self, data: &JsValue) -> Result<(), String> {
        let head = js_sys::Reflect::get(data, &"head".into())
            .ok()
            .and_then(|h| h.as_string())
            .ok_or_else(|| crate::protocol::bad_batch("no head"))?;
        let head = decode_head(&head)?;
        let cols: Columns = receive::columns(data)?;
        let expected = self.incoming.with_value(|i| i.rows.len());
        let mut tables = self
            .incoming
            .try_update_value(|i| std::mem::take(&mut i.tables))
            .unwrap_or_default();
        let result = decode_batch(head, cols, expected, &mut tables);
        self.incoming.update_value(|i| i.tables = tables);
        let (heads, rows) = result?;
        self.incoming.update_value(|i| {
            i.heads.extend(heads);
            i.rows.extend(rows.into_iter().map(PageRow::new));
        });
        Ok(())
    }

    /// The worker's script: a one-file report gives its own (a Blob URL), else the file
    /// beside the page.
    fn worker_url() -> String {
        js_sys::Reflect::get(&window(), &"__rollscope_worker_url".into())
            .ok()
            .and_then(|u| u.as_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "./worker_loader.js".into())
    }

    /// The loader, started if there is none.
    fn start(&self) -> Option<Rc<WorkerHandle>> {
        if let Some(w) = self.worker.get_value() {
            return Some(w);
        }
        let generation = self.generation.get_value().wrapping_add(1);
        let this = *self;
        // Which role this worker has now: the loader, the model worker, or none (replaced;
        // its last words are ignored).
        let role = move || {
            if this.generation.get_value() == generation && this.worker.get_value().is_some() {
                Some(true)
            } else if this
                .model
                .with_value(|m| m.as_ref().is_some_and(|(_, g)| *g == generation))
            {
                Some(false)
            } else {
                None
            }
        };
        let w = WorkerHandle::start(
            &Self::worker_url(),
            move |data| match role() {
                Some(true) => this.on_message(data),
                Some(false) => this.on_model_message(data),
                None => {}
            },
            // An uncaught exception or a trap (`panic = "abort"`, out of memory) in the worker.
            move |why| match role() {
                Some(true) => this.died(why),
                Some(false) => this.model_died(why),
                None => {}
            },
        )?;
        let w = Rc::new(w);
        self.ready.set_value(false);
        self.asked.set_value(false);
        self.heard.set_value(now_ms());
        self.pinged.set_value(None);
        self.generation.set_value(generation);
        self.worker.set_value(Some(w.clone()));
        Some(w)
    }

    /// Starts the loader ahead of the next file, unless there is one: its script and wasm
    /// load while nobody waits (≈ 0.2 s of every open otherwise).
    pub fn prestart(&self) {
        if self.worker.get_value().is_none() {
            let _ = self.start();
        }
    }

    /// Ends the loader.
    fn stop(&self) {
        if let Some(w) = self.worker.get_value() {
            w.terminate();
        }
        // Whatever the stopped worker still says is ignored, and the rows it sent go.
        self.generation.update_value(|g| *g = g.wrapping_add(1));
        self.worker.set_value(None);
        self.pending.set_value(None);
        self.pending_test.set_value(None);
        self.incoming.set_value(Incoming::default());
    }

    /// The loader finished a file: it becomes the model worker, the old one ends.
    fn promote(&self) {
        if let Some((old, _)) = self.model.get_value() {
            old.terminate();
        }
        let w = self.worker.get_value();
        self.model
            .set_value(w.map(|w| (w, self.generation.get_value())));
        self.worker.set_value(None);
        self.ready.set_value(false);
        // No loader has this generation any more: a new one gets the next.
        self.generation.update_value(|g| *g = g.wrapping_add(1));
    }

    pub fn send(&self, req: Request) {
        let st = self.st;
        // A second file replaces the first: stop a worker that is still busy (also when the
        // page shows an error meanwhile, such as an embedder's bad `open` message: the two
        // loads' rows would mix).
        if st.phase.get_untracked() == Phase::Loading || !self.current.get_value().is_empty() {
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
        self.incoming.set_value(Incoming::default());
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

    /// A one-file report: its file's bytes are inside the page (`window.__rollscope_data =
    /// {name, bytes}`); they go to the worker like a file opened by hand. When the report's
    /// start could not unpack them (`{name, error}`: the file was cut short or changed), the
    /// page says so. Returns false if this page is not one.
    pub fn open_embedded_report(&self) -> bool {
        match take_embedded_data() {
            None => false,
            Some((name, Ok(buffer))) => {
                self.open_buffer(name, buffer);
                true
            }
            Some((name, Err(message))) => {
                self.st.error.set(Some(format!("{name}: {message}")));
                self.st.phase.set(Phase::Error);
                true
            }
        }
    }
}

/// What a one-file report carries (`window.__rollscope_data`, set by its start): the bytes
/// as an `ArrayBuffer` to transfer to the worker (a copy when the bytes are a view of part
/// of a larger buffer, so nothing else moves with them), or why they could not be unpacked.
type Embedded = (String, Result<js_sys::ArrayBuffer, String>);

fn take_embedded_data() -> Option<Embedded> {
    let w = window();
    let data = js_sys::Reflect::get(&w, &"__rollscope_data".into()).ok()?;
    if data.is_undefined() || data.is_null() {
        return None;
    }
    let _ = js_sys::Reflect::set(&w, &"__rollscope_data".into(), &JsValue::UNDEFINED);
    let name = js_sys::Reflect::get(&data, &"name".into())
        .ok()?
        .as_string()?;
    if let Some(error) = js_sys::Reflect::get(&data, &"error".into())
        .ok()
        .and_then(|e| e.as_string())
    {
        return Some((name, Err(error)));
    }
    let bytes = js_sys::Reflect::get(&data, &"bytes".into()).ok()?;
    let buffer = if let Some(b) = bytes.dyn_ref::<js_sys::ArrayBuffer>() {
        b.clone()
    } else {
        let view: js_sys::Uint8Array = bytes.dyn_into().ok()?;
        if view.byte_offset() == 0 && view.byte_length() == view.buffer().byte_length() {
            view.buffer()
        } else {
            js_sys::Uint8Array::new(&view).buffer()
        }
    };
    Some((name, Ok(buffer)))
}

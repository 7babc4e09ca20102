//! The run worker seen from the run app: one worker per opened run (`bin/runworker`),
//! started when a run is opened and ended when the next one is (its whole heap freed). Its
//! answers become `RunState`; see `protocol::run`.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{RunLayout, SampleDetail};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::state::RunState;

mod follow;
use crate::protocol::run::{
    decode_run, join_detail, other_column, DetailFloats, RunFromWorker, RunMessage, TRAIN_COLUMNS,
};
use crate::protocol::run_tokens::{
    join_tokens, DetailTokens, PieceColumns, PIECE_COLUMNS, PIECE_TEXT, TOKEN_COLUMN,
};
use crate::protocol::FromWorker;
use crate::worker_handle::WorkerHandle;
pub use follow::live_head;

#[derive(Clone, Copy)]
pub struct RunClient {
    rs: RunState,
    worker: StoredValue<Option<Rc<WorkerHandle>>, LocalStorage>,
    ready: StoredValue<bool>,
    /// Messages waiting for the worker's `ready`.
    queue: StoredValue<Vec<js_sys::Object>, LocalStorage>,
    /// Each file of the run by path: its `File` or absolute URL (to open a dump's timeline).
    sources: StoredValue<HashMap<String, JsValue>, LocalStorage>,
    /// Counts workers started: a replaced worker's last words are ignored.
    generation: StoredValue<u32>,
    next_id: StoredValue<u32>,
    /// The latest step and detail requests (an older answer is dropped).
    step_id: StoredValue<u32>,
    detail_id: StoredValue<u32>,
    pair_id: StoredValue<u32>,
}

fn set(obj: &js_sys::Object, k: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &k.into(), v);
}

impl RunClient {
    pub fn new(rs: RunState) -> RunClient {
        RunClient {
            rs,
            worker: StoredValue::new_local(None),
            ready: StoredValue::new(false),
            queue: StoredValue::new_local(Vec::new()),
            sources: StoredValue::new_local(HashMap::new()),
            generation: StoredValue::new(0),
            next_id: StoredValue::new(0),
            step_id: StoredValue::new(0),
            detail_id: StoredValue::new(0),
            pair_id: StoredValue::new(0),
        }
    }

    pub fn state(&self) -> RunState {
        self.rs
    }

    /// The file at `path` of the open run (a `File` or a URL).
    pub fn source(&self, path: &str) -> Option<JsValue> {
        self.sources.with_value(|s| s.get(path).cloned())
    }

    /// Opens a run: `files` are every path the run has and its `File` or absolute URL.
    pub fn open(&self, name: String, files: Vec<(String, JsValue)>) {
        let rs = self.rs;
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        let layout: RunLayout = trace::run::layout(&paths);
        if layout.dumps.is_empty() {
            rs.reset(name.clone(), Vec::new(), layout.notes.clone(), false);
            rs.error.set(Some(format!(
                "{name}: no rollout dumps found (expected rollout_data/{{id}}.pt, eval_{{id}}.pt, \
                 *.pt files or verl's {{step}}.jsonl)"
            )));
            return;
        }
        // Only the files the layout names go to the worker and stay on the page.
        let mut wanted: Vec<&str> = Vec::new();
        for d in &layout.dumps {
            wanted.push(&d.file);
            if let Some(t) = &d.train_file {
                wanted.push(t);
            }
        }
        if let Some(t) = &layout.tokenizer {
            wanted.push(t);
        }
        let map: HashMap<String, JsValue> = files
            .into_iter()
            .filter(|(p, _)| wanted.contains(&p.as_str()))
            .collect();
        let text = serde_json::to_string(&layout).unwrap_or_default();
        let msg = js_sys::Object::new();
        set(&msg, "run", &"open".into());
        set(&msg, "layout", &text.into());
        let (p, s) = (js_sys::Array::new(), js_sys::Array::new());
        for (path, src) in &map {
            p.push(&path.into());
            s.push(src);
        }
        set(&msg, "paths", &p);
        set(&msg, "sources", &s);
        self.sources.set_value(map);
        rs.reset(
            name,
            layout.dumps.clone(),
            layout.notes.clone(),
            layout.tokenizer.is_some(),
        );
        self.restart();
        self.post(msg);
    }

    /// Ends the current worker (if any) and starts a new one.
    fn restart(&self) {
        if let Some(w) = self.worker.get_value() {
            w.terminate();
        }
        self.worker.set_value(None);
        self.ready.set_value(false);
        self.queue.set_value(Vec::new());
        let generation = self.generation.get_value().wrapping_add(1);
        self.generation.set_value(generation);
        let this = *self;
        let current = move || this.generation.get_value() == generation;
        let started = WorkerHandle::start(
            &worker_url(),
            move |data| {
                if current() {
                    this.on_message(data);
                }
            },
            move |why| {
                if current() {
                    this.died(why);
                }
            },
        );
        let Some(w) = started else {
            self.rs
                .error
                .set(Some("could not start the run's worker".into()));
            return;
        };
        self.worker.set_value(Some(Rc::new(w)));
    }

    fn died(&self, why: &str) {
        let why = if why.is_empty() {
            "an uncaught error"
        } else {
            why
        };
        self.rs.error.set(Some(format!(
            "the run's worker stopped ({why}); open the run again to retry"
        )));
        if let Some(w) = self.worker.get_value() {
            w.terminate();
        }
        self.worker.set_value(None);
        self.generation.update_value(|g| *g = g.wrapping_add(1));
    }

    fn post(&self, msg: js_sys::Object) {
        if !self.ready.get_value() {
            self.queue.update_value(|q| q.push(msg));
            return;
        }
        if let Some(w) = self.worker.get_value() {
            let _ = w.post_message(&msg);
        }
    }

    fn next_id(&self) -> u32 {
        self.next_id.update_value(|i| *i = i.wrapping_add(1));
        self.next_id.get_value()
    }

    /// Asks for dump `index` in full (the step view); the previous step goes.
    pub fn open_step(&self, index: usize) {
        let rs = self.rs;
        if rs.open_step.get_untracked() == Some(index) && rs.step_error.get_untracked().is_none() {
            return;
        }
        let id = self.next_id();
        self.step_id.set_value(id);
        rs.open_step.set(Some(index));
        rs.step.set(None);
        rs.step_error.set(None);
        rs.sample.set(None);
        rs.detail.set(None);
        rs.detail_error.set(None);
        let msg = js_sys::Object::new();
        set(&msg, "run", &"step".into());
        set(&msg, "id", &id.into());
        set(&msg, "index", &(index as u32).into());
        self.post(msg);
    }

    /// Compares this run's train dumps `a` (paths) with run B's `b` (its `File`s or URLs);
    /// the answer lands in `RunState::pair_train`.
    pub fn compare_train(&self, a: &[String], b: &[JsValue]) {
        let id = self.next_id();
        self.pair_id.set_value(id);
        self.rs.pair_train.set(None);
        let msg = js_sys::Object::new();
        set(&msg, "run", &"pair".into());
        set(&msg, "id", &id.into());
        let (pa, pb) = (js_sys::Array::new(), js_sys::Array::new());
        for (x, y) in a.iter().zip(b) {
            pa.push(&JsValue::from_str(x));
            pb.push(y);
        }
        set(&msg, "a", &pa);
        set(&msg, "b", &pb);
        self.post(msg);
    }

    /// Selects sample `position` of the open step and asks for its detail.
    pub fn select_sample(&self, position: Option<usize>) {
        let rs = self.rs;
        rs.sample.set(position);
        rs.detail.set(None);
        rs.detail_error.set(None);
        let Some(position) = position else { return };
        if rs.step.with_untracked(|s| s.is_none()) {
            // Asked for again when the step arrives (see `RunStep`).
            return;
        }
        let id = self.next_id();
        self.detail_id.set_value(id);
        let msg = js_sys::Object::new();
        set(&msg, "run", &"detail".into());
        set(&msg, "id", &id.into());
        set(&msg, "position", &(position as u32).into());
        self.post(msg);
    }

    fn on_message(&self, data: JsValue) {
        let rs = self.rs;
        if let Some(text) = data.as_string() {
            match decode_run(&text) {
                Ok(RunMessage::Run(m)) => self.handle(m),
                Ok(RunMessage::Other(FromWorker::Ready)) => {
                    self.ready.set_value(true);
                    for msg in self
                        .queue
                        .try_update_value(std::mem::take)
                        .unwrap_or_default()
                    {
                        self.post(msg);
                    }
                }
                Ok(RunMessage::Other(FromWorker::Crashed { message })) => self.died(&message),
                Ok(RunMessage::Other(_)) => {}
                Err(e) => rs.error.set(Some(e)),
            }
            return;
        }
        let kind = js_sys::Reflect::get(&data, &"kind".into())
            .ok()
            .and_then(|k| k.as_string());
        if kind.as_deref() == Some("run_detail") {
            let id = js_sys::Reflect::get(&data, &"id".into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as u32;
            if id != self.detail_id.get_value() {
                return;
            }
            match detail_of(&data) {
                Ok(d) => rs.detail.set(Some(d)),
                Err(e) => rs.detail_error.set(Some(e)),
            }
        }
    }

    fn handle(&self, m: RunFromWorker) {
        let rs = self.rs;
        match m {
            RunFromWorker::RunStarted { .. } => {}
            RunFromWorker::RunSummary { index, summary } => {
                // Placed by its file: a live run's dumps may have moved since it was asked.
                let file = summary.dump.as_ref().map(|d| d.file.clone());
                let index = follow::slot_of(rs, file.as_deref()).unwrap_or(index);
                if let Some(f) = &file {
                    if rs.writing.with_untracked(|w| w.contains(f)) {
                        rs.writing.update(|w| w.retain(|x| x != f));
                    }
                }
                rs.summaries.update(|all| {
                    if let Some(slot) = Arc::make_mut(all).get_mut(index) {
                        *slot = Some(Arc::new(*summary));
                    }
                });
            }
            RunFromWorker::RunDone => {
                rs.done.set(true);
                super::compare::default_pair(rs);
            }
            RunFromWorker::RunWriting { file, .. } => {
                if !rs.writing.with_untracked(|w| w.contains(&file)) {
                    rs.writing.update(|w| w.push(file));
                }
            }
            RunFromWorker::RunTokenizer { message } => {
                rs.has_tokenizer.set(false);
                rs.notes.update(|n| n.push(message));
            }
            RunFromWorker::RunStep { id, index, step } => {
                if id != self.step_id.get_value() || rs.open_step.get_untracked() != Some(index) {
                    return;
                }
                rs.step.set(Some(*step));
                // A sample chosen before the step arrived (a link): ask for it now.
                if let Some(p) = rs.sample.get_untracked() {
                    self.select_sample(Some(p));
                }
            }
            RunFromWorker::RunFailed { id, message } => {
                if id == self.step_id.get_value() {
                    rs.step_error.set(Some(message));
                } else if id == self.detail_id.get_value() {
                    rs.detail_error.set(Some(message));
                }
            }
            RunFromWorker::RunPair { id, pairs } => {
                if id == self.pair_id.get_value() {
                    rs.pair_train.set(Some(pairs));
                }
            }
            RunFromWorker::RunError { message } => rs.error.set(Some(message)),
        }
    }
}

/// A `run_detail` message: the JSON and its float columns, put back together.
fn detail_of(data: &JsValue) -> Result<SampleDetail, String> {
    let get = |k: &str| js_sys::Reflect::get(data, &k.into()).ok();
    let json = get("json")
        .and_then(|j| j.as_string())
        .ok_or("internal: a sample's detail came without its JSON")?;
    let mut d: SampleDetail = serde_json::from_str(&json)
        .map_err(|e| format!("internal: a sample's detail could not be read: {e}"))?;
    let floats = |k: &str| -> Option<Vec<f32>> {
        let b = get(k)?.dyn_into::<js_sys::ArrayBuffer>().ok()?;
        Some(js_sys::Float32Array::new(&b).to_vec())
    };
    let train = TRAIN_COLUMNS
        .iter()
        .map(|k| floats(k))
        .collect::<Option<Vec<_>>>();
    let others = d.train.as_ref().map_or(0, |t| t.other.len());
    let f = DetailFloats {
        rollout_log_probs: floats("rollout_log_probs").unwrap_or_default(),
        train: train.and_then(|v| <[Vec<f32>; 5]>::try_from(v).ok()),
        other: (0..others)
            .map(|i| floats(&other_column(i)).unwrap_or_default())
            .collect(),
    };
    join_detail(&mut d, f)?;
    let u32s = |k: &str| -> Option<Vec<u32>> {
        let b = get(k)?.dyn_into::<js_sys::ArrayBuffer>().ok()?;
        Some(js_sys::Uint32Array::new(&b).to_vec())
    };
    let pieces = match u32s(PIECE_COLUMNS[0]) {
        None => None,
        Some(ids) => {
            let missing = "internal: a sample's token pieces came incomplete";
            let col = |k: &str| u32s(k).ok_or(missing);
            Some(PieceColumns {
                columns: [
                    ids,
                    col(PIECE_COLUMNS[1])?,
                    col(PIECE_COLUMNS[2])?,
                    col(PIECE_COLUMNS[3])?,
                ],
                text: get(PIECE_TEXT).and_then(|t| t.as_string()).ok_or(missing)?,
            })
        }
    };
    let tokens = DetailTokens {
        tokens: u32s(TOKEN_COLUMN).unwrap_or_default(),
        pieces,
    };
    join_tokens(&mut d, tokens)?;
    Ok(d)
}

/// The run worker's script (Trunk's loader shim for the `runworker` bin; a one-file report
/// has no run app, so no override is needed).
fn worker_url() -> String {
    "./runworker_loader.js".into()
}

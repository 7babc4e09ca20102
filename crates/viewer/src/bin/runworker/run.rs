//! The run worker's reading (issue #14; messages in `viewer::protocol::run`).
//!
//! `open`: the run app hands over the run's layout and each file's `File` or URL. Dumps are read
//! ONE AT A TIME, each streamed in chunks through `trace::run::DumpScan::summary` (the same
//! reader as the timeline: samples freed as they are read), its train file read whole, then
//! summarised; each summary is posted as soon as it is ready and the scan dropped, so the
//! worker never holds more than one dump. A dump that fails becomes a failed summary and the
//! run goes on. `step`: one dump in full (`Step`), the only samples kept; a newer step request
//! stops an older one between chunks. `detail`: one sample of that step, its response token
//! by token when the run has a tokenizer. `update` (a live run, listed again): the new
//! layout replaces the old and the dumps not read yet are queued; a file still being written
//! (`writing.rs`) is said (`RunWriting`) and read on a later update, never twice once read.
//! `pair`: train dumps compared with run B's (two runs
//! side by side), one pair in memory at a time.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

use js_sys::{Array, Object, Reflect};
use tokenizer::{Tokenizer, MAX_TOKENIZER_BYTES};
use trace::run::{
    compare_train, summarize, DumpRef, DumpScan, RolloutSummary, RunLayout, SampleDetail,
    SampleMatch, Step, TrainData, TrainPair,
};
use viewer::protocol::run::{
    other_column, run_to_text, split_detail, RunFromWorker, TRAIN_COLUMNS,
};
use viewer::protocol::run_tokens::{split_tokens, PIECE_COLUMNS, PIECE_TEXT, TOKEN_COLUMN};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The run this worker was given, and its open step.
struct Run {
    layout: RunLayout,
    /// Path → `File` or absolute URL.
    sources: HashMap<String, JsValue>,
    step: Option<Step>,
    /// The run's tokenizer, read once when the first step is opened (`None`: not yet).
    tokenizer: Option<Result<Tokenizer, String>>,
    /// Each dump summarised (by file), with the train file it was summarised with.
    read: HashMap<String, Option<String>>,
    /// Dumps (by file) waiting to be summarised, in order; `busy` while they are read.
    queue: VecDeque<String>,
    busy: bool,
    /// The dump being read now (never queued again meanwhile).
    current: Option<String>,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
    /// The latest step request: an older one still reading stops at its next chunk.
    static LATEST_STEP: Cell<u32> = const { Cell::new(0) };
}

fn post(msg: &RunFromWorker) {
    viewer::worker_boot::post_text(&run_to_text(msg));
}

/// A `{run: …}` message from the page.
pub fn handle(kind: &str, data: JsValue) {
    let num = |k: &str| Reflect::get(&data, &k.into()).ok().and_then(|v| v.as_f64());
    let id = num("id").unwrap_or(0.0) as u32;
    match kind {
        "open" => match receive(&data) {
            Ok(dumps) => {
                post(&RunFromWorker::RunStarted { dumps });
                pump();
            }
            Err(message) => post(&RunFromWorker::RunError { message }),
        },
        "update" => match update(&data) {
            Ok(()) => pump(),
            Err(message) => post(&RunFromWorker::RunError { message }),
        },
        "step" => {
            let Some(index) = num("index") else {
                return post(&RunFromWorker::RunFailed {
                    id,
                    message: "a step request without an index".into(),
                });
            };
            LATEST_STEP.with(|l| l.set(id));
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(message) = open_step(id, index as usize).await {
                    // A superseded request's reason is nobody's business.
                    if LATEST_STEP.with(|l| l.get()) == id {
                        post(&RunFromWorker::RunFailed { id, message });
                    }
                }
            });
        }
        "detail" => {
            let result = num("position")
                .ok_or_else(|| "a detail request without a position".to_string())
                .and_then(|p| detail(id, p as usize));
            if let Err(message) = result {
                post(&RunFromWorker::RunFailed { id, message });
            }
        }
        "pair" => {
            let list = |k: &str| -> Vec<JsValue> {
                Reflect::get(&data, &k.into())
                    .ok()
                    .and_then(|v| v.dyn_into::<Array>().ok())
                    .map(|a| a.iter().collect())
                    .unwrap_or_default()
            };
            let (a, b) = (list("a"), list("b"));
            wasm_bindgen_futures::spawn_local(async move {
                let mut pairs = Vec::with_capacity(a.len());
                for (x, y) in a.iter().zip(&b) {
                    pairs.push(pair(x.as_string().unwrap_or_default(), y).await);
                }
                post(&RunFromWorker::RunPair { id, pairs });
            });
        }
        other => post(&RunFromWorker::RunFailed {
            id,
            message: format!("unknown run request {other:?}"),
        }),
    }
}

/// The layout and sources of an `open` or `update` message, checked.
fn layout_and_sources(data: &JsValue) -> Result<(RunLayout, HashMap<String, JsValue>), String> {
    let get = |k: &str| Reflect::get(data, &k.into()).ok();
    let layout: RunLayout = get("layout")
        .and_then(|l| l.as_string())
        .ok_or("the run's layout is missing")
        .and_then(|t| serde_json::from_str(&t).map_err(|_| "the run's layout is not readable"))?;
    let paths: Array = get("paths")
        .and_then(|p| p.dyn_into().ok())
        .ok_or("the run's file list is missing")?;
    let sources: Array = get("sources")
        .and_then(|p| p.dyn_into().ok())
        .ok_or("the run's file list is missing")?;
    if paths.length() != sources.length() {
        return Err("the run's paths and files do not match".into());
    }
    let mut map = HashMap::new();
    for (p, s) in paths.iter().zip(sources.iter()) {
        if let Some(p) = p.as_string() {
            map.insert(p, s);
        }
    }
    Ok((layout, map))
}

/// An `open` message: the run, every dump queued. Returns how many dumps it has.
fn receive(data: &JsValue) -> Result<usize, String> {
    let (layout, sources) = layout_and_sources(data)?;
    let n = layout.dumps.len();
    RUN.with(|r| {
        *r.borrow_mut() = Some(Run {
            queue: layout.dumps.iter().map(|d| d.file.clone()).collect(),
            layout,
            sources,
            step: None,
            tokenizer: None,
            read: HashMap::new(),
            busy: false,
            current: None,
        })
    });
    Ok(n)
}

/// An `update` message (a live run listed again): the new layout and sources replace the
/// old; every dump not read yet (or whose train file is new) is queued, once.
fn update(data: &JsValue) -> Result<(), String> {
    let (layout, sources) = layout_and_sources(data)?;
    RUN.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut().ok_or("an update before the run was opened")?;
        for d in &layout.dumps {
            let fresh = run.read.get(&d.file) != Some(&d.train_file);
            let current = run.current.as_ref() == Some(&d.file);
            if fresh && !current && !run.queue.contains(&d.file) {
                run.queue.push_back(d.file.clone());
            }
        }
        run.layout = layout;
        run.sources = sources;
        Ok(())
    })
}

fn source(path: &str) -> Option<JsValue> {
    RUN.with(|r| r.borrow().as_ref()?.sources.get(path).cloned())
}

/// Summarises the queued dumps in order, posting each summary as it is made (a file still
/// being written is said and skipped), then `RunDone`. One pump at a time: a call while one
/// runs only leaves the queue longer.
fn pump() {
    let start = RUN.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut()?;
        (!std::mem::replace(&mut run.busy, true)).then_some(())
    });
    if start.is_none() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        while let Some((index, dump, has_train)) = next_queued() {
            let src = source(&dump.file);
            let writing = match &src {
                Some(src) => crate::writing::check(src).await,
                None => None,
            };
            if let Some(reason) = writing {
                post(&RunFromWorker::RunWriting {
                    index,
                    file: dump.file.clone(),
                    reason: format!("{}: {reason}", dump.file),
                });
                continue;
            }
            let summary = summary(&dump, has_train).await;
            RUN.with(|r| {
                if let Some(run) = r.borrow_mut().as_mut() {
                    run.read.insert(dump.file.clone(), dump.train_file.clone());
                }
            });
            post(&RunFromWorker::RunSummary {
                index,
                summary: Box::new(summary),
            });
        }
        RUN.with(|r| {
            if let Some(run) = r.borrow_mut().as_mut() {
                run.busy = false;
            }
        });
        post(&RunFromWorker::RunDone);
    });
}

/// The next queued dump still in the layout: its index, itself, and whether the run has
/// train data.
fn next_queued() -> Option<(usize, DumpRef, bool)> {
    RUN.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut()?;
        let has_train = run.layout.dumps.iter().any(|d| d.train_file.is_some());
        while let Some(file) = run.queue.pop_front() {
            if let Some(i) = run.layout.dumps.iter().position(|d| d.file == file) {
                run.current = Some(file);
                return Some((i, run.layout.dumps[i].clone(), has_train));
            }
        }
        run.current = None;
        None
    })
}

async fn summary(dump: &DumpRef, run_has_train: bool) -> RolloutSummary {
    let scanned = async {
        let src = source(&dump.file).ok_or("the file was not handed to the worker")?;
        let mut scan = DumpScan::of(dump, false);
        read_chunks(&src, &mut |chunk| {
            scan.push(chunk)?;
            Ok(scan.is_done())
        })
        .await?;
        scan.finish()
    }
    .await;
    let scanned = match scanned {
        Ok(s) => s,
        Err(e) => return RolloutSummary::failed(dump, e),
    };
    let train = match &dump.train_file {
        Some(f) => Some(read_train(f, false).await),
        None => None,
    };
    // The scan (the dump's rows) is dropped here: only the summary is kept.
    summarize(dump, scanned, train, run_has_train).0
}

/// This run's train dump `a` and run B's `b` (a `File` or URL), compared by sample index;
/// one pair held at a time.
async fn pair(a: String, b: &JsValue) -> Option<TrainPair> {
    let ta = read_train(&a, true).await.ok()?;
    let bytes = read_whole(b, trace::run::MAX_TRAIN_BYTES as f64, "train data")
        .await
        .ok()?;
    let tb = TrainData::read(&bytes, true).ok()?;
    Some(compare_train(&ta, &tb, SampleMatch::Index))
}

async fn read_train(path: &str, tokens: bool) -> Result<TrainData, String> {
    let src = source(path).ok_or("the file was not handed to the worker")?;
    let bytes = read_whole(&src, trace::run::MAX_TRAIN_BYTES as f64, "train data").await?;
    TrainData::read(&bytes, tokens)
}

/// Reads dump `index` in full and keeps it as the open step (the previous one is dropped
/// first, so two steps never sit in memory together).
async fn open_step(id: u32, index: usize) -> Result<(), String> {
    let dump = RUN.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut()?;
        run.step = None;
        run.layout.dumps.get(index).cloned()
    });
    let dump = dump.ok_or_else(|| format!("the run has no dump number {index}"))?;
    let src = source(&dump.file).ok_or("the file was not handed to the worker")?;
    let mut scan = DumpScan::of(&dump, true);
    let superseded = || LATEST_STEP.with(|l| l.get()) != id;
    read_chunks(&src, &mut |chunk| {
        if superseded() {
            return Err("superseded".into());
        }
        scan.push(chunk)?;
        Ok(scan.is_done())
    })
    .await
    .map_err(|e| format!("{}: {e}", dump.file))?;
    let scanned = scan.finish().map_err(|e| format!("{}: {e}", dump.file))?;
    let train = match &dump.train_file {
        Some(f) => Some(read_train(f, true).await),
        None => None,
    };
    if superseded() {
        return Err("superseded".into());
    }
    load_tokenizer().await;
    let step = Step::new(dump, scanned, train);
    post(&RunFromWorker::RunStep {
        id,
        index,
        step: Box::new(step.data()),
    });
    RUN.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.step = Some(step);
        }
    });
    Ok(())
}

/// Reads the run's `tokenizer.json` once (if it has one); a tokenizer that cannot be used is
/// said once, and the inspector then shows token ids.
async fn load_tokenizer() {
    let path = RUN.with(|r| {
        let r = r.borrow();
        let run = r.as_ref()?;
        if run.tokenizer.is_some() {
            return None;
        }
        run.layout.tokenizer.clone()
    });
    let Some(path) = path else { return };
    let result = async {
        let src = source(&path).ok_or("the file was not handed to the worker")?;
        let bytes = read_whole(&src, MAX_TOKENIZER_BYTES as f64, "a tokenizer").await?;
        Tokenizer::from_json(&bytes).map_err(|e| e.to_string())
    }
    .await
    .map_err(|e| format!("{path}: {e}"));
    if let Err(message) = &result {
        post(&RunFromWorker::RunTokenizer {
            message: message.clone(),
        });
    }
    RUN.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.tokenizer = Some(result);
        }
    });
}

/// Posts sample `position` of the open step: JSON plus its per-token values, token ids and
/// pieces as buffers.
fn detail(id: u32, position: usize) -> Result<(), String> {
    let d: Option<SampleDetail> = RUN.with(|r| {
        let r = r.borrow();
        let run = r.as_ref()?;
        let tok = run.tokenizer.as_ref().and_then(|t| t.as_ref().ok());
        run.step.as_ref()?.detail(position, tok)
    });
    let mut d = d.ok_or_else(|| format!("the open step has no sample at position {position}"))?;
    let floats = split_detail(&mut d);
    let tokens = split_tokens(&mut d);
    let json = serde_json::to_string(&d)
        .map_err(|e| format!("sample {position} cannot be sent to the page: {e}"))?;
    let msg = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&msg, &k.into(), v);
    };
    set("kind", &"run_detail".into());
    set("id", &id.into());
    set("json", &json.into());
    let transfer = Array::new();
    let put = |k: &str, v: &[f32]| {
        let buf = js_sys::Float32Array::from(v).buffer();
        set(k, &buf);
        transfer.push(&buf);
    };
    put("rollout_log_probs", &floats.rollout_log_probs);
    if let Some(cols) = &floats.train {
        for (k, v) in TRAIN_COLUMNS.iter().zip(cols) {
            put(k, v);
        }
    }
    for (i, v) in floats.other.iter().enumerate() {
        put(&other_column(i), v);
    }
    let put_u32 = |k: &str, v: &[u32]| {
        let buf = js_sys::Uint32Array::from(v).buffer();
        set(k, &buf);
        transfer.push(&buf);
    };
    put_u32(TOKEN_COLUMN, &tokens.tokens);
    if let Some(p) = &tokens.pieces {
        for (k, v) in PIECE_COLUMNS.iter().zip(&p.columns) {
            put_u32(k, v);
        }
        set(PIECE_TEXT, &p.text.as_str().into());
    }
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message_with_transfer(&msg, &transfer);
    Ok(())
}

/// A readable stream of `src` (a `File`, or a URL fetched).
async fn open_stream(src: &JsValue) -> Result<web_sys::ReadableStream, String> {
    if let Some(file) = src.dyn_ref::<web_sys::File>() {
        return Ok(file.stream());
    }
    let resp = fetch(src, None).await?;
    resp.body().ok_or_else(|| "download failed: no body".into())
}

async fn fetch(
    src: &JsValue,
    cap: Option<(f64, &dyn Fn(f64) -> String)>,
) -> Result<web_sys::Response, String> {
    let url = src.as_string().ok_or("neither a file nor a URL")?;
    Ok(viewer::fetch::fetch_capped(&url, cap).await?.response)
}

/// Feeds `src` to `f` chunk by chunk until the end or until `f` says it needs no more.
async fn read_chunks(
    src: &JsValue,
    f: &mut dyn FnMut(&[u8]) -> Result<bool, String>,
) -> Result<(), String> {
    let stream = open_stream(src).await?;
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|e| crate::js_text(&e))?;
        let done = Reflect::get(&step, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let chunk: js_sys::Uint8Array = Reflect::get(&step, &"value".into())
            .map_err(|e| crate::js_text(&e))?
            .unchecked_into();
        buf.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buf);
        match f(&buf) {
            Ok(false) => {}
            Ok(true) => {
                let _ = reader.cancel();
                return Ok(());
            }
            Err(e) => {
                let _ = reader.cancel();
                return Err(e);
            }
        }
    }
}

/// The whole of `src` (`what` it is, for the error), refused past `max` bytes before it is
/// read when the size is known.
async fn read_whole(src: &JsValue, max: f64, what: &str) -> Result<Vec<u8>, String> {
    let too_big = |n: f64| {
        format!(
            "{:.1} MB is more than the viewer reads for {what} (at most {:.0} MB)",
            n / 1e6,
            max / 1e6
        )
    };
    let buffer = if let Some(file) = src.dyn_ref::<web_sys::File>() {
        if file.size() > max {
            return Err(too_big(file.size()));
        }
        JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| crate::js_text(&e))?
    } else {
        let resp = fetch(src, Some((max, &too_big))).await?;
        let p = resp.array_buffer().map_err(|e| crate::js_text(&e))?;
        JsFuture::from(p).await.map_err(|e| crate::js_text(&e))?
    };
    let bytes = js_sys::Uint8Array::new(&buffer);
    if bytes.length() as f64 > max {
        return Err(too_big(bytes.length() as f64));
    }
    Ok(bytes.to_vec())
}

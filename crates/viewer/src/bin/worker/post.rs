//! What the worker sends the page: text messages, batches of rows as transferable buffers,
//! answers to requests about the open file (its details, exports as Blobs). The open file's
//! model lives here, between the load that built it and the requests it answers.

use std::cell::RefCell;

use js_sys::{Array, ArrayBuffer, Object, Reflect};
use viewer::protocol::{to_text, BatchHead, Columns, FromWorker};
use wasm_bindgen::{JsCast, JsValue};

use crate::model::{Format, Model};

thread_local! {
    /// The file whose rows were last sent (a worker holds one file).
    static MODEL: RefCell<Option<Model>> = const { RefCell::new(None) };
}

pub fn drop_model() {
    MODEL.with(|m| *m.borrow_mut() = None);
}

pub fn keep_model(model: Model) {
    MODEL.with(|m| *m.borrow_mut() = Some(model));
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub fn text(text: &str) {
    viewer::worker_boot::post_text(text);
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &key.into(), value);
}

/// Posts one batch: the head as JSON text, each column as an `ArrayBuffer` moved (not
/// copied) to the page.
fn batch(head_json: &str, c: &Columns) {
    let msg = Object::new();
    set(&msg, "kind", &"rows".into());
    set(&msg, "head", &head_json.into());
    let transfer = Array::new();
    let put = |key: &str, buf: ArrayBuffer| {
        set(&msg, key, &buf);
        transfer.push(&buf);
    };
    put(
        "offsets",
        js_sys::Uint32Array::from(&c.offsets[..]).buffer(),
    );
    put("start", js_sys::Float64Array::from(&c.start[..]).buffer());
    put("end", js_sys::Float64Array::from(&c.end[..]).buffer());
    put("name", js_sys::Uint32Array::from(&c.name[..]).buffer());
    put("item_kind", js_sys::Uint8Array::from(&c.kind[..]).buffer());
    put("lane", js_sys::Uint32Array::from(&c.lane[..]).buffer());
    put("depth", js_sys::Uint32Array::from(&c.depth[..]).buffer());
    put(
        "attempt",
        js_sys::Uint32Array::from(&c.attempt[..]).buffer(),
    );
    put("pd", js_sys::Float64Array::from(&c.pd[..]).buffer());
    let _ = scope().post_message_with_transfer(&msg, &transfer);
}

/// Sends the analysis's `in_flight` steps as two columns (a million-span dump has a million
/// steps: moved, not written and parsed as 12 MB of JSON); the page puts them back into the
/// summary that follows.
pub fn in_flight(steps: &[(f64, u32)]) {
    let msg = Object::new();
    set(&msg, "kind", &"in_flight".into());
    let t: Vec<f64> = steps.iter().map(|s| s.0).collect();
    let n: Vec<u32> = steps.iter().map(|s| s.1).collect();
    let (t, n) = (
        js_sys::Float64Array::from(&t[..]).buffer(),
        js_sys::Uint32Array::from(&n[..]).buffer(),
    );
    set(&msg, "t", &t);
    set(&msg, "n", &n);
    let _ = scope().post_message_with_transfer(&msg, &Array::of2(&t, &n));
}

/// Posts a batch of rows (see `outbox`).
pub fn rows(head: BatchHead, cols: Columns) -> Result<(), String> {
    let json = serde_json::to_string(&head).map_err(|e| {
        format!(
            "a batch of {} rows cannot be sent to the page: {e}",
            head.heads.len()
        )
    })?;
    batch(&json, &cols);
    Ok(())
}

/// Tells the page to drop the rows sent so far: they are not the finished file's (see
/// `outbox`).
pub fn rows_restart() {
    let msg = Object::new();
    set(&msg, "kind", &"rows_restart".into());
    let _ = scope().post_message(&msg);
}

/// The test hook's undecodable batch: its offsets claim items its columns do not have.
pub fn bad_batch() {
    let head =
        r#"{"first_row":0,"heads":[],"names_from":0,"names":[],"attempts_from":0,"attempts":[]}"#;
    let cols = Columns {
        offsets: vec![0, 5],
        ..Default::default()
    };
    batch(head, &cols);
}

/// Answers a request about the open file: `details` (one item) or `export` (a Blob).
pub fn answer(req: &str, data: &JsValue) {
    let num = |k: &str| Reflect::get(data, &k.into()).ok().and_then(|v| v.as_f64());
    let id = num("id").unwrap_or(0.0) as u32;
    let result = MODEL.with(|m| {
        let m = m.borrow();
        let Some(model) = m.as_ref() else {
            return Err("this worker holds no file (it was replaced): open the file again".into());
        };
        match req {
            "details" => {
                let (Some(row), Some(item)) = (num("row"), num("item")) else {
                    return Err("a details request without row and item".into());
                };
                let (row, item) = (row as usize, item as usize);
                let details = model.details(row, item)?;
                text(&to_text(&FromWorker::Details {
                    id,
                    row,
                    item,
                    details: Box::new(details),
                }));
                Ok(())
            }
            "export" => {
                let format = Reflect::get(data, &"format".into())
                    .ok()
                    .and_then(|f| f.as_string())
                    .and_then(|f| Format::parse(&f))
                    .ok_or("an export request for an unknown format")?;
                export(model, format, id)
            }
            other => Err(format!("unknown request {other:?}")),
        }
    });
    if let Err(message) = result {
        text(&to_text(&FromWorker::Failed { id, message }));
    }
}

/// Collects written bytes into Blob parts of at most `PART` bytes each.
struct BlobParts {
    parts: Array,
    buf: Vec<u8>,
}

const PART: usize = 1 << 20;

impl std::io::Write for BlobParts {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PART {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.parts.push(&js_sys::Uint8Array::from(&self.buf[..]));
            self.buf.clear();
        }
        Ok(())
    }
}

fn export(model: &Model, format: Format, id: u32) -> Result<(), String> {
    let mut sink = BlobParts {
        parts: Array::new(),
        buf: Vec::with_capacity(PART),
    };
    model.export(format, &mut sink)?;
    std::io::Write::flush(&mut sink).map_err(|e| e.to_string())?;
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&sink.parts, &opts)
        .map_err(|_| "the browser could not make the export's Blob".to_string())?;
    let msg = Object::new();
    set(&msg, "kind", &"export".into());
    set(&msg, "id", &id.into());
    set(&msg, "suffix", &format.suffix().into());
    set(&msg, "blob", &blob);
    let _ = scope().post_message(&msg);
    Ok(())
}

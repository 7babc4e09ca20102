//! Messages between the page and the parsing worker.
//!
//! **Page → worker**, JS objects: `{name, file}` (a `File`: a handle, the worker reads it),
//! `{name, url}` (the worker downloads it) or `{name, buffer}` (an `ArrayBuffer`, transferred:
//! an embedding page's or a one-file report's bytes) open a file; `{req: "details", id, row,
//! item}` and `{req: "export", id, format}` ask about the open file; `{ping: true}` is the
//! watchdog; `{test: kind}` the failure test hook.
//!
//! **Worker → page**: JSON text of [`FromWorker`] for everything small, and two kinds of JS
//! object for what is big: a batch of rows (`{kind: "rows", head, <column>: ArrayBuffer…}`,
//! the buffers in the transfer list; see [`Columns`]; sent as the rows are built, while the
//! file is still being read), `{kind: "rows_restart"}` (the rows sent so far are not the
//! finished file's: they come again) and an export (`{kind: "export", id, name, blob}`). The page holds only what it draws: per row a [`RowHead`] and a
//! [`RowData`] (columns), and the file's interned names; everything else (attributes, ids,
//! sample fields) stays in the worker and is asked for by `(row, item)`.

use serde::{Deserialize, Serialize};
use timeline::{Names, Track, KIND_PD_DECODE, KIND_PD_PREFILL, KIND_STATE_MASK};
use trace::model::jf64;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's handler is installed. Messages sent before this are lost (a module
    /// worker awaits its wasm before it can listen), so the page queues until it arrives.
    Ready,
    /// Work in progress: `stage` in words, `done` of `total` units (bytes, then samples).
    Progress {
        stage: String,
        done: f64,
        total: f64,
    },
    /// Every batch of rows has been sent: what the page needs besides them.
    Done { summary: Box<Summary> },
    /// Prometheus series, to draw as counter tracks beside the open dump.
    Series { series: Vec<trace::interop::Series> },
    /// The file could not be read: the same one-line reason the CLI prints.
    Error { message: String },
    /// The worker panicked (sent by its panic hook just before `panic = "abort"` ends it):
    /// the page replaces it. `message` is the panic text.
    Crashed { message: String },
    /// Answer to a `{ping: true}` from the page's watchdog. Answered straight from the
    /// message handler, so a worker whose event loop is free answers at once.
    Pong,
    /// Answer to `{req: "details", id, row, item}`.
    Details {
        id: u32,
        row: usize,
        item: usize,
        details: Box<ItemDetails>,
    },
    /// A request (`details`, `export`) that could not be answered, and why.
    Failed { id: u32, message: String },
}

/// What the page keeps of the whole file once its rows have arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// The file's name as opened (`pt_path`).
    pub name: String,
    pub sample_count: usize,
    /// How many rows were sent: the page checks it received exactly these.
    pub rows: usize,
    #[serde(with = "jf64::opt")]
    pub global_start: Option<f64>,
    #[serde(with = "jf64::opt")]
    pub global_end: Option<f64>,
    pub warnings: Vec<trace::Warning>,
    pub analysis: trace::metrics::Analysis,
    /// Indices into `timeline::PD_PHASES` of the phases this file names (as span names or
    /// end-attr keys), for the legend.
    pub pd_phases: Vec<usize>,
}

/// A row without its items: what the label, filter, sort and cursor summary read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RowHead {
    pub row_id: usize,
    /// Python `str()` of the sample fields, each cut to [`HEAD_TEXT_MAX`] characters.
    pub sample_index: String,
    /// `None` when the sample has no source (the label then shows none; the filter reads
    /// "None", as Python would print it).
    pub source: Option<String>,
    pub status: String,
    pub label: String,
    pub trace_id: String,
    /// The reward when it is a number (sorting puts other rewards first).
    pub reward: Option<f64>,
    #[serde(with = "jf64")]
    pub start: f64,
    #[serde(with = "jf64")]
    pub end: f64,
    #[serde(with = "jf64")]
    pub duration: f64,
    pub lane_count: u32,
    pub closed_spans: usize,
    pub open_spans: usize,
}

/// Head texts longer than this are cut: a row's head travels and is filtered per keystroke,
/// and a crafted 64 KiB label on every row must not make the page hold it all.
pub const HEAD_TEXT_MAX: usize = 512;

impl RowHead {
    /// Whether the filter text `needle` (lower case) occurs in one of the row's fields.
    pub fn matches(&self, needle: &str) -> bool {
        [
            self.sample_index.as_str(),
            self.source.as_deref().unwrap_or("None"),
            self.status.as_str(),
            self.label.as_str(),
            self.trace_id.as_str(),
        ]
        .iter()
        .any(|v| v.to_lowercase().contains(needle))
    }
}

/// Everything about one item, asked for when it is selected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ItemDetails {
    pub name: String,
    /// `closed_span`, `open_span`, `point_event` or `orphan_end`.
    pub state: String,
    #[serde(with = "jf64")]
    pub start: f64,
    /// A span's end (`None` for an open span or a point).
    #[serde(with = "jf64::opt")]
    pub end: Option<f64>,
    /// Where the span is drawn to (its end, or the clip of an open span).
    #[serde(with = "jf64")]
    pub display_end: f64,
    pub parent: String,
    pub span_id: String,
    pub attempt: i64,
    /// Why an open span was clipped where it was.
    pub clipped_by: Option<String>,
    /// (title, attributes) tables: a span's start and end attrs, a point's attrs.
    pub attrs: Vec<(String, serde_json::Value)>,
    /// The sample's fields (index, group, source, status, label, reward, trace id…).
    pub sample: Vec<(String, String)>,
}

/// Rows per batch, at most; a batch also stops once it holds [`ITEMS_PER_MESSAGE`] items
/// (a row is never split), so no one message is large.
pub const ROWS_PER_MESSAGE: usize = 256;
pub const ITEMS_PER_MESSAGE: usize = 1 << 16;

/// The JSON part of a batch of rows: the rows' heads and what the batch adds to the
/// file's interned tables.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchHead {
    /// Index of the batch's first row in the file.
    pub first_row: usize,
    pub heads: Vec<RowHead>,
    /// Names first used in this batch; the first has id `names_from`.
    pub names_from: usize,
    pub names: Vec<String>,
    /// Attempt numbers first used in this batch; the first has index `attempts_from`.
    pub attempts_from: usize,
    pub attempts: Vec<i64>,
}

/// The binary part of a batch: one little-endian buffer per column, the items of all the
/// batch's rows one after another. Each travels as its own transferable `ArrayBuffer`.
///
/// | column | type | length | meaning |
/// |---|---|---|---|
/// | `offsets` | u32 | rows + 1 | row `r`'s items are `offsets[r]..offsets[r+1]` |
/// | `start` | f64 | items | span start, point time |
/// | `end` | f64 | items | span display end, point time |
/// | `name` | u32 | items | id in the file's names |
/// | `item_kind` | u8 | items | `timeline::KIND_*` state and PD flags (not `kind`: that key names the message) |
/// | `lane` | u32 | items | the cache's lane |
/// | `depth` | u32 | items | nesting depth |
/// | `attempt` | u32 | items | index in the file's attempt numbers |
/// | `pd` | f64 | 4 × segments | PD phase segments: item (in the batch), phase, t0, t1 |
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    pub offsets: Vec<u32>,
    pub start: Vec<f64>,
    pub end: Vec<f64>,
    pub name: Vec<u32>,
    pub kind: Vec<u8>,
    pub lane: Vec<u32>,
    pub depth: Vec<u32>,
    pub attempt: Vec<u32>,
    pub pd: Vec<f64>,
}

/// A segment drawn inside a `[P]`/`[D]` span: a `pd_*_duration` phase laid end to end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdSegment {
    /// Item index in its row.
    pub item: u32,
    /// Index into `timeline::PD_PHASES`.
    pub phase: u8,
    pub t0: f64,
    pub t1: f64,
}

/// One row as the page holds it: the columns it draws and hit-tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowData {
    pub track: Track,
    /// Per item: index into the file's attempt numbers.
    pub attempt: Vec<u32>,
    /// PD phase segments of its `[P]`/`[D]` spans, in item order.
    pub pd: Vec<PdSegment>,
}

/// Builds batches in the worker: rows go in one by one, a batch comes out when full.
#[derive(Default)]
pub struct BatchWriter {
    head: Option<BatchHead>,
    cols: Columns,
}

impl BatchWriter {
    /// Whether the current batch is full (the next row starts a new one).
    pub fn is_full(&self) -> bool {
        self.head.as_ref().is_some_and(|h| {
            h.heads.len() >= ROWS_PER_MESSAGE || self.cols.start.len() >= ITEMS_PER_MESSAGE
        })
    }

    /// Adds row `row` (its index in the file). `names_len`/`attempts_len` are the sizes of
    /// the worker's tables before this row was made, for the first row of a batch.
    pub fn push(&mut self, row: usize, head: RowHead, data: &RowData, tables: (usize, usize)) {
        let h = self.head.get_or_insert_with(|| BatchHead {
            first_row: row,
            heads: Vec::new(),
            names_from: tables.0,
            names: Vec::new(),
            attempts_from: tables.1,
            attempts: Vec::new(),
        });
        h.heads.push(head);
        let c = &mut self.cols;
        let base = c.start.len();
        if c.offsets.is_empty() {
            c.offsets.push(0);
        }
        let t = &data.track;
        c.start.extend_from_slice(&t.start);
        c.end.extend_from_slice(&t.end);
        c.name.extend_from_slice(&t.name);
        c.kind.extend_from_slice(&t.kind);
        c.lane.extend_from_slice(&t.lane);
        c.depth.extend_from_slice(&t.depth);
        c.attempt.extend_from_slice(&data.attempt);
        for s in &data.pd {
            c.pd.extend([(base + s.item as usize) as f64, s.phase as f64, s.t0, s.t1]);
        }
        c.offsets.push(c.start.len() as u32);
    }

    /// The batch so far (with the names and attempts it introduced, given the worker's
    /// full tables), or `None` if empty; the writer starts a new batch.
    pub fn take(&mut self, names: &Names, attempts: &[i64]) -> Option<(BatchHead, Columns)> {
        let mut head = self.head.take()?;
        head.names = names.since(head.names_from).to_vec();
        head.attempts = attempts.get(head.attempts_from..).unwrap_or(&[]).to_vec();
        Some((head, std::mem::take(&mut self.cols)))
    }
}

/// The page's tables, grown by each batch: names and attempt numbers.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub names: Names,
    pub attempts: Vec<i64>,
}

/// The message shown for a batch that cannot be used: the load stops rather than show a
/// timeline with rows missing.
pub fn bad_batch(why: &str) -> String {
    format!("a batch of rows from the parsing worker could not be read ({why}); nothing is shown rather than a timeline with rows missing")
}

/// Checks a batch and splits it into rows, extending `tables`. `expected_first` is the
/// number of rows received before: batches must arrive in order. Every length, offset and
/// id is checked, so a bad batch is an error (see [`bad_batch`]), never a panic later.
pub fn decode_batch(
    head: BatchHead,
    cols: Columns,
    expected_first: usize,
    tables: &mut Tables,
) -> Result<(Vec<RowHead>, Vec<RowData>), String> {
    let fail = |why: String| Err(bad_batch(&why));
    if head.first_row != expected_first {
        return fail(format!(
            "it starts at row {}, expected {expected_first}",
            head.first_row
        ));
    }
    if head.names_from != tables.names.len() || head.attempts_from != tables.attempts.len() {
        return fail("its names or attempts do not follow the ones received".into());
    }
    let rows = head.heads.len();
    if cols.offsets.len() != rows + 1 || cols.offsets.first() != Some(&0) {
        return fail(format!("{} offsets for {rows} rows", cols.offsets.len()));
    }
    if cols.offsets.windows(2).any(|w| w[0] > w[1]) {
        return fail("its row offsets go backwards".into());
    }
    let items = *cols.offsets.last().unwrap_or(&0) as usize;
    for (col, len) in [
        ("start", cols.start.len()),
        ("end", cols.end.len()),
        ("name", cols.name.len()),
        ("kind", cols.kind.len()),
        ("lane", cols.lane.len()),
        ("depth", cols.depth.len()),
        ("attempt", cols.attempt.len()),
    ] {
        if len != items {
            return fail(format!(
                "column {col} has {len} values, the offsets say {items}"
            ));
        }
    }
    if !cols.pd.len().is_multiple_of(4) {
        return fail("the PD segment column is not made of 4-number segments".into());
    }
    let names_total = tables.names.len() + head.names.len();
    let attempts_total = tables.attempts.len() + head.attempts.len();
    if let Some(n) = cols.name.iter().find(|&&n| n as usize >= names_total) {
        return fail(format!("name id {n} of {names_total} names"));
    }
    if let Some(a) = cols.attempt.iter().find(|&&a| a as usize >= attempts_total) {
        return fail(format!("attempt index {a} of {attempts_total}"));
    }
    let valid_kind = |k: u8| k & !(KIND_STATE_MASK | KIND_PD_PREFILL | KIND_PD_DECODE) == 0;
    if let Some(k) = cols.kind.iter().find(|&&k| !valid_kind(k)) {
        return fail(format!("unknown item kind {k}"));
    }
    for n in head.names.iter() {
        tables.names.intern_text(n);
    }
    if tables.names.len() != names_total {
        return fail("it repeats a name".into());
    }
    tables.attempts.extend_from_slice(&head.attempts);
    // PD segments, by row: `pd` is in item order, so one pass hands them out.
    let mut segs = cols.pd.chunks_exact(4).peekable();
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let (a, b) = (cols.offsets[r] as usize, cols.offsets[r + 1] as usize);
        let mut pd = Vec::new();
        while let Some(s) = segs.peek() {
            let item = s[0];
            if !(item >= a as f64 && item < b as f64) || item.fract() != 0.0 {
                break;
            }
            let phase = s[1];
            if !(0.0..timeline::PD_PHASES.len() as f64).contains(&phase) || phase.fract() != 0.0 {
                return fail(format!("PD phase {phase}"));
            }
            pd.push(PdSegment {
                item: (item as usize - a) as u32,
                phase: phase as u8,
                t0: s[2],
                t1: s[3],
            });
            segs.next();
        }
        out.push(RowData {
            track: Track {
                start: cols.start[a..b].to_vec(),
                end: cols.end[a..b].to_vec(),
                name: cols.name[a..b].to_vec(),
                kind: cols.kind[a..b].to_vec(),
                lane: cols.lane[a..b].to_vec(),
                depth: cols.depth[a..b].to_vec(),
            },
            attempt: cols.attempt[a..b].to_vec(),
            pd,
        });
    }
    if segs.next().is_some() {
        return fail("a PD segment names an item outside its batch or out of order".into());
    }
    Ok((head.heads, out))
}

/// The JSON text of a message; if `msg` cannot be written (it holds something JSON cannot
/// say), an `Error` message that says so, still valid JSON.
pub fn to_text(msg: &FromWorker) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| {
        let fallback = FromWorker::Error {
            message: format!("internal: the worker could not write its answer: {e}"),
        };
        // An `Error` with a plain string always serialises; the literal is a last resort.
        serde_json::to_string(&fallback)
            .unwrap_or_else(|_| r#"{"kind":"error","message":"internal error"}"#.into())
    })
}

/// Decodes one text message of the worker. A message that does not decode is an error
/// naming the message kind, for the page to show: the load is stopped.
pub fn decode(text: &str) -> Result<FromWorker, String> {
    serde_json::from_str::<FromWorker>(text).map_err(|e| {
        let kind = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("kind")?.as_str().map(str::to_string))
            .unwrap_or_else(|| "unreadable".into());
        match kind.as_str() {
            "done" => format!("the parsing worker's summary could not be read ({e})"),
            k => format!("internal: bad {k} message from the worker: {e}"),
        }
    })
}

/// Decodes the JSON head of a batch of rows.
pub fn decode_head(text: &str) -> Result<BatchHead, String> {
    serde_json::from_str(text).map_err(|e| bad_batch(&e.to_string()))
}

// The run explorer's messages: only its builds (feature `run-app`) and native tests see them.
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod run;
pub mod run_tokens;

#[cfg(test)]
mod tests;

//! Messages between the page and the parsing worker.
//!
//! The page sends a JS object: `{name, file}` (a `File`: a handle, the worker reads it),
//! `{name, url}` (the worker downloads it) or `{name, buffer}` (an `ArrayBuffer`, transferred,
//! from an embedding page). The worker answers with JSON text of [`FromWorker`]: one string per
//! message keeps the boundary to a single, typed decode on each side.

use serde::{Deserialize, Serialize};

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
    /// A batch of rows, in order; sent before `Done` so that no message (and no string in
    /// either wasm heap) has to hold every row at once.
    Rows { rows: Vec<trace::Row> },
    /// Warnings and metrics are ready; rows came before in `Rows` batches (or are here, for a
    /// one-file report).
    Done { built: Box<trace::Built> },
    /// Prometheus series, to draw as counter tracks beside the open dump.
    Series { series: Vec<trace::interop::Series> },
    /// The file could not be read: the same one-line reason the CLI prints.
    Error { message: String },
}

/// Rows per `Rows` message.
pub const ROWS_PER_MESSAGE: usize = 256;

/// Serialises a `Rows` message from borrowed rows (the same JSON as `FromWorker::Rows`).
pub fn rows_message(rows: &[trace::Row]) -> String {
    #[derive(Serialize)]
    struct Msg<'a> {
        kind: &'static str,
        rows: &'a [trace::Row],
    }
    serde_json::to_string(&Msg { kind: "rows", rows }).unwrap_or_default()
}

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
    /// The worker panicked (sent by its panic hook just before `panic = "abort"` ends it):
    /// the page replaces it. `message` is the panic text.
    Crashed { message: String },
    /// Answer to a `{ping: true}` from the page's watchdog. Answered straight from the
    /// message handler, so a worker whose event loop is free answers at once.
    Pong,
}

/// Rows per `Rows` message.
pub const ROWS_PER_MESSAGE: usize = 256;

/// Serialises a `Rows` message from borrowed rows (the same JSON as `FromWorker::Rows`).
/// A batch that cannot be written is an error for the caller to report, never an empty or
/// shortened message: rows are never dropped silently.
pub fn rows_message(rows: &[trace::Row]) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Msg<'a> {
        kind: &'static str,
        rows: &'a [trace::Row],
    }
    serde_json::to_string(&Msg { kind: "rows", rows })
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

/// Decodes one message of the worker. A message that does not decode (a batch of rows with
/// a field the page cannot read, say) is an error naming the message kind, for the page to
/// show: the load is stopped rather than shown without those rows.
pub fn decode(text: &str) -> Result<FromWorker, String> {
    serde_json::from_str::<FromWorker>(text).map_err(|e| {
        let kind = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("kind")?.as_str().map(str::to_string))
            .unwrap_or_else(|| "unreadable".into());
        match kind.as_str() {
            "rows" => format!("a batch of rows from the parsing worker could not be read ({e}); nothing is shown rather than a timeline with rows missing"),
            "done" => format!("the parsing worker's summary could not be read ({e})"),
            k => format!("internal: bad {k} message from the worker: {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_rows_that_does_not_decode_is_an_error_naming_rows() {
        // Real rows of a fixture round-trip; the same batch with one time written as `null`
        // (what serde_json writes for an infinite float) is an error that names the rows.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/slime/basic_0.pt"
        );
        let Ok(bytes) = std::fs::read(path) else {
            panic!("fixture missing: {path}");
        };
        let built = trace::load(&bytes, "basic_0.pt", 0.0).expect("fixture loads");
        let rows = &built.cache.rows[..built.cache.rows.len().min(ROWS_PER_MESSAGE)];
        assert!(!rows.is_empty());
        let text = rows_message(rows).expect("rows serialise");
        match decode(&text) {
            Ok(FromWorker::Rows { rows: back }) => assert_eq!(back.len(), rows.len()),
            other => panic!("{other:?}"),
        }
        let broken = text.replacen("\"start\":", "\"start\":null,\"was\":", 1);
        assert_ne!(broken, text);
        let err = decode(&broken).unwrap_err();
        assert!(err.contains("batch of rows"), "{err}");
        assert!(err.contains("rows missing"), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in ["", "{", "[]", "null", r#"{"kind":"nope"}"#, "\u{0}"] {
            assert!(decode(text).is_err(), "{text:?}");
        }
        assert!(matches!(
            decode(r#"{"kind":"ready"}"#),
            Ok(FromWorker::Ready)
        ));
        assert!(matches!(decode(r#"{"kind":"pong"}"#), Ok(FromWorker::Pong)));
    }

    #[test]
    fn an_unwritable_message_becomes_an_error_message() {
        let text = to_text(&FromWorker::Progress {
            stage: "x".into(),
            done: 1.0,
            total: 2.0,
        });
        assert!(matches!(decode(&text), Ok(FromWorker::Progress { .. })));
        let err = to_text(&FromWorker::Error {
            message: "quote \" and \u{1} control".into(),
        });
        match decode(&err) {
            Ok(FromWorker::Error { message }) => assert!(message.contains("quote \"")),
            other => panic!("{other:?}"),
        }
    }
}

//! Messages between the page and the parsing worker.
//!
//! The page sends a JS object `{name, buffer}` with the file's `ArrayBuffer` transferred (not
//! copied). The worker answers with JSON text of [`FromWorker`]: one string per message keeps
//! the boundary to a single, typed decode on each side.

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
    /// Rows, warnings and metrics are ready.
    Done { built: Box<trace::Built> },
    /// The file could not be read: the same one-line reason the CLI prints.
    Error { message: String },
}

/// Parses a file's bytes the way the CLI does; used by the worker. `post` receives
/// progress messages as work goes on.
pub fn process(
    name: &str,
    bytes: &[u8],
    now: f64,
    post: &mut dyn FnMut(&FromWorker),
) -> FromWorker {
    let parsed = match trace::parse(bytes) {
        Ok(p) => p,
        Err(e) => {
            return FromWorker::Error {
                message: format!("{name}: {e}"),
            }
        }
    };
    let mut progress = |done: usize, total: usize| {
        post(&FromWorker::Progress {
            stage: "building rows (samples)".into(),
            done: done as f64,
            total: total as f64,
        })
    };
    match parsed.build_with(name, now, &mut progress) {
        Ok(built) => FromWorker::Done {
            built: Box::new(built),
        },
        Err(e) => FromWorker::Error {
            message: format!("{name}: {e}"),
        },
    }
}

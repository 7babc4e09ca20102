//! `host`: the native `rollscope` binary.
//!
//! **Owns:** the command line (`cache`, later `stats`, `export`, `html`), file I/O, and
//! (later) a tiny static host for the built viewer.
//!
//! **Architecture invariant:** no trace semantics live here. Every command calls the same
//! library code the viewer runs (`pt`, `trace`); this crate only moves bytes between files,
//! sockets and those functions.

use std::path::{Path, PathBuf};

/// `<stem>.trace_timeline_cache.json` beside `input`, the name slime's tool uses.
pub fn cache_path_for(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rollout".into());
    input.with_file_name(format!("{stem}.trace_timeline_cache.json"))
}

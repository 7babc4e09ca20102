//! `host`: the native `rollscope` binary.
//!
//! **Owns:** the command line (`cache`, `stats`, `export`, `html`, `run`, serving a dump or a
//! run folder), file I/O, and a tiny static
//! host for the viewer, which is embedded in the binary at build time (`build.rs`: run Trunk
//! first so `dist/` exists, then build this crate).
//!
//! **Architecture invariant:** no trace semantics live here. Every command calls the
//! operations shared with the Python package (`ops`: load, stats, cache, export, the run
//! listing and table) and the library code the viewer runs (`trace`); this crate only parses
//! arguments and moves bytes between files, sockets and those functions.

pub mod alloc;
pub mod assets;
pub mod browser;
pub mod follow;
pub mod guard;
pub mod listen;
pub mod output;
pub mod report;
pub mod run;
pub mod run_index;
pub mod run_pair;
pub mod serve;
pub mod served_file;
pub mod stats_table;
pub mod term;

use std::path::{Path, PathBuf};

/// `<stem>.trace_timeline_cache.json` beside `input`, the name slime's tool uses.
pub fn cache_path_for(input: &Path) -> PathBuf {
    beside(input, "trace_timeline_cache.json")
}

/// `<stem>.trace_timeline_viewer.html` beside `input`, the name slime's tool uses.
pub fn report_path_for(input: &Path) -> PathBuf {
    beside(input, "trace_timeline_viewer.html")
}

fn beside(input: &Path, suffix: &str) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rollout".into());
    input.with_file_name(format!("{stem}.{suffix}"))
}

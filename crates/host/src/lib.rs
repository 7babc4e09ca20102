//! `host`: the native `rollscope` binary.
//!
//! **Owns:** the command line (`cache`, `stats`, `export`, `html`, `run`, serving a dump or a
//! run folder), file I/O, and a tiny static
//! host for the viewer, which is embedded in the binary at build time (`build.rs`: run Trunk
//! first so `dist/` exists, then build this crate).
//!
//! **Architecture invariant:** no trace semantics live here. Every command calls the same
//! library code the viewer runs (`pt`, `trace`); this crate only moves bytes between files,
//! sockets and those functions.

pub mod assets;
pub mod browser;
pub mod guard;
pub mod listen;
pub mod output;
pub mod report;
pub mod run;
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

/// Reads `path` in 1 MiB chunks, handing each to `push` until it returns `Ok(true)` (done: the
/// rest of the file is not needed) or the file ends; so no caller ever holds a whole file.
/// Errors are `io` errors as text (the caller names the file).
pub fn read_in_chunks(
    path: &Path,
    mut push: impl FnMut(&[u8]) -> Result<bool, String>,
) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match std::io::Read::read(&mut file, &mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        if push(&chunk[..n])? {
            return Ok(());
        }
    }
}

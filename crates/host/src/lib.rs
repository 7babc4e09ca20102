//! `host`: the native `rollscope` binary.
//!
//! **Owns:** the command line (`cache`, `html`, serving a dump), file I/O, and a tiny static
//! host for the viewer, which is embedded in the binary at build time (`build.rs`: run Trunk
//! first so `dist/` exists, then build this crate).
//!
//! **Architecture invariant:** no trace semantics live here. Every command calls the same
//! library code the viewer runs (`pt`, `trace`); this crate only moves bytes between files,
//! sockets and those functions.

pub mod assets;
pub mod guard;
pub mod report;
pub mod serve;
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

/// A file's bytes: memory-mapped when it is a regular file (no copy, no zeroed buffer),
/// read into memory otherwise (pipes, `/dev/stdin`).
pub enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    pub fn open(path: &Path) -> std::io::Result<Bytes> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only and private to this process. If another process
            // truncates the file while we read, we may see a SIGBUS, as any mmap reader
            // (ripgrep, git) accepts; we never write through the map.
            let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            return Ok(Bytes::Mapped(map));
        }
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut v)?;
        Ok(Bytes::Owned(v))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

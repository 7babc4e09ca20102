//! `ops`: what rollscope does with files, shared by the CLI (`host`) and the Python package
//! (`crates/py`), so that both do exactly the same.
//!
//! **Owns:** opening an input (regular files only, refused by type before any byte is read:
//! [`input`]), loading one file through `trace`'s front door and what is made of it (stats
//! under thresholds, the cache JSON, the exports: [`file`]), the run listing (which files of a
//! folder make a run, without following links: [`listing`]) and the run table (every dump of a
//! run read, jobs at a time, under one memory budget: [`table`]), and two runs side by side
//! ([`pair`]).
//!
//! **Architecture invariant:** no trace semantics here (that is `trace`), and no argument
//! parsing, terminal output or Python objects (that is `host` and `crates/py`). Errors are
//! messages that name the input (`{path}: {what}`), as the CLI prints them.

pub mod file;
pub mod follow;
pub mod input;
pub mod listing;
pub mod pair;
pub mod table;
mod verl_listing;

pub use input::Src;

/// Seconds since the epoch (the clock recorded in a cache).
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

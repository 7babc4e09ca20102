//! The catalog of hostile files: one [`Case`] per shape that once crashed, hung or exhausted
//! a reader, each small enough to commit to memory and built the same way every time.
//!
//! The same catalog drives the native tests (`crates/host/tests/hostile_cli.rs` runs the real
//! binary on every case within time and memory bounds), the browser tests (the `hostile`
//! example writes the files, the page opens each) and the fuzzers' seed corpora.
//!
//! Layout: `vm.rs` (pickle machine: cycles, sharing, charging, streaming edges),
//! `amplify.rs` (the three VM amplifiers of issue 24),
//! `trace/` (trace shapes: cycles, sharing, span shapes, floats), `cache.rs` (untrusted cache JSON),
//! `output.rs` (small dumps whose exports and reports would be huge), `train.rs` (train
//! payloads that lie, a huge image). `jsonl.rs` is its own section: verl step logs for a run
//! reader (not pickles: [`catalog`] leaves them out), each with what the run must give.

pub mod amplify;
mod cache;
pub mod jsonl;
mod output;
mod trace;
pub mod train;
mod vm;

pub use output::{export_cases, shared_trace, ExportCase};

/// What reading a case must give. Every case must also finish within the bounds the test
/// that runs it states (seconds, peak memory), whatever it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// One error whose message contains this text.
    Error(&'static str),
    /// Rows (this many), and at least one warning containing this text (`""`: no check).
    Rows { rows: usize, warning: &'static str },
}

/// One hostile file.
#[derive(Debug, Clone)]
pub struct Case {
    /// File name to write it under (`.pt` for dumps, `.json` for cache JSON).
    pub file: &'static str,
    /// Which class of issue #12 it covers (1–10), for reports; 0: a train payload that lies
    /// (issue #20).
    pub class: u8,
    /// One line: what the file does to a reader.
    pub what: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
    /// True if the browser can be handed it (all are, unless a case says why not).
    pub browser: bool,
}

/// Every case, in a stable order.
pub fn catalog() -> Vec<Case> {
    let mut all = vm::cases();
    all.extend(amplify::cases());
    all.extend(trace::cases());
    all.extend(cache::cases());
    all.extend(output::cases());
    all.extend(train::cases());
    all
}

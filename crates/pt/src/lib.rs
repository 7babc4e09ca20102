//! `pt`: bytes of a `torch.save` file → a generic pickle value tree.
//!
//! **Owns:** recognising the container (torch ZIP with its single `*/data.pkl`, legacy
//! non-zip torch files, bare pickles), inflating entries within a size cap, and running the
//! pickle program in a VM that imports and executes nothing.
//!
//! **Architecture invariant:** `pt` knows nothing of traces, samples, the web or the file
//! system. Bytes in, [`Tree`] out. It must build for `wasm32-unknown-unknown`.
//!
//! **Robustness invariant:** any input gives a value or a typed [`Error`] saying what and
//! where (zip entry, byte offset, opcode). No recursion is driven by the input, and no walk
//! follows references without one guard for the whole walk (`walk.rs`, `Tree::as_dict`). No
//! allocation is sized by a length field beyond the bytes present or the memory left; every
//! opcode that allocates is charged to [`Limits::max_memory`], so no opcode costs more than
//! its own bytes plus its output (`pickle/mod.rs`). [`Limits`] caps memory, stack and
//! decompressed size, lower on 32-bit targets (the browser).
//!
//! **Stream = whole read:** [`read`] is [`StreamReader`] fed the whole buffer (one core,
//! `stream/`), so both give the same tree or the same error on every input, in any chunks.
//!
//! Layout:
//! - `lib.rs`: [`Limits`] and the re-exports.
//! - `container.rs`: [`read`], format sniffing, the whole-archive fallback (central directory) for layouts that
//!   cannot be streamed.
//! - `stream/`: the reading core (`mod.rs`), one pickle fed as it arrives, inflated or in
//!   place (`run.rs`), and the two entry points over the core, [`StreamReader`] and the
//!   whole-buffer read (`reader.rs`); `zipdir.rs`: ZIP local headers and the central
//!   directory check.
//! - `pickle/`: the resumable pickle machine (`mod.rs`), reducers (`reduce.rs`), APPENDS and
//!   numeric elision (`numeric.rs`), text arguments (`text.rs`), samples handed to a sink
//!   (`handover.rs`).
//! - `value.rs`: the arena value tree ([`Tree`], [`Value`], [`Node`]); `arena.rs`: its nodes
//!   ([`Nodes`]), which drop released runs and remember their ids.
//! - `walk.rs`: bounded, cycle-safe walks (Python-like text).
//! - `sink.rs`: [`SampleSink`], samples handed over and freed as they are read.
//! - `tensor.rs`: [`Archive`], a torch ZIP's tensor storages read on request (train data).

mod arena;
mod container;
mod error;
pub mod hashing;
pub mod pickle;
mod sink;
pub mod stream;
mod tensor;
mod value;
pub mod walk;
mod zipdir;

pub use arena::Nodes;
pub use container::{read, sniff, Dump, Format};
pub use error::{Error, PickleError, PickleErrorKind};
pub use sink::SampleSink;
pub use stream::{read_with_sink, StreamReader};
pub use tensor::{Archive, TensorRef, MAX_STORAGES};
pub use value::{Dict, Node, NodeId, Object, Tree, Value};

/// Hard limits on what one read may cost. The defaults suit rollout dumps of a few GB on a
/// 64-bit machine; on a 32-bit target (the browser's wasm32, 4 GB of address space in all)
/// they are lower, see [`Limits::DEFAULT`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `data.pkl` accepted after decompression, in bytes. A file whose layout cannot
    /// be streamed is held whole, so it must fit this limit too.
    pub max_pickle_bytes: u64,
    /// Approximate cap on memory held by the value tree, in bytes. Every opcode that
    /// allocates is charged, so no opcode costs more than its own bytes plus its output.
    pub max_memory: usize,
    /// Cap on the pickle stack (values and marks). The stack is not charged to `max_memory`;
    /// this is its bound (16 bytes a value).
    pub max_stack: usize,
    /// Lists of only numbers longer than this are kept as their length and sum alone
    /// ([`Node::ElidedList`]), if they sit under one of [`Limits::elide_keys`]. `None` keeps
    /// everything.
    pub keep_numeric_list_max: Option<usize>,
    /// The dict keys (or object state keys) whose long numeric lists may be elided: a list is
    /// elidable only while the value directly below it on the pickle stack is a `str` equal
    /// to one of these, which is where `SETITEMS` keeps a dict's key while its value is
    /// built. Anything else (a list of 100 numbers in an attribute) is kept whole.
    pub elide_keys: &'static [&'static str],
    /// Keys under which nothing is elided, however deep: a list whose key is in `elide_keys`
    /// is still kept whole when a container being filled around it (found through the open
    /// MARKs) is the value of one of these keys, so a span attribute that happens to be called
    /// `tokens` is written as slime writes it. Pickles that fill containers without MARKs
    /// (protocol 0's one-item SETITEM/APPEND) show no ancestors; torch writes protocol 2.
    pub keep_under: &'static [&'static str],
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The per-token fields of slime's `Sample` (`slime/utils/types.py`): token ids, the loss
/// mask and log probabilities, one number per token. They are most of a dump's bytes and
/// are never written to the cache; `sum(loss_mask)` is kept.
pub const SAMPLE_TOKEN_FIELDS: &[&str] = &[
    "tokens",
    "loss_mask",
    "rollout_log_probs",
    "teacher_log_probs",
    "rollout_routed_experts",
];

/// Where a sample's output lives: its `trace` (events and their `attrs`). Nothing under
/// these is elided ([`Limits::keep_under`]).
pub const SAMPLE_OUTPUT_FIELDS: &[&str] = &["trace", "attrs"];

/// 64-bit: 4 GiB of data.pkl, 2 GiB of tree.
#[cfg(not(target_pointer_width = "32"))]
const PLATFORM: (u64, usize, usize) = (4 << 30, 2 << 30, 1 << 24);
/// 32-bit (wasm32 in a browser tab: 4 GiB of address space for code, the tab's other
/// buffers and our own). The tree's charged size understates its real footprint (vector
/// growth, hash indexes), so 1 GiB charged can mean about 2 GiB held: this is the most a tab
/// holds reliably. data.pkl is streamed, never held, but the 1 GiB cap also bounds a file
/// that must be held whole and the time a browser spends on one file. The stack (16 bytes a
/// value, uncharged) gets 4 M values, 64 MiB.
#[cfg(target_pointer_width = "32")]
const PLATFORM: (u64, usize, usize) = (1 << 30, 1 << 30, 1 << 22);

/// Said after a size limit in errors: where this limit comes from and what to do about it.
#[cfg(not(target_pointer_width = "32"))]
pub(crate) const LIMIT_NOTE: &str = "";
#[cfg(target_pointer_width = "32")]
pub(crate) const LIMIT_NOTE: &str = " (the limit in the browser); use the rollscope CLI";

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_pickle_bytes: PLATFORM.0,
        max_memory: PLATFORM.1,
        max_stack: PLATFORM.2,
        keep_numeric_list_max: None,
        elide_keys: &[],
        keep_under: &[],
    };

    /// What the timeline and metrics need: defaults, with the long per-token lists of
    /// samples elided.
    pub const TIMELINE: Limits = Limits {
        keep_numeric_list_max: Some(64),
        elide_keys: SAMPLE_TOKEN_FIELDS,
        keep_under: SAMPLE_OUTPUT_FIELDS,
        ..Limits::DEFAULT
    };

    /// [`Limits::TIMELINE`] as a value.
    pub fn for_timeline() -> Self {
        Limits::TIMELINE
    }
}

/// A byte count as people read it: `1 GiB`, `3.5 MiB`, `812 bytes`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {name}", n / size)
            } else {
                format!("{:.1} {name}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} bytes")
}

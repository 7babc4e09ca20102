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
//! where (zip entry, byte offset, opcode). No recursion is driven by the input, no allocation
//! is sized by a length field beyond the bytes present, and [`Limits`] caps memory, stack and
//! decompressed size.
//!
//! Layout:
//! - `lib.rs`: [`read`], the one entry point, and [`Limits`].
//! - `container.rs`: ZIP / legacy / bare pickle sniffing and extraction.
//! - `pickle.rs`: the resumable pickle machine.
//! - `stream.rs`: [`StreamReader`], the same reading fed chunk by chunk as bytes arrive.
//! - `value.rs`: the arena value tree ([`Tree`], [`Value`], [`Node`]).
//! - `walk.rs`: bounded, cycle-safe walks (Python-like text and JSON-like views).

mod container;
mod error;
pub mod pickle;
pub mod stream;
mod value;
pub mod walk;

pub use container::{read, sniff, Dump, Format};
pub use error::{Error, PickleError, PickleErrorKind};
pub use stream::StreamReader;
pub use value::{Dict, Node, NodeId, Object, Tree, Value};

/// Hard limits on what one read may cost. The defaults suit rollout dumps of a few GB.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `data.pkl` accepted after decompression, in bytes.
    pub max_pickle_bytes: u64,
    /// Approximate cap on memory held by the value tree, in bytes.
    pub max_memory: usize,
    /// Cap on the pickle stack (values and marks).
    pub max_stack: usize,
    /// Lists of only numbers longer than this are kept as their length alone
    /// ([`Node::ElidedList`]): token ids and logprobs are most of a dump's bytes and the
    /// timeline never reads them. `None` keeps everything.
    pub keep_numeric_list_max: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_pickle_bytes: 4 << 30,
        max_memory: 2 << 30,
        max_stack: 1 << 24,
        keep_numeric_list_max: None,
    };

    /// What the timeline and metrics need: defaults, with long numeric lists elided.
    pub const TIMELINE: Limits = Limits {
        keep_numeric_list_max: Some(64),
        ..Limits::DEFAULT
    };

    /// [`Limits::TIMELINE`] as a value.
    pub fn for_timeline() -> Self {
        Limits::TIMELINE
    }
}

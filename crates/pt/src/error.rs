use thiserror::Error;

use crate::{human_bytes, LIMIT_NOTE};

/// Why a file could not be read. Every message says what went wrong and where.
#[derive(Debug, Error)]
pub enum Error {
    #[error("not a torch file or pickle: {0}")]
    NotTorch(String),
    #[error("zip archive: {0}")]
    Zip(String),
    #[error("zip archive: {0}")]
    ZipLayout(String),
    /// A `data.pkl` bigger than `Limits::max_pickle_bytes`: its header says so (`declared`),
    /// or inflating it went past the limit.
    #[error("{}", too_large(entry, *limit, *declared))]
    TooLarge {
        entry: String,
        limit: u64,
        declared: Option<u64>,
    },
    /// A file whose layout cannot be streamed must be held whole, within the same limit.
    #[error(
        "a file whose data.pkl is not reachable from its first ZIP headers is read whole, \
         and this one is larger than {}{}",
        human_bytes(*limit),
        LIMIT_NOTE
    )]
    TooLargeWhole { limit: u64 },
    #[error("{part}: {source}")]
    Pickle {
        /// Where the pickle lives: a zip entry name, or "legacy torch file".
        part: String,
        #[source]
        source: PickleError,
    },
}

/// A pickle that cannot be read, with the byte offset of the opcode at fault.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{kind} at byte {offset}{}", opcode_suffix(*opcode))]
pub struct PickleError {
    /// Offset of the opcode, counted from the start of the pickle's container part.
    pub offset: u64,
    pub opcode: Option<u8>,
    pub kind: PickleErrorKind,
}

fn opcode_suffix(op: Option<u8>) -> String {
    match op {
        Some(b) if b.is_ascii_graphic() => format!(" (opcode {:?} 0x{b:02x})", b as char),
        Some(b) => format!(" (opcode 0x{b:02x})"),
        None => String::new(),
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum PickleErrorKind {
    #[error("unexpected end of data")]
    Truncated,
    #[error("unknown opcode")]
    UnknownOpcode,
    #[error("unsupported pickle protocol {0}")]
    Protocol(u8),
    #[error("stack underflow")]
    StackUnderflow,
    #[error("no MARK on the stack")]
    NoMark,
    #[error("memo key {0} was never stored")]
    MemoMissing(u64),
    #[error("{0}")]
    Malformed(String),
    #[error("stack deeper than the limit of {0} values")]
    StackLimit(usize),
    #[error("memory limit of {} exceeded{}", human_bytes(*.0 as u64), LIMIT_NOTE)]
    MemoryLimit(usize),
    #[error("pickle ended without STOP")]
    NoStop,
    #[error("out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported")]
    OutOfBand,
}

fn too_large(entry: &str, limit: u64, declared: Option<u64>) -> String {
    match declared {
        Some(size) => format!(
            "{entry} declares {} uncompressed, more than the limit of {}{LIMIT_NOTE}",
            human_bytes(size),
            human_bytes(limit)
        ),
        None => format!(
            "{entry} inflates to more than {}{LIMIT_NOTE}",
            human_bytes(limit)
        ),
    }
}

//! `trace`: rollout dump values → timeline rows (slime's cache v1), metrics and exports.
//!
//! **Owns:** the meaning of a rollout dump: which value is the sample list, how a sample's
//! trace events become spans, point events, orphan ends and lanes (spec §3), the cache JSON,
//! and the warnings that say which samples were bad and why.
//!
//! **Architecture invariant:** `trace` knows nothing of pixels, the DOM or files. Values in,
//! rows out; it builds for wasm. One bad sample never hides the others: per-sample problems
//! are [`Warning`]s, and only a file that is not a rollout dump at all is an [`enum@Error`].
//!
//! **Bounded:** work is O(n log n) in events, and what a build produces is bounded whatever
//! the value tree shares or loops through: [`MAX_SAMPLES`], [`MAX_SAMPLE_EVENTS`],
//! [`MAX_FILE_EVENTS`] (events visited, kept or skipped), [`MAX_FILE_ITEMS`], [`MAX_OUTPUT_BYTES`], [`json::MAX_VALUE_BYTES`] per converted value
//! ([`json::MAX_KEY_BYTES`] per name or span id), [`MAX_SAMPLE_HELD`] per sample's row in the
//! making, [`MAX_WARNINGS`]. Passing a limit is said in a warning that names the sample and the limit.
//!
//! **Entry point:** [`Loader`] (bytes as they arrive) or [`load`] (bytes in memory), both
//! configured by one [`LoadOptions`] and giving a [`Loaded`] that carries its warnings.
//!
//! Layout: `load.rs` (the front door), `loaded.rs` (what it gives), `model.rs` (cache file
//! types, and how non-finite floats are written), `rows/` (events → row), `build.rs` (the build
//! one sample at a time, fed by the reader as samples complete), `store/` (the compact row
//! store and the cache JSON written from it), `json.rs` (values → JSON, bounded), `values.rs`
//! (bounded "is it a dict?"; value text is `pt::walk::repr`), `cache_json.rs` (reading an
//! untrusted cache JSON or a serialised [`Materialized`]), `sniff.rs` (what kind of file),
//! `sglang.rs` (PD phases and request perf fields), `metrics/`, `interop/`, `run/`, this file
//! (the build's limits and errors).

mod build;
mod cache_json;
pub mod interop;
pub mod json;
mod load;
mod loaded;
pub mod metrics;
pub mod model;
pub mod rows;
pub mod run;
pub mod sglang;
pub mod sniff;
pub mod store;
pub mod values;

pub use build::PROGRESS_EVERY;
pub use load::{build_rows, load, Content, LoadOptions, Loader};
pub use loaded::{CacheHead, Loaded, Materialized};
/// The keyed hashing of dump text (the viewer's worker seeds it: `add_entropy`).
pub use pt::hashing;

pub use model::{
    Cache, Item, PointItem, Row, SpanAttrs, SpanItem, State, CACHE_VERSION, PD_VIRTUAL_ROLE,
};

use pt::{Tree, Value};
use thiserror::Error;

/// Samples read from one file; the rest are left out with a warning. Real rollout steps have
/// thousands; a million references to one sample cost a pickle 2 MB.
pub const MAX_SAMPLES: usize = 1 << 20;
/// Trace events of one sample; a sample with more is skipped with a warning. A 200 000-span
/// sample (400 000 events) is within it.
pub const MAX_SAMPLE_EVENTS: usize = 1 << 20;
/// Memory one sample's converted trace values may hold while its row is built
/// ([`json::Output::held`], an estimate), at most: below it, [`SAMPLE_HELD_FLOOR`] plus
/// [`SAMPLE_HELD_PER_INPUT_BYTE`] per byte of the file ([`BuildLimits::for_input`]); a
/// sample that would pass it is skipped with a warning. Events sharing one large value by
/// pickle reference each convert it again, so without this a 535 KB file held ≈ 400 MB in
/// one sample's events. Real samples hold ≈ 1 KB per event (the `--turns 60` benchmark's
/// ≈ 600 events, ≈ 0.6 MB; a 200 000-span sample in a 46 MB file, ≈ 360 MB, ≈ 8 per byte of
/// the file): 16 per byte leaves them twice that. What skipped samples had converted is
/// bounded by the file's output limit (past it, rows stop with a warning), so many samples
/// naming one heavy trace stop early.
pub const MAX_SAMPLE_HELD: u64 = 4 << 30;
/// What any sample may hold whatever the file's size (see [`MAX_SAMPLE_HELD`]).
pub const SAMPLE_HELD_FLOOR: u64 = 256 << 20;
/// See [`MAX_SAMPLE_HELD`].
pub const SAMPLE_HELD_PER_INPUT_BYTE: u64 = 16;
/// Trace events visited over all samples of a file, kept or skipped. Skipped events (not a
/// dict, no usable `ts`) produce nothing, so without this a sample naming one bad event a
/// million times, named a million times in the sample list, costs 2^40 visits from a 4 MB
/// file. Items need at most two events each, so 2^23 leaves room for [`MAX_FILE_ITEMS`]
/// and as many skipped events again.
pub const MAX_FILE_EVENTS: usize = 1 << 23;
/// Below [`MAX_FILE_EVENTS`], a dump may have at most this many trace events visited per byte
/// of the file, plus [`EVENTS_FLOOR`]. An event written out takes ≥ 20 bytes of pickle even
/// with every key memoised (a real dump: ≈180 bytes, the `--turns 60` benchmark: 430 MB for
/// ≈2.4 M events); only references to shared events or samples give more, and 16 leaves
/// room for honest sharing (a sample named 50 000 times: ≈2 events a byte).
pub const EVENTS_PER_INPUT_BYTE: usize = 16;
/// Trace events any dump may have visited whatever its size.
pub const EVENTS_FLOOR: usize = 1 << 20;
/// Items (spans, point events, orphan ends, PD lanes) over all rows of a file. slime's largest
/// benchmark dump (`synth_large.py --turns 60`: 4 096 samples of ≈300 items) has ≈1.2 M.
/// Rows past the limit are left out with a warning naming the first sample not shown.
pub const MAX_FILE_ITEMS: usize = 1 << 21;
/// JSON text of all rows (the cache file's size, counted from above as values are
/// converted), so that shared references cannot turn a small file into gigabytes of output.
pub const MAX_OUTPUT_BYTES: u64 = 1 << 30;
/// Below [`MAX_OUTPUT_BYTES`], a dump's rows may take at most this many bytes of JSON per byte
/// of the file, plus [`OUTPUT_FLOOR`] ([`BuildLimits::for_input`]). Real dumps give about one
/// byte out per byte in (the 430 MB `--turns 60` benchmark dump: 1.4; a dense trace of small
/// events with memoised keys: ≈ 10); only shared references give more. The rows are held in
/// memory as the text they write, so this is also what a small file may cost in memory: 256
/// with the 1 MiB floor leaves room for honest sharing in small files (one sample named
/// 50 000 times, the catalogue's 250 692-byte `trace_shared_sample.pt`, gives a 43.5 MB cache,
/// ≈ 173 bytes out per byte in) while a hostile 1 MB file of
/// shared attributes gives at most ≈ 0.25 GB of JSON (measured peak ≈ 0.8 GB: the text, the
/// sample's values and the store's buffer at once).
pub const OUTPUT_PER_INPUT_BYTE: u64 = 256;
/// Output any dump may have whatever its size.
pub const OUTPUT_FLOOR: u64 = 1 << 20;
/// Past [`OUTPUT_LARGE_FLOOR`], a dump's rows may take at most this many bytes of JSON per
/// byte of the file (real dumps: 1.4–10). The rows are held in memory as their text, so
/// `OUTPUT_PER_INPUT_BYTE` alone let a hostile 4 MB file of distinct attribute dicts reach the
/// 1 GiB [`MAX_OUTPUT_BYTES`] and 1.7 GB of memory.
pub const OUTPUT_PER_INPUT_BYTE_LARGE: u64 = 16;
/// Output any dump may have under [`OUTPUT_PER_INPUT_BYTE`] before
/// [`OUTPUT_PER_INPUT_BYTE_LARGE`] applies.
pub const OUTPUT_LARGE_FLOOR: u64 = 384 << 20;
/// Warnings kept for one file; the rest are counted in a last warning.
pub const MAX_WARNINGS: usize = 1000;

/// The limits of one build ([`LoadOptions::limits`]); a user's file gets
/// [`BuildLimits::for_input`] of its size. Smaller limits are for tests that exercise each limit cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildLimits {
    pub max_samples: usize,
    pub max_sample_events: usize,
    pub max_file_items: usize,
    pub max_file_events: usize,
    pub max_output_bytes: u64,
    /// What one sample's row in the making may hold ([`MAX_SAMPLE_HELD`]).
    pub max_sample_held: u64,
}

impl BuildLimits {
    pub const DEFAULT: BuildLimits = BuildLimits {
        max_samples: MAX_SAMPLES,
        max_sample_events: MAX_SAMPLE_EVENTS,
        max_file_items: MAX_FILE_ITEMS,
        max_file_events: MAX_FILE_EVENTS,
        max_output_bytes: MAX_OUTPUT_BYTES,
        max_sample_held: MAX_SAMPLE_HELD,
    };

    /// The limits for a file of `input_bytes` bytes: [`BuildLimits::DEFAULT`] with the output
    /// and the trace events visited also bounded by the file's size
    /// ([`OUTPUT_PER_INPUT_BYTE`], [`OUTPUT_FLOOR`], [`OUTPUT_PER_INPUT_BYTE_LARGE`],
    /// [`OUTPUT_LARGE_FLOOR`], [`EVENTS_PER_INPUT_BYTE`],
    /// [`EVENTS_FLOOR`]), and what a sample may hold ([`SAMPLE_HELD_PER_INPUT_BYTE`],
    /// [`SAMPLE_HELD_FLOOR`]).
    pub fn for_input(input_bytes: u64) -> BuildLimits {
        let by_size = OUTPUT_PER_INPUT_BYTE
            .saturating_mul(input_bytes)
            .saturating_add(OUTPUT_FLOOR)
            .min(
                OUTPUT_PER_INPUT_BYTE_LARGE
                    .saturating_mul(input_bytes)
                    .max(OUTPUT_LARGE_FLOOR),
            );
        let events = usize::try_from(input_bytes)
            .unwrap_or(usize::MAX)
            .saturating_mul(EVENTS_PER_INPUT_BYTE)
            .saturating_add(EVENTS_FLOOR);
        let held = SAMPLE_HELD_PER_INPUT_BYTE
            .saturating_mul(input_bytes)
            .saturating_add(SAMPLE_HELD_FLOOR);
        BuildLimits {
            max_output_bytes: by_size.min(MAX_OUTPUT_BYTES),
            max_file_events: events.min(MAX_FILE_EVENTS),
            max_sample_held: held.min(MAX_SAMPLE_HELD),
            ..BuildLimits::DEFAULT
        }
    }
}

/// A problem with one sample (or the file) that did not stop the rest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// Position of the sample in the dump's sample list, when the warning is about one.
    pub sample: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.sample {
            Some(i) => write!(f, "sample {i}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a file gave no rows at all.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] pt::Error),
    #[error("not a rollout dump: {0}")]
    NotADump(String),
    #[error("not a valid timeline cache: {0}")]
    BadCache(String),
    /// A row store's bytes (`store::binary`, what a one-file report embeds) are damaged.
    #[error("not a valid row store: {0}")]
    BadStore(String),
    /// An export or report passed the most output its input may produce
    /// ([`interop::export_limit`]); writing stopped there.
    #[error(
        "the {what} would be larger than {limit} bytes, the most this file may produce \
         ({OUTPUT_PER_INPUT_BYTE} bytes per byte of input plus {} MiB, but no more than the \
         larger of {} MiB and {OUTPUT_PER_INPUT_BYTE_LARGE} bytes per byte of input, nor \
         {} MiB): writing stopped there",
        OUTPUT_FLOOR >> 20,
        OUTPUT_LARGE_FLOOR >> 20,
        MAX_OUTPUT_BYTES >> 20
    )]
    OutputLimit { what: &'static str, limit: u64 },
    #[error("writing the {what}: {message}")]
    Write { what: &'static str, message: String },
    #[error("out of memory while writing the {what}")]
    OutOfMemory { what: &'static str },
}

/// The sample list of a dump: `data["samples"]`, or `data` itself when it is a list.
pub fn samples(tree: &Tree) -> Result<&[Value], Error> {
    let root = &tree.root;
    if let Some(seq) = tree.as_seq(root) {
        return Ok(seq);
    }
    let what = match tree.node_of(root) {
        Some(pt::Node::Dict(d)) => match d.get_str("samples") {
            Some(s) => {
                return tree.as_seq(s).ok_or_else(|| {
                    Error::NotADump(format!("'samples' is {}, not a list", kind_of(tree, s)))
                })
            }
            None => {
                let keys: Vec<String> = d
                    .entries
                    .iter()
                    .take(5)
                    .map(|(k, _)| pt::walk::repr(tree, k, 40))
                    .collect();
                let more = if d.len() > 5 { ", …" } else { "" };
                format!(
                    "a dict without a 'samples' key (keys: {}{more})",
                    keys.join(", ")
                )
            }
        },
        _ => kind_of(tree, root),
    };
    Err(Error::NotADump(format!(
        "the file holds {what}; expected a dict with 'samples' or a list of samples"
    )))
}

fn kind_of(tree: &Tree, v: &Value) -> String {
    match tree.node_of(v) {
        Some(pt::Node::Object(o)) => {
            let class: String = o.class.chars().take(120).collect();
            format!("a {class} object")
        }
        Some(pt::Node::Dict(_)) => "a dict".into(),
        Some(pt::Node::ElidedList { .. }) => "a list of numbers".into(),
        Some(_) => "a container".into(),
        None => {
            let text = pt::walk::repr(tree, v, 40);
            match v {
                Value::Int(_) | Value::BigInt(_) => format!("an int ({text})"),
                Value::Float(_) => format!("a float ({text})"),
                Value::Str(_) => format!("a str ({text})"),
                Value::None => "None".into(),
                _ => text,
            }
        }
    }
}

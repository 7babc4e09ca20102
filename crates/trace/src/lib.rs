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
//! [`MAX_FILE_EVENTS`] (events visited, kept or skipped), [`MAX_FILE_ITEMS`], [`MAX_OUTPUT_BYTES`], [`json::MAX_VALUE_BYTES`] per converted value,
//! [`MAX_WARNINGS`]. Passing a limit is said in a warning that names the sample and the limit.
//!
//! Layout: `model.rs` (cache types, and how non-finite floats are written), `rows/` (events →
//! row), `build.rs` (the build one sample at a time, fed by the reader as samples complete),
//! `store/` (the compact row store and the cache JSON written from it), `compact.rs` (what a
//! build gives), `json.rs` (values → JSON, bounded), `values.rs` (bounded "is it a dict?";
//! value text is `pt::walk::repr`), `cache_json.rs` (reading an untrusted cache JSON or a
//! serialised `Built`), `sniff.rs` (what kind of file), `sglang.rs` (PD phases and request perf fields), `metrics/`, `interop/`, this file
//! (entry points and the build's limits).

mod build;
mod cache_json;
mod compact;
pub mod interop;
pub mod json;
pub mod metrics;
pub mod model;
pub mod rows;
pub mod run;
pub mod sglang;
mod sniff;
pub mod store;
pub mod values;

pub use build::PROGRESS_EVERY;
pub use cache_json::load_cache_json;
pub use compact::Compact;

pub use model::{
    Cache, Item, PointItem, Row, SpanAttrs, SpanItem, State, CACHE_VERSION, PD_VIRTUAL_ROLE,
};

use std::cell::RefCell;
use std::rc::Rc;

use pt::{Limits, Tree, Value};
use thiserror::Error;

/// Samples read from one file; the rest are left out with a warning. Real rollout steps have
/// thousands; a million references to one sample cost a pickle 2 MB.
pub const MAX_SAMPLES: usize = 1 << 20;
/// Trace events of one sample; a sample with more is skipped with a warning. A 200 000-span
/// sample (400 000 events) is within it.
pub const MAX_SAMPLE_EVENTS: usize = 1 << 20;
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
/// byte out per byte in (the 430 MB `--turns 60` benchmark dump: 1.4); only shared references
/// give more, and 1 024 leaves room for honest sharing while a 26 KB file naming one 16 KB
/// string 5 000 times cannot yield 80 MB.
pub const OUTPUT_PER_INPUT_BYTE: u64 = 1024;
/// Output any dump may have whatever its size.
pub const OUTPUT_FLOOR: u64 = 1 << 20;
/// Warnings kept for one file; the rest are counted in a last warning.
pub const MAX_WARNINGS: usize = 1000;

/// The limits of one build ([`build_cache_limited`]); [`BuildLimits::DEFAULT`] is what every
/// entry point uses. Smaller limits are for tests that exercise each limit cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildLimits {
    pub max_samples: usize,
    pub max_sample_events: usize,
    pub max_file_items: usize,
    pub max_file_events: usize,
    pub max_output_bytes: u64,
}

impl BuildLimits {
    pub const DEFAULT: BuildLimits = BuildLimits {
        max_samples: MAX_SAMPLES,
        max_sample_events: MAX_SAMPLE_EVENTS,
        max_file_items: MAX_FILE_ITEMS,
        max_file_events: MAX_FILE_EVENTS,
        max_output_bytes: MAX_OUTPUT_BYTES,
    };

    /// The limits for a file of `input_bytes` bytes: [`BuildLimits::DEFAULT`] with the output
    /// and the trace events visited also bounded by the file's size
    /// ([`OUTPUT_PER_INPUT_BYTE`], [`OUTPUT_FLOOR`], [`EVENTS_PER_INPUT_BYTE`],
    /// [`EVENTS_FLOOR`]).
    pub fn for_input(input_bytes: u64) -> BuildLimits {
        let by_size = OUTPUT_PER_INPUT_BYTE
            .saturating_mul(input_bytes)
            .saturating_add(OUTPUT_FLOOR);
        let events = usize::try_from(input_bytes)
            .unwrap_or(usize::MAX)
            .saturating_mul(EVENTS_PER_INPUT_BYTE)
            .saturating_add(EVENTS_FLOOR);
        BuildLimits {
            max_output_bytes: by_size.min(MAX_OUTPUT_BYTES),
            max_file_events: events.min(MAX_FILE_EVENTS),
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
}

/// Rows, warnings and the performance picture built from one file. Serialisable: it is what
/// the viewer's worker hands to the page and what a one-file report carries.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Built {
    pub cache: Cache,
    pub warnings: Vec<Warning>,
    pub analysis: metrics::Analysis,
}

/// Reads a dump (`.pt`, legacy torch, bare pickle) or a slime cache JSON, by content.
///
/// `pt_path` is recorded in the cache as slime does; `generated_at` is seconds since the
/// epoch (the caller owns the clock: wasm has none of its own).
pub fn load(bytes: &[u8], pt_path: &str, generated_at: f64) -> Result<Built, Error> {
    parse(bytes)?.build(pt_path, generated_at)
}

/// [`load`] into the compact row store (what the CLI and the viewer's worker keep).
pub fn load_compact(bytes: &[u8], pt_path: &str, generated_at: f64) -> Result<Compact, Error> {
    parse(bytes)?.build_compact(pt_path, generated_at, &mut |_, _| {})
}

/// A file after reading, before rows: split from [`load`] so a caller can free the file's
/// bytes (the value tree does not borrow them) before rows are built.
pub enum Parsed {
    /// A dump, read: its rows are mostly built already (see `build.rs`).
    Dump(DumpRead),
    Cache(Box<Built>),
    /// OTLP/JSON traces, turned into rows by `build`, and the JSON's size in bytes (which
    /// bounds the rows' output and events, as for a dump).
    Otlp(Box<serde_json::Value>, u64),
    /// Prometheus series (to draw beside a dump): not rows.
    Series(Vec<interop::Series>),
}

/// A dump after reading. The reader handed each batch of complete samples to the build as it
/// read them and freed them, so `dump.tree` holds the rest of the file's values and
/// [`pt::Node::Released`] where those samples were; [`Parsed::build_compact`] finishes the
/// rows.
pub struct DumpRead {
    pub dump: pt::Dump,
    /// The file's size in bytes, which bounds the rows' output (see
    /// [`BuildLimits::for_input`]).
    pub bytes: u64,
    driver: Rc<RefCell<build::Driver>>,
}

impl DumpRead {
    fn new_driver() -> Rc<RefCell<build::Driver>> {
        Rc::new(RefCell::new(build::Driver::new(BuildLimits::for_input(0))))
    }
}

/// Reads a file as its bytes arrive (see `pt::stream`): push chunks, then finish. A cache
/// JSON is collected and validated at the end; a dump never needs to be held whole.
///
/// Gives exactly what [`parse`] gives on the whole file: the kind of file is decided by the
/// same function (`sniff::kind`) on the same first `sniff::WINDOW` (4 096) bytes, so the first
/// bytes are held until that many have arrived (or the file ends).
pub struct StreamLoader {
    state: StreamState,
    /// Bytes pushed so far: the file's size at `finish`, which bounds a dump's output.
    fed: u64,
}

enum StreamState {
    /// Fewer than `sniff::WINDOW` bytes seen yet.
    Sniff(Vec<u8>),
    /// JSON or Prometheus text: collected, then read as a whole.
    Whole(Vec<u8>),
    Dump(Box<pt::StreamReader<'static>>, Rc<RefCell<build::Driver>>),
}

static TIMELINE_LIMITS: Limits = Limits::TIMELINE;

impl Default for StreamLoader {
    fn default() -> Self {
        StreamLoader {
            fed: 0,
            state: StreamState::Sniff(Vec::new()),
        }
    }
}

impl StreamLoader {
    pub fn new() -> Self {
        StreamLoader::default()
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.fed = self.fed.saturating_add(chunk.len() as u64);
        match &mut self.state {
            StreamState::Whole(buf) => buf.extend_from_slice(chunk),
            StreamState::Dump(r, _) => r.push(chunk)?,
            StreamState::Sniff(buf) => {
                buf.extend_from_slice(chunk);
                if buf.len() >= sniff::WINDOW {
                    let buf = std::mem::take(buf);
                    self.state = match sniff::kind(&buf) {
                        sniff::Kind::Dump => {
                            let driver = DumpRead::new_driver();
                            let sink = Box::new(build::Sink(driver.clone()));
                            let mut r =
                                Box::new(pt::StreamReader::with_sink(&TIMELINE_LIMITS, sink));
                            r.push(&buf)?;
                            StreamState::Dump(r, driver)
                        }
                        _ => StreamState::Whole(buf),
                    };
                }
            }
        }
        Ok(())
    }

    /// True once a dump's value is complete: the rest of the file (tensor storages) is not
    /// needed and reading can stop.
    pub fn is_done(&self) -> bool {
        matches!(&self.state, StreamState::Dump(r, _) if r.is_done())
    }

    pub fn finish(self) -> Result<Parsed, Error> {
        match self.state {
            StreamState::Whole(buf) | StreamState::Sniff(buf) => parse(&buf),
            StreamState::Dump(r, driver) => Ok(Parsed::Dump(DumpRead {
                dump: r.finish()?,
                bytes: self.fed,
                driver,
            })),
        }
    }
}

/// Reads the bytes: a dump into its value tree (long numeric lists elided), a cache JSON
/// validated.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Error> {
    match sniff::kind(bytes) {
        sniff::Kind::Prometheus => interop::parse_prometheus(bytes).map(Parsed::Series),
        sniff::Kind::Json => {
            let text = bytes.strip_prefix(sniff::BOM).unwrap_or(bytes);
            let value: serde_json::Value =
                serde_json::from_slice(text).map_err(|e| Error::BadCache(e.to_string()))?;
            if interop::is_otlp(&value) {
                return Ok(Parsed::Otlp(Box::new(value), bytes.len() as u64));
            }
            if cache_json::is_built(&value) {
                return cache_json::built_from_json(value).map(|b| Parsed::Cache(Box::new(b)));
            }
            cache_json::cache_from_json(value).map(|b| Parsed::Cache(Box::new(b)))
        }
        sniff::Kind::Dump => {
            let driver = DumpRead::new_driver();
            let sink = Box::new(build::Sink(driver.clone()));
            let limits = Limits::for_timeline();
            let dump = pt::read_with_sink(bytes, &limits, sink)?;
            Ok(Parsed::Dump(DumpRead {
                dump,
                bytes: bytes.len() as u64,
                driver,
            }))
        }
    }
}

impl Parsed {
    pub fn build(self, pt_path: &str, generated_at: f64) -> Result<Built, Error> {
        self.build_with(pt_path, generated_at, &mut |_, _| {})
    }

    /// [`Parsed::build`], calling `progress(samples done, samples total)` as it goes.
    pub fn build_with(
        self,
        pt_path: &str,
        generated_at: f64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Built, Error> {
        self.build_compact(pt_path, generated_at, progress)
            .map(Compact::into_built)
    }

    /// Rows into the compact store, calling `progress(samples done, samples total)`.
    pub fn build_compact(
        self,
        pt_path: &str,
        generated_at: f64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Compact, Error> {
        match self {
            Parsed::Dump(d) => {
                let driver = std::mem::replace(
                    &mut *d.driver.borrow_mut(),
                    build::Driver::new(BuildLimits::DEFAULT),
                );
                driver.finish(&d.dump.tree, pt_path, generated_at, Some(d.bytes), progress)
            }
            Parsed::Cache(built) => Ok(Compact::from_built(*built)),
            Parsed::Otlp(value, input_bytes) => interop::import_otlp_limited(
                &value,
                pt_path,
                generated_at,
                &BuildLimits::for_input(input_bytes),
            )
            .map(Compact::from_built),
            Parsed::Series(_) => Err(Error::NotADump(
                "this is Prometheus data: open it on top of a rollout dump to see its series"
                    .into(),
            )),
        }
    }
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

/// Builds the cache from a parsed dump.
pub fn build_cache(tree: &Tree, pt_path: &str, generated_at: f64) -> Result<Built, Error> {
    build_cache_with(tree, pt_path, generated_at, &mut |_, _| {})
}

/// [`build_cache`], calling `progress(samples done, samples total)` every
/// [`PROGRESS_EVERY`] samples and at the end.
pub fn build_cache_with(
    tree: &Tree,
    pt_path: &str,
    generated_at: f64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Built, Error> {
    build_cache_limited(tree, pt_path, generated_at, &BuildLimits::DEFAULT, progress)
}

/// [`build_cache_with`] under the given limits.
pub fn build_cache_limited(
    tree: &Tree,
    pt_path: &str,
    generated_at: f64,
    limits: &BuildLimits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Built, Error> {
    build_compact_limited(tree, pt_path, generated_at, limits, progress).map(Compact::into_built)
}

/// [`build_cache_limited`] into the compact row store: each row goes into the store and the
/// analysis as it is made, so no more than one row of `serde_json` values exists at a time.
pub fn build_compact_limited(
    tree: &Tree,
    pt_path: &str,
    generated_at: f64,
    limits: &BuildLimits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Compact, Error> {
    build::Driver::new(*limits).finish(tree, pt_path, generated_at, None, progress)
}

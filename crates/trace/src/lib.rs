//! `trace`: rollout dump values → timeline rows (slime's cache v1), metrics and exports.
//!
//! **Owns:** the meaning of a rollout dump: which value is the sample list, how a sample's
//! trace events become spans, point events, orphan ends and lanes (spec §3), the cache JSON,
//! and the warnings that say which samples were bad and why.
//!
//! **Architecture invariant:** `trace` knows nothing of pixels, the DOM or files. Values in,
//! rows out; it builds for wasm. One bad sample never hides the others: per-sample problems
//! are [`Warning`]s, and only a file that is not a rollout dump at all is an [`Error`].
//!
//! Layout: `model.rs` (cache types), `rows.rs` (events → row), `json.rs` (values → JSON,
//! bounded), this file (entry points).

pub mod interop;
pub mod json;
pub mod metrics;
pub mod model;
pub mod rows;

pub use model::{
    Cache, Item, PointItem, Row, SpanAttrs, SpanItem, State, CACHE_VERSION, PD_VIRTUAL_ROLE,
};

use pt::{Limits, Tree, Value};
use thiserror::Error;

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

/// A file after reading, before rows: split from [`load`] so a caller can free the file's
/// bytes (the value tree does not borrow them) before rows are built.
pub enum Parsed {
    Dump(pt::Dump),
    Cache(Box<Built>),
    /// OTLP/JSON traces, turned into rows by `build`.
    Otlp(Box<serde_json::Value>),
    /// Prometheus series (to draw beside a dump): not rows.
    Series(Vec<interop::Series>),
}

/// Reads a file as its bytes arrive (see `pt::stream`): push chunks, then finish. A cache
/// JSON is collected and validated at the end; a dump never needs to be held whole.
pub struct StreamLoader {
    state: StreamState,
}

enum StreamState {
    /// Nothing but whitespace seen yet.
    Sniff(Vec<u8>),
    Json(Vec<u8>),
    /// Text that may be Prometheus exposition format.
    Text(Vec<u8>),
    Dump(Box<pt::StreamReader<'static>>),
}

static TIMELINE_LIMITS: Limits = Limits::TIMELINE;

impl Default for StreamLoader {
    fn default() -> Self {
        StreamLoader {
            state: StreamState::Sniff(Vec::new()),
        }
    }
}

impl StreamLoader {
    pub fn new() -> Self {
        StreamLoader::default()
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        match &mut self.state {
            StreamState::Json(buf) | StreamState::Text(buf) => buf.extend_from_slice(chunk),
            StreamState::Dump(r) => r.push(chunk)?,
            StreamState::Sniff(buf) => {
                buf.extend_from_slice(chunk);
                let start = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
                match start.iter().find(|b| !b.is_ascii_whitespace()) {
                    None if buf.len() < 4096 => {}
                    Some(b'{') => self.state = StreamState::Json(std::mem::take(buf)),
                    Some(b'#') => self.state = StreamState::Text(std::mem::take(buf)),
                    Some(c) if c.is_ascii_alphabetic() && interop::is_prometheus(buf) => {
                        self.state = StreamState::Text(std::mem::take(buf))
                    }
                    _ => {
                        let mut r = Box::new(pt::StreamReader::new(&TIMELINE_LIMITS));
                        r.push(buf)?;
                        self.state = StreamState::Dump(r);
                    }
                }
            }
        }
        Ok(())
    }

    /// True once a dump's value is complete: the rest of the file (tensor storages) is not
    /// needed and reading can stop.
    pub fn is_done(&self) -> bool {
        matches!(&self.state, StreamState::Dump(r) if r.is_done())
    }

    pub fn finish(self) -> Result<Parsed, Error> {
        match self.state {
            StreamState::Json(buf) | StreamState::Text(buf) | StreamState::Sniff(buf) => {
                parse(&buf)
            }
            StreamState::Dump(r) => Ok(Parsed::Dump(r.finish()?)),
        }
    }
}

/// Reads the bytes: a dump into its value tree (long numeric lists elided), a cache JSON
/// validated.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Error> {
    if interop::is_prometheus(bytes) {
        return interop::parse_prometheus(bytes).map(Parsed::Series);
    }
    if looks_like_json(bytes) {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Error::BadCache(e.to_string()))?;
        if interop::is_otlp(&value) {
            return Ok(Parsed::Otlp(Box::new(value)));
        }
        return cache_from_json(value).map(|b| Parsed::Cache(Box::new(b)));
    }
    Ok(Parsed::Dump(pt::read(bytes, &Limits::for_timeline())?))
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
        match self {
            Parsed::Dump(dump) => build_cache_with(&dump.tree, pt_path, generated_at, progress),
            Parsed::Cache(built) => Ok(*built),
            Parsed::Otlp(value) => interop::import_otlp(&value, pt_path, generated_at),
            Parsed::Series(_) => Err(Error::NotADump(
                "this is Prometheus data: open it on top of a rollout dump to see its series"
                    .into(),
            )),
        }
    }
}

fn looks_like_json(bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    start
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Validates a cache JSON written by slime's tool (or by us) and uses it as it is.
pub fn load_cache_json(bytes: &[u8]) -> Result<Built, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::BadCache(e.to_string()))?;
    cache_from_json(value)
}

fn cache_from_json(value: serde_json::Value) -> Result<Built, Error> {
    let cache: Cache = serde_json::from_value(value).map_err(|e| Error::BadCache(e.to_string()))?;
    if cache.cache_version != CACHE_VERSION {
        return Err(Error::BadCache(format!(
            "cache_version is {}, this reader knows {CACHE_VERSION}",
            cache.cache_version
        )));
    }
    let mut warnings = Vec::new();
    let analysis = metrics::analyze(
        &cache.rows,
        &metrics::facts_from_rows(&cache.rows),
        &metrics::Thresholds::default(),
    );
    if cache.sample_count != cache.rows.len() {
        warnings.push(Warning {
            sample: None,
            message: format!(
                "sample_count says {} but the cache has {} rows",
                cache.sample_count,
                cache.rows.len()
            ),
        });
    }
    Ok(Built {
        cache,
        warnings,
        analysis,
    })
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
        Some(pt::Node::Object(o)) => format!("a {} object", o.class),
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

/// How many samples go by between two progress calls.
pub const PROGRESS_EVERY: usize = 256;

/// [`build_cache`], calling `progress(samples done, samples total)` every
/// [`PROGRESS_EVERY`] samples and at the end.
pub fn build_cache_with(
    tree: &Tree,
    pt_path: &str,
    generated_at: f64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Built, Error> {
    let samples = samples(tree)?;
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        notes.clear();
        if let Some(row) = rows::build_row(tree, sample, i, &mut notes) {
            rows.push(row);
        }
        warnings.extend(notes.drain(..).map(|message| Warning {
            sample: Some(i),
            message,
        }));
        if (i + 1) % PROGRESS_EVERY == 0 {
            progress(i + 1, samples.len());
        }
    }
    progress(samples.len(), samples.len());
    let global_start = rows
        .iter()
        .map(|r| r.start)
        .reduce(f64::min)
        .map(rows::round6);
    let global_end = rows
        .iter()
        .map(|r| r.end)
        .reduce(f64::max)
        .map(rows::round6);
    let facts = metrics::sample_facts(tree, samples, &rows);
    let analysis = metrics::analyze(&rows, &facts, &metrics::Thresholds::default());
    Ok(Built {
        analysis,
        cache: Cache {
            cache_version: CACHE_VERSION,
            pt_path: pt_path.to_string(),
            generated_at,
            sample_count: rows.len(),
            global_start,
            global_end,
            rows,
        },
        warnings,
    })
}

//! The front door: bytes → [`Loaded`]. One streaming [`Loader`], one [`LoadOptions`], and
//! [`load`] for bytes already in memory; [`build_rows`] for a value tree already read (the
//! OTLP import, tests). Every crate of the workspace turns bytes into rows through these.
//!
//! The kind of file is decided by one function ([`sniff::kind`]) on the first
//! [`sniff::WINDOW`] bytes, whichever way the bytes arrive, so a file gives the same rows
//! read whole or in chunks.

use std::cell::RefCell;
use std::rc::Rc;

use pt::{Limits, Tree};

use crate::sniff::{self, Kind};
use crate::{build, cache_json, interop, BuildLimits, Error, Loaded};

/// How to load one file.
#[derive(Clone, Copy)]
pub struct LoadOptions<'a> {
    /// The input's name, recorded in the cache (slime records the dump's path).
    pub name: &'a str,
    /// Seconds since the epoch, recorded in the cache: the caller owns the clock (wasm has
    /// none of its own).
    pub generated_at: f64,
    /// `None`: [`BuildLimits::for_input`] of the file's size (what a user's file gets).
    /// `Some`: exactly these (tests exercise each limit cheaply with small ones).
    pub limits: Option<BuildLimits>,
    /// Called with (samples done, samples total) every [`crate::PROGRESS_EVERY`] samples of
    /// the final build and at its end.
    pub progress: Option<&'a dyn Fn(usize, usize)>,
    /// The file's size when known before it is read (a file on disk): room for the rows of a
    /// file that large is reserved up front ([`Store::reserve`](crate::store::Store::reserve)),
    /// so a large build does not copy its columns as they grow. Address space only: pages
    /// never written are never resident, in a browser's wasm memory too (the viewer's worker
    /// gives an opened file's size: Chromium's peak on the 1 M-span dump went 881 → 810 MB,
    /// without the copies of columns that doubled). Only a size the reader can trust: not a
    /// server's claim.
    pub size_hint: Option<u64>,
}

impl<'a> LoadOptions<'a> {
    /// `name` and the clock; the limits of the file's size; no progress.
    pub fn new(name: &'a str, generated_at: f64) -> LoadOptions<'a> {
        LoadOptions {
            name,
            generated_at,
            limits: None,
            progress: None,
            size_hint: None,
        }
    }
}

/// What a file holds: rows, or Prometheus series (drawn beside a dump's rows).
pub enum Content {
    Rows(Box<Loaded>),
    Series(Vec<interop::Series>),
}

/// Loads bytes already in memory: a dump (`.pt`, legacy torch, bare pickle), a cache JSON,
/// OTLP/JSON or a row store's bytes, by content. Prometheus data is refused with a message saying what it is.
pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Loaded, Error> {
    rows_of(parse(bytes, options)?.finish(options)?)
}

/// Rows from a dump's value tree already read (every sample in order), under
/// `options.limits` (or [`BuildLimits::DEFAULT`]).
pub fn build_rows(tree: &Tree, options: &LoadOptions) -> Result<Loaded, Error> {
    let limits = options.limits.unwrap_or(BuildLimits::DEFAULT);
    build::Driver::new(limits, true).finish(
        tree,
        options.name,
        options.generated_at,
        None,
        &mut progress_of(options),
    )
}

fn rows_of(content: Content) -> Result<Loaded, Error> {
    match content {
        Content::Rows(l) => Ok(*l),
        Content::Series(_) => Err(Error::NotADump(
            "this is Prometheus data: open it on top of a rollout dump to see its series".into(),
        )),
    }
}

fn progress_of<'a>(options: &'a LoadOptions) -> impl FnMut(usize, usize) + 'a {
    move |done, total| {
        if let Some(p) = options.progress {
            p(done, total)
        }
    }
}

/// Reads a file as its bytes arrive (see `pt::stream`): push chunks, then finish. A JSON or
/// text file is collected and read at the end; a dump never needs to be held whole (its rows
/// are built as its samples complete).
pub struct Loader<'a> {
    options: LoadOptions<'a>,
    state: State,
    /// Bytes pushed so far: the file's size at `finish`, which bounds a dump's output.
    fed: u64,
}

enum State {
    /// Fewer than `sniff::WINDOW` bytes seen yet.
    Sniff(Vec<u8>),
    /// JSON or Prometheus text: collected, then read as a whole.
    Whole(Vec<u8>),
    Dump(Box<pt::StreamReader<'static>>, Rc<RefCell<build::Driver>>),
}

static TIMELINE_LIMITS: Limits = Limits::TIMELINE;

impl<'a> Loader<'a> {
    pub fn new(options: LoadOptions<'a>) -> Loader<'a> {
        Loader {
            options,
            state: State::Sniff(Vec::new()),
            fed: 0,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.fed = self.fed.saturating_add(chunk.len() as u64);
        match &mut self.state {
            State::Whole(buf) => buf.extend_from_slice(chunk),
            State::Dump(r, _) => r.push(chunk)?,
            State::Sniff(buf) => {
                buf.extend_from_slice(chunk);
                if buf.len() >= sniff::WINDOW {
                    let buf = std::mem::take(buf);
                    self.state = match sniff::kind(&buf) {
                        Kind::Dump => {
                            let driver = new_driver(&self.options);
                            let sink = Box::new(build::Sink(driver.clone()));
                            let mut r =
                                Box::new(pt::StreamReader::with_sink(&TIMELINE_LIMITS, sink));
                            r.push(&buf)?;
                            State::Dump(r, driver)
                        }
                        _ => State::Whole(buf),
                    };
                }
            }
        }
        Ok(())
    }

    /// Room for `more` bytes still to come when the input is held whole, from a caller that
    /// knows the file's size: the buffer is then not grown (and copied) again and again.
    /// Nothing for a dump (it streams), and nothing if the memory cannot be had (the buffer
    /// then grows as it would have).
    pub fn reserve(&mut self, more: usize) {
        if let State::Whole(buf) = &mut self.state {
            let _ = buf.try_reserve_exact(more);
        }
    }

    /// True once a dump's value is complete: the rest of the file (tensor storages) is not
    /// needed and reading can stop.
    pub fn is_done(&self) -> bool {
        matches!(&self.state, State::Dump(r, _) if r.is_done())
    }

    /// Whether the input is being held whole (JSON or text, read at the end) rather than
    /// streamed (a dump); `None` until the first [`sniff::WINDOW`] bytes have decided. A
    /// caller with a memory budget refuses a held input past it.
    pub fn holds_whole(&self) -> Option<bool> {
        match self.state {
            State::Sniff(_) => None,
            State::Whole(_) => Some(true),
            State::Dump(..) => Some(false),
        }
    }

    /// Runs `f` on the rows of a dump built so far, in their final order (rows are only ever
    /// added at the end), so a caller can send them on while the rest is read. `None` before
    /// the input is known to be a dump, for other inputs (they are built at the end), and
    /// while a store thread holds the rows (natively, unless no thread could be started).
    /// The build can start a new store, whose rows are then the ones that count: while
    /// reading, when a legacy file's first pickle turns out to be its magic number, and at the
    /// end, when the file names another sample list (a pickle that sets `samples` twice).
    /// A caller tells by [`Store::id`](crate::store::Store::id), here and in [`Loaded::store`].
    pub fn with_rows_so_far<R>(&self, f: impl FnOnce(&crate::store::Store) -> R) -> Option<R> {
        match &self.state {
            State::Dump(_, driver) => driver.borrow().store_so_far().map(f),
            _ => None,
        }
    }

    /// The rows (Prometheus data is refused, as by [`load`]).
    pub fn finish(self) -> Result<Loaded, Error> {
        self.finish_content().and_then(rows_of)
    }

    /// The rows, or the series of a Prometheus file.
    pub fn finish_content(self) -> Result<Content, Error> {
        let options = self.options;
        let parsed = match self.state {
            State::Whole(buf) | State::Sniff(buf) => parse(&buf, &options)?,
            State::Dump(r, driver) => Parsed::Dump {
                dump: r.finish()?,
                bytes: self.fed,
                driver,
            },
        };
        parsed.finish(&options)
    }
}

fn new_driver(options: &LoadOptions) -> Rc<RefCell<build::Driver>> {
    let mut driver = match options.limits {
        Some(l) => build::Driver::new(l, true),
        // Grows with the bytes read (see `build.rs`).
        None => build::Driver::new(BuildLimits::for_input(0), false),
    };
    if let Some(bytes) = options.size_hint {
        driver.reserve_for(bytes);
    }
    Rc::new(RefCell::new(driver))
}

/// A file after reading, before its rows are finished.
enum Parsed {
    /// A dump, read: the reader handed the complete samples to the driver as it read
    /// them and freed them, so `dump.tree` holds the rest of the file's values and
    /// [`pt::Node::Released`] where those samples were. `bytes`: the file's size, which
    /// bounds the rows' output.
    Dump {
        dump: pt::Dump,
        bytes: u64,
        driver: Rc<RefCell<build::Driver>>,
    },
    Cache(Box<crate::Materialized>),
    /// A row store's bytes, read back.
    Store(Box<Loaded>),
    /// OTLP/JSON traces and the JSON's size in bytes (which bounds the rows, as for a dump).
    Otlp(Box<serde_json::Value>, u64),
    Series(Vec<interop::Series>),
}

/// Reads the bytes: a dump into its value tree (long numeric lists elided, samples handed to
/// the build as they complete), a JSON validated.
fn parse(bytes: &[u8], options: &LoadOptions) -> Result<Parsed, Error> {
    match sniff::kind(bytes) {
        Kind::Prometheus => interop::parse_prometheus(bytes).map(Parsed::Series),
        Kind::Store => crate::store::binary::read(bytes).map(|l| Parsed::Store(Box::new(l))),
        Kind::Json => {
            let text = bytes.strip_prefix(sniff::BOM).unwrap_or(bytes);
            let value: serde_json::Value =
                serde_json::from_slice(text).map_err(|e| Error::BadCache(e.to_string()))?;
            if interop::is_otlp(&value) {
                return Ok(Parsed::Otlp(Box::new(value), bytes.len() as u64));
            }
            if cache_json::is_materialized(&value) {
                return cache_json::materialized_from_json(value)
                    .map(|b| Parsed::Cache(Box::new(b)));
            }
            cache_json::cache_from_json(value).map(|b| Parsed::Cache(Box::new(b)))
        }
        Kind::Dump => {
            let driver = new_driver(options);
            let sink = Box::new(build::Sink(driver.clone()));
            let dump = pt::read_with_sink(bytes, &Limits::for_timeline(), sink)?;
            Ok(Parsed::Dump {
                dump,
                bytes: bytes.len() as u64,
                driver,
            })
        }
    }
}

impl Parsed {
    fn finish(self, options: &LoadOptions) -> Result<Content, Error> {
        let loaded = match self {
            Parsed::Dump {
                dump,
                bytes,
                driver,
            } => {
                let driver = std::mem::replace(
                    &mut *driver.borrow_mut(),
                    build::Driver::new(BuildLimits::DEFAULT, true),
                );
                driver.finish(
                    &dump.tree,
                    options.name,
                    options.generated_at,
                    Some(bytes),
                    &mut progress_of(options),
                )?
            }
            Parsed::Cache(m) => Loaded::from_materialized(*m),
            Parsed::Store(l) => *l,
            Parsed::Otlp(value, input_bytes) => {
                let limits = options
                    .limits
                    .unwrap_or_else(|| BuildLimits::for_input(input_bytes));
                interop::import_otlp(&value, options.name, options.generated_at, &limits)?
            }
            Parsed::Series(series) => return Ok(Content::Series(series)),
        };
        Ok(Content::Rows(Box::new(loaded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OTLP file is built under the limits of its size, as a dump is: `parse` keeps it.
    #[test]
    fn an_otlp_file_carries_its_size_to_the_build() {
        let bytes = br#"{"resourceSpans": [{"scopeSpans": []}]}"#;
        match parse(bytes, &LoadOptions::new("x", 0.0)) {
            Ok(Parsed::Otlp(_, n)) => assert_eq!(n, bytes.len() as u64),
            Ok(_) => panic!("not read as OTLP"),
            Err(e) => panic!("{e}"),
        }
    }
}

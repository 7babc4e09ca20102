//! The build, one sample at a time: [`Driver`] turns each sample into a row (`rows/`), hands
//! the row to the store and the analysis, and keeps the sample's facts and warnings.
//!
//! Two ways in, one driver: from a whole value tree ([`crate::build_rows`]: every sample in
//! order), and from the reader while it reads (`pt::SampleSink`: samples a few behind the
//! one the pickle is reading, or each batch as the pickle appends it, after which the reader
//! frees them, so a long dump never holds its whole value tree). [`crate::load`] and [`crate::Loader`] both read dumps
//! the second way, through the same reading core, so a file gives the same rows however its
//! bytes arrive.
//!
//! While reading, the file's size is not known yet: the output and event limits of a batch
//! are those of the bytes read so far ([`BuildLimits::for_input`] of the reader's offset),
//! which only grow, and the rest of the samples are built at the end under the limits of the
//! whole file. A sample the reader freed that the list names again (a crafted pickle sharing
//! one sample object) gets a copy of its first row, charged to the limits like a new one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pt::{NodeId, Tree, Value};
use rustc_hash::FxHashMap;

use crate::metrics::{self, SampleFacts};
use crate::{json, rows, BuildLimits, CacheHead, Error, Loaded, Warning, MAX_WARNINGS};

/// What a freed sample gave, for a later reference to it.
struct Seen {
    row: Option<usize>,
    notes: Vec<String>,
    fact: SampleFacts,
    items: usize,
    events: usize,
    bytes: u64,
}

/// The build in progress (see the module doc).
pub(crate) struct Driver {
    limits: BuildLimits,
    /// The limits are exactly `limits`: not grown with the bytes read.
    fixed: bool,
    budget: rows::Budget,
    /// The row store and the analysis (natively on a thread of their own: `output.rs`).
    out: output::Output,
    warnings: Warnings,
    facts: Vec<SampleFacts>,
    loss_sums: HashMap<NodeId, Option<f64>>,
    notes: Vec<String>,
    /// The sample at which a file limit stopped the rows, which limit, and its value then
    /// (while reading, the limit of the bytes read so far).
    stop: Option<(usize, rows::Stop, u64)>,
    /// Samples at or past `limits.max_samples` (not read).
    beyond: usize,
    /// Samples seen so far (the next sample's position).
    next: usize,
    /// The reader's sample list, when samples came from the reader.
    list: Option<NodeId>,
    seen: FxHashMap<u32, Seen>,
    /// References to containers the reader had already freed, and the sample being read at
    /// the first (see `pt::SampleSink::freed_reference`).
    freed: Option<(usize, usize)>,
}

impl Driver {
    pub(crate) fn new(limits: BuildLimits, fixed: bool) -> Driver {
        Driver {
            limits,
            fixed,
            budget: rows::Budget::new(&limits),
            out: output::Output::new(),
            warnings: Warnings::default(),
            facts: Vec::new(),
            loss_sums: HashMap::new(),
            notes: Vec::new(),
            stop: None,
            beyond: 0,
            next: 0,
            list: None,
            seen: FxHashMap::default(),
            freed: None,
        }
    }

    /// Room for the rows of a file of `bytes` bytes ([`LoadOptions::size_hint`]), sized on
    /// the densest dumps (the `--turns 60` benchmark: an item per ≈ 345 bytes, attribute text
    /// 0.4× the file), and never past what the limits let a build hold.
    ///
    /// [`LoadOptions::size_hint`]: crate::LoadOptions::size_hint
    pub(crate) fn reserve_for(&mut self, bytes: u64) {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        let items = (bytes / 320).min(self.limits.max_file_items);
        let limit = usize::try_from(crate::MAX_OUTPUT_BYTES).unwrap_or(usize::MAX);
        self.out.reserve(items, (bytes / 2).min(limit));
    }

    /// The rows built so far, when they are stored on this thread (see [`output::Output`]).
    pub(crate) fn store_so_far(&self) -> Option<&crate::store::Store> {
        self.out.store_here()
    }

    /// The output, event and held limits of `limits` for an input of `bytes` (never lowered).
    fn set_input(&mut self, bytes: u64) {
        if self.fixed {
            return;
        }
        let l = BuildLimits::for_input(bytes);
        self.budget.max_bytes = self.budget.max_bytes.max(l.max_output_bytes);
        self.budget.max_events = self.budget.max_events.max(l.max_file_events);
        self.budget.max_sample_held = self.budget.max_sample_held.max(l.max_sample_held);
    }

    /// Sample `i`. `released`: the reader frees it once this returns.
    fn add(&mut self, tree: &Tree, sample: &Value, i: usize, released: bool) {
        self.next = i + 1;
        if i >= self.limits.max_samples {
            self.beyond += 1;
            return;
        }
        if let Value::Node(id) = sample {
            if let Some(seen) = self.seen.get(&id.0) {
                let (row, notes, fact, cost) = (
                    seen.row,
                    seen.notes.clone(),
                    seen.fact.clone(),
                    (seen.items, seen.events, seen.bytes),
                );
                self.add_copy(i, row, notes, fact, cost);
                return;
            }
        }
        let before = (self.budget.items, self.budget.events, self.budget.out.bytes);
        let mut row = None;
        self.notes.clear();
        if self.stop.is_none() {
            let built = rows::build_row(tree, sample, i, &mut self.budget, &mut self.notes);
            for message in &self.notes {
                self.warnings.push(Warning {
                    sample: Some(i),
                    message: message.clone(),
                });
            }
            match built {
                Ok(Some(r)) => {
                    let index = r.sample_index.clone();
                    let text = self.budget.out.bytes - before.2;
                    row = Some((self.out.push(r, text), index));
                }
                Ok(None) => {}
                Err(stop) => self.stop = Some((i, stop, self.limit_of(stop))),
            }
        }
        let head = row.as_ref().map(|(r, index)| (*r, index));
        let fact = metrics::sample_fact(tree, sample, i, head, &mut self.loss_sums);
        let row = row.map(|(r, _)| r);
        if released {
            if let Value::Node(id) = sample {
                self.seen.insert(
                    id.0,
                    Seen {
                        row,
                        notes: std::mem::take(&mut self.notes),
                        fact: fact.clone(),
                        items: self.budget.items - before.0,
                        events: self.budget.events - before.1,
                        bytes: self.budget.out.bytes - before.2,
                    },
                );
            }
        }
        self.facts.push(fact);
    }

    /// Sample `i` is a sample already read and freed: its row again, under the limits.
    fn add_copy(
        &mut self,
        i: usize,
        row: Option<usize>,
        notes: Vec<String>,
        mut fact: SampleFacts,
        (items, events, bytes): (usize, usize, u64),
    ) {
        fact.row = None;
        if self.stop.is_none() {
            for message in notes {
                self.warnings.push(Warning {
                    sample: Some(i),
                    message,
                });
            }
            let b = &self.budget;
            let stop = if b.events.saturating_add(events) > b.max_events {
                Some(rows::Stop::Events)
            } else if row.is_some() && b.items.saturating_add(items) > b.max_items {
                Some(rows::Stop::Items)
            } else if b.out.bytes.saturating_add(bytes) > b.max_bytes {
                Some(rows::Stop::Bytes)
            } else {
                None
            };
            match stop {
                Some(s) => self.stop = Some((i, s, self.limit_of(s))),
                None => {
                    self.budget.events += events;
                    self.budget.items += items;
                    self.budget.out.bytes += bytes;
                    if let Some(r) = row {
                        fact.row = Some(self.out.copy(r, i));
                    }
                }
            }
        }
        self.facts.push(fact);
    }

    /// The value of a limit now.
    fn limit_of(&self, stop: rows::Stop) -> u64 {
        match stop {
            rows::Stop::Items => self.budget.max_items as u64,
            rows::Stop::Events => self.budget.max_events as u64,
            rows::Stop::Bytes | rows::Stop::Discarded => self.budget.max_bytes,
        }
    }

    /// Builds the samples of `tree` not seen yet and puts everything together.
    pub(crate) fn finish(
        mut self,
        tree: &Tree,
        pt_path: &str,
        generated_at: f64,
        input_bytes: Option<u64>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Loaded, Error> {
        let all = crate::samples(tree)?;
        if self.list.is_some() && self.list != sample_list_node(tree) {
            // The list read as samples is not the one the file ends up naming (a dict
            // that sets `samples` twice): start again from the tree.
            self = Driver::new(self.limits, self.fixed);
        }
        if let Some(bytes) = input_bytes {
            self.set_input(bytes);
        }
        let total = all.len();
        for (i, sample) in all.iter().enumerate().skip(self.next) {
            self.add(tree, sample, i, false);
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i + 1, total);
            }
        }
        progress(total, total);
        let max_samples = self.limits.max_samples;
        if self.beyond > 0 {
            self.warnings.push_always(Warning {
                sample: Some(max_samples),
                message: format!(
                    "this and the {} samples after it are not read: the file has {total} \
                     samples, more than the limit of {max_samples}",
                    total - max_samples - 1,
                ),
            });
        }
        if let Some((i, stop, value)) = self.stop {
            let limit = match stop {
                rows::Stop::Items => format!("{value} items"),
                rows::Stop::Events => format!("{value} trace events (kept or skipped)"),
                rows::Stop::Bytes => format!("{} MiB of output", value >> 20),
                rows::Stop::Discarded => format!(
                    "{} MiB of values converted for samples skipped for their size",
                    value >> 20
                ),
            };
            self.warnings.push_always(Warning {
                sample: Some(i),
                message: format!(
                    "this and the {} samples after it are not shown: the rows would pass the \
                     file's limit of {limit}",
                    total.min(max_samples) - i - 1
                ),
            });
        }
        if let Some((first, n)) = self.freed {
            self.warnings.push_always(Warning {
                sample: None,
                message: format!(
                    "{n} references, the first while reading sample {first}, are to objects \
                     this dump shares with samples read and freed long before (more than 128 \
                     samples back, or an earlier batch of the pickle): those values read as \
                     missing (\"<released>\")"
                ),
            });
        }
        if self.budget.out.cut > 0 {
            self.warnings.push_always(Warning {
                sample: None,
                message: format!(
                    "{} values were cut at the limit of {} KiB of JSON each ({} KiB for names \
                     and span ids; marked \"…<cut\")",
                    self.budget.out.cut,
                    json::MAX_VALUE_BYTES >> 10,
                    json::MAX_KEY_BYTES >> 10
                ),
            });
        }
        let output::Parts {
            mut store,
            analyzer,
        } = self.out.finish();
        let heads = &store.heads;
        let global_start = heads
            .iter()
            .map(|r| r.start)
            .reduce(f64::min)
            .map(rows::round6);
        let global_end = heads
            .iter()
            .map(|r| r.end)
            .reduce(f64::max)
            .map(rows::round6);
        let analysis = analyzer.finish(&self.facts, &metrics::Thresholds::default());
        store.trim();
        Ok(Loaded {
            analysis,
            head: CacheHead {
                pt_path: pt_path.to_string(),
                generated_at,
                global_start,
                global_end,
            },
            store,
            warnings: self.warnings.finish(),
        })
    }
}

mod output;

/// How many samples go by between two progress calls.
pub const PROGRESS_EVERY: usize = 256;

/// The container [`crate::samples`] reads the samples from, if it is a container.
fn sample_list_node(tree: &Tree) -> Option<NodeId> {
    let list = match tree.node_of(&tree.root) {
        Some(pt::Node::Dict(d)) => d.get_str("samples")?,
        _ => &tree.root,
    };
    match list {
        Value::Node(id) => Some(*id),
        _ => None,
    }
}

/// The reader's hand-over, into a driver shared with whoever finishes the build.
pub(crate) struct Sink(pub(crate) Rc<RefCell<Driver>>);

impl pt::SampleSink for Sink {
    fn take(&mut self, tree: &Tree, list: NodeId, first: usize, items: &[Value], offset: u64) {
        let mut d = self.0.borrow_mut();
        if d.list.is_none() {
            d.list = Some(list);
        }
        d.set_input(offset);
        for (k, v) in items.iter().enumerate() {
            d.add(tree, v, first + k, true);
        }
    }

    /// A legacy file's first pickle handed samples over and then turned out to be its magic
    /// number: those rows are not the file's (and the next pickle's node ids are new).
    fn discard(&mut self) {
        let mut d = self.0.borrow_mut();
        let (limits, fixed) = (d.limits, d.fixed);
        *d = Driver::new(limits, fixed);
    }

    fn freed_reference(&mut self) {
        let mut d = self.0.borrow_mut();
        let at = d.next;
        let f = d.freed.get_or_insert((at, 0));
        f.1 = f.1.saturating_add(1);
    }
}

/// Warnings, at most [`MAX_WARNINGS`] kept (a million bad samples would otherwise make a
/// million lines), the rest counted.
#[derive(Default)]
struct Warnings {
    kept: Vec<Warning>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, w: Warning) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(w);
        } else {
            self.dropped += 1;
        }
    }

    /// Warnings about the file's limits are kept whatever the count.
    fn push_always(&mut self, w: Warning) {
        self.kept.push(w);
    }

    fn finish(mut self) -> Vec<Warning> {
        if self.dropped > 0 {
            self.kept.push(Warning {
                sample: None,
                message: format!(
                    "{} more warnings not shown (the limit is {MAX_WARNINGS})",
                    self.dropped
                ),
            });
        }
        self.kept
    }
}

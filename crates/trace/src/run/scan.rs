//! [`DumpScan`]: one rollout dump read as its bytes arrive, each sample turned into its
//! [`SampleRow`] (and, for the open step, its [`SampleDetail`]) the moment the pickle completes
//! it, then freed by the reader (`pt::SampleSink`), as the timeline's build does.
//!
//! A summary scan reads with `pt::Limits::TIMELINE` (token lists kept as length and sum: the
//! sum of `loss_mask` is all a summary needs); a step scan keeps every list, since the sample
//! inspector shows per-token values.

use std::cell::RefCell;
use std::rc::Rc;

use pt::{Limits, NodeId, Tree, Value};

use super::sample::{read_sample, Allowance, SampleEvents};
use super::{SampleDetail, SampleRow};
use crate::sglang::REQUEST_PERF_FIELDS;
use crate::MAX_SAMPLES;

static SUMMARY_LIMITS: Limits = Limits::TIMELINE;
static STEP_LIMITS: Limits = Limits {
    keep_numeric_list_max: None,
    ..Limits::DEFAULT
};

/// What a scan gives.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    pub rows: Vec<SampleRow>,
    /// One per row, for a step scan; empty for a summary scan.
    pub details: Vec<SampleDetail>,
    /// Earliest `span_start` and latest `span_end` timestamp over all samples.
    pub first_start: Option<f64>,
    pub last_end: Option<f64>,
    /// Per `sglang::REQUEST_PERF_FIELDS` entry, every request's value, in sample order.
    pub request_values: Vec<Vec<f64>>,
    /// The payload's own `rollout_id`, when it has one.
    pub rollout_id: Option<i64>,
    /// Problems with single samples or the file, one line each (at most 50).
    pub notes: Vec<String>,
    /// Work done so far, and allowed for the bytes read so far.
    allow: Allowance,
    /// Samples read only in part because the work allowance was spent.
    pub over_budget: usize,
}

const MAX_NOTES: usize = 50;

impl Scanned {
    /// The input read so far is `bytes` long: the allowance grows with it.
    fn set_input(&mut self, bytes: u64) {
        self.allow.limit = self.allow.limit.max(Allowance::for_input(bytes));
    }

    fn add(&mut self, tree: &Tree, s: &Value, position: usize, detail: bool) {
        if self.rows.len() >= MAX_SAMPLES {
            if self.rows.len() == MAX_SAMPLES
                && self.notes.iter().all(|n| !n.contains("samples past"))
            {
                self.note(format!("samples past {MAX_SAMPLES} are not read"));
            }
            return;
        }
        if matches!(tree.node_of(s), Some(pt::Node::Released)) {
            self.note(format!(
                "samples[{position}] names an earlier sample again (not read twice)"
            ));
        } else if crate::values::dict_of(tree, s).is_none() {
            self.note(format!("samples[{position}] is not a sample (no dict)"));
        }
        let (row, ev, d, whole) = read_sample(tree, s, position, detail, &mut self.allow);
        if !whole {
            if self.over_budget == 0 {
                self.note(format!(
                    "samples[{position}] and later: text, events and tokens left out: the \
                     scan's work limit ({} units for this file's size) is spent (a file that \
                     names the same large values from many samples)",
                    self.allow.limit
                ));
            }
            self.over_budget += 1;
        }
        self.merge(ev);
        self.rows.push(row);
        if let Some(d) = d {
            self.details.push(d);
        }
    }

    fn merge(&mut self, ev: SampleEvents) {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        self.first_start = min(self.first_start, ev.first_start);
        self.last_end = max(self.last_end, ev.last_end);
        for (all, mine) in self.request_values.iter_mut().zip(ev.request_values) {
            all.extend(mine);
        }
    }

    fn note(&mut self, s: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(s);
        }
    }
}

struct Inner {
    out: Scanned,
    detail: bool,
    /// Samples handed over so far (the next position).
    next: usize,
    list: Option<NodeId>,
}

struct Sink(Rc<RefCell<Inner>>);

impl pt::SampleSink for Sink {
    fn take(&mut self, tree: &Tree, list: NodeId, first: usize, items: &[Value], offset: u64) {
        let mut me = self.0.borrow_mut();
        me.out.set_input(offset);
        me.list.get_or_insert(list);
        let detail = me.detail;
        for (k, v) in items.iter().enumerate() {
            me.out.add(tree, v, first + k, detail);
        }
        me.next = me.next.max(first + items.len());
    }

    fn discard(&mut self) {
        let mut me = self.0.borrow_mut();
        let detail = me.detail;
        *me = Inner::new(detail);
    }

    fn freed_reference(&mut self) {
        let mut me = self.0.borrow_mut();
        let at = me.next;
        if !me.out.notes.iter().any(|n| n.contains("freed long before")) {
            me.out.note(format!(
                "near sample {at}: objects shared with samples read and freed long before \
                 (more than 128 samples back, or an earlier batch) read as missing"
            ));
        }
    }
}

impl Inner {
    fn new(detail: bool) -> Inner {
        Inner {
            out: Scanned {
                request_values: vec![Vec::new(); REQUEST_PERF_FIELDS.len()],
                ..Scanned::default()
            },
            detail,
            next: 0,
            list: None,
        }
    }
}

/// How a scan's error begins when the file is slime's train payload, not a rollout dump (a
/// run reader then reads it as train data).
pub const NOT_A_ROLLOUT_DUMP: &str = "a train dump";

/// Reads one dump as its bytes arrive: [`DumpScan::push`] each chunk, then
/// [`DumpScan::finish`].
pub struct DumpScan(Format);

/// A pickle dump (slime) or a verl step log (JSONL), as the run's layout named it.
enum Format {
    Pickle {
        reader: Box<pt::StreamReader<'static>>,
        inner: Rc<RefCell<Inner>>,
        /// Bytes pushed so far.
        fed: u64,
    },
    Verl(Box<super::verl::VerlScan>),
}

impl DumpScan {
    /// A summary scan (token lists elided; no details).
    pub fn summary() -> DumpScan {
        DumpScan::new(&SUMMARY_LIMITS, false)
    }

    /// A step scan: every sample's [`SampleDetail`] too.
    pub fn step() -> DumpScan {
        DumpScan::new(&STEP_LIMITS, true)
    }

    /// A summary or step scan of `dump`, read as its name says (a verl `{step}.jsonl` as
    /// JSONL, anything else as a pickle dump).
    pub fn of(dump: &super::DumpRef, step: bool) -> DumpScan {
        match (dump.is_verl(), step) {
            (true, _) => DumpScan(Format::Verl(Box::new(super::verl::VerlScan::new(step)))),
            (false, true) => DumpScan::step(),
            (false, false) => DumpScan::summary(),
        }
    }

    fn new(limits: &'static Limits, detail: bool) -> DumpScan {
        let inner = Rc::new(RefCell::new(Inner::new(detail)));
        DumpScan(Format::Pickle {
            reader: Box::new(pt::StreamReader::with_sink(
                limits,
                Box::new(Sink(inner.clone())),
            )),
            inner,
            fed: 0,
        })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        match &mut self.0 {
            Format::Pickle { reader, fed, .. } => {
                *fed += chunk.len() as u64;
                reader.push(chunk).map_err(|e| e.to_string())
            }
            Format::Verl(v) => {
                v.push(chunk);
                Ok(())
            }
        }
    }

    /// Whether the rest of the file is not needed.
    pub fn is_done(&self) -> bool {
        match &self.0 {
            Format::Pickle { reader, .. } => reader.is_done(),
            Format::Verl(v) => v.is_done(),
        }
    }

    /// Ends the input. Samples the reader did not hand over (a layout read whole) are read
    /// from the tree here, in order.
    pub fn finish(self) -> Result<Scanned, String> {
        let (reader, inner, fed) = match self.0 {
            Format::Pickle { reader, inner, fed } => (reader, inner, fed),
            Format::Verl(v) => return v.finish(),
        };
        let dump = reader.finish().map_err(|e| e.to_string())?;
        let tree = &dump.tree;
        // Told apart by what it holds, not its name: slime's train payload has samples too.
        let is_train = ["format_version", "dp_shards"]
            .iter()
            .all(|k| tree.get(&tree.root, k).is_some());
        if is_train {
            return Err(format!(
                "{NOT_A_ROLLOUT_DUMP} (slime's save_debug_train_data payload: format_version, \
                 dp_shards), not a rollout dump"
            ));
        }
        let samples = crate::samples(tree).map_err(|e| e.to_string())?;
        let mut me = inner.borrow_mut();
        me.out.set_input(fed);
        let detail = me.detail;
        let from = me.next;
        for (i, s) in samples.iter().enumerate().skip(from) {
            me.out.add(tree, s, i, detail);
        }
        me.out.rollout_id = tree.get(&tree.root, "rollout_id").and_then(|v| match v {
            Value::Int(x) => Some(*x),
            _ => None,
        });
        Ok(std::mem::take(&mut me.out))
    }
}

/// Scans a whole buffer (a convenience for tests and the CLI's small files).
pub fn scan_bytes(bytes: &[u8], step: bool) -> Result<Scanned, String> {
    let mut s = if step {
        DumpScan::step()
    } else {
        DumpScan::summary()
    };
    for chunk in bytes.chunks(1 << 20) {
        s.push(chunk)?;
        if s.is_done() {
            break;
        }
    }
    s.finish()
}

//! Samples handed to a `SampleSink` as the machine completes them, then released (see
//! `crate::sink`): which batch, the hand-over (at the batch's APPENDS, or sample by sample
//! while a batch is read), and what a released container gives back.

use super::{Machine, K, VALUE_BYTES};
use crate::sink::SampleSink;
use crate::value::{Node, NodeId, Tree, Value};

/// Items of a batch left on the stack by a hand-over while the batch is read: the most any
/// opcode other than a MARK's consumer takes off the stack (SETITEM, TUPLE3, NEWOBJ_EX:
/// three). A position is handed over only when it and the three above it all hold dicts
/// ([`Machine::early_step`]).
const KEEP_ON_TOP: usize = 3;

/// Samples handed over and not yet freed, at the least (twice as many at most): a memo
/// reference from a later sample to a
/// container of one of them (objects shared between samples up to this far apart) still
/// finds it whole, and switches the read to whole batches (`note_fetch`). A reference from
/// further on finds it freed, and the sink hears of it (`SampleSink::freed_reference`).
const FREE_LAG: usize = 128;

/// A batch of the sample list (`MARK sample… APPENDS`) being read, handed over sample by
/// sample: the pickler writes 1 000 samples a batch, and holding a whole batch was a quarter
/// of a large dump's values at once.
pub(super) struct Early {
    /// Stack position of the batch's first item (its MARK's).
    mark: usize,
    /// `marks.len()` with the batch's MARK on: fewer, and the MARK is gone.
    depth: usize,
    list: NodeId,
    /// The list's length when the batch began: item k goes to position `first + k`.
    first: usize,
    /// The arena's length when the batch began: every node from there on was made for it.
    nodes_at: usize,
    /// Items handed over so far.
    handed: usize,
    /// For each stack position of the batch in use: the next node id when it was first
    /// pushed (every node from there on belongs to that item or a later one).
    starts: Vec<usize>,
    /// Hand-overs not yet freed: (items handed over after it, the node id its items end at).
    unfreed: std::collections::VecDeque<(usize, usize)>,
}

/// What a node's items were charged (as `alloc` counts them), returned when it is released.
/// Its slot (`NODE_BYTES`) stays charged, although the arena drops released runs
/// (`arena.rs`): every container made counts against `max_memory` for the whole read, so
/// containers made between hand-overs cannot grow without limit (`sample_sink.rs`:
/// `containers_made_between_batches_still_count_against_the_memory_limit` at a batch's
/// APPENDS, `samples_handed_over_one_by_one_still_count_against_the_memory_limit` sample by
/// sample).
fn charged(node: &Node) -> usize {
    let items = match node {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.len(),
        Node::Dict(d) => d.len() * 3,
        Node::Object(o) => o.items.len() * 2 + o.list_items.len(),
        _ => 0,
    };
    items.saturating_mul(VALUE_BYTES)
}

impl<'l> Machine<'l> {
    /// Hands complete samples to `sink` as they are read (see `sink.rs`).
    pub fn with_sink(mut self, sink: Option<Box<dyn SampleSink + 'l>>) -> Self {
        self.sink = sink;
        self
    }

    /// The sink, back (to pass it on to the next pickle of a legacy file).
    pub fn take_sink(&mut self) -> Option<Box<dyn SampleSink + 'l>> {
        self.sink.take()
    }

    /// A MARK about to be pushed opens a batch of the sample list when it sits right above
    /// that list (see `sink.rs` for which list), in a pickle of protocol 2 or more (what
    /// `torch.save` writes; below 2, a MARK above a list may start one of its items).
    pub(super) fn open_batch(&mut self) {
        if self.early.is_some() || self.sink.is_none() || self.proto < 2 || self.shares {
            return;
        }
        let at = self.stack.len();
        let Some(Value::Node(id)) = at.checked_sub(1).and_then(|i| self.stack.get(i)) else {
            return;
        };
        let id = *id;
        let Some(Node::List(items)) = self.nodes.get(id.0 as usize) else {
            return;
        };
        if self.sample_list.is_some_and(|l| l != id) || !self.is_sample_list_at(at - 1) {
            return;
        }
        // Containers made since the last hand-over and before this MARK (the pickler makes
        // none there) might be named by this batch's samples: the batch is read whole.
        let releases_from = match self.sample_list {
            Some(_) => self.release_from,
            None => id.0 as usize + 1,
        };
        if releases_from < self.nodes.len() {
            return;
        }
        self.early = Some(Early {
            mark: at,
            depth: self.marks.len() + 1,
            list: id,
            first: items.len(),
            nodes_at: self.nodes.len(),
            handed: 0,
            starts: Vec::new(),
            unfreed: Default::default(),
        });
    }

    /// After each opcode while a batch is open: notes where each item's nodes begin, and
    /// hands over the items no opcode but the batch's APPENDS can reach any more. A batch
    /// partly handed over must end in that APPENDS (the pickler's always does).
    ///
    /// **Which items.** A position is handed over when it and the [`KEEP_ON_TOP`] positions
    /// above it hold dicts with a `trace` key, with no MARK among them. While
    /// the pickler builds a dict, what sits right above it is a key (hashable: never a dict)
    /// or a MARK, so a dict with three dicts above it is complete. What could still reach
    /// it is TUPLE1–3: a list item that is a tuple of dicts nested in tuples (not a sample;
    /// `tests/fixtures/pickler/`), which is why the dicts must look like samples too; a
    /// list item that is a tuple of four or more dicts with `trace` keys, so nested, is the
    /// one shape of Python's pickler left, and taking a handed item off the stack, or
    /// reaching it as the top again, is an error, never a wrong answer. Samples that are objects (a
    /// `Sample` pickled as an object) or dicts without a trace are handed over at the
    /// APPENDS.
    pub(super) fn early_step(&mut self, nodes_before: usize) -> Result<(), K> {
        let Some(e) = self.early.as_mut() else {
            return Ok(());
        };
        if self.marks.len() < e.depth {
            let handed = e.handed;
            self.early = None;
            if handed > 0 {
                return Err(K::Malformed(
                    "a batch of the sample list, partly read as samples, was not appended to it"
                        .into(),
                ));
            }
            return Ok(());
        }
        let in_use = self.stack.len().saturating_sub(e.mark);
        if e.handed > 0 && in_use <= e.handed {
            return Err(K::Malformed(
                "an item of the sample list's batch, already read as a sample, was taken off \
                 the stack or reached again"
                    .into(),
            ));
        }
        e.starts.truncate(in_use);
        while e.starts.len() < in_use {
            e.starts.push(nodes_before);
        }
        if self.shares || self.marks.len() != e.depth {
            return Ok(());
        }
        let (from, to) = (e.mark + e.handed, self.stack.len());
        let ready = self.ready_at(from, to);
        let Some(e) = self.early.as_mut() else {
            return Ok(());
        };
        if ready == 0 {
            return Ok(());
        }
        let upto = e.handed + ready;
        let (from, list, first, mark) = (e.handed, e.list, e.first, e.mark);
        let boundary = e.starts[upto];
        e.handed = upto;
        if self.sample_list.is_none() {
            // As the batch's APPENDS would (`numeric.rs`).
            self.sample_list = Some(list);
            self.release_from = list.0 as usize + 1;
        }
        let Some(sink) = self.sink.as_mut() else {
            return Ok(());
        };
        let tree = Tree {
            nodes: std::mem::take(&mut self.nodes),
            root: Value::None,
        };
        let items = &self.stack[mark + from..mark + upto];
        sink.take(&tree, list, first + from, items, self.base + self.offset);
        self.nodes = tree.nodes;
        // Freed `FREE_LAG` samples later at the least (all of them at the batch's APPENDS),
        // `FREE_LAG` at a time: the arena moves what it keeps after a freed run
        // (`arena.rs`), so freeing one sample at a time moved the lag's nodes every sample.
        let mut free_to = None;
        if let Some(e) = self.early.as_mut() {
            e.unfreed.push_back((upto, boundary));
            let age = |front: Option<&(usize, usize)>| front.map_or(0, |&(at, _)| upto - at);
            if age(e.unfreed.front()) >= 2 * FREE_LAG {
                while age(e.unfreed.front()) >= FREE_LAG {
                    free_to = e.unfreed.pop_front().map(|(_, end)| end);
                }
            }
        }
        if let Some(end) = free_to {
            self.release(end);
        }
        Ok(())
    }

    /// How many items from stack position `from` may be handed over: dicts with a `trace`
    /// in a row, each with [`KEEP_ON_TOP`] such dicts above it. Scans a few items (what
    /// follows the last hand-over), not the batch.
    fn ready_at(&self, from: usize, to: usize) -> usize {
        let traced = self
            .stack
            .get(from..to)
            .unwrap_or(&[])
            .iter()
            .take_while(|v| match v {
                Value::Node(id) => matches!(self.nodes.get(id.0 as usize),
                    Some(Node::Dict(d)) if d.get_str("trace").is_some()),
                _ => false,
            })
            .count();
        traced.saturating_sub(KEEP_ON_TOP)
    }

    /// A memo reference while a batch is handed over sample by sample: one to a container
    /// made for the batch means samples share containers (the pickler writes a second
    /// reference to an object as a memo reference; slime's samples never share one), so
    /// nothing more is handed over before an APPENDS, for the rest of the read. What was
    /// handed over before reads `Released` (as a reference across batches always does).
    pub(super) fn note_fetch(&mut self, v: &Value) {
        if let (Value::Node(id), Some(e)) = (v, &self.early) {
            if id.0 as usize >= e.nodes_at {
                self.shares = true;
            }
        }
    }

    /// A memo reference to a container already handed over and freed (shared by samples
    /// further apart than [`FREE_LAG`], or across batches): what refers to it reads
    /// `Released`, and the sink is told, so the answer is never silently short.
    pub(super) fn note_freed(&mut self, v: &Value) {
        if let Value::Node(id) = v {
            if matches!(self.nodes.get(id.0 as usize), Some(Node::Released)) {
                if let Some(sink) = self.sink.as_mut() {
                    sink.freed_reference();
                }
            }
        }
    }

    /// Gives the sink the batch just appended to the sample list (what it was not given while
    /// the batch was read), then releases every container made since the last hand-over.
    /// An append to the list while a batch of it is open (through a memo reference; the
    /// pickler writes none) ends the batch's hand-over sample by sample, and is an error
    /// once some of it was handed over (its positions would be wrong).
    pub(super) fn hand_over(&mut self, mut first: usize, mut n: usize) -> Result<(), K> {
        if let Some(e) = self.early.take() {
            if self.marks.len() >= e.depth {
                // The batch's MARK is still there: not its APPENDS.
                self.shares = true;
                if e.handed > 0 {
                    return Err(K::Malformed(
                        "the sample list was appended to while a batch of it, partly read as \
                         samples, was open"
                            .into(),
                    ));
                }
            } else if Some(e.list) == self.sample_list {
                first += e.handed.min(n);
                n -= e.handed.min(n);
            }
        }
        let (Some(list), Some(sink)) = (self.sample_list, self.sink.as_mut()) else {
            return Ok(());
        };
        let tree = Tree {
            nodes: std::mem::take(&mut self.nodes),
            root: Value::None,
        };
        let items = match tree.nodes.get(list.0 as usize) {
            Some(Node::List(v)) => v.get(first..first + n).unwrap_or(&[]),
            _ => &[],
        };
        sink.take(&tree, list, first, items, self.base + self.offset);
        self.nodes = tree.nodes;
        self.release(self.nodes.len());
        Ok(())
    }

    /// Releases the containers made from `release_from` up to `end`.
    fn release(&mut self, end: usize) {
        let mut freed = 0usize;
        self.nodes.release_range(self.release_from, end, |node| {
            freed = freed.saturating_add(charged(node));
        });
        self.memory = self.memory.saturating_sub(freed);
        self.release_from = self.release_from.max(end);
    }
}

//! Samples handed to a `SampleSink` as the machine completes them, then released (see
//! `crate::sink`): which batch, the hand-over, and what a released container gives back.

use super::{Machine, VALUE_BYTES};
use crate::sink::SampleSink;
use crate::value::{Node, Tree, Value};

/// What a node's items were charged (as `alloc` counts them), returned when it is released.
/// Its slot (`NODE_BYTES`) stays charged, although the arena drops released runs
/// (`arena.rs`): the charges then match the whole read's, which releases nothing, so both
/// reads stop at the same place on the same file.
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

    /// Gives the sink the batch just appended to the sample list, then releases every
    /// container made since the last batch.
    pub(super) fn hand_over(&mut self, first: usize, n: usize) {
        let (Some(list), Some(sink)) = (self.sample_list, self.sink.as_mut()) else {
            return;
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
        let end = self.nodes.len();
        let mut freed = 0usize;
        self.nodes.release_from(self.release_from, |node| {
            freed = freed.saturating_add(charged(node));
        });
        self.memory = self.memory.saturating_sub(freed);
        self.release_from = end;
    }
}

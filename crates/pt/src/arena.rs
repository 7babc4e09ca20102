//! The node arena: containers by id, and the run of ids already handed to a sink and freed.
//!
//! A reader with a [`crate::SampleSink`] releases every container made since the last batch
//! once the batch is handed over (`pickle/handover.rs`): those ids are always one run at the
//! end of the arena. Kept as [`Node::Released`] slots, a 1 M-span dump's arena grew to
//! ≈ 2.5 M slots (80 MB, copied as it doubled, and in wasm never given back). Here the run is
//! dropped and only remembered as a gap: its ids still read as `Released`, and the next
//! batch's nodes reuse the same memory. Ids never change.

use crate::value::Node;

/// What every id in the gap reads as.
const RELEASED: &Node = &Node::Released;

/// Containers by id ([`crate::NodeId`] is an index): ids below `gap_start` are
/// `kept[id]`, ids in `gap_start..gap_end` were released and dropped, ids from `gap_end` on
/// are `kept[id - gap_end + gap_start]`.
#[derive(Debug, Clone, Default)]
pub struct Nodes {
    kept: Vec<Node>,
    gap_start: usize,
    gap_end: usize,
}

impl Nodes {
    /// Ids given out so far (the next id).
    pub fn len(&self) -> usize {
        self.kept.len() + (self.gap_end - self.gap_start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where id `id` is kept, if it is (not in the gap, not past the end).
    fn slot(&self, id: usize) -> Option<usize> {
        if id < self.gap_start {
            Some(id)
        } else if id < self.gap_end {
            None
        } else {
            Some(id - self.gap_end + self.gap_start)
        }
    }

    pub fn get(&self, id: usize) -> Option<&Node> {
        match self.slot(id) {
            Some(at) => self.kept.get(at),
            None => Some(RELEASED),
        }
    }

    /// A node to change; `None` for a released one (nothing may change it) or past the end.
    pub fn get_mut(&mut self, id: usize) -> Option<&mut Node> {
        let at = self.slot(id)?;
        self.kept.get_mut(at)
    }

    /// Adds a node; gives its id.
    pub fn push(&mut self, node: Node) -> usize {
        let id = self.len();
        self.kept.push(node);
        id
    }

    /// Releases the nodes with ids `from..to`, calling `each` on each before it goes. When
    /// they follow the gap (or there is none yet), they are dropped and the gap grows over
    /// them (the nodes after them move down); otherwise (never for a reader's batches) each
    /// becomes a `Released` slot.
    pub fn release_range(&mut self, from: usize, to: usize, mut each: impl FnMut(&Node)) {
        let to = to.min(self.len());
        if from >= to {
            return;
        }
        let no_gap = self.gap_start == self.gap_end;
        if no_gap || from == self.gap_end {
            let at = if no_gap { from } else { self.gap_start };
            for node in self.kept.drain(at..at + (to - from)) {
                each(&node);
            }
            self.gap_start = at;
            self.gap_end = to;
            return;
        }
        for id in from..to {
            if let Some(node) = self.get_mut(id) {
                each(node);
                *node = Node::Released;
            }
        }
    }

    /// Every node by id, released ones as `Released`.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            nodes: self,
            next: 0,
        }
    }
}

/// [`Nodes::iter`].
pub struct Iter<'a> {
    nodes: &'a Nodes,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Node;

    fn next(&mut self) -> Option<&'a Node> {
        let n = self.nodes.get(self.next)?;
        self.next += 1;
        Some(n)
    }
}

impl<'a> IntoIterator for &'a Nodes {
    type Item = &'a Node;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Vec<Node>> for Nodes {
    fn from(kept: Vec<Node>) -> Nodes {
        Nodes {
            kept,
            gap_start: 0,
            gap_end: 0,
        }
    }
}

impl std::ops::Index<usize> for Nodes {
    type Output = Node;

    fn index(&self, id: usize) -> &Node {
        match self.get(id) {
            Some(n) => n,
            None => panic!("node {id} of {}", self.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> Node {
        Node::List(vec![crate::Value::Int(n as i64); n])
    }

    fn lens(nodes: &Nodes) -> Vec<Option<usize>> {
        nodes
            .iter()
            .map(|n| match n {
                Node::List(v) => Some(v.len()),
                _ => None,
            })
            .collect()
    }

    /// Batches released one after another keep their ids, read as `Released`, and the
    /// memory of one batch is reused by the next.
    #[test]
    fn released_runs_become_one_gap_and_ids_stay() {
        let mut nodes = Nodes::default();
        for n in 0..3 {
            assert_eq!(nodes.push(list(n)), n);
        }
        let mut seen = 0;
        nodes.release_range(1, usize::MAX, |_| seen += 1);
        assert_eq!(seen, 2);
        assert_eq!(nodes.len(), 3);
        assert_eq!(lens(&nodes), [Some(0), None, None]);
        assert!(nodes.get_mut(1).is_none() && nodes.get_mut(2).is_none());
        assert_eq!(nodes.push(list(5)), 3);
        assert_eq!(nodes.push(list(6)), 4);
        let cap = nodes.kept.capacity();
        nodes.release_range(3, usize::MAX, |_| {});
        assert_eq!(nodes.kept.len(), 1, "only the node before the gap is kept");
        assert_eq!(nodes.push(list(7)), 5);
        assert_eq!(nodes.kept.capacity(), cap, "the batch's memory is reused");
        assert_eq!(lens(&nodes), [Some(0), None, None, None, None, Some(7)]);
        assert!(matches!(nodes[5], Node::List(_)) && matches!(nodes[4], Node::Released));
        assert!(nodes.get(6).is_none());
        // A run that does not follow the gap: released in place, ids the same.
        nodes.push(list(8));
        nodes.release_range(6, usize::MAX, |_| {});
        assert_eq!(
            lens(&nodes),
            [Some(0), None, None, None, None, Some(7), None]
        );
        assert_eq!(nodes.len(), 7);
    }

    /// A run released from the middle (a batch handed over sample by sample: the samples
    /// still on the stack keep their nodes): the nodes after it keep their ids.
    #[test]
    fn a_run_in_the_middle_is_dropped_and_the_rest_keep_their_ids() {
        let mut nodes = Nodes::default();
        for n in 0..6 {
            nodes.push(list(n));
        }
        nodes.release_range(1, 3, |_| {});
        assert_eq!(
            lens(&nodes),
            [Some(0), None, None, Some(3), Some(4), Some(5)]
        );
        nodes.release_range(3, 5, |_| {});
        assert_eq!(lens(&nodes), [Some(0), None, None, None, None, Some(5)]);
        assert_eq!(nodes.kept.len(), 2);
        assert!(matches!(nodes.get_mut(5), Some(Node::List(v)) if v.len() == 5));
        assert_eq!(nodes.push(list(9)), 6);
        nodes.release_range(5, usize::MAX, |_| {});
        assert_eq!(nodes.kept.len(), 1);
        assert_eq!(nodes.len(), 7);
    }
}

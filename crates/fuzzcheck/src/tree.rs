//! `pt` value trees: how much memory one holds, and a canonical text form to compare two.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write;

use pt::{Limits, Node, NodeId, Tree, Value};

/// Limits for fuzzing `pt` directly: the timeline's, with memory and decompressed size at
/// 64 MiB so that `pt`'s own limits fire well before libFuzzer's `-rss_limit_mb=2048`.
pub const FUZZ_LIMITS: Limits = Limits {
    max_pickle_bytes: 64 << 20,
    max_memory: 64 << 20,
    ..Limits::TIMELINE
};

/// [`FUZZ_LIMITS`] keeping every value (no numeric-list elision).
pub const FUZZ_LIMITS_KEEP_ALL: Limits = Limits {
    keep_numeric_list_max: None,
    ..FUZZ_LIMITS
};

/// A tree may hold at most this many times `Limits::max_memory` (by [`tree_bytes`], which
/// counts what the containers and distinct strings occupy; the limit itself is approximate).
pub const MEMORY_SLACK: usize = 2;

/// Bytes a tree occupies: every node, every value slot, and each distinct string or bytes
/// buffer once (shared `Rc`s are one allocation).
pub fn tree_bytes(tree: &Tree) -> usize {
    let mut total = tree.nodes.len() * std::mem::size_of::<Node>();
    let mut seen: HashSet<*const u8> = HashSet::new();
    let mut text = |v: &Value, total: &mut usize| {
        let (ptr, len) = match v {
            Value::Str(s) | Value::BigInt(s) | Value::Global(s) => (s.as_ptr(), s.len()),
            Value::Bytes(b) => (b.as_ptr(), b.len()),
            _ => return,
        };
        if seen.insert(ptr) {
            *total += len;
        }
    };
    let mut values = |vs: &[Value], total: &mut usize| {
        *total += std::mem::size_of_val(vs);
        for v in vs {
            text(v, total);
        }
    };
    for node in &tree.nodes {
        match node {
            Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => {
                values(x, &mut total)
            }
            Node::ElidedList { .. } => {}
            Node::Dict(d) => {
                for (k, v) in &d.entries {
                    values(std::slice::from_ref(k), &mut total);
                    values(std::slice::from_ref(v), &mut total);
                }
            }
            Node::Object(o) => {
                values(&[o.args.clone(), o.state.clone()], &mut total);
                values(&o.list_items, &mut total);
                for (k, v) in &o.items {
                    values(std::slice::from_ref(k), &mut total);
                    values(std::slice::from_ref(v), &mut total);
                }
            }
            Node::Persistent(v) => values(std::slice::from_ref(v), &mut total),
            Node::Released => {}
        }
    }
    values(std::slice::from_ref(&tree.root), &mut total);
    total
}

/// Panics if the tree holds more than [`MEMORY_SLACK`] × the memory limit it was read under.
pub fn check_tree_bounded(tree: &Tree, limits: &Limits) {
    let bytes = tree_bytes(tree);
    let bound = limits.max_memory.saturating_mul(MEMORY_SLACK);
    assert!(
        bytes <= bound,
        "pt built a tree of {bytes} bytes ({} nodes) under a {} byte memory limit \
         (work not charged to the limit)",
        tree.nodes.len(),
        limits.max_memory
    );
}

/// Texts longer than this appear in [`canonical`] as their length and hash.
const LONG_TEXT: usize = 64;

/// FNV-1a, 64-bit: a collision between two long texts of the same length is negligible here.
fn text_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A text form of the value reachable from the root, independent of node numbering: nodes are
/// renumbered in breadth-first order from the root, so two trees with the same values, sharing
/// and cycles give the same text. Iterative: nothing recurses on the input.
pub fn canonical(tree: &Tree) -> String {
    let mut ids: HashMap<NodeId, usize> = HashMap::new();
    let mut queue: VecDeque<NodeId> = VecDeque::new();
    let mut out = String::new();
    // Each shared text is hashed once (keyed by where it lives), not once per reference.
    let mut hashes: HashMap<(usize, usize), u64> = HashMap::new();
    let mut hash = |b: &[u8]| {
        *hashes
            .entry((b.as_ptr() as usize, b.len()))
            .or_insert_with(|| text_hash(b))
    };
    let mut value = |v: &Value, out: &mut String, queue: &mut VecDeque<NodeId>| {
        match v {
            Value::Node(id) => {
                let next = ids.len();
                let n = *ids.entry(*id).or_insert_with(|| {
                    queue.push_back(*id);
                    next
                });
                let _ = write!(out, "#{n} ");
            }
            // Bits, not `==`: a NaN must equal itself and -0.0 must differ from 0.0.
            Value::Float(f) => {
                let _ = write!(out, "F{:x} ", f.to_bits());
            }
            // Long texts by length and hash: a tree may name one long string a million times
            // (memo sharing), and its full text each time took an 8 KB input to 6 GB.
            Value::Str(t) | Value::BigInt(t) | Value::Global(t) if t.len() > LONG_TEXT => {
                let _ = write!(out, "T{}:{:x} ", t.len(), hash(t.as_bytes()));
            }
            Value::Bytes(b) if b.len() > LONG_TEXT => {
                let _ = write!(out, "B{}:{:x} ", b.len(), hash(b));
            }
            other => {
                let _ = write!(out, "{other:?} ");
            }
        }
    };
    out.push_str("root ");
    value(&tree.root, &mut out, &mut queue);
    while let Some(id) = queue.pop_front() {
        out.push('\n');
        let Some(node) = tree.nodes.get(id.0 as usize) else {
            let _ = write!(out, "dangling {}", id.0);
            continue;
        };
        match node {
            Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => {
                out.push_str(match node {
                    Node::List(_) => "list ",
                    Node::Tuple(_) => "tuple ",
                    Node::Set(_) => "set ",
                    _ => "frozenset ",
                });
                for v in x {
                    value(v, &mut out, &mut queue);
                }
            }
            Node::ElidedList { len, sum } => {
                let _ = write!(out, "elided {len} {:x}", sum.to_bits());
            }
            Node::Dict(d) => {
                out.push_str("dict ");
                for (k, v) in &d.entries {
                    value(k, &mut out, &mut queue);
                    out.push_str(": ");
                    value(v, &mut out, &mut queue);
                }
            }
            Node::Object(o) => {
                let _ = write!(out, "object {:?} args ", o.class);
                value(&o.args, &mut out, &mut queue);
                out.push_str("state ");
                value(&o.state, &mut out, &mut queue);
                out.push_str("items ");
                for (k, v) in &o.items {
                    value(k, &mut out, &mut queue);
                    out.push_str(": ");
                    value(v, &mut out, &mut queue);
                }
                out.push_str("list ");
                for v in &o.list_items {
                    value(v, &mut out, &mut queue);
                }
            }
            Node::Persistent(v) => {
                out.push_str("persistent ");
                value(v, &mut out, &mut queue);
            }
            Node::Released => out.push_str("released"),
        }
    }
    out
}

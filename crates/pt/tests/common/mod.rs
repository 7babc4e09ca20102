//! Helpers shared by pt's integration tests: strict tree comparison and chunked feeding.
#![allow(dead_code)]

use pt::{Limits, Node, Tree, Value};

/// Whether two values are the same, floats by their bits (so `NaN == NaN` and `-0.0 != 0.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_pairs(a: &[(Value, Value)], b: &[(Value, Value)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((k1, v1), (k2, v2))| same_value(k1, k2) && same_value(v1, v2))
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::List(x), Node::List(y))
        | (Node::Tuple(x), Node::Tuple(y))
        | (Node::Set(x), Node::Set(y))
        | (Node::FrozenSet(x), Node::FrozenSet(y)) => same_values(x, y),
        (Node::ElidedList { len: l1, sum: s1 }, Node::ElidedList { len: l2, sum: s2 }) => {
            l1 == l2 && s1.to_bits() == s2.to_bits()
        }
        (Node::Dict(x), Node::Dict(y)) => same_pairs(&x.entries, &y.entries),
        (Node::Object(x), Node::Object(y)) => {
            x.class == y.class
                && same_value(&x.args, &y.args)
                && same_value(&x.state, &y.state)
                && same_pairs(&x.items, &y.items)
                && same_values(&x.list_items, &y.list_items)
        }
        (Node::Persistent(x), Node::Persistent(y)) => same_value(x, y),
        _ => false,
    }
}

/// Every node and the root equal, elided lists by length AND sum: `None` if the same,
/// else where they first differ.
pub fn tree_difference(a: &Tree, b: &Tree) -> Option<String> {
    if !same_value(&a.root, &b.root) {
        return Some(format!("roots {:?} / {:?}", a.root, b.root));
    }
    if a.nodes.len() != b.nodes.len() {
        return Some(format!("{} / {} nodes", a.nodes.len(), b.nodes.len()));
    }
    a.nodes
        .iter()
        .zip(&b.nodes)
        .position(|(x, y)| !same_node(x, y))
        .map(|i| format!("node {i}: {:?} / {:?}", a.nodes[i], b.nodes[i]))
}

/// `None` if two reads gave the same (format and tree, strictly; or the same error
/// message), else what differs.
pub fn read_difference(
    a: &Result<pt::Dump, pt::Error>,
    b: &Result<pt::Dump, pt::Error>,
) -> Option<String> {
    match (a, b) {
        (Ok(x), Ok(y)) if x.format != y.format => {
            Some(format!("formats {:?} / {:?}", x.format, y.format))
        }
        (Ok(x), Ok(y)) => tree_difference(&x.tree, &y.tree),
        (Err(x), Err(y)) if x.to_string() == y.to_string() => None,
        (x, y) => Some(format!("{} / {}", brief(x), brief(y))),
    }
}

fn brief(r: &Result<pt::Dump, pt::Error>) -> String {
    match r {
        Ok(d) => format!("a tree of {} nodes", d.tree.nodes.len()),
        Err(e) => format!("error: {e}"),
    }
}

/// A small deterministic generator of chunk sizes in `1..=max`.
pub fn lcg(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + ((x >> 33) as usize % max)
    }
}

/// `bytes` through [`pt::StreamReader`] in chunks of `sizes()` bytes.
pub fn streamed(
    bytes: &[u8],
    limits: &Limits,
    sizes: &mut dyn FnMut() -> usize,
) -> Result<pt::Dump, pt::Error> {
    let mut r = pt::StreamReader::new(limits);
    let mut at = 0;
    while at < bytes.len() {
        let n = sizes().clamp(1, bytes.len() - at);
        r.push(&bytes[at..at + n])?;
        at += n;
    }
    r.finish()
}

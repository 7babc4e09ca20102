//! Pickled values as JSON, the way slime's `_json_safe` writes them, but bounded.
//!
//! Differences from the reference, all on input it cannot handle: non-finite floats become
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (strict JSON); containers nested deeper
//! than [`MAX_DEPTH`] or beyond [`MAX_NODES`] become their (cut) text; a container that
//! contains itself is written as text at the repeat (`[...]`) instead of recursing forever.

use std::collections::HashSet;

use pt::{Node, NodeId, Tree, Value};
use serde_json::{Map, Value as J};

/// Deeper containers are written as text. Keeps serde_json's own recursion shallow.
pub const MAX_DEPTH: usize = 48;
/// At most this many values are converted for one call; the rest becomes text.
pub const MAX_NODES: usize = 20_000;
/// Opaque values (objects, bytes, tensors) are written as at most this much text.
const MAX_REPR: usize = 2_000;

/// `_json_safe(value)`, bounded and cycle-safe.
pub fn to_json(tree: &Tree, v: &Value) -> J {
    // Iterative: a frame per open container, filled as its children complete.
    enum Frame {
        Arr(NodeId, Vec<J>, usize),
        Obj(NodeId, Map<String, J>, usize, Option<String>),
    }
    let mut budget = MAX_NODES;
    let mut open: HashSet<NodeId> = HashSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut next: Option<&Value> = Some(v);
    loop {
        // 1. Convert `next` into either a finished J or a new frame.
        let mut done: Option<J> = None;
        if let Some(val) = next.take() {
            budget = budget.saturating_sub(1);
            match val {
                Value::Node(id) => {
                    let node = tree.node(*id);
                    let too_deep = stack.len() >= MAX_DEPTH || budget == 0;
                    match node {
                        Node::List(_) | Node::Tuple(_) | Node::Dict(_)
                            if too_deep || open.contains(id) =>
                        {
                            done = Some(J::String(pt::walk::repr(tree, val, MAX_REPR)));
                        }
                        Node::List(_) | Node::Tuple(_) => {
                            open.insert(*id);
                            stack.push(Frame::Arr(*id, Vec::new(), 0));
                        }
                        Node::Dict(_) => {
                            open.insert(*id);
                            stack.push(Frame::Obj(*id, Map::new(), 0, None));
                        }
                        _ => done = Some(J::String(pt::walk::repr(tree, val, MAX_REPR))),
                    }
                }
                scalar => done = Some(scalar_json(tree, scalar)),
            }
        }
        // 2. Hand a finished value to its parent frame, or return it.
        if let Some(j) = done {
            match stack.last_mut() {
                None => return j,
                Some(Frame::Arr(_, items, _)) => items.push(j),
                Some(Frame::Obj(_, map, _, key)) => {
                    if let Some(k) = key.take() {
                        map.insert(k, j);
                    }
                }
            }
        }
        // 3. Pick the next child of the innermost frame, or close it.
        let top = match stack.last_mut() {
            Some(t) => t,
            None => unreachable_json(),
        };
        match top {
            Frame::Arr(id, _, at) => {
                let items = match tree.node(*id) {
                    Node::List(x) | Node::Tuple(x) => x,
                    _ => &[][..],
                };
                if let Some(child) = items.get(*at) {
                    *at += 1;
                    next = Some(child);
                    continue;
                }
            }
            Frame::Obj(id, _, at, key) => {
                if let Node::Dict(d) = tree.node(*id) {
                    if let Some((k, child)) = d.entries.get(*at) {
                        *at += 1;
                        *key = Some(key_text(tree, k));
                        next = Some(child);
                        continue;
                    }
                }
            }
        }
        // Close the frame and feed it to its parent on the next turn.
        let finished = match stack.pop() {
            Some(Frame::Arr(id, items, _)) => {
                open.remove(&id);
                J::Array(items)
            }
            Some(Frame::Obj(id, map, _, _)) => {
                open.remove(&id);
                J::Object(map)
            }
            None => unreachable_json(),
        };
        match stack.last_mut() {
            None => return finished,
            Some(Frame::Arr(_, items, _)) => items.push(finished),
            Some(Frame::Obj(_, map, _, key)) => {
                if let Some(k) = key.take() {
                    map.insert(k, finished);
                }
            }
        }
    }
}

/// The loop above always returns before its stack runs dry; this keeps that explicit
/// without a panic path.
fn unreachable_json() -> ! {
    unreachable!("to_json: frame stack emptied without returning")
}

fn scalar_json(tree: &Tree, v: &Value) -> J {
    match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => float_json(*f),
        Value::Str(s) => J::String(s.to_string()),
        // Python writes a big int as a number; JSON readers rarely can. Text keeps it exact.
        Value::BigInt(s) => J::String(s.to_string()),
        other => J::String(pt::walk::repr(tree, other, MAX_REPR)),
    }
}

/// A float as strict JSON: finite as a number, the rest as Python's JSON spelling in a string.
pub fn float_json(f: f64) -> J {
    if f.is_finite() {
        serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
    } else if f.is_nan() {
        J::String("NaN".into())
    } else if f > 0.0 {
        J::String("Infinity".into())
    } else {
        J::String("-Infinity".into())
    }
}

/// `str(key)` for a dict key.
fn key_text(tree: &Tree, k: &Value) -> String {
    match k {
        Value::Str(s) => s.to_string(),
        Value::None => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => pt::walk::py_float(*f),
        Value::BigInt(s) => s.to_string(),
        other => pt::walk::repr(tree, other, MAX_REPR),
    }
}

/// Python truthiness of a JSON-safe value.
pub fn truthy(j: &J) -> bool {
    match j {
        J::Null => false,
        J::Bool(b) => *b,
        J::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        J::String(s) => !s.is_empty(),
        J::Array(a) => !a.is_empty(),
        J::Object(o) => !o.is_empty(),
    }
}

/// Python `str()` of a JSON-safe value (for names used in labels and ids).
pub fn py_str(j: &J) -> String {
    match j {
        J::String(s) => s.clone(),
        J::Null => "None".into(),
        J::Bool(b) => if *b { "True" } else { "False" }.into(),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => pt::walk::py_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A total order on JSON values for sorting by name: Python would raise on mixed types; we
/// order null < bool < number < string < array < object and compare within a type.
pub fn cmp_json(a: &J, b: &J) -> std::cmp::Ordering {
    fn rank(j: &J) -> u8 {
        match j {
            J::Null => 0,
            J::Bool(_) => 1,
            J::Number(_) => 2,
            J::String(_) => 3,
            J::Array(_) => 4,
            J::Object(_) => 5,
        }
    }
    match (a, b) {
        (J::String(x), J::String(y)) => x.cmp(y),
        (J::Number(x), J::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (J::Bool(x), J::Bool(y)) => x.cmp(y),
        _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

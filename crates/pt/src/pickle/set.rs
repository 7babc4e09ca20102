//! Items going into a set: a run that names the same thing again and again holds it once.
//!
//! Why: a set is the one container where repeating an item adds nothing (Python keeps one),
//! yet `MARK, None × 16 M, ADDITEMS` costs 16 MB of pickle (a few KB deflated) and 256 MB of
//! items; eight such runs onto one set took 4–5 GB. Only what is cheap to recognise is
//! collapsed: equal scalars, and the same string, bytes, global or container by identity
//! (a memo reference). Items that differ by value but not identity stay (a real pickle of
//! a set never repeats an item, so nothing real changes; each kept item cost its own bytes).

use std::collections::HashSet;

use crate::value::Value;

/// What makes two items of one run the same item.
#[derive(Hash, PartialEq, Eq, Clone, Copy)]
enum Same {
    None,
    Bool(bool),
    Int(i64),
    Float(u64),
    /// A shared string, bytes, global or big integer: its address.
    Shared(usize),
    Node(u32),
}

fn same(v: &Value) -> Same {
    match v {
        Value::None => Same::None,
        Value::Bool(b) => Same::Bool(*b),
        Value::Int(i) => Same::Int(*i),
        Value::Float(f) => Same::Float(f.to_bits()),
        Value::Str(s) | Value::Global(s) | Value::BigInt(s) => Same::Shared(s.as_ptr() as usize),
        Value::Bytes(b) => Same::Shared(b.as_ptr() as usize),
        Value::Node(id) => Same::Node(id.0),
    }
}

/// `items` with every repeat of an item of the same run left out, in first-seen order.
/// Takes an iterator so a run can be drained off the stack without copying it first.
pub(super) fn distinct(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen: HashSet<Same> = HashSet::new();
    let mut last = None;
    let mut out = Vec::new();
    for v in items {
        // A repeat of the item just before (a run of one opcode) needs no hashing.
        let key = same(&v);
        if last.as_ref() == Some(&key) {
            continue;
        }
        if seen.insert(key) {
            out.push(v);
        }
        last = Some(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::value::NodeId;

    #[test]
    fn repeats_by_value_or_identity_are_left_out() {
        let s: Rc<str> = Rc::from("x");
        let other: Rc<str> = Rc::from("x");
        let got = distinct(vec![
            Value::None,
            Value::Int(1),
            Value::None,
            Value::Str(s.clone()),
            Value::Str(s),
            Value::Str(other),
            Value::Node(NodeId(3)),
            Value::Int(1),
            Value::Node(NodeId(3)),
            Value::Float(0.5),
            Value::Float(0.5),
        ]);
        let kinds: Vec<String> = got.iter().map(|v| format!("{v:?}")).collect();
        // The second "x" is another string (another identity): kept, as the pickle wrote it.
        assert_eq!(got.len(), 6, "{kinds:?}");
    }
}

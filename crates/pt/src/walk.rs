//! Bounded, cycle-safe views of a value: no recursion, work bounded by the output, and a
//! container that contains itself printed as `[...]` the way Python does.

use std::collections::HashSet;

use crate::value::{Node, NodeId, Tree, Value};

/// A Python-like `repr` of `v`, cut at about `max_len` bytes (ending in `…`).
///
/// Used wherever a value that JSON cannot hold (an object, bytes, a tensor) must be shown
/// as text; `trace` uses it for every such cell, and the slime parity tests
/// (`crates/trace/tests/reference_caches.rs`) depend on its exact wording.
///
/// One walk with one guard, never recursing: every container or object being printed is in
/// `open`, so one met again inside itself is written as `[...]`, `{...}`, `(...)` or
/// `<...>`. A tensor-like object (state with `dtype` and `shape`) is written as
/// `<class dtype=… shape=…>` within the same walk, so a `dtype` that is the tensor itself
/// ends at `<...>` (a nested call with its own guard would restart the count each time
/// round the cycle).
///
/// Work is bounded by the output: children are visited lazily and every step writes at
/// least one byte, so a dict of a million entries costs what `max_len` allows, not a
/// million pushes, and shared references (a DAG printed as a tree) stop at the budget.
pub fn repr(tree: &Tree, v: &Value, max_len: usize) -> String {
    enum Work<'a> {
        Val(&'a Value),
        Lit(&'static str),
        /// Items of a sequence from `at` on, separated by ", ".
        Items(&'a [Value], usize),
        /// Entries of a dict from `at` on.
        Entries(&'a [(Value, Value)], usize),
        Leave(NodeId),
    }
    let mut out = String::new();
    let mut open: HashSet<NodeId> = HashSet::new();
    let mut work: Vec<Work<'_>> = vec![Work::Val(v)];
    while let Some(w) = work.pop() {
        if out.len() > max_len {
            let mut cut = max_len;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            return out;
        }
        let v = match w {
            Work::Lit(s) => {
                out.push_str(s);
                continue;
            }
            Work::Leave(id) => {
                open.remove(&id);
                continue;
            }
            Work::Items(items, at) => {
                if let Some(item) = items.get(at) {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    work.push(Work::Items(items, at + 1));
                    work.push(Work::Val(item));
                }
                continue;
            }
            Work::Entries(entries, at) => {
                if let Some((k, val)) = entries.get(at) {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    work.push(Work::Entries(entries, at + 1));
                    work.push(Work::Val(val));
                    work.push(Work::Lit(": "));
                    work.push(Work::Val(k));
                }
                continue;
            }
            Work::Val(v) => v,
        };
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::BigInt(s) => push_cut(&mut out, s, max_len),
            Value::Float(f) => out.push_str(&py_float(*f)),
            Value::Str(s) => push_str_repr(&mut out, s, max_len),
            Value::Bytes(b) => push_bytes_repr(&mut out, b, max_len),
            Value::Global(g) => {
                out.push_str("<class '");
                push_cut(&mut out, g, max_len);
                out.push_str("'>");
            }
            Value::Node(id) => {
                let Some(node) = tree.nodes.get(id.0 as usize) else {
                    out.push_str("<?>");
                    continue;
                };
                if !open.insert(*id) {
                    out.push_str(match node {
                        Node::Dict(_) => "{...}",
                        Node::List(_) => "[...]",
                        Node::Object(_) | Node::Persistent(_) | Node::Released => "<...>",
                        _ => "(...)",
                    });
                    continue;
                }
                work.push(Work::Leave(*id));
                let (opening, closing, items): (&str, &'static str, &[Value]) = match node {
                    Node::List(x) => ("[", "]", x),
                    Node::Tuple(x) if x.len() == 1 => ("(", ",)", x),
                    Node::Tuple(x) => ("(", ")", x),
                    Node::Set(x) => ("{", "}", x),
                    Node::FrozenSet(x) => ("frozenset({", "})", x),
                    Node::ElidedList { len, .. } => {
                        out.push_str(&format!("[<{len} numbers>]"));
                        continue;
                    }
                    Node::Dict(d) => {
                        out.push('{');
                        work.push(Work::Lit("}"));
                        work.push(Work::Entries(&d.entries, 0));
                        continue;
                    }
                    Node::Object(o) => {
                        out.push('<');
                        push_cut(&mut out, &o.class, max_len);
                        let tensor = match tree.node_of(&o.state) {
                            Some(Node::Dict(d)) => d.get_str("dtype").zip(d.get_str("shape")),
                            _ => None,
                        };
                        match tensor {
                            Some((dtype, shape)) => {
                                out.push_str(" dtype=");
                                work.push(Work::Lit(">"));
                                work.push(Work::Val(shape));
                                work.push(Work::Lit(" shape="));
                                work.push(Work::Val(dtype));
                            }
                            None => out.push_str(" object>"),
                        }
                        continue;
                    }
                    Node::Released => {
                        out.push_str("<released>");
                        continue;
                    }
                    Node::Persistent(pid) => {
                        out.push_str("<persistent ");
                        work.push(Work::Lit(">"));
                        work.push(Work::Val(pid));
                        continue;
                    }
                };
                out.push_str(opening);
                work.push(Work::Lit(closing));
                work.push(Work::Items(items, 0));
            }
        }
    }
    out
}

/// Python's `repr` of a str (single quotes), stopping once `out` passes `max_len`.
fn push_str_repr(out: &mut String, s: &str, max_len: usize) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
        if out.len() > max_len {
            break;
        }
    }
    out.push('\'');
}

/// Python's `repr` of bytes (`b'…'`, `\xNN` escapes), stopping once `out` passes `max_len`.
fn push_bytes_repr(out: &mut String, b: &[u8], max_len: usize) {
    out.push_str("b'");
    for &c in b.iter().take(max_len) {
        if c.is_ascii_graphic() && c != b'\'' && c != b'\\' || c == b' ' {
            out.push(c as char);
        } else {
            out.push_str(&format!("\\x{c:02x}"));
        }
        if out.len() > max_len {
            break;
        }
    }
    out.push('\'');
}

/// Appends at most about `max_len` bytes of `s` (the caller's length check cuts the rest).
fn push_cut(out: &mut String, s: &str, max_len: usize) {
    let room = max_len.saturating_sub(out.len()) + 1;
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&s[..end]);
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{f:?}");
    s.replace("e", "e+").replace("e+-", "e-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Dict, Object};
    use std::rc::Rc;

    fn object(class: &str, state: Value) -> Node {
        Node::Object(Box::new(Object {
            class: Rc::from(class),
            args: Value::None,
            state,
            items: Vec::new(),
            list_items: Vec::new(),
        }))
    }

    #[test]
    fn an_object_whose_state_tuple_holds_itself_prints_once() {
        // 0: object with state (0, None) — `o.__setstate__((o, None))`.
        let tree = Tree {
            nodes: vec![
                object("m.C", Value::Node(NodeId(1))),
                Node::Tuple(vec![Value::Node(NodeId(0)), Value::None]),
            ]
            .into(),
            root: Value::Node(NodeId(0)),
        };
        assert_eq!(repr(&tree, &tree.root, 100), "<m.C object>");
    }

    #[test]
    fn a_tensor_whose_dtype_is_itself_prints_once() {
        // 0: object with state {dtype: 0, shape: [0]}
        let mut d = Dict::default();
        d.insert(Value::Str(Rc::from("dtype")), Value::Node(NodeId(0)));
        d.insert(Value::Str(Rc::from("shape")), Value::Node(NodeId(2)));
        let tree = Tree {
            nodes: vec![
                object("torch.Tensor", Value::Node(NodeId(1))),
                Node::Dict(d),
                Node::List(vec![Value::Node(NodeId(0))]),
            ]
            .into(),
            root: Value::Node(NodeId(0)),
        };
        assert_eq!(
            repr(&tree, &tree.root, 200),
            "<torch.Tensor dtype=<...> shape=[<...>]>"
        );
    }

    #[test]
    fn a_huge_dict_costs_what_the_output_allows() {
        let mut d = Dict::default();
        for i in 0..200_000 {
            d.insert(Value::Int(i), Value::Int(i));
        }
        let tree = Tree {
            nodes: vec![Node::Dict(d)].into(),
            root: Value::Node(NodeId(0)),
        };
        let t = std::time::Instant::now();
        for _ in 0..10_000 {
            let s = repr(&tree, &tree.root, 40);
            assert!(s.len() <= 40 + '…'.len_utf8() && s.ends_with('…'), "{s}");
        }
        // Pushing every entry each time (200 000 × 10 000) would take minutes.
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }
}

//! Bounded, cycle-safe views of a value: no recursion, a budget on output, and a container
//! that contains itself printed as `[...]` the way Python does.

use std::collections::HashSet;

use crate::value::{Node, NodeId, Tree, Value};

/// A Python-like `repr` of `v`, cut at about `max_len` characters (ending in `…`).
///
/// Used wherever a value that JSON cannot hold (an object, bytes, a tensor) must be shown
/// as text. Its exact wording is for people, not a contract.
pub fn repr(tree: &Tree, v: &Value, max_len: usize) -> String {
    let mut out = String::new();
    // Work items: a value to print, a literal to print, or leaving a container.
    enum Work<'a> {
        Val(&'a Value),
        Lit(&'static str),
        Own(String),
        Leave(NodeId),
    }
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
            Work::Own(s) => {
                out.push_str(&s);
                continue;
            }
            Work::Leave(id) => {
                open.remove(&id);
                continue;
            }
            Work::Val(v) => v,
        };
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::BigInt(s) => out.push_str(s),
            Value::Float(f) => out.push_str(&py_float(*f)),
            Value::Str(s) => {
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
            Value::Bytes(b) => {
                out.push_str("b'");
                for &c in b.iter().take(max_len) {
                    if c.is_ascii_graphic() && c != b'\'' && c != b'\\' || c == b' ' {
                        out.push(c as char);
                    } else {
                        out.push_str(&format!("\\x{c:02x}"));
                    }
                }
                out.push('\'');
            }
            Value::Global(g) => {
                out.push_str("<class '");
                out.push_str(g);
                out.push_str("'>");
            }
            Value::Node(id) => {
                let node = tree.node(*id);
                if !open.insert(*id) {
                    out.push_str(match node {
                        Node::Dict(_) => "{...}",
                        Node::List(_) => "[...]",
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
                        for (i, (k, val)) in d.entries.iter().enumerate().rev() {
                            work.push(Work::Val(val));
                            work.push(Work::Lit(": "));
                            work.push(Work::Val(k));
                            if i > 0 {
                                work.push(Work::Lit(", "));
                            }
                        }
                        continue;
                    }
                    Node::Object(o) => {
                        if let Some(Node::Dict(d)) = tree.node_of(&o.state) {
                            if let (Some(dtype), Some(shape)) =
                                (d.get_str("dtype"), d.get_str("shape"))
                            {
                                out.push_str(&format!("<{} dtype=", o.class));
                                work.push(Work::Lit(">"));
                                work.push(Work::Val(shape));
                                work.push(Work::Lit(" shape="));
                                work.push(Work::Own(repr(tree, dtype, 64)));
                                continue;
                            }
                        }
                        out.push_str(&format!("<{} object>", o.class));
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
                for (i, item) in items.iter().enumerate().rev() {
                    work.push(Work::Val(item));
                    if i > 0 {
                        work.push(Work::Lit(", "));
                    }
                }
            }
        }
    }
    out
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

//! Bounded, cycle-safe views of a value: no recursion, a budget on output, and a container
//! that contains itself printed as `[...]` the way Python does.

use std::collections::HashSet;

use crate::value::{Node, NodeId, Tree, Value};

/// A Python-like `repr` of `v`, cut at about `max_len` characters (ending in `…`).
///
/// Used wherever a value that JSON cannot hold (an object, bytes, a tensor) must be shown
/// as text. Its exact wording is for people, not a contract.
///
/// One walk with one guard: every container being printed is in `open`, including the
/// tensor-like object whose `dtype` is printed (cut at `DTYPE_MAX` characters by a nested
/// cap, not by a second call), so a dtype, key or item that refers back prints as `(...)`.
/// The work is bounded by `max_len` plus the items skipped when a cut is reached.
pub fn repr(tree: &Tree, v: &Value, max_len: usize) -> String {
    let mut out = String::new();
    // Work items: a value to print, a literal to print, leaving a container, or the start
    // and end of a stretch cut at its own length.
    enum Work<'a> {
        Val(&'a Value),
        Lit(&'static str),
        Leave(NodeId),
        Cap(usize),
        EndCap,
    }
    let mut open: HashSet<NodeId> = HashSet::new();
    let mut work: Vec<Work<'_>> = vec![Work::Val(v)];
    // Ends (in `out` bytes) of the nested caps in force; the innermost is last.
    let mut caps: Vec<usize> = Vec::new();
    while let Some(w) = work.pop() {
        if out.len() > max_len {
            cut(&mut out, max_len);
            return out;
        }
        if let Some(&end) = caps.last() {
            if out.len() > end {
                // Cut this stretch and drop its remaining work, keeping `open` right.
                cut(&mut out, end);
                let mut w = Some(w);
                let mut depth = 0usize;
                while let Some(item) = w.take().or_else(|| work.pop()) {
                    match item {
                        Work::Leave(id) => {
                            open.remove(&id);
                        }
                        Work::Cap(_) => depth += 1,
                        Work::EndCap if depth == 0 => break,
                        Work::EndCap => depth -= 1,
                        _ => {}
                    }
                }
                caps.pop();
                continue;
            }
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
            Work::Cap(n) => {
                // A nested cap never reaches past the one it is in.
                let end = out.len().saturating_add(n);
                caps.push(caps.last().map_or(end, |&outer| end.min(outer)));
                continue;
            }
            Work::EndCap => {
                caps.pop();
                continue;
            }
            Work::Val(v) => v,
        };
        // Text is cut at whichever limit comes first.
        let limit = caps.last().copied().unwrap_or(max_len).min(max_len);
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::BigInt(s) => push_cut(&mut out, s, limit),
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
                    if out.len() > limit {
                        break;
                    }
                }
                out.push('\'');
            }
            Value::Bytes(b) => {
                out.push_str("b'");
                for &c in b.iter() {
                    if c.is_ascii_graphic() && c != b'\'' && c != b'\\' || c == b' ' {
                        out.push(c as char);
                    } else {
                        out.push_str(&format!("\\x{c:02x}"));
                    }
                    if out.len() > limit {
                        break;
                    }
                }
                out.push('\'');
            }
            Value::Global(g) => {
                out.push_str("<class '");
                push_cut(&mut out, g, limit);
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
                        out.push('<');
                        push_cut(&mut out, &o.class, limit);
                        if let Some(Node::Dict(d)) = tree.node_of(&o.state) {
                            if let (Some(dtype), Some(shape)) =
                                (d.get_str("dtype"), d.get_str("shape"))
                            {
                                out.push_str(" dtype=");
                                work.push(Work::Lit(">"));
                                work.push(Work::Val(shape));
                                work.push(Work::Lit(" shape="));
                                work.push(Work::EndCap);
                                work.push(Work::Val(dtype));
                                work.push(Work::Cap(DTYPE_MAX));
                                continue;
                            }
                        }
                        out.push_str(" object>");
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
    if out.len() > max_len {
        cut(&mut out, max_len);
    }
    out
}

/// A tensor's dtype is printed in at most this many characters.
const DTYPE_MAX: usize = 64;

/// Cuts `out` to at most `at` bytes (on a character boundary) and marks the cut.
fn cut(out: &mut String, at: usize) {
    let mut at = at.min(out.len());
    while !out.is_char_boundary(at) {
        at -= 1;
    }
    out.truncate(at);
    out.push('…');
}

/// Appends `s`, stopping a little past `limit` bytes of `out`.
fn push_cut(out: &mut String, s: &str, limit: usize) {
    let room = limit.saturating_sub(out.len()).saturating_add(1);
    if s.len() <= room {
        out.push_str(s);
    } else {
        let mut at = room;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        out.push_str(&s[..at]);
    }
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

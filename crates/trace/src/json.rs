//! Pickled values as JSON, the way slime's `_json_safe` writes them, but bounded.
//!
//! Differences from the reference, all on input it cannot handle: non-finite floats become
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (strict JSON); containers nested deeper
//! than [`MAX_DEPTH`] or beyond [`MAX_NODES`] become their (cut) text; a container that
//! contains itself is written as text at the repeat (`[...]`) instead of recursing forever.
//!
//! **Output is bounded, not only input.** A pickle can name one 1 MiB string thousands of
//! times for the cost of a memo reference each. Each conversion ([`to_json_counted`]: one
//! event's attrs, one sample field) writes at most about [`MAX_VALUE_BYTES`] of JSON text:
//! a string is cut with the marker `…<cut: N bytes>`, and once the budget is spent every
//! container still open ends with the entry [`CUT_MARK`] (in a dict, under the key `"…"`).
//! What each conversion produced is added to an [`Output`], which the row builder checks
//! against the whole build's budget.

use pt::{Node, NodeId, Tree, Value};
use serde_json::{Map, Value as J};

/// Deeper containers are written as text. Keeps serde_json's own recursion shallow.
pub const MAX_DEPTH: usize = 48;
/// At most this many values are converted for one call; the rest becomes text.
pub const MAX_NODES: usize = 20_000;
/// At most about this much JSON text (bytes) per conversion; the rest is cut, visibly.
pub const MAX_VALUE_BYTES: usize = 64 << 10;
/// Opaque values (objects, bytes, tensors) are written as at most this much text.
const MAX_REPR: usize = 2_000;
/// What ends a container whose conversion ran out of budget.
pub const CUT_MARK: &str = "…<cut: value over 64 KiB>";
/// At most about this much JSON text for an event's name or span id. Each item copies its
/// parent's name, and each event its open parent's id: a large one shared by reference would
/// be held once per item. Real names and ids are a few dozen bytes.
pub const MAX_KEY_BYTES: usize = 4 << 10;
/// What ends a name or id container cut at [`MAX_KEY_BYTES`].
pub const KEY_CUT_MARK: &str = "…<cut: value over 4 KiB>";

/// What conversions have produced so far (JSON text bytes, approximately from above), how
/// many were cut, and what the converted values take in memory.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub bytes: u64,
    pub cut: u64,
    /// Memory the converted values hold, estimated: their text plus [`HELD_PER_VALUE`] per
    /// value and per dict key. A `serde_json` value of many small entries takes up to ≈ 16× its text, so this,
    /// not `bytes`, bounds what a sample's events hold while its row is built.
    pub held: u64,
}

/// Bytes a converted value takes in memory besides its text (the `serde_json::Value`, a map
/// entry or vector slot, an allocation's rounding).
pub const HELD_PER_VALUE: u64 = 64;

/// `_json_safe(value)`, bounded and cycle-safe.
pub fn to_json(tree: &Tree, v: &Value) -> J {
    to_json_counted(tree, v, &mut Output::default())
}

/// Whether `s` is written as JSON as it is, between quotes: it holds no quote, backslash or
/// control character, the only characters `serde_json` escapes.
pub(crate) fn needs_no_escape(s: &str) -> bool {
    // Eight bytes at a time (every name, id and attribute text comes through here): a word
    // has a byte below 0x20 when `(w - 0x20…) & !w & 0x80…` is not zero, and a quote or a
    // backslash when that word XOR it repeated has a zero byte. Both tests are exact.
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH != 0;
    let has = |w: u64, b: u8| below(w ^ (ONES * u64::from(b)), 1);
    let mut words = s.as_bytes().chunks_exact(8);
    for c in &mut words {
        let w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if below(w, 0x20) || has(w, b'"') || has(w, b'\\') {
            return false;
        }
    }
    !words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// JSON text length of a string (quotes and escapes included), counted until it passes
/// `stop`; returns (bytes counted, byte length of `s` they cover).
fn str_cost(s: &str, stop: usize) -> (usize, usize) {
    // Almost every string: nothing to escape, and all of it fits (the loop below gives the
    // same, a byte at a time).
    if s.len() < stop.saturating_sub(1) && needs_no_escape(s) {
        return (s.len() + 2, s.len());
    }
    let mut cost = 2;
    for (i, b) in s.bytes().enumerate() {
        let c = match b {
            b'"' | b'\\' | b'\n' | b'\t' | b'\r' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        };
        if cost + c > stop {
            return (cost, i);
        }
        cost += c;
    }
    (cost, s.len())
}

/// Per-call state: the budget left and whether it ran out.
struct Budget {
    left: usize,
    nodes: usize,
    exhausted: bool,
    cut: bool,
    /// Cut marks added when closing containers (not charged to `left`).
    marks: usize,
    /// The mark that says so.
    mark: &'static str,
    /// Dict keys converted (each a map entry and an allocation besides its value).
    keys: usize,
}

impl Budget {
    /// Charges `n` bytes; false (and exhausted) if they do not fit.
    fn take(&mut self, n: usize) -> bool {
        if n > self.left {
            self.exhausted = true;
            self.cut = true;
            self.left = 0;
            return false;
        }
        self.left -= n;
        true
    }

    /// A string as JSON, cut to what is left.
    fn string(&mut self, s: &str) -> J {
        let (cost, covered) = str_cost(s, self.left);
        if covered == s.len() && self.take(cost) {
            return J::String(s.to_string());
        }
        let mut end = covered.saturating_sub(32);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}…<cut: {} bytes>", &s[..end], s.len());
        self.left = self.left.saturating_sub(text.len() + 2);
        self.exhausted = true;
        self.cut = true;
        J::String(text)
    }

    /// Room for opaque text: what is left, at most [`MAX_REPR`].
    fn repr_room(&self) -> usize {
        self.left.clamp(16, MAX_REPR)
    }
}

/// [`to_json`], adding what it produced to `out`.
pub fn to_json_counted(tree: &Tree, v: &Value, out: &mut Output) -> J {
    to_json_within(tree, v, out, MAX_VALUE_BYTES, CUT_MARK)
}

/// [`to_json_counted`] for an event's name or span id: at most [`MAX_KEY_BYTES`].
pub fn key_json_counted(tree: &Tree, v: &Value, out: &mut Output) -> J {
    to_json_within(tree, v, out, MAX_KEY_BYTES, KEY_CUT_MARK)
}

fn to_json_within(tree: &Tree, v: &Value, out: &mut Output, max: usize, mark: &'static str) -> J {
    let mut b = Budget {
        left: max,
        nodes: MAX_NODES,
        exhausted: false,
        cut: false,
        marks: 0,
        mark,
        keys: 0,
    };
    let j = convert(tree, v, &mut b);
    let text = (max - b.left.min(max)) as u64 + (b.marks * (mark.len() + 8)) as u64;
    out.bytes += text;
    out.held += text + HELD_PER_VALUE * ((MAX_NODES - b.nodes) + b.keys) as u64;
    if b.cut {
        out.cut += 1;
    }
    j
}

fn convert(tree: &Tree, v: &Value, b: &mut Budget) -> J {
    // Iterative: a frame per open container, filled as its children complete.
    enum Frame {
        Arr(NodeId, Vec<J>, usize),
        Obj(NodeId, Map<String, J>, usize, Option<String>),
    }
    impl Frame {
        fn id(&self) -> NodeId {
            match self {
                Frame::Arr(id, ..) | Frame::Obj(id, ..) => *id,
            }
        }
    }
    // The containers open are exactly those on the frame stack (at most MAX_DEPTH), so a
    // repeat is found by scanning it: no set to allocate for every attrs dict.
    let mut stack: Vec<Frame> = Vec::new();
    let mut next: Option<&Value> = Some(v);
    loop {
        // 1. Convert `next` into either a finished J or a new frame.
        let mut done: Option<J> = None;
        if let Some(val) = next.take() {
            b.nodes = b.nodes.saturating_sub(1);
            match val {
                Value::Node(id) => {
                    let node = tree.nodes.get(id.0 as usize);
                    let too_deep = stack.len() >= MAX_DEPTH || b.nodes == 0;
                    match node {
                        Some(Node::List(_) | Node::Tuple(_) | Node::Dict(_))
                            if too_deep || stack.iter().any(|f| f.id() == *id) =>
                        {
                            let text = pt::walk::repr(tree, val, b.repr_room());
                            done = Some(b.string(&text));
                        }
                        Some(Node::List(_) | Node::Tuple(_)) if b.take(2) => {
                            stack.push(Frame::Arr(*id, Vec::new(), 0));
                        }
                        Some(Node::Dict(_)) if b.take(2) => {
                            stack.push(Frame::Obj(*id, Map::new(), 0, None));
                        }
                        Some(Node::List(_) | Node::Tuple(_) | Node::Dict(_)) => {
                            done = Some(J::String(b.mark.into()));
                        }
                        _ => {
                            let text = pt::walk::repr(tree, val, b.repr_room());
                            done = Some(b.string(&text));
                        }
                    }
                }
                scalar => done = Some(scalar_json(tree, scalar, b)),
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
        if !b.exhausted {
            match top {
                Frame::Arr(id, _, at) => {
                    let items = match tree.node(*id) {
                        Node::List(x) | Node::Tuple(x) => x,
                        _ => &[][..],
                    };
                    if let Some(child) = items.get(*at) {
                        if b.take(1) {
                            *at += 1;
                            next = Some(child);
                            continue;
                        }
                    }
                }
                Frame::Obj(id, _, at, key) => {
                    if let Node::Dict(d) = tree.node(*id) {
                        if let Some((k, child)) = d.entries.get(*at) {
                            let k = key_text(tree, k, b);
                            let (cost, covered) = str_cost(&k, b.left);
                            if covered == k.len() && b.take(cost + 2) {
                                *at += 1;
                                b.keys += 1;
                                *key = Some(k);
                                next = Some(child);
                                continue;
                            }
                            b.exhausted = true;
                            b.cut = true;
                        }
                    }
                }
            }
        }
        // Close the frame (marking it if the budget ran out before its end) and feed it to
        // its parent on the next turn.
        let finished = match stack.pop() {
            Some(Frame::Arr(id, mut items, at)) => {
                let len = match tree.node(id) {
                    Node::List(x) | Node::Tuple(x) => x.len(),
                    _ => 0,
                };
                if b.exhausted && at < len {
                    items.push(J::String(b.mark.into()));
                    b.marks += 1;
                }
                J::Array(items)
            }
            Some(Frame::Obj(id, mut map, at, _)) => {
                let len = match tree.node(id) {
                    Node::Dict(d) => d.len(),
                    _ => 0,
                };
                if b.exhausted && at < len {
                    map.insert("…".into(), J::String(b.mark.into()));
                    b.marks += 1;
                }
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

fn scalar_json(tree: &Tree, v: &Value, b: &mut Budget) -> J {
    let (j, cost) = match v {
        Value::None => (J::Null, 4),
        Value::Bool(x) => (J::Bool(*x), 5),
        Value::Int(i) => (J::from(*i), 20),
        Value::Float(f) => (float_json(*f), 24),
        Value::Str(s) => return b.string(s),
        // Python writes a big int as a number; JSON readers rarely can. Text keeps it exact.
        Value::BigInt(s) => return b.string(s),
        other => {
            let text = pt::walk::repr(tree, other, b.repr_room());
            return b.string(&text);
        }
    };
    if b.take(cost) {
        j
    } else {
        J::String(b.mark.into())
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

/// `str(key)` for a dict key; an opaque key's text is cut to what the budget has left.
fn key_text(tree: &Tree, k: &Value, b: &Budget) -> String {
    match k {
        // A key longer than the budget cannot fit: copy only enough to find that out.
        Value::Str(s) => {
            let mut end = s.len().min(b.left.saturating_add(1));
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_string()
        }
        Value::None => "None".into(),
        Value::Bool(x) => if *x { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => pt::walk::py_float(*f),
        other => pt::walk::repr(tree, other, b.repr_room()),
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

#[cfg(test)]
mod tests {
    use super::{needs_no_escape, str_cost};

    /// Eight bytes at a time says what one byte at a time says: every ASCII character and a
    /// few wider ones, at every position of strings up to 20 bytes (whole words, remainders,
    /// and a flagged byte next to one that is not).
    #[test]
    fn needs_no_escape_is_exact_at_every_position() {
        let slow = |s: &str| !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
        let chars = (0u8..0x80)
            .map(char::from)
            .chain(['é', '€', '\u{7ff}', '\u{10ffff}']);
        let mut flagged = 0;
        for c in chars {
            for fill in ['a', '\u{ff}', '\u{1f}'] {
                for len in 0..20 {
                    for at in 0..=len {
                        let s: String = (0..len)
                            .map(|i| if i == at { c } else { fill })
                            .chain((at == len).then_some(c))
                            .collect();
                        assert_eq!(needs_no_escape(&s), slow(&s), "{s:?}");
                        flagged += usize::from(!slow(&s));
                    }
                }
            }
        }
        assert!(flagged > 10_000, "both answers met: {flagged}");
    }

    /// The fast path (nothing to escape, all of it fits) gives what counting byte by byte
    /// gives, at and around the point where the string stops fitting.
    #[test]
    fn a_string_costs_its_json_text_and_is_cut_where_it_stops_fitting() {
        assert_eq!(str_cost("", 2), (2, 0));
        assert_eq!(str_cost("abc", 6), (5, 3));
        assert_eq!(str_cost("abc", 5), (5, 3));
        assert_eq!(str_cost("abc", 4), (4, 2));
        assert_eq!(str_cost("abc", 1), (2, 0));
        assert_eq!(str_cost("é", 4), (4, 2));
        // Escapes: a quote or newline costs two bytes, another control character six.
        assert_eq!(str_cost("a\"b", 10), (6, 3));
        assert_eq!(str_cost("a\nb", 5), (5, 2));
        assert_eq!(str_cost("\u{1}", 10), (8, 1));
    }
}

//! APPEND(S) and the elision of long numeric lists ([`Node::ElidedList`]).
//!
//! **Which lists.** With `Limits::keep_numeric_list_max = Some(max)`, a list is elided when it
//! grows past `max` items that are all numbers (int, float, bool; not `None`) *and* the value
//! directly below it on the stack is a `str` in `Limits::elide_keys`. That is where a dict's
//! key waits while `SETITEMS` builds its value, in a plain dict and in an object's BUILD
//! state alike, so `{"tokens": [...]}` is elided and a list of 100 numbers in a trace
//! attribute is not; and no open ancestor (found through the MARKs) may be the value of a key
//! in `Limits::keep_under` (`trace`, `attrs`), so an attribute that happens to be called
//! `tokens` is kept too. Once elided, a list stays elided and counts every later append.
//!
//! **Two paths, one result.** `append_items` (the opcode-by-opcode path) and
//! `skip_numeric_batch` (a `MARK, number…, APPENDS` batch counted straight from the bytes,
//! which is what keeps a 295 MB dump at about a quarter of a second) apply the same rule at
//! the same stack position, charge the same memory and honour the same stack limit, so the
//! tree (and any error) is the same whether a batch arrives whole or byte by byte.

use super::{Input, Machine, K, VALUE_BYTES};
use crate::value::{Node, Value};

pub(super) fn number_of(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as u8 as f64,
        _ => 0.0,
    }
}

/// The sum of a run of numbers, added left to right from `0.0` on both paths (so the
/// same numbers in the same batches give the same bits).
fn sum_of<'a>(items: impl IntoIterator<Item = &'a Value>) -> f64 {
    items.into_iter().fold(0.0, |a, v| a + number_of(v))
}

pub(super) fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_))
}

impl Machine<'_> {
    /// Whether the list at stack position `at` may be elided: the value below it is one of
    /// `Limits::elide_keys`, and no container being filled around it is the value of one of
    /// `Limits::keep_under`. A MARK at position `m` opens a batch for the container at
    /// `m - 1`, whose own key (when it is a dict's value) waits at `m - 2`; the marks are the
    /// chain of open ancestors, a handful deep, so this costs a few comparisons.
    fn elidable_at(&self, at: usize) -> bool {
        let is_key = |i: usize, keys: &[&str]| matches!(self.stack.get(i), Some(Value::Str(s)) if keys.iter().any(|k| **k == **s));
        if !at
            .checked_sub(1)
            .is_some_and(|i| is_key(i, self.limits.elide_keys))
        {
            return false;
        }
        let keep = self.limits.keep_under;
        keep.is_empty()
            || !self.marks.iter().any(|&m| {
                m < at
                    && m >= 2
                    && matches!(self.stack.get(m - 1), Some(Value::Node(_)))
                    && is_key(m - 2, keep)
            })
    }

    /// Whether the list at stack position `at` is a dump's sample list (see `sink.rs`): at
    /// the bottom of the stack, or the value of the `"samples"` key of the dict at the
    /// bottom, with no other container open (marks: none, or the root dict's own).
    pub(super) fn is_sample_list_at(&self, at: usize) -> bool {
        if at == 0 {
            return self.marks.is_empty();
        }
        let root_dict = matches!(self.stack.first(), Some(Value::Node(id))
            if matches!(self.nodes.get(id.0 as usize), Some(Node::Dict(_))));
        root_dict
            && matches!(self.stack.get(at - 1), Some(Value::Str(s)) if &**s == "samples")
            && self.marks.iter().all(|&m| m == 1)
    }

    /// APPEND / APPENDS: `items` go into the container at stack position `at`.
    pub(super) fn append_items(&mut self, at: usize, items: Vec<Value>) -> Result<(), K> {
        let target = self.stack.get(at).cloned().ok_or(K::StackUnderflow)?;
        let n = items.len();
        let elide_max = match self.limits.keep_numeric_list_max {
            Some(max) if self.elidable_at(at) => Some(max),
            _ => None,
        };
        if self.sink.is_some() && self.sample_list.is_none() {
            if let Value::Node(id) = target {
                if matches!(self.nodes.get(id.0 as usize), Some(Node::List(_)))
                    && self.is_sample_list_at(at)
                {
                    self.sample_list = Some(id);
                    self.release_from = id.0 as usize + 1;
                }
            }
        }
        match self.node_mut(&target) {
            Some(Node::List(list)) => {
                let before = list.len();
                if let Some(max) = elide_max {
                    if before <= max
                        && before + n > max
                        && list.iter().all(is_number)
                        && items.iter().all(is_number)
                    {
                        let sum = sum_of(list.iter()) + sum_of(&items);
                        let len = (before + n) as u64;
                        if let Some(node) = self.node_mut(&target) {
                            *node = Node::ElidedList { len, sum };
                        }
                        // The list's items were charged as they came; they are gone now.
                        self.memory = self.memory.saturating_sub(before * VALUE_BYTES);
                        return Ok(());
                    }
                }
                self.charge(n.saturating_mul(VALUE_BYTES))?;
                if let Some(Node::List(list)) = self.node_mut(&target) {
                    list.extend(items);
                }
                if matches!(target, Value::Node(id) if Some(id) == self.sample_list) {
                    self.batch = Some((before, n));
                }
                Ok(())
            }
            Some(Node::ElidedList { len, sum }) => {
                *len += n as u64;
                *sum += sum_of(&items);
                Ok(())
            }
            Some(Node::Object(_) | Node::Set(_)) => {
                self.charge(n.saturating_mul(VALUE_BYTES))?;
                match self.node_mut(&target) {
                    Some(Node::Object(o)) => o.list_items.extend(items),
                    Some(Node::Set(s)) => s.extend(super::set::distinct(items)),
                    _ => {}
                }
                Ok(())
            }
            _ => Err(K::Malformed(
                "APPEND to something that is not a list".into(),
            )),
        }
    }

    /// Fast path for the bulk of a dump: a `MARK, number…, APPENDS` batch going into a list
    /// that is (or is about to become) elided is counted without building a single value.
    /// Returns false, consuming nothing, whenever the batch is anything else (or would hit
    /// a limit); the normal path then runs and gives the same result.
    pub(super) fn skip_numeric_batch(&mut self, inp: &mut Input<'_>, max: usize) -> bool {
        let Some(Value::Node(id)) = self.stack.last() else {
            return false;
        };
        let id = id.0 as usize;
        let (before, before_sum) = match self.nodes.get(id) {
            Some(Node::ElidedList { len, sum }) => (*len, *sum),
            Some(Node::List(v))
                if v.len() <= max
                    && v.iter().all(is_number)
                    && self.elidable_at(self.stack.len() - 1) =>
            {
                (v.len() as u64, sum_of(v))
            }
            _ => return false,
        };
        // The normal path would push a mark and then every number: same limits here.
        if self.marks.len() >= self.limits.max_stack {
            return false;
        }
        // Values the normal path could push: under `max_stack`, and under the memory limit
        // (the stack counts against it as values are pushed).
        let by_stack = self.limits.max_stack - self.stack.len().min(self.limits.max_stack);
        let by_memory = self.room() / VALUE_BYTES;
        let room = by_stack.min(by_memory) as u64;
        let buf = inp.buf;
        let mut p = inp.pos;
        let mut count = 0u64;
        let mut sum = 0.0f64;
        // One tight loop per run of the same opcode (a list of token ids is all BININT, of log
        // probs all BINFLOAT): the bulk of a dump's bytes go through here.
        macro_rules! run_of {
            ($op:expr, $n:expr, $value:expr) => {{
                const WIDTH: usize = 1 + $n;
                // Whole opcodes only, and no more numbers than `room` allows: no check of
                // either per number.
                let fit = ((buf.len() - p) / WIDTH).min(room.saturating_sub(count) as usize);
                let mut run = 0;
                for op in buf[p..p + fit * WIDTH].chunks_exact(WIDTH) {
                    if op[0] != $op {
                        break;
                    }
                    let Ok(arg) = <[u8; $n]>::try_from(&op[1..]) else {
                        return false;
                    };
                    sum += $value(arg);
                    run += 1;
                }
                count += run as u64;
                p += run * WIDTH;
                // One more of this run: past `room`, or its argument has not arrived yet.
                if buf.get(p) == Some(&$op) {
                    return false;
                }
            }};
        }
        loop {
            match buf.get(p) {
                Some(b'K') => run_of!(b'K', 1, |a: [u8; 1]| a[0] as f64),
                Some(b'M') => run_of!(b'M', 2, |a: [u8; 2]| u16::from_le_bytes(a) as f64),
                Some(b'J') => run_of!(b'J', 4, |a: [u8; 4]| i32::from_le_bytes(a) as f64),
                Some(b'G') => run_of!(b'G', 8, f64::from_be_bytes),
                Some(0x88) | Some(0x89) => {
                    if count >= room {
                        return false;
                    }
                    sum += if buf[p] == 0x88 { 1.0 } else { 0.0 };
                    count += 1;
                    p += 1;
                }
                Some(b'e') => break,
                // Anything else (None included: not a number on either path).
                _ => return false,
            }
        }
        if before + count <= max as u64 {
            return false;
        }
        if let Some(Node::List(v)) = self.nodes.get(id) {
            self.memory = self.memory.saturating_sub(v.len() * VALUE_BYTES);
        }
        if let Some(node) = self.nodes.get_mut(id) {
            *node = Node::ElidedList {
                len: before + count,
                sum: before_sum + sum,
            };
        }
        inp.pos = p + 1;
        true
    }
}

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

/// The most numbers one batch is counted from the bytes: a larger batch (no pickler writes
/// one: Python's has a thousand) takes the normal path.
const INTS_EXACT: u64 = 1 << 22;

/// The argument's width of each integer opcode (BININT1 `K`, BININT2 `M`, BININT `J`), 0 for
/// every other byte, and the mask that takes that many bytes of a little-endian `u32`
/// (BININT's four are an `i32`, the others unsigned).
const INT_WIDTH: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'K' as usize] = 1;
    t[b'M' as usize] = 2;
    t[b'J' as usize] = 4;
    t
};
const INT_MASK: [u32; 256] = {
    let mut t = [0u32; 256];
    t[b'K' as usize] = 0xff;
    t[b'M' as usize] = 0xffff;
    t[b'J' as usize] = u32::MAX;
    t
};

/// A batch's sum, added number by number as Python adds them from 0. While only integers have
/// come it is kept as an integer: each partial sum is below 2^53 (at most [`INTS_EXACT`]
/// numbers of at most 2^31), so adding them one by one in `f64` gives the same bits, and an
/// integer add costs no floating-point add's latency per number.
#[derive(Default)]
struct BatchSum {
    ints: i64,
    /// The sum once a float came: every number after it is added in turn.
    floats: Option<f64>,
}

impl BatchSum {
    #[inline(always)]
    fn int(&mut self, v: i64) {
        match &mut self.floats {
            Some(sum) => *sum += v as f64,
            None => self.ints += v,
        }
    }

    #[inline(always)]
    fn float(&mut self, v: f64) {
        *self.floats.get_or_insert(self.ints as f64) += v;
    }

    fn total(&self) -> f64 {
        self.floats.unwrap_or(self.ints as f64)
    }
}

/// `f64::from_be_bytes`. Wasm has no byte swap: the compiler's is 20 instructions of shifts
/// and masks, one shuffle with SIMD.
#[inline(always)]
fn f64_from_be(bytes: [u8; 8]) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::{f64x2_extract_lane, i8x16_shuffle, u64x2_splat};
        let v = u64x2_splat(u64::from_le_bytes(bytes));
        let swapped = i8x16_shuffle::<7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15>(v, v);
        f64x2_extract_lane::<0>(swapped)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        f64::from_be_bytes(bytes)
    }
}

/// A sum that is NaN as the one NaN: which NaN an addition gives (its sign and payload) is
/// the compiler's choice, and must not make the two paths' trees differ.
fn one_nan(sum: f64) -> f64 {
    if sum.is_nan() {
        f64::NAN
    } else {
        sum
    }
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
                        let sum = one_nan(sum_of(list.iter()) + sum_of(&items));
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
                *sum = one_nan(*sum + sum_of(&items));
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
        // At most `INTS_EXACT` numbers, so the integers' sum below is exact in `f64` too.
        let room = room.min(INTS_EXACT);
        let buf = inp.buf;
        let mut p = inp.pos;
        let mut count = 0u64;
        let mut sum = BatchSum::default();
        loop {
            let counted = count;
            match buf.get(p) {
                // A run of BININT1 (a loss mask is all `K 1`): a fixed stride.
                Some(b'K') => {
                    while count < room {
                        let Some(&[b'K', v]) = buf.get(p..p + 2) else {
                            break;
                        };
                        sum.int(v as i64);
                        count += 1;
                        p += 2;
                    }
                }
                // BININT2 and BININT in any mix (token ids interleave them at random): each
                // decoded from the four bytes after its opcode, masked to its width, with no
                // branch on which it is.
                Some(b'M' | b'J') => {
                    while count < room {
                        let Some(op) = buf.get(p..p + 5) else { break };
                        let width = INT_WIDTH[op[0] as usize];
                        if width == 0 {
                            break;
                        }
                        let four = u32::from_le_bytes([op[1], op[2], op[3], op[4]]);
                        let v = (four & INT_MASK[op[0] as usize]) as i32;
                        sum.int(v as i64);
                        count += 1;
                        p += 1 + width as usize;
                    }
                    // A BININT2 in the last four bytes read so far (too close to the end for
                    // the loop's reads): on its own. (A whole BININT there is five bytes.)
                    if count == counted && count < room {
                        if let Some(&[b'M', a, b]) = buf.get(p..p + 3) {
                            let v = u16::from_le_bytes([a, b]);
                            sum.int(v as i64);
                            count += 1;
                            p += 3;
                        }
                    }
                }
                // A run of BINFLOAT (log probs).
                Some(b'G') => {
                    while count < room {
                        let Some(op) = buf.get(p..p + 9) else { break };
                        if op[0] != b'G' {
                            break;
                        }
                        sum.float(f64_from_be([
                            op[1], op[2], op[3], op[4], op[5], op[6], op[7], op[8],
                        ]));
                        count += 1;
                        p += 9;
                    }
                }
                Some(0x88 | 0x89) if count < room => {
                    let v = (buf[p] == 0x88) as i64;
                    sum.int(v);
                    count += 1;
                    p += 1;
                }
                Some(b'e') => break,
                // Anything else (None included: not a number on either path).
                _ => return false,
            }
            // A number that did not fit: past `room`, or its argument has not arrived yet.
            if count == counted {
                return false;
            }
        }
        let sum = sum.total();
        if before + count <= max as u64 {
            return false;
        }
        if let Some(Node::List(v)) = self.nodes.get(id) {
            self.memory = self.memory.saturating_sub(v.len() * VALUE_BYTES);
        }
        if let Some(node) = self.nodes.get_mut(id) {
            *node = Node::ElidedList {
                len: before + count,
                sum: one_nan(before_sum + sum),
            };
        }
        inp.pos = p + 1;
        true
    }
}

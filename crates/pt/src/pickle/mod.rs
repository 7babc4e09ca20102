//! The pickle virtual machine (protocols 0–5).
//!
//! Why a VM of our own rather than `serde-pickle`: torch dumps hold class instances
//! (`Sample` dataclasses, enums, tensors, numpy arrays) and persistent ids, which serde-pickle
//! rejects or cannot represent. Here an unknown class becomes an [`Object`](crate::Object); nothing is
//! imported or executed, and a handful of well-known reducers (OrderedDict, set, bytes via
//! `_codecs.encode`, enums, tensors, numpy arrays and scalars) are turned into plain values.
//!
//! The machine is resumable at opcode boundaries: [`Machine::run`] executes every opcode that
//! lies wholly in the bytes it is given and reports how far it got, so a caller can feed a
//! file in chunks as they arrive and get the same tree as from one buffer.
//!
//! **Cost rule: no opcode costs more than its own bytes plus its output.** Every opcode that
//! allocates charges what it allocates to `Limits::max_memory` before or as it allocates
//! (containers, text, names built by `getattr`, copies made by `list(x)`, `set(x)`,
//! `OrderedDict(pairs)`, ADDITEMS/APPENDS/SETITEMS into any container), so a memo reference
//! that is cheap to repeat can only repeat charged output. Nothing looks at an argument by
//! copying it (reducers read arguments by index, `reduce.rs`), dict inserts are O(1) whatever
//! the key (`value.rs`), and a text argument that has not ended yet is scanned once, however
//! many chunks it arrives in. A declared length or a text line larger than the memory left
//! is refused at its opcode before its bytes are waited for. The stack is bounded by
//! `Limits::max_stack` instead of being charged.
//!
//! Layout: this file (the machine, stack and memo); `ops.rs` (the opcodes); `input.rs` (the
//! byte cursor and the text-line scan carried across chunks); `reduce.rs` (GLOBAL, REDUCE,
//! NEWOBJ, BUILD); `numeric.rs` (APPENDS and the elision of long numeric lists, fast path
//! included); `text.rs` (protocol 0 text arguments, long integers).

mod handover;
mod input;
mod numeric;
mod reduce;
mod set;
mod text;

use input::{Input, LineHint};

pub use text::parse_py_float;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::error::{PickleError, PickleErrorKind as K};
use crate::sink::SampleSink;
use crate::value::{Node, NodeId, Tree, Value};
use crate::Limits;

const VALUE_BYTES: usize = std::mem::size_of::<Value>();
const NODE_BYTES: usize = std::mem::size_of::<Node>();
/// Memo keys further than this past the end are stored in a map, so a hostile `LONG_BINPUT
/// 0xffffffff` cannot make us allocate four billion slots.
const MEMO_DENSE_GAP: u64 = 1 << 16;

/// A name made from two strings, kept with them (their addresses may be its key).
type SharedName = (Rc<str>, Rc<str>, Value);

/// What a call to [`Machine::run`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// STOP was executed; the value is ready in [`Machine::finish`].
    Done { consumed: usize },
    /// More input is needed; `consumed` bytes were used (whole opcodes only).
    NeedMore { consumed: usize },
}

/// A pickle machine in progress.
pub struct Machine<'l> {
    limits: &'l Limits,
    nodes: crate::Nodes,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Vec<Option<Value>>,
    memo_sparse: HashMap<u64, Value>,
    memo_count: u64,
    /// Globals that name a nested class (`Outer.Inner`, or built with `getattr`): the way
    /// enum members such as `Sample.Status` arrive.
    nested_globals: HashSet<Rc<str>>,
    /// Names made from two strings (STACK_GLOBAL, `getattr`), by the strings' text or
    /// address, with the strings themselves (see `reduce.rs`).
    shared_names: HashMap<(reduce::NameKey, reduce::NameKey), SharedName>,
    memory: usize,
    /// Offset of the next unread byte, from the start of this pickle.
    offset: u64,
    /// Added to offsets in errors (the pickle's position in its container part).
    base: u64,
    result: Option<Value>,
    /// A text opcode that ran out of bytes: what is already known about it, so the next
    /// call does not scan its text again.
    line_hint: LineHint,
    /// Where complete samples go (see `sink.rs`), and its state.
    sink: Option<Box<dyn SampleSink + 'l>>,
    sample_list: Option<NodeId>,
    /// First container not released yet (all before it that follow the list are released).
    release_from: usize,
    /// A batch appended to the sample list by the last opcode: (first position, count).
    batch: Option<(usize, usize)>,
    /// The protocol the pickle declared (PROTO), 0 without one.
    proto: u8,
    /// A batch of the sample list handed over sample by sample (`handover.rs`).
    early: Option<handover::Early>,
    /// A memo reference reached a container made in a batch being handed over sample by
    /// sample: samples share containers, so batches are handed over whole from then on.
    shares: bool,
}

type Step<T> = Result<Option<T>, K>;

macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

/// A text line, or "need more input".
macro_rules! line {
    ($inp:expr) => {
        match $inp.line()? {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

// After the macros, which it uses.
mod ops;

impl<'l> Machine<'l> {
    pub fn new(limits: &'l Limits, base: u64) -> Self {
        Machine {
            limits,
            nodes: crate::Nodes::default(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_sparse: HashMap::new(),
            memo_count: 0,
            nested_globals: HashSet::new(),
            shared_names: HashMap::new(),
            memory: 0,
            offset: 0,
            base,
            result: None,
            line_hint: LineHint::default(),
            sink: None,
            sample_list: None,
            release_from: 0,
            batch: None,
            proto: 0,
            early: None,
            shares: false,
        }
    }

    /// Whether STOP was executed.
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// Offset (from the start of this pickle) of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Runs opcodes from `buf`. With `eof`, running out of bytes is an error.
    ///
    /// `buf` must start at the first byte not consumed so far (after a
    /// [`Progress::NeedMore`], the caller passes the unconsumed bytes again, plus new ones).
    pub fn run(&mut self, buf: &[u8], eof: bool) -> Result<Progress, PickleError> {
        let hint = std::mem::take(&mut self.line_hint);
        let mut inp = Input {
            buf,
            pos: 0,
            known_newline: hint.first_newline,
            scan_from: hint.scanned_to,
            first_newline: None,
            scanned_to: 0,
            line_max: 0,
        };
        loop {
            let start = inp.pos;
            if self.result.is_some() {
                return Ok(Progress::Done { consumed: start });
            }
            let op = match inp.u8() {
                Some(op) => op,
                None if eof => {
                    return Err(self.error(start, None, K::NoStop));
                }
                None => return Ok(Progress::NeedMore { consumed: start }),
            };
            inp.line_max = self.room();
            let nodes_before = self.nodes.len();
            match self.op(op, &mut inp) {
                Ok(Some(())) => {
                    self.offset += (inp.pos - start) as u64;
                    if let Some((first, n)) = self.batch.take() {
                        if let Err(kind) = self.hand_over(first, n) {
                            return Err(self.error(start, Some(op), kind));
                        }
                    }
                    if self.early.is_some() {
                        if let Err(kind) = self.early_step(nodes_before) {
                            return Err(self.error(start, Some(op), kind));
                        }
                    }
                    // Hints belong to the first opcode of a call only.
                    inp.known_newline = None;
                    inp.scan_from = 0;
                    inp.first_newline = None;
                    inp.scanned_to = 0;
                }
                Ok(None) => {
                    if eof {
                        return Err(self.error(start, Some(op), K::Truncated));
                    }
                    self.line_hint = LineHint {
                        first_newline: inp.first_newline.map(|n| n - start),
                        scanned_to: inp.scanned_to.saturating_sub(start),
                    };
                    return Ok(Progress::NeedMore { consumed: start });
                }
                Err(K::MemoryLimit(_)) => {
                    let kind = K::MemoryLimit(self.limits.max_memory);
                    return Err(self.error(start, Some(op), kind));
                }
                Err(kind) => return Err(self.error(start, Some(op), kind)),
            }
        }
    }

    /// Memory left under the limit (the stack counts, see [`Machine::push`]).
    fn room(&self) -> usize {
        self.limits
            .max_memory
            .saturating_sub(self.memory)
            .saturating_sub(self.stack.len() * VALUE_BYTES)
    }

    /// Refuses a declared length the memory left cannot hold, before waiting for its bytes.
    fn fits(&self, n: u64) -> Result<usize, K> {
        match usize::try_from(n) {
            Ok(n) if n <= self.room() => Ok(n),
            _ => Err(K::MemoryLimit(self.limits.max_memory)),
        }
    }

    fn error(&self, at: usize, op: Option<u8>, kind: K) -> PickleError {
        let _ = at;
        PickleError {
            offset: self.base + self.offset,
            opcode: op,
            kind,
        }
    }

    /// The finished tree, once [`Progress::Done`] was returned.
    pub fn finish(self) -> Option<Tree> {
        let root = self.result?;
        Some(Tree {
            nodes: self.nodes,
            root,
        })
    }

    // ---- helpers -------------------------------------------------------------------------

    fn charge(&mut self, bytes: usize) -> Result<(), K> {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory.saturating_add(self.stack.len() * VALUE_BYTES) > self.limits.max_memory {
            return Err(K::MemoryLimit(self.limits.max_memory));
        }
        Ok(())
    }

    /// Pushes a value. The stack counts against the memory limit at its length as values are
    /// pushed (a MARK run of 16 M items is 256 MB before any opcode takes it), and is capped
    /// by `max_stack`.
    #[inline]
    fn push(&mut self, v: Value) -> Result<(), K> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(K::StackLimit(self.limits.max_stack));
        }
        if self.memory + (self.stack.len() + 1) * VALUE_BYTES > self.limits.max_memory {
            return Err(K::MemoryLimit(self.limits.max_memory));
        }
        self.stack.push(v);
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> Result<Value, K> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(K::StackUnderflow);
        }
        self.stack.pop().ok_or(K::StackUnderflow)
    }

    fn top(&self) -> Result<&Value, K> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(K::StackUnderflow);
        }
        self.stack.last().ok_or(K::StackUnderflow)
    }

    /// Pops everything above the last MARK, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<Value>, K> {
        let at = self.marks.pop().ok_or(K::NoMark)?;
        Ok(self.stack.split_off(at))
    }

    /// [`Machine::pop_mark`] for a set: repeats left out as the run is drained off the stack
    /// (a 16 M-item run is never copied).
    fn pop_mark_distinct(&mut self) -> Result<Vec<Value>, K> {
        let at = self.marks.pop().ok_or(K::NoMark)?;
        Ok(set::distinct(self.stack.drain(at..)))
    }

    fn alloc(&mut self, node: Node) -> Result<Value, K> {
        let extra = match &node {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.len(),
            // Entries and, past a few keys, their hash index.
            Node::Dict(d) => d.len() * 3,
            _ => 0,
        };
        self.charge(extra.saturating_mul(VALUE_BYTES))?;
        self.alloc_charged(node)
    }

    /// Adds a node whose items were charged already (copies made by reducers).
    fn alloc_charged(&mut self, node: Node) -> Result<Value, K> {
        self.charge(NODE_BYTES)?;
        let id = u32::try_from(self.nodes.len())
            .map_err(|_| K::Malformed("more than 2^32 containers".into()))?;
        let _ = self.nodes.push(node);
        Ok(Value::Node(NodeId(id)))
    }

    fn str_value(&mut self, bytes: &[u8]) -> Result<Value, K> {
        self.charge(bytes.len())?;
        let s = std::str::from_utf8(bytes)
            .map(Rc::<str>::from)
            // Python's pickler writes surrogates with 'surrogatepass'; keep what we can.
            .unwrap_or_else(|_| Rc::from(String::from_utf8_lossy(bytes).as_ref()));
        Ok(Value::Str(s))
    }

    fn bytes_value(&mut self, bytes: &[u8]) -> Result<Value, K> {
        self.charge(bytes.len())?;
        Ok(Value::Bytes(Rc::from(bytes)))
    }

    fn memo_put(&mut self, key: u64, v: Value) -> Result<(), K> {
        let len = self.memo.len() as u64;
        if key < len {
            if self.memo[key as usize].is_none() {
                self.memo_count += 1;
            }
            self.memo[key as usize] = Some(v);
        } else if key - len < MEMO_DENSE_GAP {
            self.charge((key - len + 1) as usize * VALUE_BYTES)?;
            self.memo.resize((key + 1) as usize, None);
            self.memo[key as usize] = Some(v);
            self.memo_count += 1;
        } else {
            self.charge(VALUE_BYTES * 2)?;
            if self.memo_sparse.insert(key, v).is_none() {
                self.memo_count += 1;
            }
        }
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), K> {
        // `usize::try_from`, not `as`: on a 32-bit target a key past 2^32 must not wrap.
        let dense = usize::try_from(key).ok().and_then(|k| self.memo.get(k));
        let v = match dense {
            Some(Some(v)) => v.clone(),
            _ => self
                .memo_sparse
                .get(&key)
                .cloned()
                .ok_or(K::MemoMissing(key))?,
        };
        if self.early.is_some() {
            self.note_fetch(&v);
        }
        if self.sink.is_some() {
            self.note_freed(&v);
        }
        self.push(v)
    }

    fn node_mut(&mut self, v: &Value) -> Option<&mut Node> {
        match v {
            Value::Node(id) => self.nodes.get_mut(id.0 as usize),
            _ => None,
        }
    }

    fn target_index(&self, below: usize) -> Result<Value, K> {
        // The container that APPENDS/SETITEMS/ADDITEMS act on sits just below the mark.
        below
            .checked_sub(1)
            .and_then(|i| self.stack.get(i))
            .cloned()
            .ok_or(K::StackUnderflow)
    }

    fn set_items(&mut self, target: &Value, items: Vec<Value>) -> Result<(), K> {
        if !items.len().is_multiple_of(2) {
            return Err(K::Malformed("SETITEMS with an odd number of items".into()));
        }
        // Entries, and the hash index a dict builds past a few keys.
        self.charge(items.len().saturating_mul(VALUE_BYTES / 2 * 3))?;
        let mut it = items.into_iter();
        match self.node_mut(target) {
            Some(Node::Dict(d)) => {
                // One SETITEMS usually fills a whole dict: size it exactly.
                d.entries.reserve_exact(it.len() / 2);
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.insert(k, v);
                }
                Ok(())
            }
            Some(Node::Object(o)) => {
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    o.items.push((k, v));
                }
                Ok(())
            }
            _ => Err(K::Malformed(
                "SETITEM on something that is not a dict".into(),
            )),
        }
    }
}

/// Runs a whole pickle held in memory.
pub fn load(data: &[u8], limits: &Limits, base: u64) -> Result<(Tree, usize), PickleError> {
    let mut m = Machine::new(limits, base);
    match m.run(data, true)? {
        Progress::Done { consumed } => {
            let tree = m.finish().ok_or(PickleError {
                offset: base,
                opcode: None,
                kind: K::NoStop,
            })?;
            Ok((tree, consumed))
        }
        Progress::NeedMore { consumed } => Err(PickleError {
            offset: base + consumed as u64,
            opcode: None,
            kind: K::Truncated,
        }),
    }
}

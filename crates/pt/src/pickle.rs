//! The pickle virtual machine (protocols 0–5).
//!
//! Why a VM of our own rather than `serde-pickle`: torch dumps hold class instances
//! (`Sample` dataclasses, enums, tensors, numpy arrays) and persistent ids, which serde-pickle
//! rejects or cannot represent. Here an unknown class becomes an [`Object`]; nothing is
//! imported or executed, and a handful of well-known reducers (OrderedDict, set, bytes via
//! `_codecs.encode`, enums, tensors, numpy arrays and scalars) are turned into plain values.
//!
//! The machine is resumable at opcode boundaries: [`Machine::run`] executes every opcode that
//! lies wholly in the bytes it is given and reports how far it got, so a caller can feed a
//! file in chunks as they arrive and get the same tree as from one buffer.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::error::{PickleError, PickleErrorKind as K};
use crate::value::{Dict, Node, NodeId, Object, Tree, Value};
use crate::Limits;

const VALUE_BYTES: usize = std::mem::size_of::<Value>();
const NODE_BYTES: usize = std::mem::size_of::<Node>();
/// Memo keys further than this past the end are stored in a map, so a hostile `LONG_BINPUT
/// 0xffffffff` cannot make us allocate four billion slots.
const MEMO_DENSE_GAP: u64 = 1 << 16;

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
    nodes: Vec<Node>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Vec<Option<Value>>,
    memo_sparse: HashMap<u64, Value>,
    memo_count: u64,
    /// Globals that name a nested class (`Outer.Inner`, or built with `getattr`): the way
    /// enum members such as `Sample.Status` arrive.
    nested_globals: HashSet<Rc<str>>,
    memory: usize,
    /// Offset of the next unread byte, from the start of this pickle.
    offset: u64,
    /// Added to offsets in errors (the pickle's position in its container part).
    base: u64,
    result: Option<Value>,
}

type Step<T> = Result<Option<T>, K>;

/// A cursor over the bytes available now; `None` from a read means "need more input".
struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    #[inline]
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    #[inline]
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).map(|b| {
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            a
        })
    }
    /// A text argument up to and excluding '\n'.
    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n')?;
        self.pos += n + 1;
        Some(&rest[..n])
    }
}

macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

impl<'l> Machine<'l> {
    pub fn new(limits: &'l Limits, base: u64) -> Self {
        Machine {
            limits,
            nodes: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_sparse: HashMap::new(),
            memo_count: 0,
            nested_globals: HashSet::new(),
            memory: 0,
            offset: 0,
            base,
            result: None,
        }
    }

    /// Offset (from the start of this pickle) of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Runs opcodes from `buf`. With `eof`, running out of bytes is an error.
    pub fn run(&mut self, buf: &[u8], eof: bool) -> Result<Progress, PickleError> {
        let mut inp = Input { buf, pos: 0 };
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
            match self.op(op, &mut inp) {
                Ok(Some(())) => self.offset += (inp.pos - start) as u64,
                Ok(None) => {
                    if eof {
                        return Err(self.error(start, Some(op), K::Truncated));
                    }
                    return Ok(Progress::NeedMore { consumed: start });
                }
                Err(kind) => return Err(self.error(start, Some(op), kind)),
            }
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
        if self.memory > self.limits.max_memory {
            return Err(K::MemoryLimit(self.limits.max_memory));
        }
        Ok(())
    }

    #[inline]
    fn push(&mut self, v: Value) -> Result<(), K> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(K::StackLimit(self.limits.max_stack));
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

    fn alloc(&mut self, node: Node) -> Result<Value, K> {
        let extra = match &node {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.len(),
            Node::Dict(d) => d.len() * 2,
            _ => 0,
        };
        self.charge(NODE_BYTES + extra * VALUE_BYTES)?;
        let id = u32::try_from(self.nodes.len())
            .map_err(|_| K::Malformed("more than 2^32 containers".into()))?;
        self.nodes.push(node);
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
        let v = match self.memo.get(key as usize) {
            Some(Some(v)) => v.clone(),
            _ => self
                .memo_sparse
                .get(&key)
                .cloned()
                .ok_or(K::MemoMissing(key))?,
        };
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

    fn extend_list(&mut self, target: &Value, items: Vec<Value>) -> Result<(), K> {
        let keep_max = self.limits.keep_numeric_list_max;
        let n = items.len();
        self.charge(n * VALUE_BYTES)?;
        match self.node_mut(target) {
            Some(Node::List(list)) => {
                let before = list.len();
                list.extend(items);
                if let Some(max) = keep_max {
                    if before <= max
                        && list.len() > max
                        && list
                            .iter()
                            .all(|v| matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_)))
                    {
                        let len = list.len() as u64;
                        let sum = list.iter().map(number_of).sum();
                        let freed = list.len() * VALUE_BYTES;
                        if let Some(node) = self.node_mut(target) {
                            *node = Node::ElidedList { len, sum };
                        }
                        self.memory = self.memory.saturating_sub(freed);
                    }
                }
                Ok(())
            }
            Some(Node::ElidedList { len, sum }) => {
                *len += n as u64;
                *sum += items.iter().map(number_of).sum::<f64>();
                self.memory = self.memory.saturating_sub(n * VALUE_BYTES);
                Ok(())
            }
            Some(Node::Object(o)) => {
                o.list_items.extend(items);
                Ok(())
            }
            Some(Node::Set(s)) => {
                s.extend(items);
                Ok(())
            }
            _ => Err(K::Malformed(
                "APPEND to something that is not a list".into(),
            )),
        }
    }

    fn set_items(&mut self, target: &Value, items: Vec<Value>) -> Result<(), K> {
        if !items.len().is_multiple_of(2) {
            return Err(K::Malformed("SETITEMS with an odd number of items".into()));
        }
        self.charge(items.len() * VALUE_BYTES)?;
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

    fn global(&mut self, module: &str, name: &str) -> Result<Value, K> {
        let module = match module {
            "__builtin__" => "builtins",
            "copy_reg" => "copyreg",
            m => m,
        };
        let full: Rc<str> = Rc::from(format!("{module}.{name}"));
        self.charge(full.len())?;
        if name.contains('.') {
            self.nested_globals.insert(full.clone());
        }
        Ok(Value::Global(full))
    }

    fn tuple(&mut self, items: Vec<Value>) -> Result<Value, K> {
        self.alloc(Node::Tuple(items))
    }

    fn object(&mut self, class: Rc<str>, args: Value) -> Result<Value, K> {
        self.alloc(Node::Object(Box::new(Object {
            class,
            args,
            state: Value::None,
            items: Vec::new(),
            list_items: Vec::new(),
        })))
    }

    fn tuple_items(&self, v: &Value) -> Vec<Value> {
        match v {
            Value::Node(id) => match &self.nodes[id.0 as usize] {
                Node::Tuple(t) | Node::List(t) => t.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// REDUCE / NEWOBJ: call `callable(*args)` without running anything.
    fn call(&mut self, callable: Value, args: Value) -> Result<Value, K> {
        let name = match &callable {
            Value::Global(n) => n.clone(),
            _ => return self.object(Rc::from("<call>"), args),
        };
        let a = self.tuple_items(&args);
        match &*name {
            "builtins.getattr" if a.len() == 2 => {
                if let (Value::Global(cls), Value::Str(attr)) = (&a[0], &a[1]) {
                    let full: Rc<str> = Rc::from(format!("{cls}.{attr}"));
                    self.nested_globals.insert(full.clone());
                    return Ok(Value::Global(full));
                }
            }
            "collections.OrderedDict"
            | "builtins.dict"
            | "collections.defaultdict"
            | "collections.Counter" => {
                let mut d = Dict::default();
                if name.as_ref() != "collections.defaultdict" {
                    if let Some(first) = a.first() {
                        for pair in self.tuple_items(first) {
                            let kv = self.tuple_items(&pair);
                            if kv.len() == 2 {
                                d.insert(kv[0].clone(), kv[1].clone());
                            }
                        }
                    }
                }
                return self.alloc(Node::Dict(d));
            }
            "builtins.set" | "builtins.frozenset" => {
                let items = a.first().map(|v| self.tuple_items(v)).unwrap_or_default();
                return self.alloc(if name.as_ref() == "builtins.set" {
                    Node::Set(items)
                } else {
                    Node::FrozenSet(items)
                });
            }
            "builtins.list" | "builtins.tuple" => {
                let items = a.first().map(|v| self.tuple_items(v)).unwrap_or_default();
                return self.alloc(if name.as_ref() == "builtins.list" {
                    Node::List(items)
                } else {
                    Node::Tuple(items)
                });
            }
            // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
            "_codecs.encode" => {
                if let Some(Value::Str(s)) = a.first() {
                    let bytes: Option<Vec<u8>> = s.chars().map(|c| u8::try_from(c).ok()).collect();
                    if let Some(bytes) = bytes {
                        return self.bytes_value(&bytes);
                    }
                }
            }
            "builtins.bytearray" | "builtins.bytes" => match a.first() {
                Some(v @ Value::Bytes(_)) => return Ok(v.clone()),
                None => return self.bytes_value(&[]),
                _ => {}
            },
            "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
                return self.tensor(&a, args.clone());
            }
            "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
                if let Some(t) = a.first() {
                    return Ok(t.clone());
                }
            }
            "numpy.core.multiarray.scalar" | "numpy._core.multiarray.scalar" => {
                if let Some(v) = self.numpy_scalar(&a) {
                    return Ok(v);
                }
            }
            "numpy.core.multiarray._reconstruct" | "numpy._core.multiarray._reconstruct" => {
                return self.object(Rc::from("numpy.ndarray"), args);
            }
            "copyreg._reconstructor" => {
                if let Some(Value::Global(cls)) = a.first() {
                    return self.object(cls.clone(), args);
                }
            }
            _ => {
                // An enum member: Outer.Inner(value) with one plain argument.
                if self.nested_globals.contains(&name) && a.len() == 1 {
                    if let v @ (Value::Str(_)
                    | Value::Int(_)
                    | Value::Float(_)
                    | Value::Bool(_)
                    | Value::None) = &a[0]
                    {
                        return Ok(v.clone());
                    }
                }
            }
        }
        self.object(name, args)
    }

    fn tensor(&mut self, a: &[Value], args: Value) -> Result<Value, K> {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks)
        let mut dtype = Value::None;
        if let Some(Value::Node(id)) = a.first() {
            if let Node::Persistent(pid) = &self.nodes[id.0 as usize] {
                let pid = pid.clone();
                let parts = self.tuple_items(&pid);
                if let Some(Value::Global(cls)) = parts.get(1) {
                    dtype = Value::Str(Rc::from(storage_dtype(cls)));
                }
            }
        }
        let shape = a.get(2).cloned().unwrap_or(Value::None);
        let mut state = Dict::default();
        state.insert(Value::Str(Rc::from("dtype")), dtype);
        state.insert(Value::Str(Rc::from("shape")), shape);
        if let Some(storage) = a.first() {
            state.insert(Value::Str(Rc::from("storage")), storage.clone());
        }
        let state = self.alloc(Node::Dict(state))?;
        let obj = self.object(Rc::from("torch.Tensor"), args)?;
        if let Some(Node::Object(o)) = self.node_mut(&obj) {
            o.state = state;
        }
        Ok(obj)
    }

    fn numpy_scalar(&mut self, a: &[Value]) -> Option<Value> {
        let code = match a.first()? {
            Value::Node(id) => match &self.nodes[id.0 as usize] {
                Node::Object(o) if &*o.class == "numpy.dtype" => {
                    self.tuple_items(&o.args).first()?.as_str()?.to_string()
                }
                _ => return None,
            },
            _ => return None,
        };
        let b: &[u8] = match a.get(1)? {
            Value::Bytes(b) => b,
            _ => return None,
        };
        let le = |n: usize| -> Option<[u8; 8]> {
            let mut x = [0u8; 8];
            x[..n].copy_from_slice(b.get(..n)?);
            Some(x)
        };
        let sign = |v: u64, n: usize| -> i64 {
            let shift = 64 - 8 * n as u32;
            ((v << shift) as i64) >> shift
        };
        Some(match code.as_str() {
            "f8" => Value::Float(f64::from_le_bytes(b.get(..8)?.try_into().ok()?)),
            "f4" => Value::Float(f32::from_le_bytes(b.get(..4)?.try_into().ok()?) as f64),
            "i8" | "i4" | "i2" | "i1" => {
                let n: usize = code[1..].parse().ok()?;
                Value::Int(sign(u64::from_le_bytes(le(n)?), n))
            }
            "u4" | "u2" | "u1" => {
                let n: usize = code[1..].parse().ok()?;
                Value::Int(u64::from_le_bytes(le(n)?) as i64)
            }
            "u8" => {
                let v = u64::from_le_bytes(le(8)?);
                i64::try_from(v)
                    .map(Value::Int)
                    .unwrap_or_else(|_| Value::BigInt(Rc::from(v.to_string())))
            }
            "b1" => Value::Bool(*b.first()? != 0),
            _ => return None,
        })
    }

    fn build(&mut self, target: &Value, state: Value) -> Result<(), K> {
        // numpy arrays: (version, shape, dtype, is_fortran, raw data) -> {dtype, shape}.
        let is_ndarray =
            matches!(self.node_mut(target), Some(Node::Object(o)) if &*o.class == "numpy.ndarray");
        let state = if is_ndarray {
            let t = self.tuple_items(&state);
            if t.len() == 5 {
                let mut d = Dict::default();
                d.insert(Value::Str(Rc::from("dtype")), t[2].clone());
                d.insert(Value::Str(Rc::from("shape")), t[1].clone());
                self.alloc(Node::Dict(d))?
            } else {
                state
            }
        } else {
            state
        };
        if let Some(Node::Object(o)) = self.node_mut(target) {
            o.state = state;
        }
        // BUILD on anything else (a dict subclass rebuilt as a dict, a tensor) changes nothing
        // the timeline reads; it is accepted rather than failing the whole file.
        Ok(())
    }

    // ---- the opcodes -----------------------------------------------------------------------

    fn op(&mut self, op: u8, inp: &mut Input<'_>) -> Step<()> {
        match op {
            // Numbers and constants first: they dominate large dumps.
            b'K' => {
                let v = need!(inp.u8());
                self.push(Value::Int(v as i64))?
            }
            b'M' => {
                let v = need!(inp.arr::<2>());
                self.push(Value::Int(u16::from_le_bytes(v) as i64))?
            }
            b'J' => {
                let v = need!(inp.arr::<4>());
                self.push(Value::Int(i32::from_le_bytes(v) as i64))?
            }
            b'G' => {
                let v = need!(inp.arr::<8>());
                self.push(Value::Float(f64::from_be_bytes(v)))?
            }
            b'h' => {
                let k = need!(inp.u8());
                self.memo_get(k as u64)?
            }
            b'j' => {
                let k = need!(inp.arr::<4>());
                self.memo_get(u32::from_le_bytes(k) as u64)?
            }
            b'q' => {
                let k = need!(inp.u8());
                let v = self.top()?.clone();
                self.memo_put(k as u64, v)?
            }
            b'r' => {
                let k = need!(inp.arr::<4>());
                let v = self.top()?.clone();
                self.memo_put(u32::from_le_bytes(k) as u64, v)?
            }
            0x94 => {
                // MEMOIZE
                let v = self.top()?.clone();
                let k = self.memo_count;
                self.memo_put(k, v)?
            }
            b'(' => {
                if let Some(max) = self.limits.keep_numeric_list_max {
                    if self.skip_numeric_batch(inp, max) {
                        return Ok(Some(()));
                    }
                }
                if self.marks.len() >= self.limits.max_stack {
                    return Err(K::StackLimit(self.limits.max_stack));
                }
                self.marks.push(self.stack.len())
            }
            b'e' => {
                let items = self.pop_mark()?;
                let target = self.target_index(self.stack.len())?;
                self.extend_list(&target, items)?
            }
            b'a' => {
                let v = self.pop()?;
                let target = self.top()?.clone();
                self.extend_list(&target, vec![v])?
            }
            b'u' => {
                let items = self.pop_mark()?;
                let target = self.target_index(self.stack.len())?;
                self.set_items(&target, items)?
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?.clone();
                self.set_items(&target, vec![k, v])?
            }
            b'X' => {
                let n = u32::from_le_bytes(need!(inp.arr::<4>())) as usize;
                let s = need!(inp.take(n));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            0x8c => {
                let n = need!(inp.u8()) as usize;
                let s = need!(inp.take(n));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            0x8d => {
                let n = u64::from_le_bytes(need!(inp.arr::<8>()));
                let s = need!(inp.take(usize::try_from(n).unwrap_or(usize::MAX)));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            b'N' => self.push(Value::None)?,
            0x88 => self.push(Value::Bool(true))?,
            0x89 => self.push(Value::Bool(false))?,
            b']' => {
                let v = self.alloc(Node::List(Vec::new()))?;
                self.push(v)?
            }
            b'}' => {
                let v = self.alloc(Node::Dict(Dict::default()))?;
                self.push(v)?
            }
            b')' => {
                let v = self.tuple(Vec::new())?;
                self.push(v)?
            }
            0x8f => {
                let v = self.alloc(Node::Set(Vec::new()))?;
                self.push(v)?
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() < floor + n {
                    return Err(K::StackUnderflow);
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.tuple(items)?;
                self.push(v)?
            }
            b't' => {
                let items = self.pop_mark()?;
                let v = self.tuple(items)?;
                self.push(v)?
            }
            b'l' => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::List(items))?;
                self.push(v)?
            }
            b'd' => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::Dict(Dict::default()))?;
                self.set_items(&v, items)?;
                self.push(v)?
            }
            0x91 => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::FrozenSet(items))?;
                self.push(v)?
            }
            0x90 => {
                // ADDITEMS
                let items = self.pop_mark()?;
                let target = self.target_index(self.stack.len())?;
                match self.node_mut(&target) {
                    Some(Node::Set(s)) => s.extend(items),
                    _ => {
                        return Err(K::Malformed(
                            "ADDITEMS to something that is not a set".into(),
                        ))
                    }
                }
            }
            b'0' => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?
            }
            0x80 => {
                let p = need!(inp.u8());
                if p > 5 {
                    return Err(K::Protocol(p));
                }
            }
            0x95 => {
                // FRAME: a length hint only.
                need!(inp.arr::<8>());
            }
            b'.' => {
                let v = self.pop()?;
                self.result = Some(v);
            }
            b'c' => {
                let module = need!(inp.line());
                let name = need!(inp.line());
                let v = self.global(&latin1(module), &latin1(name))?;
                self.push(v)?
            }
            0x93 => {
                // STACK_GLOBAL
                let name = self.pop()?;
                let module = self.pop()?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => {
                        let v = self.global(&m, &n)?;
                        self.push(v)?
                    }
                    _ => return Err(K::Malformed("STACK_GLOBAL needs two strings".into())),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.push(v)?
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?.clone();
                self.build(&target, state)?
            }
            b'i' => {
                let module = need!(inp.line());
                let name = need!(inp.line());
                let cls = self.global(&latin1(module), &latin1(name))?;
                let items = self.pop_mark()?;
                let args = self.tuple(items)?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(K::StackUnderflow);
                }
                let cls = items.remove(0);
                let args = self.tuple(items)?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'Q' => {
                let pid = self.pop()?;
                let v = self.alloc(Node::Persistent(pid))?;
                self.push(v)?
            }
            b'P' => {
                let line = need!(inp.line());
                let pid = self.str_value(line)?;
                let v = self.alloc(Node::Persistent(pid))?;
                self.push(v)?
            }
            0x8a => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.long(b)?;
                self.push(v)?
            }
            0x8b => {
                let n = u32::from_le_bytes(need!(inp.arr::<4>())) as usize;
                let b = need!(inp.take(n));
                let v = self.long(b)?;
                self.push(v)?
            }
            b'B' => {
                let n = u32::from_le_bytes(need!(inp.arr::<4>())) as usize;
                let b = need!(inp.take(n));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            b'C' => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            0x8e | 0x96 => {
                let n = u64::from_le_bytes(need!(inp.arr::<8>()));
                let b = need!(inp.take(usize::try_from(n).unwrap_or(usize::MAX)));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            // Python 2 str: bytes that are usually text; keep them as text when they are.
            b'T' => {
                let n = u32::from_le_bytes(need!(inp.arr::<4>())) as usize;
                let b = need!(inp.take(n));
                let v = self.str_value(b)?;
                self.push(v)?
            }
            b'U' => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.str_value(b)?;
                self.push(v)?
            }
            0x97 => return Err(K::OutOfBand),
            0x98 => {} // READONLY_BUFFER: a no-op on our side.
            b'I' => {
                let line = need!(inp.line());
                let v = match line {
                    b"01" => Value::Bool(true),
                    b"00" => Value::Bool(false),
                    _ => self.text_int(line)?,
                };
                self.push(v)?
            }
            b'L' => {
                let line = need!(inp.line());
                let line = line.strip_suffix(b"L").unwrap_or(line);
                let v = self.text_int(line)?;
                self.push(v)?
            }
            b'F' => {
                let line = need!(inp.line());
                let f = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| parse_py_float(s.trim()))
                    .ok_or_else(|| K::Malformed("FLOAT argument is not a number".into()))?;
                self.push(Value::Float(f))?
            }
            b'S' => {
                let line = need!(inp.line());
                let s = unquote_py_string(line)
                    .ok_or_else(|| K::Malformed("STRING argument is not a quoted string".into()))?;
                let v = self.str_value(&s)?;
                self.push(v)?
            }
            b'V' => {
                let line = need!(inp.line());
                let s = raw_unicode_unescape(line);
                let v = self.str_value(s.as_bytes())?;
                self.push(v)?
            }
            b'g' => {
                let line = need!(inp.line());
                let k = parse_memo_key(line)?;
                self.memo_get(k)?
            }
            b'p' => {
                let line = need!(inp.line());
                let k = parse_memo_key(line)?;
                let v = self.top()?.clone();
                self.memo_put(k, v)?
            }
            0x82..=0x84 => {
                let n = [1usize, 2, 4][(op - 0x82) as usize];
                let b = need!(inp.take(n));
                let mut code = [0u8; 4];
                code[..n].copy_from_slice(b);
                let v = Value::Global(Rc::from(format!(
                    "copyreg.extension_{}",
                    u32::from_le_bytes(code)
                )));
                self.push(v)?
            }
            _ => return Err(K::UnknownOpcode),
        }
        Ok(Some(()))
    }

    /// Fast path for the bulk of a dump: a `MARK, number…, APPENDS` batch going into a list
    /// that is (or is about to become) elided is counted without building a single value.
    /// Returns false, consuming nothing, whenever the batch is anything else; the normal
    /// path then runs and gives the same result.
    fn skip_numeric_batch(&mut self, inp: &mut Input<'_>, max: usize) -> bool {
        let Some(Value::Node(id)) = self.stack.last() else {
            return false;
        };
        let id = id.0 as usize;
        let (before, before_sum) = match &self.nodes[id] {
            Node::ElidedList { len, sum } => (*len, *sum),
            Node::List(v) if v.len() <= max && v.iter().all(is_number) => {
                (v.len() as u64, v.iter().map(number_of).sum())
            }
            _ => return false,
        };
        let buf = inp.buf;
        let mut p = inp.pos;
        let mut count = 0u64;
        let mut sum = 0.0f64;
        loop {
            let arg = |n: usize| buf.get(p + 1..p + 1 + n);
            let (step, value) = match buf.get(p) {
                Some(b'K') => match arg(1) {
                    Some(b) => (2, b[0] as f64),
                    None => return false,
                },
                Some(b'M') => match arg(2) {
                    Some(b) => (3, u16::from_le_bytes([b[0], b[1]]) as f64),
                    None => return false,
                },
                Some(b'J') => match arg(4) {
                    Some(b) => (5, i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
                    None => return false,
                },
                Some(b'G') => match arg(8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                    Some(b) => (9, f64::from_be_bytes(b)),
                    None => return false,
                },
                Some(b'N') => (1, 0.0),
                Some(0x88) => (1, 1.0),
                Some(0x89) => (1, 0.0),
                Some(b'e') => break,
                _ => return false,
            };
            p += step;
            count += 1;
            sum += value;
        }
        if p >= buf.len() || before + count <= max as u64 {
            return false;
        }
        if let Node::List(v) = &self.nodes[id] {
            self.memory = self.memory.saturating_sub(v.len() * VALUE_BYTES);
        }
        self.nodes[id] = Node::ElidedList {
            len: before + count,
            sum: before_sum + sum,
        };
        inp.pos = p + 1;
        true
    }

    fn new_object(&mut self, cls: Value, args: Value) -> Result<Value, K> {
        match &cls {
            Value::Global(name) => match name.as_ref() {
                "collections.OrderedDict" | "builtins.dict" | "collections.defaultdict" => {
                    self.alloc(Node::Dict(Dict::default()))
                }
                "builtins.set" => self.alloc(Node::Set(Vec::new())),
                "builtins.list" => self.alloc(Node::List(Vec::new())),
                _ => {
                    let name = name.clone();
                    self.object(name, args)
                }
            },
            _ => self.object(Rc::from("<object>"), args),
        }
    }

    fn long(&mut self, b: &[u8]) -> Result<Value, K> {
        if b.is_empty() {
            return Ok(Value::Int(0));
        }
        if b.len() <= 8 {
            let neg = b[b.len() - 1] & 0x80 != 0;
            let mut x = [if neg { 0xff } else { 0 }; 8];
            x[..b.len()].copy_from_slice(b);
            return Ok(Value::Int(i64::from_le_bytes(x)));
        }
        if b.len() <= 16 {
            let neg = b[b.len() - 1] & 0x80 != 0;
            let mut x = [if neg { 0xff } else { 0 }; 16];
            x[..b.len()].copy_from_slice(b);
            let v = i128::from_le_bytes(x);
            return Ok(Value::BigInt(Rc::from(v.to_string())));
        }
        // Decimal text of a huge integer is quadratic to make; past a size nobody needs,
        // keep it as hex, which is linear.
        self.charge(b.len() * 2)?;
        let neg = b[b.len() - 1] & 0x80 != 0;
        let mut mag: Vec<u8> = b.to_vec();
        if neg {
            // Two's complement magnitude.
            let mut carry = 1u16;
            for byte in mag.iter_mut() {
                let v = (!*byte) as u16 + carry;
                *byte = v as u8;
                carry = v >> 8;
            }
        }
        let mut hex = String::with_capacity(mag.len() * 2 + 3);
        if neg {
            hex.push('-');
        }
        hex.push_str("0x");
        let mut started = false;
        for byte in mag.iter().rev() {
            if !started && *byte == 0 {
                continue;
            }
            if started {
                hex.push_str(&format!("{byte:02x}"));
            } else {
                hex.push_str(&format!("{byte:x}"));
                started = true;
            }
        }
        if !started {
            hex.push('0');
        }
        Ok(Value::BigInt(Rc::from(hex)))
    }

    fn text_int(&mut self, line: &[u8]) -> Result<Value, K> {
        let s = std::str::from_utf8(line)
            .map_err(|_| K::Malformed("INT argument is not text".into()))?
            .trim();
        if let Ok(v) = s.parse::<i64>() {
            return Ok(Value::Int(v));
        }
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(K::Malformed(format!(
                "INT argument {s:?} is not an integer"
            )));
        }
        self.charge(s.len())?;
        Ok(Value::BigInt(Rc::from(s)))
    }
}

fn number_of(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as u8 as f64,
        _ => 0.0,
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_))
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

fn parse_memo_key(line: &[u8]) -> Result<u64, K> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| K::Malformed("memo key is not a number".into()))
}

/// Python's float() on text: also "inf", "nan", "1_000.5".
pub fn parse_py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains('_') {
        // Underscores only between digits.
        let b = t.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_'
                && !(i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
            {
                return None;
            }
        }
        return parse_py_float(&t.replace('_', ""));
    }
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let neg = lower.starts_with('-');
    if lower.len() - unsigned.len() > 1 {
        return None;
    }
    match unsigned {
        "inf" | "infinity" => {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    // Rust accepts "inf"/"nan" spellings handled above and rejects hex; both match Python.
    if !unsigned
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

fn unquote_py_string(line: &[u8]) -> Option<Vec<u8>> {
    let q = *line.first()?;
    if !(q == b'\'' || q == b'"') || line.len() < 2 || *line.last()? != q {
        return None;
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *body.get(i + 1)?;
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'x' => {
                let h = std::str::from_utf8(body.get(i..i + 2)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut k = 0;
                while k < 2 && i < body.len() && (b'0'..=b'7').contains(&body[i]) {
                    v = v * 8 + (body[i] - b'0') as u32;
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

fn raw_unicode_unescape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && i + 1 < line.len() && (line[i + 1] == b'u' || line[i + 1] == b'U') {
            let n = if line[i + 1] == b'u' { 4 } else { 8 };
            if let Some(c) = line
                .get(i + 2..i + 2 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
            {
                out.push(c);
                i += 2 + n;
                continue;
            }
        }
        out.push(line[i] as char);
        i += 1;
    }
    out
}

fn storage_dtype(cls: &str) -> &'static str {
    let short = cls.rsplit('.').next().unwrap_or(cls);
    match short {
        "FloatStorage" => "float32",
        "DoubleStorage" => "float64",
        "HalfStorage" => "float16",
        "BFloat16Storage" => "bfloat16",
        "LongStorage" => "int64",
        "IntStorage" => "int32",
        "ShortStorage" => "int16",
        "CharStorage" => "int8",
        "ByteStorage" => "uint8",
        "BoolStorage" => "bool",
        "ComplexFloatStorage" => "complex64",
        "ComplexDoubleStorage" => "complex128",
        _ => "unknown",
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

//! GLOBAL, REDUCE, NEWOBJ and BUILD: naming classes and "calling" them without running
//! anything. Well-known reducers become plain values; anything else an [`Object`].
//!
//! Cost rule (see the module docs of `pickle`): an argument tuple is never copied to look at
//! it. A reducer reads the one or two arguments it needs by index, so one 1 M-item tuple
//! fetched from the memo and passed to a thousand calls costs a thousand lookups; only a
//! reducer whose output is a copy (`list(x)`, `set(x)`, `OrderedDict(pairs)`) copies, and
//! it is charged for that output before it copies.

use std::rc::Rc;

use super::text::storage_dtype;
use super::{Machine, K, VALUE_BYTES};
use crate::value::{Dict, Node, Object, Value};

/// Class names longer than this are never taken for an enum (`Outer.Inner`): looking a name
/// up hashes it, and real qualified names are far shorter.
const ENUM_NAME_MAX: usize = 1024;
/// What one entry of the set of nested class names costs, beyond its text.
const NAME_SET_ENTRY: usize = 32;
/// The longest module or class name (a GLOBAL line, a STACK_GLOBAL or `getattr` string):
/// real ones are under a few hundred bytes. A longer one is refused before more is read.
pub(super) const MAX_NAME: usize = 64 << 10;
/// What one entry of the shared-name table costs, beyond the name (see [`Machine::shared`]).
const SHARED_ENTRY: usize = 64;

/// Names up to this long are known by their text in the shared-name table, longer ones by
/// their address.
const NAME_KEY_TEXT_MAX: usize = 256;

/// How the shared-name table knows a string (see [`Machine::shared`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum NameKey {
    Text(Rc<str>),
    At(usize),
}

impl NameKey {
    fn of(s: &Rc<str>) -> NameKey {
        if s.len() <= NAME_KEY_TEXT_MAX {
            NameKey::Text(s.clone())
        } else {
            NameKey::At(s.as_ptr() as usize)
        }
    }
}

pub(super) fn name_too_long() -> K {
    K::Malformed(format!(
        "a module or class name longer than {} KiB (real ones are far shorter)",
        MAX_NAME >> 10
    ))
}

impl Machine<'_> {
    pub(super) fn global(&mut self, module: &str, name: &str) -> Result<Value, K> {
        if module.len() > MAX_NAME || name.len() > MAX_NAME {
            return Err(name_too_long());
        }
        let module = match module {
            "__builtin__" => "builtins",
            "copy_reg" => "copyreg",
            m => m,
        };
        self.charge(module.len() + name.len() + 1)?;
        let full: Rc<str> = Rc::from(format!("{module}.{name}"));
        if name.contains('.') {
            self.remember_nested(&full)?;
        }
        Ok(Value::Global(full))
    }

    /// STACK_GLOBAL: [`Machine::global`] of two strings, shared when the same two strings
    /// (by identity: memo references) were named before.
    pub(super) fn stack_global(&mut self, module: Rc<str>, name: Rc<str>) -> Result<Value, K> {
        self.shared(module, name, |m, a, b| m.global(a, b))
    }

    /// The name made from `a` and `b` by `make`, made once per pair of strings:
    /// `getattr(G, "x")` called 10 000 times on one global whose module name is long once
    /// made (and held) 10 000 copies. Later calls give the same name, sharing its text. A
    /// string is known by its text when short (a class named afresh by each call's GLOBAL)
    /// and by its address when long (a memo reference: hashing it per call would cost its
    /// length each time); the table holds the strings, so an address is never reused while
    /// it is there.
    fn shared(
        &mut self,
        a: Rc<str>,
        b: Rc<str>,
        make: impl FnOnce(&mut Self, &str, &str) -> Result<Value, K>,
    ) -> Result<Value, K> {
        let key = (NameKey::of(&a), NameKey::of(&b));
        if let Some((_, _, v)) = self.shared_names.get(&key) {
            return Ok(v.clone());
        }
        let v = make(self, &a, &b)?;
        self.charge(SHARED_ENTRY)?;
        self.shared_names.insert(key, (a, b, v.clone()));
        Ok(v)
    }

    /// Notes a class name that can be an enum (`Outer.Inner`), charging the set's entry.
    fn remember_nested(&mut self, full: &Rc<str>) -> Result<(), K> {
        if full.len() <= ENUM_NAME_MAX && !self.nested_globals.contains(full) {
            self.charge(full.len() + NAME_SET_ENTRY)?;
            self.nested_globals.insert(full.clone());
        }
        Ok(())
    }

    pub(super) fn tuple(&mut self, items: Vec<Value>) -> Result<Value, K> {
        self.alloc(Node::Tuple(items))
    }

    pub(super) fn object(&mut self, class: Rc<str>, args: Value) -> Result<Value, K> {
        self.alloc(Node::Object(Box::new(Object {
            class,
            args,
            state: Value::None,
            items: Vec::new(),
            list_items: Vec::new(),
        })))
    }

    /// The items of a tuple or list argument, borrowed.
    fn seq(&self, v: &Value) -> &[Value] {
        match v {
            Value::Node(id) => match self.nodes.get(id.0 as usize) {
                Some(Node::Tuple(t) | Node::List(t)) => t,
                _ => &[],
            },
            _ => &[],
        }
    }

    /// Item `i` of a tuple or list argument (one `Value` clone: O(1)).
    fn arg(&self, v: &Value, i: usize) -> Option<Value> {
        self.seq(v).get(i).cloned()
    }

    /// A copy of a tuple or list argument's items, charged before it is made: the output of
    /// `list(x)` and friends.
    fn copy_seq(&mut self, v: &Value) -> Result<Vec<Value>, K> {
        self.charge(self.seq(v).len().saturating_mul(VALUE_BYTES))?;
        Ok(self.seq(v).to_vec())
    }

    /// REDUCE / NEWOBJ: call `callable(*args)` without running anything.
    pub(super) fn call(&mut self, callable: Value, args: Value) -> Result<Value, K> {
        let name = match &callable {
            Value::Global(n) => n.clone(),
            _ => return self.object(Rc::from("<call>"), args),
        };
        let argc = self.seq(&args).len();
        let first = self.arg(&args, 0);
        match &*name {
            "builtins.getattr" if argc == 2 => {
                if let (Some(Value::Global(cls)), Some(Value::Str(attr))) =
                    (first, self.arg(&args, 1))
                {
                    return self.shared(cls, attr, |m, cls, attr| {
                        if cls.len() > 2 * MAX_NAME + 1 || attr.len() > MAX_NAME {
                            return Err(name_too_long());
                        }
                        // A new name: charged like any text the machine makes.
                        m.charge(cls.len() + attr.len() + 1)?;
                        let full: Rc<str> = Rc::from(format!("{cls}.{attr}"));
                        m.remember_nested(&full)?;
                        Ok(Value::Global(full))
                    });
                }
            }
            "collections.OrderedDict"
            | "builtins.dict"
            | "collections.defaultdict"
            | "collections.Counter" => {
                let mut d = Dict::default();
                if name.as_ref() != "collections.defaultdict" {
                    if let Some(pairs) = &first {
                        // The output holds at most one entry per pair: charge that first.
                        let n = self.seq(pairs).len();
                        self.charge(n.saturating_mul(3 * VALUE_BYTES))?;
                        for pair in self.seq(pairs) {
                            if let [k, v] = self.seq(pair) {
                                d.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                return self.alloc(Node::Dict(d));
            }
            "builtins.set" | "builtins.frozenset" => {
                let items = match &first {
                    Some(v) => self.copy_seq(v)?,
                    None => Vec::new(),
                };
                let node = if name.as_ref() == "builtins.set" {
                    Node::Set(items)
                } else {
                    Node::FrozenSet(items)
                };
                return self.alloc_charged(node);
            }
            "builtins.list" | "builtins.tuple" => {
                let items = match &first {
                    Some(v) => self.copy_seq(v)?,
                    None => Vec::new(),
                };
                let node = if name.as_ref() == "builtins.list" {
                    Node::List(items)
                } else {
                    Node::Tuple(items)
                };
                return self.alloc_charged(node);
            }
            // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
            "_codecs.encode" => {
                if let Some(Value::Str(s)) = &first {
                    self.charge(s.len())?;
                    let bytes: Option<Vec<u8>> = s.chars().map(|c| u8::try_from(c).ok()).collect();
                    if let Some(bytes) = bytes {
                        return self.bytes_value(&bytes);
                    }
                }
            }
            "builtins.bytearray" | "builtins.bytes" => match &first {
                Some(v @ Value::Bytes(_)) => return Ok(v.clone()),
                None => return self.bytes_value(&[]),
                _ => {}
            },
            "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
                return self.tensor(&args);
            }
            "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
                if let Some(t) = first {
                    return Ok(t);
                }
            }
            "numpy.core.multiarray.scalar" | "numpy._core.multiarray.scalar" => {
                if let Some(v) = self.numpy_scalar(&args) {
                    return Ok(v);
                }
            }
            "numpy.core.multiarray._reconstruct" | "numpy._core.multiarray._reconstruct" => {
                return self.object(Rc::from("numpy.ndarray"), args);
            }
            "copyreg._reconstructor" => {
                if let Some(Value::Global(cls)) = first {
                    return self.object(cls, args);
                }
            }
            _ => {
                // An enum member: Outer.Inner(value) with one plain argument.
                if argc == 1 && name.len() <= ENUM_NAME_MAX && self.nested_globals.contains(&name) {
                    if let Some(
                        v @ (Value::Str(_)
                        | Value::Int(_)
                        | Value::Float(_)
                        | Value::Bool(_)
                        | Value::None),
                    ) = first
                    {
                        return Ok(v);
                    }
                }
            }
        }
        self.object(name, args)
    }

    fn tensor(&mut self, args: &Value) -> Result<Value, K> {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks)
        let storage = self.arg(args, 0);
        let mut dtype = Value::None;
        if let Some(Value::Node(id)) = &storage {
            if let Some(Node::Persistent(pid)) = self.nodes.get(id.0 as usize) {
                // ('storage', torch.FloatStorage, key, location, size)
                if let Some(Value::Global(cls)) = self.seq(pid).get(1) {
                    dtype = Value::Str(Rc::from(storage_dtype(cls)));
                }
            }
        }
        let shape = self.arg(args, 2).unwrap_or(Value::None);
        let mut state = Dict::default();
        state.insert(Value::Str(Rc::from("dtype")), dtype);
        state.insert(Value::Str(Rc::from("shape")), shape);
        if let Some(storage) = storage {
            state.insert(Value::Str(Rc::from("storage")), storage);
        }
        let state = self.alloc(Node::Dict(state))?;
        let obj = self.object(Rc::from("torch.Tensor"), args.clone())?;
        if let Some(Node::Object(o)) = self.node_mut(&obj) {
            o.state = state;
        }
        Ok(obj)
    }

    fn numpy_scalar(&self, args: &Value) -> Option<Value> {
        let code: Rc<str> = match self.arg(args, 0)? {
            Value::Node(id) => match self.nodes.get(id.0 as usize)? {
                Node::Object(o) if &*o.class == "numpy.dtype" => match self.arg(&o.args, 0)? {
                    Value::Str(s) => s,
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        let b: Rc<[u8]> = match self.arg(args, 1)? {
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
        Some(match &*code {
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

    /// BUILD: sets an object's state. The state is stored, never followed, so a state that
    /// contains its own object is plain data (readers bound their walks; see `Tree::as_dict`).
    pub(super) fn build(&mut self, target: &Value, state: Value) -> Result<(), K> {
        // numpy arrays: (version, shape, dtype, is_fortran, raw data) -> {dtype, shape}.
        let is_ndarray =
            matches!(self.node_mut(target), Some(Node::Object(o)) if &*o.class == "numpy.ndarray");
        let state = match self.seq(&state) {
            [_, shape, dtype, _, _] if is_ndarray => {
                let (shape, dtype) = (shape.clone(), dtype.clone());
                let mut d = Dict::default();
                d.insert(Value::Str(Rc::from("dtype")), dtype);
                d.insert(Value::Str(Rc::from("shape")), shape);
                self.alloc(Node::Dict(d))?
            }
            _ => state,
        };
        match self.node_mut(target) {
            Some(Node::Object(o)) => o.state = state,
            Some(Node::Released) => {
                return Err(K::Malformed(
                    "BUILD on a container already read as a sample and released".into(),
                ))
            }
            _ => {}
        }
        // BUILD on anything else (a dict subclass rebuilt as a dict, a tensor) changes nothing
        // the timeline reads; it is accepted rather than failing the whole file.
        Ok(())
    }

    pub(super) fn new_object(&mut self, cls: Value, args: Value) -> Result<Value, K> {
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
}

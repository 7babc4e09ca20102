//! The value tree: an arena of containers plus small inline scalars.
//!
//! Why an arena rather than `Box`/`Rc` trees: pickles share and mutate objects through the memo
//! (a list is memoised empty, then filled), may contain themselves, and may nest 200 000 deep.
//! With containers addressed by [`NodeId`], sharing is a copy of an index, cycles are plain
//! data, and dropping a tree is dropping a few flat `Vec`s — no recursion anywhere.

use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;

use hashbrown::HashTable;

use crate::hashing;

/// Index of a container in [`Tree::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

/// One pickled value. Containers live in the [`Tree`] and are referred to by id.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside `i64`, as decimal text.
    BigInt(Rc<str>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    /// A class or function named by a pickle global, as `module.qualname`.
    Global(Rc<str>),
    /// A container: list, tuple, dict, set, object or persistent reference.
    Node(NodeId),
}

/// A container in the arena.
#[derive(Debug, Clone)]
pub enum Node {
    List(Vec<Value>),
    /// A long list of numbers kept only as its length and sum (see
    /// `Limits::keep_numeric_list_max`); the sum is what `sum(loss_mask)` needs.
    ElidedList {
        len: u64,
        sum: f64,
    },
    Tuple(Vec<Value>),
    Dict(Dict),
    Set(Vec<Value>),
    FrozenSet(Vec<Value>),
    Object(Box<Object>),
    /// A persistent id (BINPERSID/PERSID): in torch files, a tensor storage reference such as
    /// `('storage', torch.FloatStorage, '0', 'cpu', 12)`. Never resolved: storages are not read.
    Persistent(Value),
    /// A container of a sample already handed to a [`crate::SampleSink`] and freed: the
    /// reader of a long dump keeps only the samples not read yet (see `SampleSink`).
    Released,
}

/// An instance of a class the reader does not turn into a builtin value.
#[derive(Debug, Clone)]
pub struct Object {
    /// `module.qualname`, e.g. `slime.utils.types.Sample` or `torch.Tensor`.
    pub class: Rc<str>,
    /// Constructor arguments (a tuple node, or `Value::None` when there were none).
    pub args: Value,
    /// What BUILD set (`__setstate__`), `Value::None` if nothing.
    pub state: Value,
    /// Items added by SETITEM(S) to a dict-like object.
    pub items: Vec<(Value, Value)>,
    /// Items added by APPEND(S) to a list-like object.
    pub list_items: Vec<Value>,
}

/// A dict with insertion order kept and Python's "same key replaces" rule.
///
/// Inserting costs O(1) whatever the keys (amortised; at most `KEY_TEXT_MAX` bytes of key
/// text are read per comparison), so a pickle that re-inserts a long shared key cannot make
/// the machine do more work than the opcodes it spends.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    pub entries: Vec<(Value, Value)>,
    /// Built only past [`DICT_LINEAR_MAX`] keys. Boxed so that a `Dict`, and with it every
    /// [`Node`], stays small: most dicts never get an index.
    index: Option<Box<Index>>,
}

/// Where each key of a large dict is: entry positions by the key's keyed hash
/// (`crate::hashing`), found by comparing in place (a lookup by text makes no key).
#[derive(Debug, Clone)]
struct Index {
    table: HashTable<u32>,
    state: hashing::State,
}

impl Index {
    fn of(entries: &[(Value, Value)]) -> Index {
        let mut ix = Index {
            table: HashTable::with_capacity(entries.len() * 2),
            state: hashing::state(),
        };
        for (at, (k, _)) in entries.iter().enumerate() {
            let h = ix.state.hash_one(scalar_key(k));
            ix.add(entries, at, h);
        }
        ix
    }

    /// Notes that entry `at` has a key of hash `h` (`entries` holds those before it).
    fn add(&mut self, entries: &[(Value, Value)], at: usize, h: u64) {
        let state = &self.state;
        // Positions fit in u32: a dict's entries are charged against `Limits::max_memory`.
        self.table.insert_unique(h, at as u32, |&i| {
            state.hash_one(scalar_key(&entries[i as usize].0))
        });
    }
}

/// Keys that hash like Python's (`1`, `1.0` and `True` are one key).
///
/// Text keys (`str`, `bytes`, big ints, class names) up to `KEY_TEXT_MAX` bytes compare by
/// content. Longer ones compare by identity (the same pickled object, e.g. through the memo):
/// a real dict never holds two equal keys, so only a hostile pickle can tell, and comparing
/// megabyte keys by content on every insert is what such a pickle would exploit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScalarKey {
    None,
    Int(i64),
    Float(u64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    BigInt(Rc<str>),
    Global(Rc<str>),
    /// A key longer than `KEY_TEXT_MAX`: kind, and the address of its text.
    Long(u8, usize),
    Node(u32),
}

/// The tag a `str` key hashes with (see `Hash for ScalarKey`; [`Dict::get_str`] hashes a
/// `&str` the same way without making a key).
const STR_TAG: u8 = 3;

impl Hash for ScalarKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            ScalarKey::None => h.write_u8(0),
            ScalarKey::Int(i) => {
                h.write_u8(1);
                h.write_i64(*i);
            }
            ScalarKey::Float(f) => {
                h.write_u8(2);
                h.write_u64(*f);
            }
            ScalarKey::Str(s) => {
                h.write_u8(STR_TAG);
                h.write(s.as_bytes());
            }
            ScalarKey::Bytes(b) => {
                h.write_u8(4);
                h.write(b);
            }
            ScalarKey::BigInt(s) => {
                h.write_u8(5);
                h.write(s.as_bytes());
            }
            ScalarKey::Global(s) => {
                h.write_u8(6);
                h.write(s.as_bytes());
            }
            ScalarKey::Long(kind, at) => {
                h.write_u8(7);
                h.write_u8(*kind);
                h.write_usize(*at);
            }
            ScalarKey::Node(id) => {
                h.write_u8(8);
                h.write_u32(*id);
            }
        }
    }
}

/// Dicts at most this long are searched linearly; longer ones get a hash index.
const DICT_LINEAR_MAX: usize = 16;
/// Longest key text compared by content.
pub const KEY_TEXT_MAX: usize = 256;

fn text_key(kind: u8, len: usize, ptr: *const u8, short: impl FnOnce() -> ScalarKey) -> ScalarKey {
    if len > KEY_TEXT_MAX {
        ScalarKey::Long(kind, ptr as usize)
    } else {
        short()
    }
}

/// O(1): clones at most an `Rc`.
fn scalar_key(v: &Value) -> ScalarKey {
    match v {
        Value::None => ScalarKey::None,
        Value::Bool(b) => ScalarKey::Int(*b as i64),
        Value::Int(i) => ScalarKey::Int(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => ScalarKey::Int(*f as i64),
        Value::Float(f) => ScalarKey::Float(f.to_bits()),
        Value::Str(s) => text_key(0, s.len(), s.as_ptr(), || ScalarKey::Str(s.clone())),
        Value::Bytes(b) => text_key(1, b.len(), b.as_ptr(), || ScalarKey::Bytes(b.clone())),
        Value::BigInt(s) => text_key(2, s.len(), s.as_ptr(), || ScalarKey::BigInt(s.clone())),
        Value::Global(s) => text_key(3, s.len(), s.as_ptr(), || ScalarKey::Global(s.clone())),
        Value::Node(id) => ScalarKey::Node(id.0),
    }
}

/// `scalar_key(e) == *k` without making `e`'s key: a dict of string keys (every event of a
/// dump) compares each new key with every earlier one, and cloning an `Rc` for each
/// comparison was a tenth of the pickle machine's time.
fn same_key(e: &Value, k: &ScalarKey) -> bool {
    match (e, k) {
        (_, ScalarKey::Str(t)) => same_text_key(e, t),
        (Value::Str(s), _) if s.len() <= KEY_TEXT_MAX => false,
        _ => scalar_key(e) == *k,
    }
}

/// Whether `e` is the same key as the text `t` (`scalar_key` equality, without making
/// either key): the same text, or for a text past `KEY_TEXT_MAX` the same object.
fn same_text_key(e: &Value, t: &str) -> bool {
    match e {
        Value::Str(s) if t.len() <= KEY_TEXT_MAX => s.len() <= KEY_TEXT_MAX && **s == *t,
        Value::Str(s) => s.len() > KEY_TEXT_MAX && s.as_ptr() == t.as_ptr(),
        _ => false,
    }
}

impl Dict {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `key` to `value`, replacing an equal key in place (Python semantics, with long
    /// keys compared by identity: see `ScalarKey`).
    pub fn insert(&mut self, key: Value, value: Value) {
        if let (None, Value::Str(t)) = (&self.index, &key) {
            // A text key into a short dict (every event's): compared in place, without
            // making its key.
            if let Some(at) = self.entries.iter().position(|(e, _)| same_text_key(e, t)) {
                self.entries[at].1 = value;
            } else {
                self.push_linear(key, value);
            }
            return;
        }
        let k = scalar_key(&key);
        let Dict { entries, index } = self;
        if let Some(ix) = index {
            let h = ix.state.hash_one(&k);
            if let Some(&at) = ix.table.find(h, |&i| same_key(&entries[i as usize].0, &k)) {
                entries[at as usize].1 = value;
            } else {
                ix.add(entries, entries.len(), h);
                entries.push((key, value));
            }
            return;
        }
        if let Some(at) = entries.iter().position(|(e, _)| same_key(e, &k)) {
            entries[at].1 = value;
            return;
        }
        self.push_linear(key, value);
    }

    /// Adds a new key to a dict without an index, giving it one past [`DICT_LINEAR_MAX`].
    fn push_linear(&mut self, key: Value, value: Value) {
        self.entries.push((key, value));
        if self.entries.len() > DICT_LINEAR_MAX {
            self.index = Some(Box::new(Index::of(&self.entries)));
        }
    }

    /// Whether the dict has a hash index: then [`Dict::get_str`] finds a key in O(1), and
    /// without one the dict has only a few entries (`DICT_LINEAR_MAX`).
    pub fn has_index(&self) -> bool {
        self.index.is_some()
    }

    /// The value for a string key.
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        if let (Some(ix), true) = (&self.index, key.len() <= KEY_TEXT_MAX) {
            let mut h = ix.state.build_hasher();
            h.write_u8(STR_TAG);
            h.write(key.as_bytes());
            let entries = &self.entries;
            return ix
                .table
                .find(h.finish(), |&i| {
                    matches!(&entries[i as usize].0, Value::Str(s) if s.len() <= KEY_TEXT_MAX && **s == *key)
                })
                .map(|&i| &entries[i as usize].1);
        }
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if &**s == key))
            .map(|(_, v)| v)
    }
}

/// A parsed pickle: the arena and the root value.
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: crate::Nodes,
    pub root: Value,
}

impl Tree {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The node behind a value, if it is a container.
    pub fn node_of(&self, v: &Value) -> Option<&Node> {
        match v {
            Value::Node(id) => Some(self.node(*id)),
            _ => None,
        }
    }

    /// A dict's entries, or a dataclass-like object's `__dict__` state, as a dict.
    ///
    /// This is how a `Sample` pickled as an object "reads like a dict".
    ///
    /// Follows at most two references (object → state → dict), never recursing: a state that
    /// refers back to its object (a cycle a hostile pickle can build with BUILD) is simply
    /// not a dict.
    pub fn as_dict<'a>(&'a self, v: &Value) -> Option<&'a Dict> {
        match self.node_of(v)? {
            Node::Dict(d) => Some(d),
            Node::Object(o) => match self.node_of(&o.state)? {
                Node::Dict(d) => Some(d),
                // (dict_state, slot_state) as written for objects with __slots__: pickle
                // writes dict_state as a dict (or None), never as another object.
                Node::Tuple(t) if t.len() == 2 => match self.node_of(&t[0])? {
                    Node::Dict(d) => Some(d),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The items of a list, tuple, set or frozenset.
    pub fn as_seq<'a>(&'a self, v: &Value) -> Option<&'a [Value]> {
        match self.node_of(v)? {
            Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => Some(x),
            _ => None,
        }
    }

    /// Looks up a string key in a dict (or an object's dict state).
    pub fn get<'a>(&'a self, v: &Value, key: &str) -> Option<&'a Value> {
        self.as_dict(v)?.get_str(key)
    }

    /// The class name of an object, if `v` is one.
    pub fn class_of(&self, v: &Value) -> Option<&str> {
        match self.node_of(v)? {
            Node::Object(o) => Some(&o.class),
            _ => None,
        }
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserting keys one by one gives what Python's dict gives, by [`scalar_key`] equality:
    /// the first position of each key, its last value. Text keys take the short-dict path,
    /// others the general one; past [`DICT_LINEAR_MAX`] keys the index. Long text keys are
    /// one key only when they are the same object.
    #[test]
    fn inserts_match_a_dict_by_scalar_key() {
        let long: Rc<str> = Rc::from("k".repeat(KEY_TEXT_MAX + 1));
        let long_again: Rc<str> = Rc::from(&*long);
        let edge: Rc<str> = Rc::from("e".repeat(KEY_TEXT_MAX));
        let keys = [
            Value::Str(Rc::from("ts")),
            Value::Str(Rc::from("ts")),
            Value::Bytes(Rc::from(&b"ts"[..])),
            Value::Int(1),
            Value::Float(1.0),
            Value::Bool(true),
            Value::Str(Rc::from("1")),
            Value::Str(long.clone()),
            Value::Str(long_again),
            Value::Str(long),
            Value::Str(edge.clone()),
            Value::Str(Rc::from(&*edge)),
            Value::None,
            Value::Str(Rc::from("")),
            Value::Str(Rc::from("")),
        ];
        for extra in [0, 20] {
            let mut d = Dict::default();
            let mut want: Vec<(ScalarKey, i64)> = Vec::new();
            let filler = (0..extra).map(|i| Value::Str(Rc::from(format!("f{i}"))));
            for (n, k) in filler.chain(keys.iter().cloned()).enumerate() {
                let sk = scalar_key(&k);
                match want.iter_mut().find(|(w, _)| *w == sk) {
                    Some(w) => w.1 = n as i64,
                    None => want.push((sk, n as i64)),
                }
                d.insert(k, Value::Int(n as i64));
            }
            let got: Vec<(ScalarKey, i64)> = d
                .entries
                .iter()
                .map(|(k, v)| (scalar_key(k), if let Value::Int(i) = v { *i } else { -1 }))
                .collect();
            assert_eq!(got, want, "with {extra} keys before");
            assert_eq!(d.has_index(), d.len() > DICT_LINEAR_MAX);
            // Both "ts" keys are one, with the later value.
            assert!(matches!(d.get_str("ts"), Some(Value::Int(n)) if *n == extra + 1));
        }
    }
}

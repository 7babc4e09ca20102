//! Interned JSON values: each distinct value's JSON text stored once, referred to by id.

use std::borrow::Cow;

use std::hash::BuildHasher;

use hashbrown::HashTable;
use serde_json::Value as J;

/// Distinct JSON values by id (ids are dense, in first-seen order).
///
/// The index holds ids only and finds a text by hashing it and comparing in place, so each
/// text is stored once (a million span ids of 34 bytes cost ≈ 40 MB, not twice that plus a
/// box each).
///
/// **Why a keyed hash.** The texts come from the dump. An unkeyed fast hash (FxHash) lets a
/// file carry any number of distinct ids with one hash value, and every lookup then compares
/// against all of them: 20 000 such span ids took 17 s (debug build), a million hours
/// (`tests/intern_collisions.rs`). The hasher is foldhash seeded as `pt::hashing` says
/// (per process natively, with the browser's random numbers in the viewer): a file cannot
/// know which texts collide, and hashing a 34-byte id costs a fraction of std's SipHash
/// (≈ 7 % of a million-span cache).
#[derive(Debug, Clone)]
pub struct Interner {
    /// All texts, one after another; text `i` is `text[ends[i - 1]..ends[i]]`.
    text: String,
    ends: Vec<usize>,
    index: HashTable<u32>,
    /// Each text's hash, so that growing the table never hashes a text again.
    hashes: Vec<u64>,
    hasher: pt::hashing::State,
    /// Reused buffer for a value's JSON text while looking it up.
    scratch: String,
    /// Ids (plus one; 0 is none) of strings met lately, by [`recent_slot`] of their text.
    recent: Box<[u32; RECENT]>,
}

/// Slots of [`Interner::recent`]. A store interns four texts per item (name, parent's name,
/// span id, parent's id) and one per attribute key, and most are a text met a few items ago:
/// a span's name, its siblings' parent. A hit skips escaping, hashing and a probe of a table
/// that, with a million span ids, lives outside the CPU's caches.
const RECENT: usize = 64;

impl Default for Interner {
    fn default() -> Self {
        Interner {
            text: String::new(),
            ends: Vec::new(),
            index: HashTable::new(),
            hashes: Vec::new(),
            hasher: pt::hashing::state(),
            scratch: String::new(),
            recent: Box::new([0; RECENT]),
        }
    }
}

/// A slot of [`Interner::recent`] for `s`, from its length and its first and last 8 bytes.
/// Not keyed: a text can only choose which slot it evicts, and a hit is always checked.
fn recent_slot(s: &str) -> usize {
    let b = s.as_bytes();
    let n = b.len();
    let word = |c: &[u8]| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    let (head, tail) = if n >= 8 {
        (word(b), word(&b[n - 8..]))
    } else {
        (b.iter().fold(0, |h, &x| (h << 8) | u64::from(x)), 0)
    };
    let mixed = (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (64 - RECENT.trailing_zeros())) as usize
}

impl Interner {
    /// The id of `v`'s JSON text, adding it if new. A string's text is found without
    /// allocating when it was seen before (the common case: span names, repeated ids).
    pub fn intern(&mut self, v: &J) -> u32 {
        let mut slot = None;
        if let J::String(s) = v {
            match self.recent_hit(s) {
                (_, Some(id)) => return id,
                (at, None) => slot = Some(at),
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        match v {
            J::String(s) => push_json_str(&mut scratch, s),
            J::Null => scratch.push_str("null"),
            // A value's compact JSON text (as `Display` writes it, without the formatting
            // machinery); a `Value` with string keys cannot fail to serialise.
            _ => scratch.push_str(&serde_json::to_string(v).unwrap_or_default()),
        }
        let id = self.intern_text(&scratch);
        if let (Some(at), J::String(s)) = (slot, v) {
            self.remember(at, id, s, &scratch);
        }
        self.scratch = scratch;
        id
    }

    /// Puts string `s`'s id in its recent slot `at`, if `json`, its text, is `"s"` exactly
    /// (nothing escaped: escaping only lengthens a text). So a slot's text is always `"t"`
    /// with `t` verbatim inside, and a string that matches it is `t` ([`Self::recent_hit`]).
    fn remember(&mut self, at: usize, id: u32, s: &str, json: &str) {
        if json.len() == s.len() + 2 {
            self.recent[at] = id.checked_add(1).unwrap_or(0);
        }
    }

    /// Room for `texts` more texts of `bytes` bytes in all (see [`super::Store::reserve`]).
    pub fn reserve(&mut self, texts: usize, bytes: usize) {
        // Room refused (an address-space limit) is simply not reserved.
        let _ = self.text.try_reserve(bytes);
        let _ = self.ends.try_reserve(texts);
        let _ = self.hashes.try_reserve(texts);
        let hashes = &self.hashes;
        let _ = self.index.try_reserve(texts, |&id| hashes[id as usize]);
    }

    /// Gives back reserved room less than half used (see [`super::Store::trim`]).
    pub fn trim(&mut self) {
        if self.text.capacity() / 2 > self.text.len() {
            self.text.shrink_to_fit();
        }
        if self.ends.capacity() / 2 > self.ends.len() {
            self.ends.shrink_to_fit();
            self.hashes.shrink_to_fit();
            let hashes = &self.hashes;
            self.index.shrink_to_fit(|&id| hashes[id as usize]);
        }
    }

    /// The id of an attribute object's key `key` (as its JSON string text), added if new,
    /// while the table holds fewer than `keys::MAX_KEYS` and the text is at most
    /// `keys::MAX_KEY_TEXT` bytes (see `keys.rs`).
    pub(super) fn intern_key(&mut self, key: &str) -> Option<u32> {
        use super::keys::{MAX_KEYS, MAX_KEY_TEXT};
        if key.len() + 2 > MAX_KEY_TEXT {
            return None;
        }
        let slot = match self.recent_hit(key) {
            (_, Some(id)) => return Some(id),
            (at, None) => at,
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        push_json_str(&mut scratch, key);
        let hash = self.hasher.hash_one(scratch.as_str());
        let id = match self.find(hash, &scratch) {
            Some(id) => Some(id),
            None if self.len() < MAX_KEYS && scratch.len() <= MAX_KEY_TEXT => {
                Some(self.add(hash, &scratch))
            }
            None => None,
        };
        if let Some(id) = id {
            self.remember(slot, id, key, &scratch);
        }
        self.scratch = scratch;
        id
    }

    /// String `s`'s slot of [`Interner::recent`], and the id there if it is `s`'s.
    fn recent_hit(&self, s: &str) -> (usize, Option<u32>) {
        let slot = recent_slot(s);
        let id = self.recent[slot]
            .checked_sub(1)
            .filter(|&id| self.is_json_of(id, s));
        (slot, id)
    }

    /// Whether text `id`, a remembered one (`"t"` with nothing escaped: [`Self::remember`]),
    /// is the JSON text of string `s`: then `s` is `t`.
    fn is_json_of(&self, id: u32, s: &str) -> bool {
        let json = self.json(id).as_bytes();
        json.len() == s.len() + 2 && &json[1..json.len() - 1] == s.as_bytes()
    }

    fn find(&self, hash: u64, json: &str) -> Option<u32> {
        let (text, ends) = (&self.text, &self.ends);
        let at = |id: u32| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &text[start..ends[i]]
        };
        self.index.find(hash, |&id| at(id) == json).copied()
    }

    /// The id of a JSON text.
    pub fn intern_text(&mut self, json: &str) -> u32 {
        let hash = self.hasher.hash_one(json);
        match self.find(hash, json) {
            Some(id) => id,
            None => self.add(hash, json),
        }
    }

    fn add(&mut self, hash: u64, json: &str) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(json);
        self.ends.push(self.text.len());
        self.hashes.push(hash);
        // Growing the table rehashes every entry: from the kept hashes, not the texts.
        let hashes = &self.hashes;
        self.index
            .insert_unique(hash, id, |&id| hashes[id as usize]);
        id
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The JSON text of `id` (`null` for an id never given out).
    pub fn json(&self, id: u32) -> &str {
        let i = id as usize;
        match self.ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] };
                &self.text[start..end]
            }
            None => "null",
        }
    }

    /// The value of `id`.
    pub fn value(&self, id: u32) -> J {
        serde_json::from_str(self.json(id)).unwrap_or(J::Null)
    }

    /// `id` as shown: a string's own text, any other value's JSON text.
    pub fn display(&self, id: u32) -> Cow<'_, str> {
        let json = self.json(id);
        if json.starts_with('"') {
            match serde_json::from_str::<String>(json) {
                Ok(s) => Cow::Owned(s),
                Err(_) => Cow::Borrowed(json),
            }
        } else {
            Cow::Borrowed(json)
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.hashes.capacity() * std::mem::size_of::<u64>()
    }
}

/// Appends `s` as a JSON string, exactly as `serde_json` writes it: quoted, and escaped only
/// when it must be (the common case is copied).
fn push_json_str(out: &mut String, s: &str) {
    if crate::json::needs_no_escape(s) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // A string cannot fail to serialise.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_id_and_text_round_trips() {
        let mut i = Interner::default();
        let a = i.intern(&J::from("sglang_generate"));
        let b = i.intern(&J::from(7));
        assert_eq!(i.intern(&J::from("sglang_generate")), a);
        assert_ne!(a, b);
        assert_eq!(i.json(a), "\"sglang_generate\"");
        assert_eq!(i.display(a), "sglang_generate");
        assert_eq!(i.display(b), "7");
        assert_eq!(i.value(b), J::from(7));
        let nested = serde_json::json!({"k": ["x", null]});
        let c = i.intern(&nested);
        assert_eq!(i.value(c), nested);
        assert_eq!(i.json(99), "null");
        assert_eq!(i.len(), 3);
    }

    /// Each value keeps one id and its own text, however often and in whatever order it
    /// comes, among more distinct strings than the recent slots and values whose texts look
    /// alike (`a\"b` and `a"b`; `23`, `"23"` and `1234`; a value and the same key). (Which
    /// look-alikes share a slot is chance here: the next test makes them share one.)
    #[test]
    fn a_recent_string_is_only_ever_itself() {
        let tricky = [
            J::from("a\"b"),
            J::from("a\\\"b"),
            J::from("x\ny"),
            J::from("x\\ny"),
            J::from(1234),
            J::from("23"),
            J::from("\"23\""),
            J::from(""),
            J::from("\\"),
            J::Null,
            J::from("null"),
            serde_json::json!(["23"]),
            J::from("[\"23\"]"),
        ];
        let many: Vec<J> = (0..500)
            .map(|i| J::from(format!("span-{i:032x}")))
            .collect();
        let mut i = Interner::default();
        let mut first: std::collections::HashMap<String, u32> = Default::default();
        for round in 0..3 {
            for (n, v) in tricky.iter().chain(&many).enumerate() {
                // Tricky values in between the many, in another order each round.
                let v = if (n + round) % 7 == 0 {
                    &tricky[(n + round) % tricky.len()]
                } else {
                    v
                };
                let id = i.intern(v);
                assert_eq!(i.json(id), v.to_string(), "round {round}: {v:?}");
                assert_eq!(*first.entry(v.to_string()).or_insert(id), id, "{v:?}");
                if let J::String(s) = v {
                    if let Some(k) = i.intern_key(s) {
                        assert_eq!(i.json(k), v.to_string(), "key {s:?}");
                    }
                }
            }
        }
        assert_eq!(i.len(), first.len());
    }

    /// A string whose text is another's escaped JSON, in the same recent slot: two ids (the
    /// escaped one is never remembered, so the other cannot match its slot).
    #[test]
    fn an_escaped_look_alike_in_the_same_slot_is_another_string() {
        for escaped in ["\"", "\n", "\\"] {
            let (t, s) = (0..10_000)
                .map(|k| {
                    let t = format!("a{escaped}b{k}");
                    let json = J::from(t.as_str()).to_string();
                    let inner = json[1..json.len() - 1].to_string();
                    (t, inner)
                })
                .find(|(t, s)| recent_slot(t) == recent_slot(s))
                .expect("a pair sharing a slot");
            for key in [false, true] {
                let mut i = Interner::default();
                let (a, b) = if key {
                    (i.intern_key(&t).unwrap(), i.intern_key(&s).unwrap())
                } else {
                    (
                        i.intern(&J::from(t.as_str())),
                        i.intern(&J::from(s.as_str())),
                    )
                };
                assert_ne!(a, b, "{t:?} and {s:?}");
                assert_eq!(i.json(b), J::from(s.as_str()).to_string());
            }
        }
    }

    /// A value's text is what `Display` (serde_json's compact writer) gives, for every
    /// character serde_json escapes or does not (controls, quote, backslash, DEL, U+2028,
    /// non-ASCII) and for numbers and nested values; a key's text likewise.
    #[test]
    fn texts_are_what_serde_json_writes_for_every_character() {
        let mut strs: Vec<String> = (0u32..0x800)
            .chain([0x2028, 0x2029, 0xfeff, 0xfffd, 0x10ffff])
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        strs.extend(["", "\"", "\\", "\u{7f}", "\\u0000", "</script>"].map(String::from));
        let mut vals: Vec<J> = strs.iter().map(|s| J::from(s.as_str())).collect();
        vals.extend([
            serde_json::json!(1e300),
            serde_json::json!(-0.0),
            serde_json::json!(5e-324),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(1.0),
            serde_json::json!(null),
            serde_json::json!({"a\u{1}": ["\u{7f}", {"\"": -0.0}], "b": [], "c": {}}),
        ]);
        let mut i = Interner::default();
        for v in &vals {
            let id = i.intern(v);
            assert_eq!(i.json(id), v.to_string(), "{v:?}");
        }
        for s in &strs {
            if let Some(id) = i.intern_key(s) {
                assert_eq!(i.json(id), J::from(s.as_str()).to_string(), "{s:?}");
            }
        }
    }
}

//! Attribute keys kept once: in the store's attribute text, an object's key (`"turn":`) is a
//! three-byte mark naming it in [`Store::keys`](super::Store::keys).
//!
//! **Why.** Span attributes repeat the same few keys: the ≈ 1 M-span bench dump holds 4.6 M
//! of them, 111 MB of its 173 MB of attribute text (`"pd_decode_forward_duration":` on
//! every decode span). Kept once, the text is ≈ 70 MB, the largest part of the viewer's
//! memory gone (a wasm heap never shrinks).
//!
//! **The mark.** [`MARK`] (a byte JSON text never holds raw: JSON escapes control
//! characters), then the key's id as two 7-bit bytes (so the text stays UTF-8). Only the
//! keys of an attribute object itself are marked (not of objects inside it), at most
//! [`MAX_KEYS`] distinct keys of at most [`MAX_KEY_TEXT`] bytes each; any other key stays as
//! text. Everything that reads the text goes through [`expand`], which gives back the exact
//! JSON `serde_json` writes for the value.

use std::io::{self, Write};

use serde_json::Value as J;

use super::Interner;

/// The byte that stands for a key (see the module doc).
pub const MARK: u8 = 0x01;
/// Distinct keys marked; later keys stay as text.
pub const MAX_KEYS: usize = 1 << 14;
/// The longest key (as JSON text, quotes included) marked: a mark is then at most 1/43 of
/// what it stands for, which bounds what a store's bytes expand to.
pub const MAX_KEY_TEXT: usize = 128;

/// Writes `v`'s JSON text to `out`, its own keys as marks in `keys` (see the module doc).
pub(super) fn push(out: &mut Vec<u8>, keys: &mut Interner, v: &J) {
    let J::Object(map) = v else {
        value(out, v);
        return;
    };
    out.push(b'{');
    for (n, (k, v)) in map.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match keys.intern_key(k) {
            Some(id) => out.extend_from_slice(&[MARK, (id >> 7) as u8, (id & 0x7f) as u8]),
            None => {
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
            }
        }
        value(out, v);
    }
    out.push(b'}');
}

/// Writes `v`'s JSON text as `serde_json` does: a string with nothing to escape, and `null`,
/// `true` and `false`, directly (most attribute values; a store writes millions of them).
fn value(out: &mut Vec<u8>, v: &J) {
    match v {
        J::String(s) if crate::json::needs_no_escape(s) => {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Writing a `Value` to a Vec cannot fail (string keys, no I/O).
        _ => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

/// The key id of the mark at the start of `mark` (`MARK` and two 7-bit bytes), if it is whole.
pub(super) fn mark_id(mark: &[u8]) -> Option<u32> {
    match mark.get(1..3) {
        Some(&[hi, lo]) if hi < 0x80 && lo < 0x80 => Some((u32::from(hi) << 7) | u32::from(lo)),
        _ => None,
    }
}

/// Writes `text` with its marks replaced by their keys: JSON text. An error if a mark is cut
/// short or names no key (only a store read from bytes can hold one; `binary` refuses it).
pub fn expand<W: Write + ?Sized>(text: &[u8], keys: &Interner, w: &mut W) -> io::Result<()> {
    let mut rest = text;
    while let Some(at) = memchr::memchr(MARK, rest) {
        w.write_all(&rest[..at])?;
        let Some(key) = mark_id(&rest[at..]) else {
            return Err(io::Error::other("an attribute key mark cut short"));
        };
        if key as usize >= keys.len() {
            return Err(io::Error::other("an attribute key mark names no key"));
        }
        w.write_all(keys.json(key).as_bytes())?;
        w.write_all(b":")?;
        rest = &rest[at + 3..];
    }
    w.write_all(rest)
}

/// The length of `text` expanded.
pub fn expanded_len(text: &[u8], keys: &Interner) -> u64 {
    let mut n = text.len() as u64;
    let mut rest = text;
    while let Some(at) = memchr::memchr(MARK, rest) {
        if let Some(key) = mark_id(&rest[at..]) {
            n = (n + keys.json(key).len() as u64 + 1).saturating_sub(3);
        }
        rest = &rest[(at + 3).min(rest.len())..];
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(keys: &mut Interner, v: &J) -> Vec<u8> {
        let mut text = Vec::new();
        push(&mut text, keys, v);
        let mut back = Vec::new();
        expand(&text, keys, &mut back).unwrap();
        assert_eq!(back, serde_json::to_vec(v).unwrap(), "{v}");
        text
    }

    #[test]
    fn marked_text_expands_to_what_serde_json_writes() {
        let mut keys = Interner::default();
        let long = "k".repeat(MAX_KEY_TEXT - 1);
        let v = json!({
            "turn": 3, "q\"uote": "a\u{1}b", "back\\slash": [1, {"inner": null}],
            "\u{7}bell": {}, "é ü 漢": -1.5, long.as_str(): true, "": "",
            "no": false, "text": "plain é", "big": u64::MAX, "neg": -7,
        });
        let text = round_trip(&mut keys, &v);
        // Own keys marked, once each (the inner object's key and the long one are text).
        assert_eq!(keys.len(), 10);
        // Each mark saves its key's text but for the colon (the id bytes may be `MARK` too).
        let saved: usize = (0..10).map(|k| keys.json(k).len() + 1 - 3).sum();
        assert_eq!(text.len() + saved, serde_json::to_vec(&v).unwrap().len());
        let all: Vec<&str> = (0..10).map(|k| keys.json(k)).collect();
        assert!(all.contains(&"\"q\\\"uote\"") && all.contains(&"\"\\u0007bell\""));
        assert!(std::str::from_utf8(&text).is_ok());
        let again = round_trip(&mut keys, &v);
        assert_eq!(again, text);
        for other in [json!(null), json!([{"turn": 1}]), json!("turn"), json!({})] {
            round_trip(&mut keys, &other);
        }
        assert_eq!(
            expanded_len(&text, &keys),
            serde_json::to_vec(&v).unwrap().len() as u64
        );
    }

    #[test]
    fn past_the_table_keys_stay_text() {
        let mut keys = Interner::default();
        for k in 0..MAX_KEYS + 5 {
            let v = json!({ format!("key{k}"): k, "key0": 0 });
            round_trip(&mut keys, &v);
        }
        assert_eq!(keys.len(), MAX_KEYS);
        // A key already in the full table is still marked.
        let mut text = Vec::new();
        push(&mut text, &mut keys, &json!({"key0": 1, "new": 2}));
        assert_eq!(text, b"{\x01\x00\x001,\"new\":2}");
    }

    #[test]
    fn bad_marks_are_errors() {
        let mut keys = Interner::default();
        round_trip(&mut keys, &json!({"a": 1}));
        let mut out = Vec::new();
        assert!(expand(b"{\x01\x00", &keys, &mut out).is_err());
        assert!(expand(b"{\x01\x00\x05:1}", &keys, &mut out).is_err());
        assert!(expand(b"{\x01\x00\x00", &keys, &mut out).is_ok());
    }
}

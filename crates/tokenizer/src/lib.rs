//! `tokenizer`: token ids → text, with a run's `tokenizer/tokenizer.json` (the HF `tokenizers` format that
//! slime saves next to a `--dump-details` run).
//!
//! **Supports** byte-level BPE: `model.type` `"BPE"` (or no `type`, as older files write it)
//! with a `"ByteLevel"` decoder — GPT-2, Llama 3, Qwen 2/2.5/3, DeepSeek and the run
//! fixture's tokenizer. Anything else is refused with a one-line [`TokenizerError`] naming
//! what is not supported (`decoder Metaspace is not supported (byte-level BPE only)`): a
//! SentencePiece-style tokenizer decoded as byte-level would show plausible wrong text, which
//! is worse than none. A file without a decoder is refused too: HF then joins the raw token
//! strings with spaces, so there is no "right" text to match.
//!
//! **Why not the `tokenizers` crate:** decoding needs only the vocab (`model.vocab`, string →
//! id), `added_tokens` and GPT-2's byte ↔ unicode map; `tokenizers` brings the encoder with it
//! (regex/onig, rayon, esaxx…), which would add hundreds of KB to the worker's wasm (budget
//! 600 KB gzipped) for code that is never run. What is read is parsed with `serde_json` into
//! the few fields used; everything else (merges, normalizer, pre-tokenizer…) is skipped
//! without being kept.
//!
//! **What decoding gives** ([`Tokenizer::decode`]): the bytes of the ids' tokens, concatenated
//! and read as UTF-8 lossily (`String::from_utf8_lossy`), which is what HF's
//! `decode(ids, skip_special_tokens=False)` gives for a byte-level tokenizer, with two
//! deliberate differences: an id the tokenizer does not know becomes U+FFFD (HF drops it,
//! which would hide a bad id), and an added token stands for its `content` as UTF-8 (HF runs
//! it through the byte-level decoder too, which garbles an added token such as `"é"`; ASCII
//! ones like `<think>` are the same either way). A vocab token is mapped char by char through
//! the byte-level map; one holding a char outside the map stands for its own UTF-8, as HF
//! does. [`Tokenizer::pieces`] splits the same text by token, for showing token boundaries.
//!
//! **Bounded:** the file is at most [`MAX_TOKENIZER_BYTES`] (the caller checks the size before
//! reading it; [`Tokenizer::from_json`] refuses a larger slice too), at most [`MAX_IDS`]
//! entries with ids below [`MAX_IDS`], each standing for at most [`MAX_TOKEN_BYTES`] bytes.
//! The tables take memory proportional to the entries, not to the largest id. Nesting costs
//! no stack: the fields read sit at a fixed depth (≤ 4) and every value below or beside them
//! is skipped by `serde_json`'s skipper (`IgnoredAny`), which does not recurse; where an id or
//! an added token is expected, a list or object of any depth is a one-line error, and
//! `serde_json`'s recursion limit (128) stands behind both. Decoding `n` ids produces at most `3 ×` [`MAX_TOKEN_BYTES`] `× n` bytes of
//! text (an invalid byte becomes the 3-byte U+FFFD) and takes time linear in that.

use thiserror::Error;

mod file;
use file::*;

/// Largest `tokenizer.json` read, in bytes. Real ones are ≤ 20 MB (Qwen 3's is 11 MB).
pub const MAX_TOKENIZER_BYTES: usize = 64 << 20;
/// Most entries (vocab and added tokens together), and the bound on ids. Real vocabularies
/// have ≤ 260 000 tokens.
pub const MAX_IDS: usize = 4 << 20;
/// Most bytes one token stands for. Real tokens are ≤ 256 bytes (long whitespace runs).
pub const MAX_TOKEN_BYTES: usize = 1024;

/// Why a `tokenizer.json` cannot be used: one line, saying what and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenizerError {
    #[error("tokenizer.json: {0} bytes is more than the {MAX_TOKENIZER_BYTES} read")]
    TooLarge(usize),
    #[error("tokenizer.json: not JSON: {0}")]
    NotJson(String),
    /// Well-formed JSON that is not a usable tokenizer (a missing or ill-typed field, a bad id).
    #[error("tokenizer.json: {0}")]
    Invalid(String),
    /// A tokenizer of a kind this decoder does not handle.
    #[error("tokenizer.json: {0} is not supported (byte-level BPE only)")]
    Unsupported(String),
}

/// What one token of [`Tokenizer::pieces`] shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Piece {
    pub id: u32,
    /// The text this token shows: the characters whose last byte is in this token. A token
    /// that ends inside a multi-byte character shows nothing of it; the token that completes
    /// it shows the whole character. Invalid bytes show as U+FFFD on the token holding the
    /// last of them.
    pub text: String,
    /// Offsets of `text` in [`Tokenizer::decode`]'s string, in chars (not bytes).
    pub start: usize,
    pub end: usize,
}

/// A byte-level BPE tokenizer's id → bytes table, for decoding.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Sorted by id, ids unique.
    entries: Vec<Entry>,
    /// The bytes of every token, back to back.
    arena: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u32,
    start: u32,
    len: u16,
    special: bool,
}

/// U+FFFD as UTF-8: what an unknown id stands for.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

impl Tokenizer {
    /// Reads a `tokenizer.json`. See the module doc for what is supported and bounded.
    pub fn from_json(bytes: &[u8]) -> Result<Tokenizer, TokenizerError> {
        if bytes.len() > MAX_TOKENIZER_BYTES {
            return Err(TokenizerError::TooLarge(bytes.len()));
        }
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let file: File = serde_json::from_slice(text).map_err(json_error)?;
        match file.model.kind.as_deref() {
            None | Some("BPE") => {}
            Some(other) => {
                return Err(TokenizerError::Unsupported(format!(
                    "model type {}",
                    kind_name(other)
                )))
            }
        }
        match file.decoder {
            Some(d) if d.kind == "ByteLevel" => {}
            Some(d) => {
                return Err(TokenizerError::Unsupported(format!(
                    "decoder {}",
                    kind_name(&d.kind)
                )))
            }
            None => {
                return Err(TokenizerError::Unsupported(
                    "a tokenizer without a decoder".into(),
                ))
            }
        }
        let vocab = match file.model.vocab {
            Some(Vocab::Map(v)) => v,
            Some(Vocab::Not(kind)) => {
                return Err(TokenizerError::Invalid(format!(
                    "model.vocab is {kind}, not an object mapping tokens to ids"
                )))
            }
            None => return Err(TokenizerError::Invalid("model has no vocab".into())),
        };
        let Table {
            mut entries,
            mut arena,
        } = vocab;
        check_unique(&mut entries, &arena, "model.vocab")?;
        let Added(mut added) = file.added_tokens;
        check_unique(&mut added.entries, &added.arena, "added_tokens")?;
        if entries.len() + added.entries.len() > MAX_IDS {
            return Err(TokenizerError::Invalid(format!(
                "more than {MAX_IDS} tokens in model.vocab and added_tokens"
            )));
        }
        // An added token replaces a vocab token of the same id, as in HF's decode.
        let offset = arena.len();
        arena.extend_from_slice(&added.arena);
        for mut a in added.entries {
            a.start += offset as u32;
            match entries.binary_search_by_key(&a.id, |e| e.id) {
                Ok(at) => entries[at] = a,
                Err(_) => entries.push(a),
            }
        }
        entries.sort_unstable_by_key(|e| e.id);
        Ok(Tokenizer { entries, arena })
    }

    /// Number of ids with a token.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: u32) -> Option<&Entry> {
        // Ids are dense in real tokenizers: the entry at index `id` is usually the one.
        match self.entries.get(id as usize) {
            Some(e) if e.id == id => Some(e),
            _ => self
                .entries
                .binary_search_by_key(&id, |e| e.id)
                .ok()
                .map(|at| &self.entries[at]),
        }
    }

    /// The bytes token `id` stands for (an added token's content as UTF-8), or `None` for an
    /// id the tokenizer does not know.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let e = self.entry(id)?;
        let start = e.start as usize;
        self.arena.get(start..start + e.len as usize)
    }

    /// True for an added token marked `"special"` (`<|im_end|>`, …).
    pub fn is_special(&self, id: u32) -> bool {
        self.entry(id).is_some_and(|e| e.special)
    }

    fn bytes_of(&self, id: u32) -> &[u8] {
        self.token_bytes(id).unwrap_or(REPLACEMENT)
    }

    /// The text of `ids`: their bytes concatenated, read as UTF-8 lossily. An unknown id
    /// becomes U+FFFD; never panics.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            bytes.extend_from_slice(self.bytes_of(id));
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// [`Tokenizer::decode`] split by token: one [`Piece`] per id, in order. The pieces'
    /// texts concatenated are exactly `decode(ids)`, and each piece's `start..end` is where its
    /// text is in it (in chars).
    pub fn pieces(&self, ids: &[u32]) -> Vec<Piece> {
        let mut bytes = Vec::new();
        // ends[i]: the end of token i's bytes in `bytes`.
        let mut ends = Vec::with_capacity(ids.len());
        for &id in ids {
            bytes.extend_from_slice(self.bytes_of(id));
            ends.push(bytes.len());
        }
        let mut pieces: Vec<Piece> = ids
            .iter()
            .map(|&id| Piece {
                id,
                text: String::new(),
                start: 0,
                end: 0,
            })
            .collect();
        // Each char of the lossy decoding goes to the token holding its last byte. The
        // decoding is `from_utf8_lossy`'s own (`utf8_chunks`: valid runs, then one U+FFFD per
        // maximal invalid run), so the concatenation is the same string.
        let mut token = 0;
        let mut at = 0;
        let mut place = |last_byte: usize, c: char, pieces: &mut Vec<Piece>| {
            while token + 1 < ends.len() && ends[token] <= last_byte {
                token += 1;
            }
            if let Some(p) = pieces.get_mut(token) {
                p.text.push(c);
            }
        };
        for chunk in bytes.utf8_chunks() {
            for (i, c) in chunk.valid().char_indices() {
                place(at + i + c.len_utf8() - 1, c, &mut pieces);
            }
            at += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                at += chunk.invalid().len();
                place(at - 1, '\u{FFFD}', &mut pieces);
            }
        }
        let mut chars = 0;
        for p in &mut pieces {
            p.start = chars;
            chars += p.text.chars().count();
            p.end = chars;
        }
        pieces
    }
}

/// Sorts `entries` by id and refuses an id given twice.
fn check_unique(entries: &mut [Entry], arena: &[u8], what: &str) -> Result<(), TokenizerError> {
    entries.sort_unstable_by_key(|e| e.id);
    for w in entries.windows(2) {
        if w[0].id == w[1].id {
            let text = |e: &Entry| {
                let start = e.start as usize;
                let bytes = arena.get(start..start + e.len as usize).unwrap_or(&[]);
                shown(&String::from_utf8_lossy(bytes))
            };
            return Err(TokenizerError::Invalid(format!(
                "{what}: id {} given to two tokens ({} and {})",
                w[0].id,
                text(&w[0]),
                text(&w[1])
            )));
        }
    }
    Ok(())
}

/// A serde_json error as a one-line message (serde_json's text ends with the position).
fn json_error(e: serde_json::Error) -> TokenizerError {
    let text = e.to_string();
    match e.classify() {
        serde_json::error::Category::Data => TokenizerError::Invalid(text),
        _ if text.starts_with("recursion limit exceeded") => TokenizerError::Invalid(format!(
            "nested more than 128 deep at line {} column {}",
            e.line(),
            e.column()
        )),
        serde_json::error::Category::Eof => TokenizerError::NotJson(format!(
            "ends early at line {} column {}",
            e.line(),
            e.column()
        )),
        _ => TokenizerError::NotJson(text),
    }
}

/// A type name from the file for a message: bare if it looks like one (`Metaspace`), quoted
/// and escaped otherwise.
fn kind_name(text: &str) -> String {
    let plain = !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        text.to_string()
    } else {
        shown(text)
    }
}

/// Text from the file for a message: quoted, escaped, at most 40 chars.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    format!("{out:?}")
}

// GPT-2's byte ↔ unicode map: the printable bytes stand for themselves, the other 68 bytes
// (controls, space, DEL…0xA0, 0xAD) for U+0100.. in byte order. Every char of the map is
// below U+0144.
const MAP_CHARS: usize = 0x144;
const NOT_MAPPED: u16 = u16::MAX;

const fn char_to_byte_table() -> [u16; MAP_CHARS] {
    let mut table = [NOT_MAPPED; MAP_CHARS];
    let mut next = 0;
    let mut b = 0;
    while b < 256 {
        let printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        if printable {
            table[b] = b as u16;
        } else {
            table[0x100 + next] = b as u16;
            next += 1;
        }
        b += 1;
    }
    table
}

static CHAR_TO_BYTE: [u16; MAP_CHARS] = char_to_byte_table();

/// Appends the bytes a vocab token's string stands for: each char through the byte-level
/// map, or, if any char is outside it, the string's own UTF-8 (as HF's ByteLevel decoder).
fn push_byte_level(token: &str, out: &mut Vec<u8>) {
    let start = out.len();
    for c in token.chars() {
        match CHAR_TO_BYTE.get(c as usize) {
            Some(&b) if b != NOT_MAPPED => out.push(b as u8),
            _ => {
                out.truncate(start);
                out.extend_from_slice(token.as_bytes());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_map_is_gpt2s() {
        // Spot checks from GPT-2's `bytes_to_unicode`: 'Ġ' (U+0120) is the space, 'Ċ'
        // (U+010A) the newline, 'ĉ' the tab, U+0100 byte 0, U+0143 byte 0xAD.
        let byte = |c: char| CHAR_TO_BYTE[c as usize];
        assert_eq!(byte('Ġ'), b' ' as u16);
        assert_eq!(byte('Ċ'), b'\n' as u16);
        assert_eq!(byte('ĉ'), b'\t' as u16);
        assert_eq!(byte('\u{100}'), 0);
        assert_eq!(byte('\u{143}'), 0xAD);
        assert_eq!(byte('A'), b'A' as u16);
        assert_eq!(byte('ÿ'), 0xFF);
        assert_eq!(byte(' '), NOT_MAPPED);
        // A bijection onto the 256 bytes.
        let mut seen = [false; 256];
        for &b in CHAR_TO_BYTE.iter().filter(|&&b| b != NOT_MAPPED) {
            assert!(!seen[b as usize], "byte {b} twice");
            seen[b as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}

//! Text from a dump never reaches a terminal raw.
//!
//! Sample statuses, span names, class names and file names are data: an ESC sequence in
//! one could recolour, retitle or rewrite the user's terminal, a CR could overwrite the line
//! it is on, a bidi override could make a warning read backwards, and a line or paragraph
//! separator (U+2028, U+2029) or an invisible format character (U+FEFF, zero-width joiners,
//! tags) could break or disguise a line. Everything `rollscope`
//! prints that may contain such text goes through [`escape`] (one line) or [`escape_lines`]
//! (a table whose line breaks are ours); JSON written to standard output goes through
//! [`JsonSafe`], which writes the same characters as JSON `\u` escapes (same value, no raw
//! control bytes).

use std::borrow::Cow;
use std::io;

/// Characters a terminal may act on, or that do not show as themselves: C0 (including ESC,
/// CR, LF, BEL, TAB), DEL, C1 (U+0080–U+009F; U+009B is a one-character CSI), the line and
/// paragraph separators (U+2028, U+2029), and every format character of Unicode (category
/// Cf: the bidi controls that reorder what follows, zero-width spaces and joiners, U+FEFF,
/// the soft hyphen, interlinear annotations, tags).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{890}'..='\u{891}'
        | '\u{8e2}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}'
        | '\u{e0020}'..='\u{e007f}')
}

/// `c` as a JSON escape: `\uXXXX`, or a UTF-16 surrogate pair beyond the BMP (one `\u`
/// of five digits would read as another character followed by a digit).
fn push_json_escape(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        out.push_str(&format!("\\u{u:04x}"));
    }
}

/// `s` with every [`is_unsafe`] character written as Rust writes it escaped: `\u{1b}`.
/// Borrowed (no copy) when there is nothing to escape, as for almost every line.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for text of several lines: `\n` stays a line break, everything else unsafe is
/// escaped (so a `\r` inside a line cannot overwrite it).
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|line| escape(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A serde_json formatter (compact) that also escapes DEL, C1 and bidi controls, which
/// serde_json writes raw: the JSON means the same, but no byte of it can drive a terminal.
/// (serde_json already escapes C0 itself.)
#[derive(Default)]
pub struct JsonSafe;

impl serde_json::ser::Formatter for JsonSafe {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let mut escaped = String::new();
            push_json_escape(&mut escaped, c);
            writer.write_all(escaped.as_bytes())?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Writes `value` as compact JSON through [`JsonSafe`].
pub fn write_json_safe<W: io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, JsonSafe);
    value.serialize(&mut ser)
}

/// A writer that passes JSON text on with [`json_text_safe`] applied: for JSON written in
/// pieces (the row store's cache writer). A piece that ends inside a UTF-8 character keeps
/// its tail for the next write.
pub struct JsonSafeWriter<W: io::Write> {
    inner: W,
    tail: Vec<u8>,
}

impl<W: io::Write> JsonSafeWriter<W> {
    pub fn new(inner: W) -> Self {
        JsonSafeWriter {
            inner,
            tail: Vec::new(),
        }
    }
}

impl<W: io::Write> io::Write for JsonSafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Most pieces are ASCII below DEL: nothing to escape, nothing to check. (Two
        // vectorised scans: a short-circuiting byte loop was 3 % of a large cache's time.)
        if self.tail.is_empty() && buf.is_ascii() && !buf.contains(&0x7f) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        self.tail.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.tail) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&self.tail[..valid]).map_err(io::Error::other)?;
        self.inner.write_all(json_text_safe(text).as_bytes())?;
        self.tail.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.tail.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "JSON text ended inside a UTF-8 character",
            ));
        }
        self.inner.flush()
    }
}

/// JSON text (as serde_json writes it, pretty or not) with DEL, C1 and bidi controls
/// written as `\u` escapes. Safe on whole documents because serde_json only ever writes
/// those characters inside strings.
pub fn json_text_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe_in_json) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe_in_json(c) {
            push_json_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`is_unsafe`] minus the whitespace pretty JSON uses between tokens (serde_json escapes
/// any C0 inside strings itself).
fn is_unsafe_in_json(c: char) -> bool {
    is_unsafe(c) && !matches!(c, '\n' | ' ' | '\t' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert!(matches!(escape("plain text · ok"), Cow::Borrowed(_)));
        assert_eq!(escape("\u{1b}[31mred\r\u{7}"), "\\u{1b}[31mred\\u{d}\\u{7}");
        assert_eq!(escape("a\u{9b}2Jb\u{7f}"), "a\\u{9b}2Jb\\u{7f}");
        assert_eq!(escape("x\u{202e}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        assert_eq!(escape("line\nbreak\t"), "line\\u{a}break\\u{9}");
        assert_eq!(escape_lines("a\u{1b}\nb\r"), "a\\u{1b}\nb\\u{d}");
        assert_eq!(
            escape("a\u{2028}b\u{2029}c\u{feff}d\u{200b}\u{ad}\u{e0041}"),
            "a\\u{2028}b\\u{2029}c\\u{feff}d\\u{200b}\\u{ad}\\u{e0041}"
        );
        // Escaped text is itself safe, whatever it started as.
        let all: String = (0u32..0x2100).filter_map(char::from_u32).collect();
        assert!(!escape(&all).chars().any(is_unsafe));
    }

    /// Every format (Cf) character of Unicode 15, and the two separators, by code point.
    #[test]
    fn every_format_and_separator_character_is_unsafe() {
        let cf: &[(u32, u32)] = &[
            (0xad, 0xad),
            (0x600, 0x605),
            (0x61c, 0x61c),
            (0x6dd, 0x6dd),
            (0x70f, 0x70f),
            (0x890, 0x891),
            (0x8e2, 0x8e2),
            (0x180e, 0x180e),
            (0x200b, 0x200f),
            (0x2028, 0x202e),
            (0x2060, 0x2064),
            (0x2066, 0x206f),
            (0xfeff, 0xfeff),
            (0xfff9, 0xfffb),
            (0x110bd, 0x110bd),
            (0x110cd, 0x110cd),
            (0x13430, 0x1343f),
            (0x1bca0, 0x1bca3),
            (0x1d173, 0x1d17a),
            (0xe0001, 0xe0001),
            (0xe0020, 0xe007f),
        ];
        for &(lo, hi) in cf {
            for c in (lo..=hi).filter_map(char::from_u32) {
                assert!(is_unsafe(c), "U+{:04X}", c as u32);
            }
        }
        for ok in ['a', 'é', '·', '\u{2027}', '\u{2070}', '\u{fffc}', '😀'] {
            assert!(!is_unsafe(ok), "{ok:?}");
        }
    }

    #[test]
    fn json_stays_the_same_value_without_raw_controls() {
        let v = serde_json::json!({"k\u{9b}": ["\u{1b}[2J", "\u{7f}\u{202e}x\r", "\u{2028}\u{feff}\u{e0041}"]});
        let mut out = Vec::new();
        write_json_safe(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(is_unsafe), "{text:?}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let safe = json_text_safe(&pretty);
        assert!(!safe.chars().any(is_unsafe_in_json), "{safe:?}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), v);
    }

    #[test]
    fn json_safe_writer_escapes_across_split_characters() {
        use std::io::Write;
        let text = "{\"a\":\"x\u{202e}y\u{7f}é\"}";
        let mut out = Vec::new();
        let mut w = JsonSafeWriter::new(&mut out);
        // One byte at a time: every multi-byte character is split.
        for b in text.as_bytes() {
            w.write_all(std::slice::from_ref(b)).unwrap();
        }
        w.flush().unwrap();
        let got = String::from_utf8(out).unwrap();
        assert_eq!(got, "{\"a\":\"x\\u202ey\\u007fé\"}");
        let back: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(back["a"], "x\u{202e}y\u{7f}é");
        let mut cut = JsonSafeWriter::new(Vec::new());
        cut.write_all(&"é".as_bytes()[..1]).unwrap();
        assert!(
            cut.flush().is_err(),
            "a dangling half character is an error"
        );
    }
}

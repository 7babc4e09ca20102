//! Text from a dump never reaches a terminal raw.
//!
//! Sample statuses, span names, class names and file names are data: an ESC sequence in
//! one could recolour, retitle or rewrite the user's terminal, a CR could overwrite the line
//! it is on, and a bidi override could make a warning read backwards. Everything `rollscope`
//! prints that may contain such text goes through [`escape`] (one line) or [`escape_lines`]
//! (a table whose line breaks are ours); JSON written to standard output goes through
//! [`JsonSafe`], which writes the same characters as JSON `\u` escapes (same value, no raw
//! control bytes).

use std::borrow::Cow;
use std::io;

/// Characters a terminal may act on rather than show: C0 (including ESC, CR, LF, BEL, TAB),
/// DEL, C1 (U+0080–U+009F; U+009B is a one-character CSI), and the bidi controls that
/// reorder what follows (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
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
            write!(writer, "\\u{:04x}", c as u32)?;
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
            out.push_str(&format!("\\u{:04x}", c as u32));
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
        // Escaped text is itself safe, whatever it started as.
        let all: String = (0u32..0x2100).filter_map(char::from_u32).collect();
        assert!(!escape(&all).chars().any(is_unsafe));
    }

    #[test]
    fn json_stays_the_same_value_without_raw_controls() {
        let v = serde_json::json!({"k\u{9b}": ["\u{1b}[2J", "\u{7f}\u{202e}x\r"]});
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

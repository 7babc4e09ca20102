//! [`Lines`]: a JSONL file cut into lines as its bytes arrive, under three limits, holding at
//! most one line (never the file).
//!
//! A line longer than [`MAX_LINE_BYTES`] is passed over to its end without being kept (a note
//! names it; the lines after it are read). Past [`MAX_LINES`] lines with content, or
//! [`MAX_JSONL_BYTES`] bytes, reading stops and says so. Blank lines are counted, not kept.

/// Longest line kept (one verl sample: prompt, response and extras). A longer line is skipped,
/// with a note naming its number.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Most lines with content read from one file (as many as a dump's samples,
/// [`crate::MAX_SAMPLES`]); the rest of the file is not read, and a note says so.
pub const MAX_LINES: u64 = crate::MAX_SAMPLES as u64;

/// Most bytes read from one file (a verl step of 4 096 samples of 64 KB is 256 MB); the rest
/// is not read, and a note says so.
pub const MAX_JSONL_BYTES: u64 = 4 << 30;

/// What [`Lines::push`] hands over.
#[derive(Debug, PartialEq)]
pub enum Piece<'a> {
    /// A line with content (without its `\n` or `\r\n`), and its number (from 1).
    Line(u64, &'a [u8]),
    /// A line past [`MAX_LINE_BYTES`], skipped: its number and length in bytes.
    TooLong(u64, u64),
}

/// The line cutter (see the module doc).
#[derive(Debug, Default)]
pub struct Lines {
    /// The start of the current line, while it is within [`MAX_LINE_BYTES`].
    partial: Vec<u8>,
    /// The current line passed [`MAX_LINE_BYTES`]: its bytes so far (none kept).
    skipping: Option<u64>,
    /// Lines ended so far (the current line is `ended + 1`).
    ended: u64,
    content_lines: u64,
    blank_lines: u64,
    fed: u64,
    /// Why reading stopped early, once it has.
    stopped: Option<String>,
}

impl Lines {
    /// Cuts `chunk` into lines, handing each to `f`. Does nothing once [`Lines::stopped`].
    pub fn push(&mut self, chunk: &[u8], f: &mut dyn FnMut(Piece)) {
        if self.stopped.is_some() {
            return;
        }
        let room = MAX_JSONL_BYTES.saturating_sub(self.fed);
        let take = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let mut rest = &chunk[..take];
        self.fed += take as u64;
        while !rest.is_empty() && self.stopped.is_none() {
            // A run of empty lines at once (10 million of them cost one pass).
            if self.partial.is_empty() && self.skipping.is_none() {
                let empty = rest.iter().take_while(|&&b| b == b'\n').count();
                if empty > 0 {
                    self.ended += empty as u64;
                    self.blank_lines += empty as u64;
                    rest = &rest[empty..];
                    continue;
                }
            }
            match memchr::memchr(b'\n', rest) {
                Some(at) => {
                    self.extend(&rest[..at]);
                    rest = &rest[at + 1..];
                    self.end_line(f);
                }
                None => {
                    self.extend(rest);
                    rest = &[];
                }
            }
        }
        if take < chunk.len() && self.stopped.is_none() {
            self.stopped = Some(format!(
                "reading stopped after {MAX_JSONL_BYTES} bytes (the most read from one file)"
            ));
        }
    }

    /// Ends the input: a last line without `\n` is handed over.
    pub fn finish(&mut self, f: &mut dyn FnMut(Piece)) {
        if self.stopped.is_none() && (!self.partial.is_empty() || self.skipping.is_some()) {
            self.end_line(f);
        }
    }

    /// Why reading stopped before the end of the file, if it did.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    /// Blank lines met (skipped).
    pub fn blank_lines(&self) -> u64 {
        self.blank_lines
    }

    /// Bytes taken so far.
    pub fn bytes(&self) -> u64 {
        self.fed
    }

    fn extend(&mut self, bytes: &[u8]) {
        if let Some(n) = &mut self.skipping {
            *n += bytes.len() as u64;
        } else if self.partial.len() + bytes.len() > MAX_LINE_BYTES {
            self.skipping = Some((self.partial.len() + bytes.len()) as u64);
            self.partial = Vec::new();
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, f: &mut dyn FnMut(Piece)) {
        self.ended += 1;
        let number = self.ended;
        if let Some(n) = self.skipping.take() {
            self.content_lines += 1;
            f(Piece::TooLong(number, n));
        } else {
            let line = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
            if line.iter().all(u8::is_ascii_whitespace) {
                self.blank_lines += 1;
            } else {
                self.content_lines += 1;
                f(Piece::Line(number, line));
            }
            self.partial.clear();
        }
        if self.content_lines >= MAX_LINES && self.stopped.is_none() {
            self.stopped = Some(format!(
                "reading stopped after line {number}: {MAX_LINES} lines read (the most read \
                 from one file)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(chunks: &[&[u8]]) -> (Vec<String>, Lines) {
        let mut out = Vec::new();
        let mut l = Lines::default();
        let mut f = |p: Piece| {
            out.push(match p {
                Piece::Line(n, b) => format!("{n}:{}", String::from_utf8_lossy(b)),
                Piece::TooLong(n, len) => format!("{n}: too long {len}"),
            })
        };
        for c in chunks {
            l.push(c, &mut f);
        }
        l.finish(&mut f);
        (out, l)
    }

    #[test]
    fn lines_across_chunks_blank_lines_and_a_last_line_without_newline() {
        let (got, l) = cut(&[b"{\"a\"", b":1}\r\n\n  \n{\"b\":2}\n{\"c\"", b":3}"]);
        assert_eq!(got, ["1:{\"a\":1}", "4:{\"b\":2}", "5:{\"c\":3}"]);
        assert_eq!(l.blank_lines(), 2);
        assert!(l.stopped().is_none());
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_unkept_and_the_next_is_read() {
        let big = vec![b'x'; MAX_LINE_BYTES / 2 + 1];
        let (got, l) = cut(&[b"{}\n", &big, &big, &big, b"\n{\"ok\":1}\n"]);
        let len = 3 * big.len();
        assert_eq!(
            got,
            [
                "1:{}".to_string(),
                format!("2: too long {len}"),
                "3:{\"ok\":1}".into()
            ]
        );
        assert!(l.partial.capacity() <= MAX_LINE_BYTES);
    }
}

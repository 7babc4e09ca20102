//! The bytes an opcode reads: a cursor over what has arrived, and the scan of a text line
//! that is carried across chunks so each byte is scanned once.

use crate::error::PickleErrorKind as K;

/// Relative to the start of the opcode that is waiting for more bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LineHint {
    /// The end of its first text line, if found.
    pub(super) first_newline: Option<usize>,
    /// Everything before this was scanned and holds no further newline.
    pub(super) scanned_to: usize,
}

/// A cursor over the bytes available now; `None` from a read means "need more input".
pub(super) struct Input<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    /// A newline already found for this opcode's first line (from a [`LineHint`]).
    pub(super) known_newline: Option<usize>,
    /// No newline for this opcode's unfinished line lies before this index.
    pub(super) scan_from: usize,
    /// Where the current opcode's first newline was found, and how far scanning got.
    pub(super) first_newline: Option<usize>,
    pub(super) scanned_to: usize,
    /// Longest text line accepted (the memory left): a line is held until it ends.
    pub(super) line_max: usize,
}

// `inline(always)`: the opcode loop reads every opcode byte and argument through these, and
// the size-optimised wasm build otherwise calls them (a sixth of the loop's own time).
impl<'a> Input<'a> {
    #[inline(always)]
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    #[inline(always)]
    pub(super) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    #[inline(always)]
    pub(super) fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).map(|b| {
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            a
        })
    }
    /// A text argument up to and excluding '\n'. Scans each byte once per opcode, across
    /// calls too (see [`LineHint`]).
    pub(super) fn line(&mut self) -> Result<Option<&'a [u8]>, K> {
        let found = match self.known_newline.take() {
            Some(nl) if nl >= self.pos && self.buf.get(nl) == Some(&b'\n') => Some(nl),
            _ => {
                let from = self.scan_from.max(self.pos).min(self.buf.len());
                self.buf[from..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|i| from + i)
            }
        };
        match found {
            Some(nl) => {
                let line = &self.buf[self.pos..nl];
                if line.len() > self.line_max {
                    return Err(K::MemoryLimit(0));
                }
                if self.first_newline.is_none() {
                    self.first_newline = Some(nl);
                }
                self.pos = nl + 1;
                Ok(Some(line))
            }
            None => {
                self.scanned_to = self.buf.len();
                if self.buf.len() - self.pos > self.line_max {
                    return Err(K::MemoryLimit(0));
                }
                Ok(None)
            }
        }
    }
}

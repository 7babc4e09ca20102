//! Where the exports go: a writer that charges the output limit as bytes are produced, and
//! the entry point that streams an export from the row store ([`write_export`]).
//!
//! Why: an export as one `serde_json` value costs ≈ 36× its text, and a small dump whose
//! samples share one long trace (a pickle memo) yields far more text than it has bytes. Here
//! nothing is held but the item being written, and the text may be at most what the rows
//! of the same file may be ([`crate::BuildLimits::for_input`]: [`crate::OUTPUT_PER_INPUT_BYTE`]
//! per byte of input plus [`crate::OUTPUT_FLOOR`], but no more than the larger of
//! [`crate::OUTPUT_LARGE_FLOOR`] and [`crate::OUTPUT_PER_INPUT_BYTE_LARGE`] per byte of input,
//! nor [`crate::MAX_OUTPUT_BYTES`]).

use std::io::{self, Write};

use serde_json::Value as J;

use crate::{BuildLimits, Error, Loaded};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Chrome Trace Event Format ([`super::export_chrome`]).
    Chrome,
    /// OTLP/JSON ([`super::export_otlp`]).
    Otlp,
}

impl Format {
    /// `"chrome"` or `"otlp"`, as the CLI's `--format` and Python's `export` name them.
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "chrome" => Ok(Format::Chrome),
            "otlp" => Ok(Format::Otlp),
            other => Err(format!(
                "unknown export format {other:?} (expected \"chrome\" or \"otlp\")"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Chrome => "Chrome trace",
            Format::Otlp => "OTLP export",
        }
    }
}

/// The most bytes an export of a file of `input_bytes` bytes may have: the same rule as the
/// rows built from it.
pub fn export_limit(input_bytes: u64) -> u64 {
    BuildLimits::for_input(input_bytes).max_output_bytes
}

/// Writes the export of `c` to `w`, row by row from the store, never more than `limit`
/// bytes: past it, writing stops with [`Error::OutputLimit`] (what was written is a cut
/// document). A write that fails is [`Error::Write`], a buffer that cannot grow
/// [`Error::OutOfMemory`]. Gives the bytes written. The text is exactly what `serde_json`
/// writes for [`super::export_chrome`] / [`super::export_otlp`] of the same rows.
pub fn write_export<W: Write>(c: &Loaded, format: Format, limit: u64, w: W) -> Result<u64, Error> {
    let mut out = Out {
        inner: w,
        left: limit,
        written: 0,
        over: false,
    };
    let r = match format {
        Format::Chrome => super::chrome::write_chrome(c, &mut out),
        Format::Otlp => super::otlp_export::write_otlp(c, &mut out),
    };
    let r = r.and_then(|()| out.inner.flush());
    match r {
        Ok(()) => Ok(out.written),
        Err(_) if out.over => Err(Error::OutputLimit {
            what: format.name(),
            limit,
        }),
        Err(e) if e.kind() == io::ErrorKind::OutOfMemory => Err(Error::OutOfMemory {
            what: format.name(),
        }),
        Err(e) => Err(Error::Write {
            what: format.name(),
            message: e.to_string(),
        }),
    }
}

/// [`write_export`] into memory: the buffer grows with `try_reserve`, so running out of
/// memory is [`Error::OutOfMemory`], not an abort.
pub fn export_bytes(c: &Loaded, format: Format, limit: u64) -> Result<Vec<u8>, Error> {
    let mut buf = TryVec(Vec::new());
    write_export(c, format, limit, &mut buf)?;
    Ok(buf.0)
}

/// A `Vec` that refuses to grow past what the allocator gives instead of aborting.
struct TryVec(Vec<u8>);

impl Write for TryVec {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .try_reserve(buf.len())
            .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer charging each byte to the limit before passing it on.
pub(super) struct Out<W> {
    inner: W,
    left: u64,
    written: u64,
    /// Set when a write would have passed the limit.
    over: bool,
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len() as u64;
        if n > self.left {
            self.over = true;
            return Err(io::Error::other("output limit"));
        }
        self.inner.write_all(buf)?;
        self.left -= n;
        self.written += n;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Out<W> {
    /// One value's compact JSON (what `serde_json` writes for it inside a larger value).
    pub(super) fn json(&mut self, v: &J) -> io::Result<()> {
        serde_json::to_writer(&mut *self, v).map_err(io::Error::from)
    }
}

/// `doc`'s JSON text split around the (empty) array under `key`: what comes before its
/// items (ending in `[`) and after them (starting with `]`). The array must be the last
/// `"key":[]` of the text; every caller's is (data reaches these envelopes only as JSON
/// string values or attribute lists, where `"key":[]` cannot occur unescaped).
pub(super) fn document_around(doc: &J, key: &str) -> io::Result<(String, String)> {
    let text = serde_json::to_string(doc).map_err(io::Error::from)?;
    let marker = format!("\"{key}\":[]");
    let at = text
        .rfind(&marker)
        .ok_or_else(|| io::Error::other(format!("no {marker} in the export's envelope")))?;
    let split = at + marker.len() - 1;
    Ok((text[..split].to_string(), text[split..].to_string()))
}

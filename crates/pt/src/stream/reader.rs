//! The two entry points over [`Core`]: [`StreamReader`] (chunks pushed as they arrive) and
//! the whole-buffer read behind [`crate::read`], which falls back to the `zip` crate when the
//! layout cannot be streamed.

use super::{Core, Outcome, State};

use crate::container::{read_zip_archive, Dump};
use crate::error::Error;
use crate::Limits;

/// Bytes of a chunk that complete the last chunk's unconsumed tail (an opcode cut by the
/// chunk boundary is a few bytes; a longer one takes the slow way).
const STITCH: usize = 4 << 10;

/// [`crate::read`]: the core over a whole buffer, in place.
pub(crate) fn read_whole(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    read_whole_into(bytes, limits, None)
}

/// [`crate::read`] handing complete samples to `sink` as [`StreamReader::with_sink`] does
/// (the same core, so the same hand-overs and the same tree in any chunks).
pub fn read_with_sink<'l>(
    bytes: &[u8],
    limits: &'l Limits,
    sink: Box<dyn crate::SampleSink + 'l>,
) -> Result<Dump, Error> {
    read_whole_into(bytes, limits, Some(sink))
}

fn read_whole_into<'l>(
    bytes: &[u8],
    limits: &'l Limits,
    sink: Option<Box<dyn crate::SampleSink + 'l>>,
) -> Result<Dump, Error> {
    let mut core = Core::new(limits);
    core.sink = sink;
    core.feed(bytes, true)?;
    match core.outcome()? {
        Outcome::Dump(dump) => Ok(dump),
        Outcome::Whole => {
            if bytes.len() as u64 > limits.max_pickle_bytes {
                return Err(Error::TooLargeWhole {
                    limit: limits.max_pickle_bytes,
                });
            }
            read_zip_archive(bytes, limits)
        }
    }
}

/// Push-based reader: [`StreamReader::push`] each chunk, then [`StreamReader::finish`].
/// Gives exactly what [`crate::read`] gives on the whole file.
pub struct StreamReader<'l> {
    core: Core<'l>,
    /// Bytes received but not consumed by the core yet.
    pending: Vec<u8>,
    /// Every byte so far, kept only while the file may have to be read whole (before a
    /// pickle starts).
    seen: Option<Vec<u8>>,
}

impl<'l> StreamReader<'l> {
    pub fn new(limits: &'l Limits) -> Self {
        StreamReader {
            core: Core::new(limits),
            pending: Vec::new(),
            seen: Some(Vec::new()),
        }
    }

    /// A reader that hands complete samples to `sink` as it reads them and frees them (see
    /// [`crate::SampleSink`]). A layout that cannot be streamed (read whole by the `zip`
    /// crate at the end) hands nothing over: the caller then finds every sample in the tree.
    pub fn with_sink(limits: &'l Limits, sink: Box<dyn crate::SampleSink + 'l>) -> Self {
        let mut r = StreamReader::new(limits);
        r.core.sink = Some(sink);
        r
    }

    /// Whether the value is complete and the rest of the file is not needed (legacy files
    /// and bare pickles; a ZIP is read to its end to check its central directory).
    pub fn is_done(&self) -> bool {
        matches!(self.core.state, State::Done(_))
    }

    /// Feeds the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if matches!(self.core.state, State::Done(_)) {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            seen.extend_from_slice(chunk);
        }
        if matches!(self.core.state, State::Whole) {
            return self.check_whole_size();
        }
        // Feed the chunk in place when nothing is pending; keep only what is not consumed.
        if self.pending.is_empty() {
            let used = self.core.feed(chunk, false)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            self.stitch(chunk)?;
        }
        if !self.core.before_pickle() {
            self.seen = None;
        }
        if matches!(self.core.state, State::Whole) {
            self.pending = Vec::new();
            return self.check_whole_size();
        }
        Ok(())
    }

    /// Feeds `chunk` after the unconsumed tail of the last one: the tail is completed with the
    /// chunk's first [`STITCH`] bytes, and once that is consumed, the chunk goes on in place.
    /// (Copying each chunk whole behind its predecessor's few bytes copied the file once more.)
    fn stitch(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let tail = self.pending.len();
        let head = chunk.len().min(STITCH);
        self.pending.extend_from_slice(&chunk[..head]);
        let used = self.core.feed(&self.pending, false)?;
        let reading = !matches!(self.core.state, State::Done(_) | State::Whole);
        if used >= tail && reading {
            // Everything before `chunk[at]` is consumed: the rest is fed from the chunk itself.
            let at = used - tail;
            self.pending.clear();
            let more = self.core.feed(&chunk[at..], false)?;
            self.pending.extend_from_slice(&chunk[at + more..]);
        } else {
            // An opcode longer than the head (a long string), or the read ended: as before.
            self.pending.drain(..used);
            if reading {
                self.pending.extend_from_slice(&chunk[head..]);
                let used = self.core.feed(&self.pending, false)?;
                self.pending.drain(..used);
            }
        }
        Ok(())
    }

    fn check_whole_size(&self) -> Result<(), Error> {
        let limit = self.core.limits.max_pickle_bytes;
        match &self.seen {
            Some(seen) if seen.len() as u64 > limit => Err(Error::TooLargeWhole { limit }),
            _ => Ok(()),
        }
    }

    /// Ends the input: the value, or the error the whole-buffer reader gives.
    pub fn finish(mut self) -> Result<Dump, Error> {
        let limits = self.core.limits;
        if matches!(self.core.state, State::Failed) {
            return Err(Error::Zip("the file was already refused".into()));
        }
        if !matches!(self.core.state, State::Whole) {
            self.core.feed(&self.pending, true)?;
        }
        match self.core.outcome()? {
            Outcome::Dump(dump) => Ok(dump),
            Outcome::Whole => {
                let all = self.seen.take().unwrap_or_default();
                if all.len() as u64 > limits.max_pickle_bytes {
                    return Err(Error::TooLargeWhole {
                        limit: limits.max_pickle_bytes,
                    });
                }
                read_zip_archive(&all, limits)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Torch's own layout (data.pkl first, sizes in data descriptors) must stream, not fall
    /// back to holding the file: once data.pkl's STOP is read, nothing is buffered but the
    /// tail kept for the central directory.
    #[test]
    fn torch_files_stream_without_holding_the_file() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/slime/basic_0.pt");
        let bytes = std::fs::read(path).unwrap();
        let limits = Limits::for_timeline();
        let mut r = StreamReader::new(&limits);
        for chunk in bytes[..bytes.len() - 200].chunks(4096) {
            r.push(chunk).unwrap();
        }
        assert!(matches!(r.core.state, State::ZipRest { .. }));
        assert!(r.seen.is_none());
        assert!(r.pending.len() < 4096);
        for chunk in bytes[bytes.len() - 200..].chunks(7) {
            r.push(chunk).unwrap();
        }
        assert!(r.finish().is_ok());
    }
}

//! Reading a dump as its bytes arrive, without holding the file; and the same reading over
//! a whole buffer, which is what [`crate::read`] does.
//!
//! Why: a 300 MB dump read into memory and then parsed costs the file twice over in a browser
//! tab. Torch writes `*/data.pkl` as the first ZIP entry, right after a small local header, so
//! the pickle can be fed to the (resumable) [`Machine`] chunk by chunk and each chunk dropped
//! once consumed; a DEFLATED entry is inflated on the fly. Legacy torch files and bare pickles
//! are sequences of pickles and stream the same way.
//!
//! **Stream = whole read, always.** `Core` is the one reader: [`StreamReader`] feeds it
//! chunks, `read_whole` feeds it the whole buffer at once (in place, no copy). Everything
//! it decides depends on the bytes, never on where chunks end: the machine runs whole
//! opcodes only, a ZIP entry's pickle is fed exactly the entry's bytes, inflation stops at the
//! same inflated byte, and a ZIP is read to its end so that the central directory can be
//! checked (exactly one `*/data.pkl`, the one read). When the layout does not allow streaming
//! (`data.pkl` not reachable from the local headers), both fall back to the central directory over
//! the whole file, which must then fit `Limits::max_pickle_bytes`.

use crate::container::{describe_start, read_zip_archive, Dump, Format, LEGACY_MAGIC};
use crate::error::{Error, PickleError};
use crate::pickle::{Machine, Progress};
use crate::value::Value;
use crate::zipdir::{self, Local, TAIL_MAX};
use crate::Limits;

/// Inflated bytes produced per step (at most).
const INFLATE_STEP: usize = 256 * 1024;

enum State<'l> {
    /// Waiting for enough bytes to tell the format.
    Start,
    /// At a ZIP local file header.
    ZipHeader,
    /// Skipping the data of an entry that is not `data.pkl`.
    ZipSkip { remaining: u64 },
    /// Running a pickle.
    Pickle(Box<PickleRun<'l>>),
    /// A ZIP's value is read: read on to the end, keeping the last bytes, to check the
    /// central directory there.
    ZipRest {
        dump: Dump,
        local_at: u64,
        used: u64,
        tail: Vec<u8>,
    },
    /// The value is read; further bytes (storages of a legacy file) are ignored.
    Done(Dump),
    /// Layout we cannot stream: the whole file is read through its central directory.
    Whole,
    /// An error was returned; nothing more is read.
    Failed,
}

struct PickleRun<'l> {
    machine: Machine<'l>,
    part: String,
    /// ZIP only: where the entry's local header began.
    zip_local_at: Option<u64>,
    /// ZIP entries of known size: bytes of the entry's data not fed yet. `None` for bare and
    /// legacy pickles and for entries whose sizes come after the data (torch writes data
    /// descriptors): the pickle ends at STOP, a DEFLATE stream ends itself, and the central
    /// directory checks afterwards that the entry was not overrun.
    entry_left: Option<u64>,
    /// ZIP only: bytes of the entry's data consumed.
    entry_used: u64,
    inflate: Option<Box<flate2::Decompress>>,
    inflated: u64,
    /// DEFLATED only: inflated bytes the machine has not consumed yet.
    out: Vec<u8>,
    /// DEFLATED only: where each step inflates to.
    scratch: Vec<u8>,
    /// Legacy files: which of the four pickles this is (0 magic … 3 object).
    legacy_stage: Option<u8>,
    /// Where this pickle starts in the file (error offsets of legacy pickles count from it).
    base: u64,
}

/// What the core made of the file.
pub(crate) enum Outcome {
    Dump(Dump),
    /// The layout needs the whole file and the `zip` crate.
    Whole,
}

/// The reader both entry points share.
pub(crate) struct Core<'l> {
    limits: &'l Limits,
    state: State<'l>,
    /// Given to each pickle's machine in turn (legacy files have several).
    sink: Option<Box<dyn crate::SampleSink + 'l>>,
    /// File offset of the next byte to be fed.
    offset: u64,
}

impl<'l> Core<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Core {
            limits,
            sink: None,
            state: State::Start,
            offset: 0,
        }
    }

    /// Whether the bytes read so far may still be needed whole (nothing streamed yet).
    fn before_pickle(&self) -> bool {
        matches!(
            self.state,
            State::Start | State::ZipHeader | State::ZipSkip { .. } | State::Whole
        )
    }

    /// Feeds `input` (the bytes from `self.offset` on); returns how many were consumed. The
    /// caller passes the rest again with more bytes appended. With `eof`, `input` is all that
    /// is left and the result is final: call [`Core::outcome`].
    pub(crate) fn feed(&mut self, input: &[u8], eof: bool) -> Result<usize, Error> {
        let r = self.feed_inner(input, eof);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn feed_inner(&mut self, input: &[u8], eof: bool) -> Result<usize, Error> {
        let mut at = 0usize;
        loop {
            let rest = &input[at..];
            match &mut self.state {
                State::Failed => return Ok(at),
                State::Done(_) | State::Whole => return Ok(input.len()),
                State::Start => {
                    // Eight bytes, so an error can quote the same start of file however the
                    // bytes arrive.
                    if rest.len() < 8 && !eof {
                        return Ok(at);
                    }
                    match crate::sniff(rest) {
                        Some("zip") => self.state = State::ZipHeader,
                        Some(_) => {
                            self.state = State::Pickle(Box::new(PickleRun {
                                machine: Machine::new(self.limits, 0).with_sink(self.sink.take()),
                                part: "pickle".into(),
                                zip_local_at: None,
                                entry_left: None,
                                entry_used: 0,
                                inflate: None,
                                inflated: 0,
                                out: Vec::new(),
                                scratch: Vec::new(),
                                legacy_stage: Some(0),
                                base: 0,
                            }))
                        }
                        None => return Err(Error::NotTorch(describe_start(rest))),
                    }
                }
                State::ZipHeader => {
                    let entry = match zipdir::local_header(rest) {
                        Local::NeedMore if !eof => return Ok(at),
                        Local::NeedMore | Local::Unstreamable => {
                            self.state = State::Whole;
                            continue;
                        }
                        Local::Entry(e) => e,
                    };
                    let limit = self.limits.max_pickle_bytes;
                    let data_pkl = zipdir::is_data_pkl(&entry.name);
                    let known = !entry.sizes_later;
                    if data_pkl && (entry.method == 0 || entry.method == 8) {
                        // A STORED entry's data is its pickle: either size may say too much.
                        let declared = match entry.method {
                            0 => entry.usize.max(entry.csize),
                            _ => entry.usize,
                        };
                        if declared > limit {
                            return Err(Error::TooLarge {
                                entry: entry.name,
                                limit,
                                declared: Some(declared),
                            });
                        }
                        let local_at = self.offset;
                        self.advance(&mut at, entry.header_len);
                        self.state = State::Pickle(Box::new(PickleRun {
                            machine: Machine::new(self.limits, 0).with_sink(self.sink.take()),
                            part: entry.name,
                            zip_local_at: Some(local_at),
                            entry_left: known.then_some(entry.csize),
                            entry_used: 0,
                            inflate: (entry.method == 8)
                                .then(|| Box::new(flate2::Decompress::new(false))),
                            inflated: 0,
                            out: Vec::new(),
                            scratch: Vec::new(),
                            legacy_stage: None,
                            base: 0,
                        }));
                    } else if data_pkl || !known {
                        // (An entry before data.pkl whose size comes after its data cannot be
                        // skipped from here.)
                        // A compression we do not stream, or sizes only after the data.
                        self.state = State::Whole;
                    } else {
                        // The entries before data.pkl are held until it is found (the file
                        // may have to be read whole): they must fit the same limit.
                        // Saturating: a ZIP64 size near u64::MAX must not wrap below the limit.
                        let end = self
                            .offset
                            .saturating_add(entry.header_len as u64)
                            .saturating_add(entry.csize);
                        if end > limit {
                            return Err(Error::TooLargeWhole { limit });
                        }
                        self.advance(&mut at, entry.header_len);
                        self.state = State::ZipSkip {
                            remaining: entry.csize,
                        };
                    }
                }
                State::ZipSkip { remaining } => {
                    let n = (*remaining).min(rest.len() as u64) as usize;
                    *remaining -= n as u64;
                    let done = *remaining == 0;
                    self.advance(&mut at, n);
                    if !done {
                        if eof {
                            // The entry is cut short: let the zip crate say so.
                            self.state = State::Whole;
                            continue;
                        }
                        return Ok(at);
                    }
                    self.state = State::ZipHeader;
                }
                State::Pickle(run) => {
                    let used = if run.inflate.is_some() {
                        run.inflate_step(rest, eof, self.limits.max_pickle_bytes)?
                    } else {
                        run.stored_step(rest, eof)?
                    };
                    let finished = run.machine.is_done();
                    self.advance(&mut at, used);
                    if finished {
                        self.pickle_done()?;
                    } else if used == 0 || at == input.len() {
                        return Ok(at);
                    }
                }
                State::ZipRest { tail, .. } => {
                    keep_tail(tail, rest);
                    self.advance(&mut at, rest.len());
                    if !eof {
                        return Ok(at);
                    }
                    let State::ZipRest {
                        dump,
                        local_at,
                        used,
                        tail,
                    } = std::mem::replace(&mut self.state, State::Failed)
                    else {
                        return Ok(at);
                    };
                    let Format::Zip { entry } = &dump.format else {
                        return Ok(at);
                    };
                    zipdir::check_central(&tail, self.offset, entry, local_at, used)?;
                    self.state = State::Done(dump);
                }
            }
        }
    }

    fn advance(&mut self, at: &mut usize, n: usize) {
        *at += n;
        self.offset += n as u64;
    }

    /// The current pickle reached STOP.
    fn pickle_done(&mut self) -> Result<(), Error> {
        let State::Pickle(run) = std::mem::replace(&mut self.state, State::Failed) else {
            return Ok(());
        };
        let PickleRun {
            machine,
            part,
            zip_local_at,
            entry_used,
            legacy_stage,
            base,
            ..
        } = *run;
        let used = machine.offset();
        let mut machine = machine;
        if let Some(sink) = machine.take_sink() {
            self.sink = Some(sink);
        }
        let Some(tree) = machine.finish() else {
            return Ok(());
        };
        self.state = match legacy_stage {
            _ if zip_local_at.is_some() => State::ZipRest {
                dump: Dump {
                    tree,
                    format: Format::Zip { entry: part },
                },
                local_at: zip_local_at.unwrap_or(0),
                used: entry_used,
                tail: Vec::new(),
            },
            Some(0) if !matches!(&tree.root, Value::BigInt(s) if &**s == LEGACY_MAGIC) => {
                State::Done(Dump {
                    tree,
                    format: Format::Pickle,
                })
            }
            Some(3) | None => State::Done(Dump {
                tree,
                format: Format::Legacy,
            }),
            Some(stage) => {
                let next = base + used;
                // The first pickle was the magic number, not the dump: whatever it handed
                // over is not samples. Only the object pickle (stage 3) hands over again.
                if stage == 0 {
                    if let Some(sink) = self.sink.as_mut() {
                        sink.discard();
                    }
                }
                let sink = if stage + 1 == 3 {
                    self.sink.take()
                } else {
                    None
                };
                let part = match stage + 1 {
                    1 => "legacy torch file (protocol version)",
                    2 => "legacy torch file (sys info)",
                    _ => "legacy torch file (object)",
                };
                State::Pickle(Box::new(PickleRun {
                    machine: Machine::new(self.limits, next).with_sink(sink),
                    part: part.into(),
                    zip_local_at: None,
                    entry_left: None,
                    entry_used: 0,
                    inflate: None,
                    inflated: 0,
                    out: Vec::new(),
                    scratch: Vec::new(),
                    legacy_stage: Some(stage + 1),
                    base: next,
                }))
            }
        };
        Ok(())
    }

    /// After `feed(…, eof = true)`: the dump, or the need for a whole-file read.
    pub(crate) fn outcome(self) -> Result<Outcome, Error> {
        match self.state {
            State::Done(dump) => Ok(Outcome::Dump(dump)),
            State::Whole => Ok(Outcome::Whole),
            // `feed` with eof ends in one of the above or returns an error.
            _ => Err(Error::Zip(
                "the reader stopped before the end of the file".into(),
            )),
        }
    }
}

/// Keeps the last [`TAIL_MAX`] bytes seen, whatever the chunks.
fn keep_tail(tail: &mut Vec<u8>, more: &[u8]) {
    if more.len() >= TAIL_MAX {
        tail.clear();
        tail.extend_from_slice(&more[more.len() - TAIL_MAX..]);
        return;
    }
    tail.extend_from_slice(more);
    // Trim in steps so that trimming stays linear overall.
    if tail.len() >= 2 * TAIL_MAX {
        tail.drain(..tail.len() - TAIL_MAX);
    }
}

impl PickleRun<'_> {
    fn pickle_error(&self, source: PickleError) -> Error {
        Error::Pickle {
            part: self.part.clone(),
            source,
        }
    }

    /// A bare pickle, a legacy pickle or a STORED entry: the machine reads `rest` in place
    /// (only up to the entry's end). Returns the bytes consumed.
    fn stored_step(&mut self, rest: &[u8], eof: bool) -> Result<usize, Error> {
        let (bytes, last) = match self.entry_left {
            Some(left) if (rest.len() as u64) >= left => (&rest[..left as usize], true),
            _ => (rest, eof),
        };
        let consumed = match self.machine.run(bytes, last) {
            Ok(Progress::Done { consumed } | Progress::NeedMore { consumed }) => consumed,
            Err(e) => return Err(self.pickle_error(e)),
        };
        if let Some(left) = &mut self.entry_left {
            *left -= consumed as u64;
        }
        self.entry_used += consumed as u64;
        Ok(consumed)
    }

    /// A DEFLATED entry: inflates what `rest` holds of the entry and feeds the machine.
    /// Inflation stops at the limit's last byte, and the machine runs on every byte before
    /// the limit is reported, so where a file fails does not depend on chunk sizes.
    fn inflate_step(&mut self, rest: &[u8], eof: bool, limit: u64) -> Result<usize, Error> {
        let left = self.entry_left.unwrap_or(u64::MAX);
        let input = &rest[..(left.min(rest.len() as u64)) as usize];
        let mut at = 0usize;
        loop {
            let Some(d) = self.inflate.as_mut() else {
                return Ok(at);
            };
            let room = limit - self.inflated.min(limit);
            let want = if room == 0 {
                1
            } else {
                room.min(INFLATE_STEP as u64) as usize
            };
            if self.scratch.len() < want {
                self.scratch.resize(want, 0);
            }
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d.decompress(
                &input[at..],
                &mut self.scratch[..want],
                flate2::FlushDecompress::None,
            );
            let produced = (d.total_out() - out0) as usize;
            self.out.extend_from_slice(&self.scratch[..produced]);
            at += (d.total_in() - in0) as usize;
            self.inflated += produced as u64;
            if room == 0 && produced > 0 {
                return Err(Error::TooLarge {
                    entry: self.part.clone(),
                    limit,
                    declared: None,
                });
            }
            let stream_end = matches!(status, Ok(flate2::Status::StreamEnd));
            let entry_end = at as u64 == left && rest.len() as u64 >= left;
            let stuck = produced == 0 && (at == input.len() || stream_end);
            // Out of inflated bytes for good: the machine must finish on what it has.
            // (Not on a damaged stream: its error is reported, whatever the chunks.)
            let last = stuck && status.is_ok() && (stream_end || entry_end || eof);
            let consumed = match self.machine.run(&self.out, last) {
                Ok(Progress::Done { consumed } | Progress::NeedMore { consumed }) => consumed,
                Err(e) => return Err(self.pickle_error(e)),
            };
            self.out.drain(..consumed);
            let done = self.machine.is_done();
            if let (false, Err(e)) = (done, &status) {
                return Err(Error::Zip(format!("{}: {e}", self.part)));
            }
            if done || stuck {
                if let Some(l) = &mut self.entry_left {
                    *l -= at as u64;
                }
                self.entry_used += at as u64;
                return Ok(at);
            }
        }
    }
}

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

    /// A reader that hands each batch of complete samples to `sink` and frees them (see
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
            self.pending.extend_from_slice(chunk);
            let used = self.core.feed(&self.pending, false)?;
            self.pending.drain(..used);
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

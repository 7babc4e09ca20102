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

mod reader;
mod run;

pub(crate) use reader::read_whole;
pub use reader::{read_with_sink, StreamReader};

use crate::container::{describe_start, Dump, Format, LEGACY_MAGIC};
use crate::error::Error;
use crate::pickle::Machine;
use crate::value::Value;
use crate::zipdir::{self, Local, TAIL_MAX};
use crate::Limits;
use run::PickleRun;

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
                            let machine = Machine::new(self.limits, 0).with_sink(self.sink.take());
                            let run = PickleRun::pickle(machine, "pickle", 0, 0);
                            self.state = State::Pickle(Box::new(run));
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
                        let machine = Machine::new(self.limits, 0).with_sink(self.sink.take());
                        let size = known.then_some(entry.csize);
                        let run = PickleRun::zip_entry(
                            machine,
                            entry.name,
                            local_at,
                            size,
                            entry.method == 8,
                        );
                        self.state = State::Pickle(Box::new(run));
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
                let machine = Machine::new(self.limits, next).with_sink(sink);
                State::Pickle(Box::new(PickleRun::pickle(machine, part, stage + 1, next)))
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

//! Reading a dump as its bytes arrive, without holding the file.
//!
//! Why: a 300 MB dump read into memory and then parsed costs the file twice over in a browser
//! tab. Torch writes `*/data.pkl` as the first ZIP entry, right after a small local header, so
//! the pickle can be fed to the (resumable) [`Machine`] chunk by chunk and each chunk dropped
//! once consumed; a DEFLATED entry is inflated on the fly. Legacy torch files and bare pickles
//! are sequences of pickles and stream the same way.
//!
//! When the layout does not allow that (`data.pkl` not reachable from the local headers),
//! the reader keeps the bytes and falls back to [`crate::read`] at the end, so the result is
//! always what the whole-buffer reader gives.

use crate::container::{Dump, Format, LEGACY_MAGIC};
use crate::error::{Error, PickleError, PickleErrorKind};
use crate::pickle::{Machine, Progress};
use crate::value::Value;
use crate::Limits;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;

enum State<'l> {
    /// Waiting for enough bytes to tell the format.
    Start,
    /// At a ZIP local file header.
    ZipHeader,
    /// Skipping the data of an entry that is not `data.pkl`.
    ZipSkip { remaining: u64 },
    /// Running the pickle of `part`; `inflate` is set for DEFLATED entries.
    Pickle {
        machine: Box<Machine<'l>>,
        part: String,
        inflate: Option<Box<flate2::Decompress>>,
        inflated: u64,
        /// DEFLATED only: inflated bytes the machine has not consumed yet.
        tail: Vec<u8>,
        /// Legacy files: which of the four pickles this is (0 magic … 3 object).
        legacy_stage: Option<u8>,
        /// Where this pickle started in the file (for error offsets of legacy pickles).
        base: u64,
    },
    /// The value is read; further bytes (storages, other entries) are ignored.
    Done(Dump),
    /// Layout we cannot stream: keep everything and read it whole at the end.
    Buffer,
}

/// Push-based reader: [`StreamReader::push`] each chunk, then [`StreamReader::finish`].
pub struct StreamReader<'l> {
    limits: &'l Limits,
    state: State<'l>,
    /// Bytes received but not yet consumed by the current state.
    pending: Vec<u8>,
    /// Every byte so far, kept only until streaming is certain (before `data.pkl` starts).
    seen: Option<Vec<u8>>,
    /// File offset of `pending[0]`.
    offset: u64,
}

impl<'l> StreamReader<'l> {
    pub fn new(limits: &'l Limits) -> Self {
        StreamReader {
            limits,
            state: State::Start,
            pending: Vec::new(),
            seen: Some(Vec::new()),
            offset: 0,
        }
    }

    /// Whether the value is complete (the rest of the file is not needed).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Feeds the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if matches!(self.state, State::Done(_)) {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            seen.extend_from_slice(chunk);
        }
        if matches!(self.state, State::Buffer) {
            return Ok(());
        }
        // In a pickle, run the machine on the new bytes directly when nothing is pending,
        // and keep only the unconsumed tail: each byte is copied at most once.
        if let State::Pickle { inflate: None, .. } = &self.state {
            if self.pending.is_empty() {
                let used = self.feed_pickle(chunk, false)?;
                if !matches!(self.state, State::Done(_)) {
                    self.pending.extend_from_slice(&chunk[used..]);
                    self.offset += used as u64;
                }
                return self.step(false);
            }
        }
        self.pending.extend_from_slice(chunk);
        self.step(false)
    }

    /// Ends the input: the value, or the error the whole-buffer reader would give.
    pub fn finish(mut self) -> Result<Dump, Error> {
        self.step(true)?;
        match std::mem::replace(&mut self.state, State::Start) {
            State::Done(dump) => Ok(dump),
            State::Pickle {
                mut machine,
                part,
                inflate,
                tail,
                ..
            } => {
                // Out of bytes mid-pickle: let the machine name the opcode and offset.
                let rest = if inflate.is_some() {
                    tail
                } else {
                    self.pending
                };
                let err = match machine.run(&rest, true) {
                    Err(e) => e,
                    Ok(_) => PickleError {
                        offset: machine.offset(),
                        opcode: None,
                        kind: PickleErrorKind::NoStop,
                    },
                };
                Err(Error::Pickle { part, source: err })
            }
            _ => {
                let all = self.seen.take().unwrap_or(self.pending);
                crate::read(&all, self.limits)
            }
        }
    }

    /// Runs the machine over `bytes` (raw pickle bytes); returns how many it consumed.
    fn feed_pickle(&mut self, bytes: &[u8], eof: bool) -> Result<usize, Error> {
        let State::Pickle { machine, part, .. } = &mut self.state else {
            return Ok(0);
        };
        match machine.run(bytes, eof) {
            Ok(Progress::NeedMore { consumed }) => Ok(consumed),
            Ok(Progress::Done { consumed }) => {
                self.pickle_done()?;
                Ok(consumed)
            }
            Err(source) => Err(Error::Pickle {
                part: part.clone(),
                source,
            }),
        }
    }

    /// The current pickle reached STOP.
    fn pickle_done(&mut self) -> Result<(), Error> {
        let State::Pickle {
            machine,
            part,
            legacy_stage,
            base,
            ..
        } = std::mem::replace(&mut self.state, State::Start)
        else {
            return Ok(());
        };
        let used = machine.offset();
        let Some(tree) = machine.finish() else {
            return Ok(());
        };
        match legacy_stage {
            None => {
                self.state = State::Done(Dump {
                    tree,
                    format: Format::Zip { entry: part },
                });
            }
            Some(0) if !matches!(&tree.root, Value::BigInt(s) if &**s == LEGACY_MAGIC) => {
                self.state = State::Done(Dump {
                    tree,
                    format: Format::Pickle,
                });
            }
            Some(3) => {
                self.state = State::Done(Dump {
                    tree,
                    format: Format::Legacy,
                });
            }
            Some(stage) => {
                let next = base + used;
                let part = match stage + 1 {
                    1 => "legacy torch file (protocol version)",
                    2 => "legacy torch file (sys info)",
                    _ => "legacy torch file (object)",
                };
                self.state = State::Pickle {
                    machine: Box::new(Machine::new(self.limits, next)),
                    part: part.into(),
                    inflate: None,
                    inflated: 0,
                    tail: Vec::new(),
                    legacy_stage: Some(stage + 1),
                    base: next,
                };
            }
        }
        if matches!(self.state, State::Done(_)) {
            self.pending = Vec::new();
            self.seen = None;
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.pending.drain(..n);
        self.offset += n as u64;
    }

    /// Advances through whatever `pending` allows.
    fn step(&mut self, eof: bool) -> Result<(), Error> {
        loop {
            match &mut self.state {
                State::Done(_) | State::Buffer => return Ok(()),
                State::Start => {
                    if self.pending.len() < 4 && !eof {
                        return Ok(());
                    }
                    match crate::sniff(&self.pending) {
                        Some("zip") => self.state = State::ZipHeader,
                        Some(_) => {
                            self.state = State::Pickle {
                                machine: Box::new(Machine::new(self.limits, 0)),
                                part: "pickle".into(),
                                inflate: None,
                                inflated: 0,
                                tail: Vec::new(),
                                legacy_stage: Some(0),
                                base: 0,
                            };
                            // A bare pickle or legacy file streams from its first byte.
                            self.seen = None;
                        }
                        None => {
                            self.state = State::Buffer;
                            return Ok(());
                        }
                    }
                }
                State::ZipHeader => {
                    if self.pending.len() < 4 {
                        return Ok(());
                    }
                    let sig = u32::from_le_bytes([
                        self.pending[0],
                        self.pending[1],
                        self.pending[2],
                        self.pending[3],
                    ]);
                    if sig == CENTRAL_HEADER || sig == END_OF_CENTRAL || sig != LOCAL_HEADER {
                        // No data.pkl among the local entries (or an odd layout): read whole.
                        self.state = State::Buffer;
                        return Ok(());
                    }
                    if self.pending.len() < 30 {
                        return Ok(());
                    }
                    let p = &self.pending;
                    let u16_at = |i: usize| u16::from_le_bytes([p[i], p[i + 1]]);
                    let u32_at =
                        |i: usize| u32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
                    let flags = u16_at(6);
                    let method = u16_at(8);
                    let mut csize = u32_at(18) as u64;
                    let name_len = u16_at(26) as usize;
                    let extra_len = u16_at(28) as usize;
                    let header_len = 30 + name_len + extra_len;
                    if self.pending.len() < header_len {
                        return Ok(());
                    }
                    let name =
                        String::from_utf8_lossy(&self.pending[30..30 + name_len]).into_owned();
                    if csize == 0xFFFF_FFFF {
                        csize = zip64_csize(&self.pending[30 + name_len..header_len])
                            .unwrap_or(u64::MAX);
                    }
                    let is_data_pkl = (name == "data.pkl" || name.ends_with("/data.pkl"))
                        && name.matches('/').count() <= 1;
                    if is_data_pkl && (method == 0 || method == 8) {
                        self.consume(header_len);
                        // From here the bytes are the pickle's: no fallback needed any more.
                        self.seen = None;
                        self.state = State::Pickle {
                            machine: Box::new(Machine::new(self.limits, 0)),
                            part: name,
                            inflate: (method == 8)
                                .then(|| Box::new(flate2::Decompress::new(false))),
                            inflated: 0,
                            tail: Vec::new(),
                            legacy_stage: None,
                            base: 0,
                        };
                    } else if flags & 0x08 != 0 || csize == u64::MAX || is_data_pkl {
                        // Size unknown here, or a compression we do not stream: read whole.
                        self.state = State::Buffer;
                        return Ok(());
                    } else {
                        self.consume(header_len);
                        self.state = State::ZipSkip { remaining: csize };
                    }
                }
                State::ZipSkip { remaining } => {
                    let n = (*remaining).min(self.pending.len() as u64) as usize;
                    *remaining -= n as u64;
                    let done = *remaining == 0;
                    self.consume(n);
                    if !done {
                        return Ok(());
                    }
                    self.state = State::ZipHeader;
                }
                State::Pickle { inflate: None, .. } => {
                    let bytes = std::mem::take(&mut self.pending);
                    let used = self.feed_pickle(&bytes, false)?;
                    if matches!(self.state, State::Done(_)) {
                        return Ok(());
                    }
                    self.pending = bytes;
                    self.consume(used);
                    if matches!(self.state, State::Pickle { .. }) {
                        // Need more bytes (or the next legacy pickle starts on the next turn).
                        if used == 0 || self.pending.is_empty() {
                            return Ok(());
                        }
                    }
                }
                State::Pickle {
                    inflate: Some(_), ..
                } => {
                    return self.inflate_step();
                }
            }
        }
    }

    /// DEFLATED `data.pkl`: inflate what is pending and feed the machine.
    fn inflate_step(&mut self) -> Result<(), Error> {
        let limit = self.limits.max_pickle_bytes;
        let input = std::mem::take(&mut self.pending);
        let mut tail = match &mut self.state {
            State::Pickle { tail, .. } => std::mem::take(tail),
            _ => return Ok(()),
        };
        let mut out: Vec<u8> = Vec::with_capacity(256 * 1024);
        let mut at = 0usize;
        loop {
            let State::Pickle {
                inflate: Some(d),
                inflated,
                part,
                ..
            } = &mut self.state
            else {
                return Ok(());
            };
            out.clear();
            let (before_in, before_out) = (d.total_in(), d.total_out());
            let status = d
                .decompress_vec(&input[at..], &mut out, flate2::FlushDecompress::None)
                .map_err(|e| Error::Zip(format!("{part}: {e}")))?;
            at += (d.total_in() - before_in) as usize;
            let produced = (d.total_out() - before_out) as usize;
            *inflated += produced as u64;
            if *inflated > limit {
                return Err(Error::TooLarge {
                    entry: part.clone(),
                    limit,
                });
            }
            tail.extend_from_slice(&out[..produced]);
            let used = self.feed_pickle(&tail, false)?;
            if matches!(self.state, State::Done(_)) {
                return Ok(());
            }
            tail.drain(..used);
            if produced == 0 && (at >= input.len() || status == flate2::Status::StreamEnd) {
                break;
            }
        }
        if let State::Pickle { tail: t, .. } = &mut self.state {
            *t = tail;
        }
        self.pending = input[at..].to_vec();
        Ok(())
    }
}

/// The compressed size from a ZIP64 extended-information extra field.
fn zip64_csize(extra: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[i], extra[i + 1]]);
        let len = u16::from_le_bytes([extra[i + 2], extra[i + 3]]) as usize;
        let body = extra.get(i + 4..i + 4 + len)?;
        if id == 0x0001 && body.len() >= 16 {
            return Some(u64::from_le_bytes(body[8..16].try_into().ok()?));
        }
        i += 4 + len;
    }
    None
}

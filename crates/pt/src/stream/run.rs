//! One pickle fed to its [`Machine`] as bytes arrive: in place for a bare or legacy pickle
//! and a STORED entry, inflated step by step for a DEFLATED one.

use crate::error::{Error, PickleError};
use crate::pickle::{Machine, Progress};

/// Inflated bytes produced per step (at most).
const INFLATE_STEP: usize = 256 * 1024;
/// One pickle being fed to its machine: a bare pickle, one of a legacy file's four, or a
/// ZIP entry's (stored, or inflated on the fly).
pub(super) struct PickleRun<'l> {
    pub(super) machine: Machine<'l>,
    pub(super) part: String,
    /// ZIP only: where the entry's local header began.
    pub(super) zip_local_at: Option<u64>,
    /// ZIP entries of known size: bytes of the entry's data not fed yet. `None` for bare and
    /// legacy pickles and for entries whose sizes come after the data (torch writes data
    /// descriptors): the pickle ends at STOP, a DEFLATE stream ends itself, and the central
    /// directory checks afterwards that the entry was not overrun.
    entry_left: Option<u64>,
    /// ZIP only: bytes of the entry's data consumed.
    pub(super) entry_used: u64,
    pub(super) inflate: Option<Box<flate2::Decompress>>,
    inflated: u64,
    /// DEFLATED only: inflated bytes the machine has not consumed yet.
    out: Vec<u8>,
    /// DEFLATED only: where each step inflates to.
    scratch: Vec<u8>,
    /// Legacy files: which of the four pickles this is (0 magic … 3 object).
    pub(super) legacy_stage: Option<u8>,
    /// Where this pickle starts in the file (error offsets of legacy pickles count from it).
    pub(super) base: u64,
}

impl<'l> PickleRun<'l> {
    /// A bare pickle, or a legacy file's pickle number `stage` (0 magic … 3 object), starting
    /// at file offset `base`.
    pub(super) fn pickle(machine: Machine<'l>, part: &str, stage: u8, base: u64) -> Self {
        PickleRun {
            machine,
            part: part.into(),
            zip_local_at: None,
            entry_left: None,
            entry_used: 0,
            inflate: None,
            inflated: 0,
            out: Vec::new(),
            scratch: Vec::new(),
            legacy_stage: Some(stage),
            base,
        }
    }

    /// The pickle of ZIP entry `part`, whose local header began at `local_at`; `entry_left`
    /// is its data's size when the header knows it.
    pub(super) fn zip_entry(
        machine: Machine<'l>,
        part: String,
        local_at: u64,
        entry_left: Option<u64>,
        deflated: bool,
    ) -> Self {
        PickleRun {
            machine,
            part,
            zip_local_at: Some(local_at),
            entry_left,
            entry_used: 0,
            inflate: deflated.then(|| Box::new(flate2::Decompress::new(false))),
            inflated: 0,
            out: Vec::new(),
            scratch: Vec::new(),
            legacy_stage: None,
            base: 0,
        }
    }
    fn pickle_error(&self, source: PickleError) -> Error {
        Error::Pickle {
            part: self.part.clone(),
            source,
        }
    }

    /// A bare pickle, a legacy pickle or a STORED entry: the machine reads `rest` in place
    /// (only up to the entry's end). Returns the bytes consumed.
    pub(super) fn stored_step(&mut self, rest: &[u8], eof: bool) -> Result<usize, Error> {
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
    pub(super) fn inflate_step(
        &mut self,
        rest: &[u8],
        eof: bool,
        limit: u64,
    ) -> Result<usize, Error> {
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

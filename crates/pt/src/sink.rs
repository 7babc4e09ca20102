//! Samples handed over as soon as they are read, then freed: how a long dump is read without
//! ever holding its whole value tree.
//!
//! A rollout dump is `{"samples": [sample, …], …}` (or the list itself), and the pickler
//! writes the sample list as batches of complete samples (`MARK sample… APPENDS`, 1 000 at a
//! time, or one `APPEND` each). With a [`SampleSink`] given to the reader
//! ([`crate::StreamReader::with_sink`]), the samples of a batch of *the sample list* are handed
//! to the sink with the tree read so far, and then every container made for them (the samples
//! and everything inside them) becomes [`Node::Released`](crate::Node::Released) and the
//! charge for its items is returned (not for its slot, so that the charges stay the whole
//! read's). The list keeps its items (references to released containers).
//!
//! **When.** In a pickle of protocol 2 or more (what `torch.save` writes), a batch is handed
//! over as it is read: a sample that is a dict with a `trace` once three more such dicts follow it
//! on the stack (it is complete then: see `pickle/handover.rs`), the rest at the APPENDS; so
//! a few samples' containers exist at once, not a batch's thousand. A batch partly handed
//! over must end in its APPENDS (the pickler's always does); one whose MARK is consumed
//! otherwise, whose handed-over item is taken off the stack or reached again, or whose list
//! is appended to through a memo reference meanwhile, is an error, never a wrong answer.
//! Below protocol 2 (where a MARK right above a list may start one of its items), for
//! samples that are objects, and for a batch after containers the pickler would not make
//! there (between the list, or its last APPENDS, and the batch's MARK), a batch is handed
//! over at its APPENDS. `tests/fixtures/pickler/` holds Python's pickler's shapes and the
//! crafted ones; each reads the same with whole batches.
//!
//! **Shared containers.** The pickler writes a second reference to one object as a memo
//! reference. Once a memo reference reaches a container made for the batch being read (a
//! sample listed twice, samples sharing a trace; slime's samples never share one), the read
//! hands over whole batches only, from then on, so every sample still sees what it shares.
//!
//! **Which list.** The first list that receives items while it sits at the bottom of the
//! stack (the pickle's value is a list), or just above the key `"samples"` of the dict at the
//! bottom of the stack with no container open in between (the value of the root dict's
//! `samples` key). Nothing else is ever released.
//!
//! **Which pickle.** A legacy torch file is several pickles; only the one that is the dump's
//! value hands samples over: the first (unless it ends as the legacy magic number, and then
//! whatever it handed over is [discarded](SampleSink::discard)) and the object pickle, never
//! the protocol version or sys info between them.
//!
//! **Same answer in any chunks.** Hand-over and release happen inside the opcode loop, after
//! the opcode that completes them, so they do not depend on how the bytes arrive. A sample
//! handed over early is freed 128 to 256 samples later (`pickle/handover.rs`), so a
//! memo reference from a later sample still finds it whole (and switches the read to whole
//! batches). A pickle that refers back into a sample already freed (a reference across
//! batches, or, as the first shared reference of its batch, one reaching more than 128
//! samples back) reads `Released` there and the sink is told
//! ([`SampleSink::freed_reference`]: the rows say so); a pickle that mutates a released
//! container (SETITEM, APPEND, BUILD) fails.

use crate::{NodeId, Tree, Value};

/// Receives each batch of complete samples (see the module doc).
pub trait SampleSink {
    /// `items` were appended to the sample list `list` at positions `first..first + len`;
    /// `tree` holds everything read so far (its root is `None` until the end); `offset` is
    /// the position in the pickle just after the appending opcode (plus the pickle's start in
    /// the file), which grows with the input, whatever the chunks.
    fn take(&mut self, tree: &Tree, list: NodeId, first: usize, items: &[Value], offset: u64);

    /// Everything handed over so far belongs to a pickle that turned out not to be the
    /// dump's value (a legacy file's first pickle, which must end as its magic number): forget
    /// it. The samples of the pickle that is the dump's value are handed over afresh.
    fn discard(&mut self) {}

    /// A memo reference reached a container already handed over and freed (an object shared
    /// by samples far apart in the pickle): what refers to it reads `Released`.
    fn freed_reference(&mut self) {}
}

//! Samples handed over as soon as they are read, then freed: how a long dump is read without
//! ever holding its whole value tree.
//!
//! A rollout dump is `{"samples": [sample, …], …}` (or the list itself), and the pickler
//! writes the sample list as batches of complete samples (`MARK sample… APPENDS`, 1 000 at a
//! time, or one `APPEND` each). With a [`SampleSink`] given to the reader
//! ([`crate::StreamReader::with_sink`]), each batch appended to *the sample list* is handed to
//! the sink right after the opcode that appends it, with the tree read so far; then every
//! container made since the previous batch (the batch's samples and everything inside them)
//! becomes [`Node::Released`](crate::Node::Released) and the charge for its items is returned
//! (not for its slot: a released node keeps its place in the arena, so containers made
//! between batches still count against `max_memory`). The list keeps its items (references to
//! released containers).
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
//! **Same answer in any chunks.** Hand-over and release happen inside the opcode loop, at the
//! opcode that appends, so they do not depend on how the bytes arrive. A pickle that refers
//! back into a released sample (only a crafted one: the pickler never shares containers
//! between samples) reads `Released` there; a pickle that mutates a released container fails
//! as if the target were not a container.

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
}

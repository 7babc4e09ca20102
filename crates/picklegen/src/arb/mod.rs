//! A structured generator for fuzzing: arbitrary bytes → a rollout-dump-shaped pickle.
//!
//! Why: a byte-level fuzzer almost never writes a valid memo reference, let alone a cycle
//! through an object's BUILD state or one container shared by a thousand events. This module
//! spends the fuzzer's bytes on *choices* instead (which shape, which reference, how many), so
//! every input is a valid-ish pickle shaped like a slime dump: samples (dicts or `Sample`
//! objects) with traces whose events have odd span structures, memo references (PUT/GET and
//! MEMOIZE) to earlier and to unfinished containers (cycles through lists, dicts and BUILD
//! state), shared containers, deep chains, tensors, enum members, objects and long number
//! lists with the odd `None` in them. A few choices are deliberately wrong (a GET of a key
//! never PUT, a truncated file) so that error paths are reached from deep inside a dump.
//!
//! Bounded: nesting of generated values is at most [`MAX_DEPTH`] (deep chains are written by
//! loops, not recursion), repeated shapes at most [`MAX_REPEAT`] items, and generation stops
//! adding values once the pickle passes [`MAX_BYTES`]. The generator never panics: when the
//! input runs out, every choice takes its first option.
//!
//! Layout: `mod.rs` (the entry point, the containers, choices and memo), `dump.rs` (samples,
//! traces, events, attributes), `values.rs` (values of any shape).

mod dump;
mod values;

use arbitrary::Unstructured;

use crate::{torch_zip, zip_entries, Entry, Method, Pickle};

/// How deep generated values nest (by recursion in the generator).
pub const MAX_DEPTH: u32 = 6;
/// Most items of one repeated shape (events, list items, chain links).
pub const MAX_REPEAT: u32 = 5_000;
/// The generator stops adding optional values past this many pickle bytes.
pub const MAX_BYTES: usize = 1 << 20;

/// A generated file and the chunk sizes to stream it in.
#[derive(Debug, Clone)]
pub struct Generated {
    pub bytes: Vec<u8>,
    /// Chunk sizes (cycled) for feeding a streaming reader; empty means one chunk.
    pub chunks: Vec<usize>,
}

/// Builds a dump from fuzz bytes. Total: any input gives a file.
pub fn dump_from_bytes(data: &[u8]) -> Generated {
    let mut g = Gen {
        u: Unstructured::new(data),
        p: Pickle::proto(2),
        next_memo: 0,
        memo: Vec::new(),
        keys: Vec::new(),
        odd_floats: false,
    };
    let container = g.below(8);
    g.odd_floats = g.chance(4);
    // Chunk sizes as `fuzzcheck::stream::chunk_size` spells them (1–240 bytes or 1–16 × 4 KiB),
    // so a finding can be replayed as a `stream_vs_whole` input.
    let chunks = (0..g.below(4))
        .map(|_| match g.below(256) {
            b @ 0..=239 => b as usize + 1,
            b => (b as usize - 239) * 4096,
        })
        .collect();
    g.dump();
    let pkl = g.p.stop();
    let pkl = if g.chance(16) {
        // Cut short: an error from deep inside the file, streamed and whole.
        let keep = g.below(pkl.len() as u32) as usize;
        pkl[..keep].to_vec()
    } else {
        pkl
    };
    let bytes = match container {
        0 => torch_zip("rollout_0", &pkl),
        1 => zip_entries(&[
            Entry {
                name: "archive/data.pkl",
                data: &pkl,
                method: Method::Deflated,
            },
            Entry {
                name: "archive/version",
                data: b"3\n",
                method: Method::Stored,
            },
        ]),
        2 => legacy(&pkl),
        3 if g.chance(4) => {
            // Two `*/data.pkl` entries: which one a reader takes must not depend on streaming.
            zip_entries(&[
                Entry {
                    name: "a/data.pkl",
                    data: &pkl,
                    method: Method::Stored,
                },
                Entry {
                    name: "b/data.pkl",
                    data: b"\x80\x02K\x01.",
                    method: Method::Stored,
                },
            ])
        }
        _ => pkl,
    };
    Generated { bytes, chunks }
}

/// Torch's legacy layout: magic number, protocol version, sys info, then the object pickle.
fn legacy(object: &[u8]) -> Vec<u8> {
    let mut out = Pickle::proto(2).legacy_magic().stop();
    out.extend(Pickle::proto(2).int(1001).stop());
    let mut info = Pickle::proto(2);
    info.str_dict([(
        "little_endian",
        Box::new(|p: &mut Pickle| {
            p.bool(true);
        }) as Box<dyn FnOnce(&mut Pickle)>,
    )]);
    out.extend(info.stop());
    out.extend_from_slice(object);
    out
}

/// What a memo key holds, so a GET can be chosen to make a cycle or share a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Container,
    Sample,
    Event,
    Attrs,
}

struct Gen<'a> {
    u: Unstructured<'a>,
    p: Pickle,
    next_memo: u32,
    /// Every key stored so far and what it holds (including containers still being built:
    /// a GET of one of those is a cycle).
    memo: Vec<(u32, Kind)>,
    /// Memoised key strings (`"type"`, `"ts"`, …), as pickle writes a repeated string once.
    keys: Vec<(&'static str, u32)>,
    /// Whether times and floats may be non-finite or huge in this dump.
    odd_floats: bool,
}

const CLASSES: &[(&str, &str)] = &[
    ("slime.utils.types", "Sample"),
    ("slime.utils.types", "SpecInfo"),
    ("__main__", "Thing"),
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("numpy", "dtype"),
    ("torch", "Tensor"),
];

const NAMES: &[&str] = &[
    "sglang_generate",
    "sglang_pd_prefill",
    "sglang_pd_decode",
    "sglang_pd_summary",
    "generate",
    "reward",
    "tool_call",
    "",
];

const ATTR_KEYS: &[&str] = &[
    "pd_prefill_forward_duration",
    "pd_decode_forward_duration",
    "pd_prefill_bootstrap_duration",
    "pd_decode_transfer_duration",
    "e2e_latency",
    "queue_time",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "response_length",
    "finish_reason",
    "decode_throughput",
    "error_type",
    "dtype",
];

const STATUSES: &[&str] = &["completed", "truncated", "aborted", "pending", "\x1b[31m"];

impl Gen<'_> {
    // ---- choices (total: an exhausted input picks the first option) ----------------------

    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// True with probability about 1/n.
    fn chance(&mut self, n: u32) -> bool {
        self.below(n) == n - 1
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u32) as usize]
    }

    /// A count for a repeated shape: mostly small, sometimes up to [`MAX_REPEAT`].
    fn count(&mut self) -> u32 {
        match self.below(16) {
            0..=10 => self.below(4),
            11..=14 => self.below(70),
            _ => self.below(MAX_REPEAT + 1),
        }
    }

    fn full(&self) -> bool {
        self.p.len() > MAX_BYTES
    }

    // ---- memo -------------------------------------------------------------------------------

    /// Stores the top of the stack under the next key (LONG_BINPUT or MEMOIZE).
    fn remember(&mut self, kind: Kind) {
        let k = self.next_memo;
        if self.chance(2) {
            self.p.memoize();
        } else {
            self.p.put(k);
        }
        self.next_memo += 1;
        self.memo.push((k, kind));
    }

    fn maybe_remember(&mut self, kind: Kind) {
        if self.chance(2) {
            self.remember(kind);
        }
    }

    /// A GET of a stored key of this kind (any kind if `None`); false if there is none.
    fn recall(&mut self, kind: Option<Kind>) -> bool {
        let keys: Vec<u32> = self
            .memo
            .iter()
            .filter(|(_, k)| kind.is_none_or(|want| *k == want))
            .map(|(key, _)| *key)
            .collect();
        if keys.is_empty() {
            return false;
        }
        let k = self.pick(&keys);
        self.p.get(k);
        true
    }

    /// A key string, memoised on first use and fetched by GET afterwards.
    fn key(&mut self, s: &'static str) {
        if let Some(&(_, k)) = self.keys.iter().find(|(name, _)| *name == s) {
            self.p.get(k);
            return;
        }
        self.p.str(s);
        let k = self.next_memo;
        self.p.put(k);
        self.next_memo += 1;
        self.keys.push((s, k));
    }
}

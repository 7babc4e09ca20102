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
    // LONG1 of 119547037146038801333356, torch's legacy magic number.
    let magic = [108, 252, 156, 70, 249, 32, 106, 168, 80, 25];
    let mut out = Pickle::proto(2);
    out.op(0x8a).raw(&[magic.len() as u8]).raw(&magic);
    let mut out = out.stop();
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

    // ---- the dump ---------------------------------------------------------------------------

    fn dump(&mut self) {
        let as_list = self.chance(4);
        if !as_list {
            self.p.empty_dict();
            self.remember(Kind::Container);
            self.p.mark();
            self.key("rollout_id");
            self.p.int(0);
            self.key("samples");
        }
        self.p.empty_list();
        self.remember(Kind::Container);
        let n = self.count();
        self.p.mark();
        for _ in 0..n {
            if self.full() {
                break;
            }
            // Shared samples: the same sample listed again (class 2).
            if self.chance(6) && self.recall(Some(Kind::Sample)) {
                continue;
            }
            self.sample();
        }
        self.p.appends();
        if !as_list {
            if self.chance(8) {
                // A key that refers back to the dump itself.
                self.key("self");
                self.recall(Some(Kind::Container));
                if self.memo.iter().all(|(_, k)| *k != Kind::Container) {
                    self.p.none();
                }
            }
            self.p.setitems();
        }
        if self.chance(64) {
            // A GET of a key never stored.
            self.p.get(self.next_memo + 7).pop();
        }
    }

    fn sample(&mut self) {
        let as_object = self.chance(3);
        if as_object {
            self.p.new_object("slime.utils.types", "Sample");
            self.remember(Kind::Sample);
            if self.chance(4) {
                // BUILD state as (dict, slots), as for classes with __slots__.
                self.sample_fields();
                self.p.none().tuple_n(2);
            } else {
                self.sample_fields();
            }
            self.p.build();
        } else {
            self.sample_fields();
        }
    }

    /// The sample's fields as a dict (left on the stack).
    fn sample_fields(&mut self) {
        self.p.empty_dict();
        self.remember(Kind::Sample);
        self.p.mark();
        self.key("index");
        let i = self.below(1000) as i64 - 2;
        self.p.int(i);
        self.key("group_index");
        let g = self.below(8) as i64;
        self.p.int(g);
        self.key("status");
        self.status();
        self.key("reward");
        self.scalar();
        self.key("response_length");
        let len = self.below(5000) as i64;
        self.p.int(len);
        if self.chance(2) {
            self.key("tokens");
            self.number_list();
        }
        if self.chance(3) {
            self.key("rollout_log_probs");
            self.number_list();
        }
        if self.chance(3) {
            self.key("metadata");
            self.value(2);
        }
        if self.chance(4) {
            self.key("label");
            self.value(1);
        }
        if self.chance(4) {
            // Cycle: a field that refers back to a sample (possibly this unfinished one).
            self.key("parent");
            if !self.recall(Some(Kind::Sample)) {
                self.p.none();
            }
        }
        if !self.chance(10) {
            self.key("trace");
            self.trace();
        }
        self.p.setitems();
    }

    fn status(&mut self) {
        match self.below(4) {
            0 => {
                let s = self.pick(STATUSES);
                self.p.str(s);
            }
            1 => {
                // Sample.Status("completed"): getattr(Sample, "Status") called with the value.
                self.p
                    .global("builtins", "getattr")
                    .global("slime.utils.types", "Sample")
                    .str("Status")
                    .tuple_n(2)
                    .reduce();
                let s = self.pick(STATUSES);
                self.p.str(s).tuple_n(1).reduce();
            }
            2 => {
                // getattr(getattr(…getattr(Sample, "Status")…, "Status"), "Status")(value):
                // names built from names, longer at each level (class 3). The n getattr
                // callables go first (one GLOBAL, then GETs), then each level is
                // (below, name) TUPLE2 REDUCE.
                let n = self.count().max(1);
                self.p.global("builtins", "getattr");
                let k = self.next_memo;
                self.p.put(k);
                self.next_memo += 1;
                self.memo.push((k, Kind::Scalar));
                self.p.repeat(n as usize - 1, |p| {
                    p.get(k);
                });
                self.p.global("slime.utils.types", "Sample");
                self.p.repeat(n as usize, |p| {
                    p.str("Status").tuple_n(2).reduce();
                });
                let s = self.pick(STATUSES);
                self.p.str(s).tuple_n(1).reduce();
            }
            _ => self.scalar(),
        }
    }

    fn trace(&mut self) {
        self.p.empty_dict();
        self.remember(Kind::Container);
        self.p.mark();
        self.key("trace_id");
        self.p.str("t0");
        self.key("attempt");
        self.scalar();
        self.key("events");
        self.events();
        self.p.setitems();
    }

    fn events(&mut self) {
        self.p.empty_list();
        self.remember(Kind::Container);
        let n = self.count();
        let shape = self.below(6);
        let base = 1.7e9 + f64::from(self.below(1000));
        self.p.mark();
        for i in 0..n {
            if self.full() {
                break;
            }
            if self.chance(8) && self.recall(Some(Kind::Event)) {
                continue;
            }
            let t = base + f64::from(i) * 0.001;
            match shape {
                // Nested spans that never close.
                0 => self.event("span_start", Some(i), i.checked_sub(1), t),
                // Started in one order, ended in the same order (not nested).
                1 if i < n / 2 => self.event("span_start", Some(i), None, t),
                1 => self.event("span_end", Some(i - n / 2), None, t),
                // Open siblings with one parent and one start.
                2 => self.event("span_start", Some(i + 1), Some(0), base),
                // Closed spans with PD attributes (one [P]/[D] lane each).
                3 => {
                    self.event("span_start", Some(i), None, t);
                    self.event("span_end", Some(i), None, t + 0.0005);
                }
                // Random events over a small id pool: reused ids, parent cycles, orphans.
                _ => {
                    let ty = self.pick(&["span_start", "span_end", "event", "other"]);
                    let id = self.below(6);
                    let parent = self.below(7).checked_sub(1);
                    let t = self.ts(t);
                    self.event(ty, Some(id), parent, t);
                }
            }
        }
        self.p.appends();
    }

    /// One event dict. `span` and `parent` are ids from a pool (written as hex-ish strings).
    fn event(&mut self, ty: &'static str, span: Option<u32>, parent: Option<u32>, ts: f64) {
        self.p.empty_dict();
        self.maybe_remember(Kind::Event);
        self.p.mark();
        self.key("type");
        self.key(ty);
        self.key("name");
        if self.chance(16) {
            self.value(1);
        } else {
            let name = self.pick(NAMES);
            self.key(name);
        }
        self.key("ts");
        self.p.float(ts);
        if let Some(s) = span {
            self.key("span_id");
            self.p.str(&format!("{s:04x}"));
        }
        if let Some(s) = parent {
            self.key("parent_span_id");
            self.p.str(&format!("{s:04x}"));
        }
        if self.chance(4) {
            self.key("attempt");
            self.scalar();
        }
        self.key("attrs");
        self.attrs();
        self.p.setitems();
    }

    fn attrs(&mut self) {
        // Shared attrs dicts (class 2): one dict named by many events.
        if self.chance(3) && self.recall(Some(Kind::Attrs)) {
            return;
        }
        self.p.empty_dict();
        self.maybe_remember(Kind::Attrs);
        let n = self.below(5);
        self.p.mark();
        for _ in 0..n {
            let k = self.pick(ATTR_KEYS);
            self.key(k);
            match self.below(4) {
                0 => {
                    let v = f64::from(self.below(1000)) / 100.0;
                    self.p.float(v);
                }
                1 => self.number_list(),
                _ => self.value(3),
            }
        }
        self.p.setitems();
    }

    /// A time: the given one, or in a quarter of the dumps sometimes an edge (class 7). Not
    /// more often: edges would then be in nearly every file and hide every other finding.
    fn ts(&mut self, t: f64) -> f64 {
        if !self.odd_floats {
            return t;
        }
        match self.below(24) {
            0 => 1e308,
            1 => -1e308,
            2 => f64::NAN,
            3 => f64::INFINITY,
            4 => 0.0,
            5 => -0.0,
            6 => 5e-324,
            _ => t,
        }
    }

    /// A list of numbers as pickle writes token ids or log probs (batches of 1000), long or
    /// short, with sometimes one `None`, bool, string or float in it (class 5 and 6).
    fn number_list(&mut self) {
        let n = match self.below(4) {
            0 => 64 + self.below(3),
            1 => 100,
            _ => self.count(),
        } as usize;
        let odd_at = if self.chance(3) {
            Some(self.below(n as u32 + 1) as usize)
        } else {
            None
        };
        let odd = self.below(5);
        let float = self.chance(2);
        self.p.list_of(n, |p, i| {
            if Some(i) == odd_at {
                match odd {
                    0 => p.none(),
                    1 => p.bool(true),
                    2 => p.str("x"),
                    3 => p.float(f64::NAN),
                    _ => p.int(1 << 40),
                };
            } else if float {
                p.float(-(i as f64) / 7.0);
            } else {
                p.int(i as i64 % 50_000);
            }
        });
        self.maybe_remember(Kind::Container);
    }

    fn scalar(&mut self) {
        match self.below(12) {
            0 => self.p.none(),
            1 => self.p.bool(self.u.arbitrary().unwrap_or(false)),
            2 => {
                let v: i64 = self.u.arbitrary().unwrap_or(0);
                self.p.int(v)
            }
            3 => {
                let v = self.ts(1.5);
                self.p.float(v)
            }
            4 => {
                // An int beyond i64 (LONG1 of 9 bytes).
                self.p.op(0x8a).raw(&[9]).raw(&[0xff; 8]).raw(&[0x7f])
            }
            5 => {
                let s = self.pick(STATUSES);
                self.p.str(s)
            }
            6 => {
                // A long string, for output budgets when it is shared.
                let n = self.below(70_000) as usize;
                self.p.str(&"x".repeat(n))
            }
            7 => self.p.bytes(b"\x00\xff"),
            8 => {
                let v = self.below(10) as i64;
                self.p.int(v)
            }
            _ => {
                if !self.recall(Some(Kind::Scalar)) {
                    self.p.str("shared");
                }
                return;
            }
        };
        if self.chance(4) {
            self.remember(Kind::Scalar);
        }
    }

    /// Any value, at most `depth` levels of nesting (by recursion here; loops for chains).
    fn value(&mut self, depth: u32) {
        let depth = depth.min(MAX_DEPTH);
        if depth == 0 || self.full() {
            return self.scalar();
        }
        match self.below(12) {
            0 | 1 => self.scalar(),
            2 => {
                // A list, possibly containing itself.
                self.p.empty_list();
                self.remember(Kind::Container);
                let n = self.below(5);
                self.p.mark();
                for _ in 0..n {
                    self.value(depth - 1);
                }
                self.p.appends();
            }
            3 => {
                // A dict with odd keys (ints, floats, tuples, containers by reference).
                self.p.empty_dict();
                self.remember(Kind::Container);
                let n = self.below(5);
                self.p.mark();
                for _ in 0..n {
                    match self.below(4) {
                        0 => {
                            let k = self.pick(ATTR_KEYS);
                            self.key(k)
                        }
                        1 => self.scalar(),
                        2 => {
                            if !self.recall(None) {
                                self.p.none();
                            }
                        }
                        _ => {
                            self.scalar();
                            self.scalar();
                            self.p.tuple_n(2);
                        }
                    }
                    self.value(depth - 1);
                }
                self.p.setitems();
            }
            4 => {
                self.p.mark();
                let n = self.below(4);
                for _ in 0..n {
                    self.value(depth - 1);
                }
                self.p.tuple();
                self.maybe_remember(Kind::Container);
            }
            5 => self.object(depth),
            6 => self.tensor(),
            7 => self.chain(),
            8 => self.number_list(),
            9 => {
                // OrderedDict() then SETITEMS on the object.
                self.p
                    .global("collections", "OrderedDict")
                    .empty_tuple()
                    .reduce();
                self.remember(Kind::Container);
                self.p.mark();
                self.key("a");
                self.value(depth - 1);
                self.p.setitems();
            }
            _ => {
                if !self.recall(None) {
                    self.scalar();
                }
            }
        }
    }

    /// An object whose BUILD state may refer back to the object itself (class 1).
    fn object(&mut self, depth: u32) {
        let (module, name) = self.pick(CLASSES);
        self.p.new_object(module, name);
        self.remember(Kind::Container);
        match self.below(4) {
            0 => {
                // State: {"dtype": <the object itself>, …}.
                self.p.empty_dict().mark();
                self.key("dtype");
                self.recall(Some(Kind::Container));
                self.key("x");
                self.value(depth - 1);
                self.p.setitems();
            }
            1 => {
                // State: a tuple holding the object (via its memo key).
                self.recall(Some(Kind::Container));
                self.value(depth - 1);
                self.p.tuple_n(2);
            }
            _ => self.value(depth - 1),
        }
        self.p.build();
    }

    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`
    /// with the storage as a persistent id, as torch writes it.
    fn tensor(&mut self) {
        let numel = self.count();
        self.p.global("torch._utils", "_rebuild_tensor_v2").mark();
        self.p.mark().str("storage");
        self.p.global("torch", "FloatStorage");
        self.p.str("0").str("cpu").int(i64::from(numel)).tuple();
        self.p.binpersid();
        self.p.int(0);
        self.p.int(i64::from(numel)).tuple_n(1);
        self.p.int(1).tuple_n(1);
        self.p.bool(false);
        self.p
            .global("collections", "OrderedDict")
            .empty_tuple()
            .reduce();
        self.p.tuple().reduce();
        self.maybe_remember(Kind::Container);
    }

    /// A deep chain of lists or dicts, written by loops (the reader must not recurse on it).
    fn chain(&mut self) {
        let n = self.count();
        if self.chance(2) {
            // [[[…]]]: n empty lists, each appended into the one below.
            self.p.repeat(n as usize + 1, |p| {
                p.empty_list();
            });
            self.p.repeat(n as usize, |p| {
                p.append();
            });
        } else {
            // {"a": {"a": …}}: n (dict, key) pairs, then SETITEM n times.
            self.p.repeat(n as usize, |p| {
                p.empty_dict().str("a");
            });
            self.p.none();
            self.p.repeat(n as usize, |p| {
                p.setitem();
            });
        }
        self.maybe_remember(Kind::Container);
    }
}

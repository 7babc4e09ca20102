//! Hostile cases for the pickle machine and the container (`pt`): cycles through object
//! state (class 1), uncharged or amplified VM work (class 3), streaming edges (class 5) and
//! a DEFLATE bomb past the 32-bit limits (class 9). See `mod.rs` for [`Case`].
//!
//! Every dump here is a dict with `samples`, as slime writes it, holding one good traced
//! sample (one row) next to the hostile part, so a reader that survives the file must still
//! show that row.

use super::{Case, Expect};
use crate::{torch_zip, zip_entries, Entry, Method, Pickle};

/// Memo keys used by the cases (far from anything else they write).
const M_OBJ: u32 = 1000;
const M_BIG: u32 = 1001;
const M_KEY: u32 = 1002;

pub(super) fn cases() -> Vec<Case> {
    let mut all = cycles();
    all.extend(work());
    all.extend(streaming_and_limits());
    all
}

/// Class 1: cycles through object state.
fn cycles() -> Vec<Case> {
    vec![
        case(
            "cycle_build_state_self.pt",
            1,
            "a Sample object whose BUILD state is the object itself",
            dump(|p| {
                good_sample(p, |_| {});
                p.new_object("slime.utils.types", "Sample")
                    .put(M_OBJ)
                    .get(M_OBJ)
                    .build();
            }),
            Expect::Rows {
                rows: 1,
                warning: "not a dict",
            },
        ),
        case(
            "cycle_state_tuple.pt",
            1,
            "a Sample whose (dict_state, slot_state) tuple starts with the object itself",
            dump(|p| {
                good_sample(p, |_| {});
                p.new_object("slime.utils.types", "Sample")
                    .put(M_OBJ)
                    .get(M_OBJ)
                    .empty_dict()
                    .tuple_n(2)
                    .build();
            }),
            Expect::Rows {
                rows: 1,
                warning: "not a dict",
            },
        ),
        case(
            "cycle_state_dict.pt",
            1,
            "a Sample whose state dict holds the Sample, also inside a span attribute",
            dump(|p| {
                p.new_object("slime.utils.types", "Sample").put(M_OBJ);
                p.empty_dict().mark();
                p.str("index").int(0);
                p.str("me").get(M_OBJ);
                p.str("trace");
                trace(p, |p| {
                    p.str("owner").get(M_OBJ);
                });
                p.setitems().build();
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "cycle_tensor_dtype.pt",
            1,
            "a tensor-like object in a span attribute whose dtype is the tensor itself",
            dump(|p| {
                good_sample(p, |p| {
                    p.str("t");
                    p.new_object("torch", "Tensor").put(M_OBJ);
                    p.empty_dict().mark();
                    p.str("dtype").get(M_OBJ);
                    p.str("shape").int(2).tuple_n(1);
                    p.setitems().build();
                });
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "cycle_dict_key.pt",
            1,
            "span attributes keyed by a tuple that holds those attributes, and by an object",
            dump(|p| {
                good_sample(p, |p| {
                    p.str("nested").empty_dict().put(M_KEY);
                    // attrs["nested"][(attrs["nested"],)] = 1; attrs["nested"][obj] = 2
                    p.get(M_KEY).tuple_n(1).int(1).setitem();
                    p.new_object("x", "Key").int(2).setitem();
                });
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
    ]
}

/// Class 3: uncharged or amplified work.
fn work() -> Vec<Case> {
    vec![
        case(
            "amp_reduce_args.pt",
            3,
            "one 1 M-item tuple from the memo passed to 20 000 calls of an unknown class",
            dump(|p| {
                good_sample(p, |_| {});
                big_tuple(p, 1_000_000);
                p.global("x", "Thing").put(M_OBJ).pop();
                p.empty_list().mark();
                p.repeat(20_000, |p| {
                    p.get(M_OBJ).get(M_BIG).reduce();
                });
                p.appends().pop();
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_ordereddict_pairs.pt",
            3,
            "OrderedDict(pairs) where pairs names one 1 M-item tuple 20 000 times",
            dump(|p| {
                good_sample(p, |_| {});
                big_tuple(p, 1_000_000);
                p.global("collections", "OrderedDict");
                p.empty_list().mark();
                p.repeat(20_000, |p| {
                    p.get(M_BIG);
                });
                p.appends().tuple_n(1).reduce().pop();
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_getattr.pt",
            3,
            "getattr(cls, <60 KiB name>) 40 000 times, cls named afresh by each call's GLOBAL \
             (2.4 GB if each call made its own name): one name, shared",
            dump(|p| {
                good_sample(p, |_| {});
                p.str(&"a".repeat(60 << 10)).put(M_BIG).pop();
                p.global("builtins", "getattr").put(M_OBJ).pop();
                p.repeat(40_000, |p| {
                    p.get(M_OBJ)
                        .global("x", "Cls")
                        .get(M_BIG)
                        .tuple_n(2)
                        .reduce()
                        .pop();
                });
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_additems.pt",
            3,
            "a set filled by ADDITEMS with 300 000 copies of one value (charged, bounded)",
            dump(|p| {
                good_sample(p, |_| {});
                p.empty_set().mark().int(7);
                p.repeat(300_000, |p| {
                    p.dup();
                });
                p.additems().pop();
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "amp_dict_keys.pt",
            3,
            "16 class names of 60 KiB (built by getattr from one string) as dict keys, \
             re-inserted 40 000 times",
            dump(|p| {
                good_sample(p, |_| {});
                p.str(&"a".repeat(60 << 10)).put(M_BIG).pop();
                for k in 0..16u32 {
                    p.global("builtins", "getattr")
                        .global("x", &format!("C{k}"));
                    p.get(M_BIG).tuple_n(2).reduce().put(M_KEY + 1 + k).pop();
                }
                p.empty_dict().mark();
                for i in 0..40_000u32 {
                    p.get(M_KEY + 1 + i % 16).int(i as i64);
                }
                p.setitems().pop();
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
    ]
}

/// Class 5 (stream = whole read), class 6 (fidelity of elision), class 9 (wasm32 limits).
fn streaming_and_limits() -> Vec<Case> {
    vec![
        // ---- class 5: stream = whole read ----------------------------------------------
        Case {
            file: "two_data_pkl.pt",
            class: 5,
            what: "a ZIP with two */data.pkl entries (which one would torch read?)",
            bytes: {
                let pkl = dump(|p| {
                    good_sample(p, |_| {});
                });
                zip_entries(&[
                    Entry {
                        name: "a/data.pkl",
                        data: &pkl,
                        method: Method::Stored,
                    },
                    Entry {
                        name: "b/data.pkl",
                        data: &pkl,
                        method: Method::Stored,
                    },
                ])
            },
            expect: Expect::Error("2 entries named */data.pkl"),
            browser: true,
        },
        case(
            "long_text_line.pt",
            5,
            "a 1.5 MB protocol-0 text line (V) that a chunked reader must not rescan",
            dump(|p| {
                good_sample(p, |p| {
                    p.str("prompt").op(b'V');
                    p.raw("x".repeat(1_500_000).as_bytes()).raw(b"\n");
                });
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        case(
            "none_in_number_list.pt",
            5,
            "100-number lists with a None in them: as a sample's `tokens` and in span attributes",
            dump(|p| {
                let with_none = |p: &mut Pickle| {
                    p.list_of(100, |p, i| {
                        if i == 50 {
                            p.none();
                        } else {
                            p.int(i as i64);
                        }
                    });
                };
                sample(
                    p,
                    |p| {
                        p.str("tokens");
                        with_none(p);
                    },
                    |p| {
                        p.str("ids");
                        with_none(p);
                    },
                );
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        // ---- class 6: fidelity of elision -----------------------------------------------
        case(
            "elision_attr_lists.pt",
            6,
            "span attrs holding 100 numbers, 100 Nones and 100 ids called `tokens` beside a \
             sample's 10 000 token ids: the attrs must come out as lists \
             (crates/trace/tests/elision.rs checks the values)",
            dump(|p| {
                sample(
                    p,
                    |p| {
                        p.str("tokens");
                        p.list_of(10_000, |p, i| {
                            p.int(i as i64);
                        });
                    },
                    |p| {
                        p.str("logprobs");
                        p.list_of(100, |p, i| {
                            p.float(-(i as f64) / 100.0);
                        });
                        p.str("mask");
                        p.list_of(100, |p, _| {
                            p.none();
                        });
                        // Named like a sample's token field, but an attribute: kept.
                        p.str("tokens");
                        p.list_of(100, |p, i| {
                            p.int(i as i64);
                        });
                    },
                );
            }),
            Expect::Rows {
                rows: 1,
                warning: "",
            },
        ),
        // ---- class 9: wasm32 limits ----------------------------------------------------
        Case {
            file: "bomb_deflate_5gib.pt",
            class: 9,
            what:
                "a 1.1 MB DEFLATE bomb: data.pkl inflates to 1.1 GiB, its ZIP64 header says 5 GiB",
            bytes: deflate_bomb(),
            // Natively the limit is 4 GiB, in the browser 1 GiB; the declared size passes
            // both, so both refuse before inflating a byte, naming their limit.
            expect: Expect::Error("more than the limit"),
            browser: true,
        },
    ]
}

fn case(file: &'static str, class: u8, what: &'static str, pkl: Vec<u8>, expect: Expect) -> Case {
    Case {
        file,
        class,
        what,
        bytes: torch_zip("rollout_0", &pkl),
        expect,
        browser: true,
    }
}

/// `{"rollout_id": 0, "samples": [<what f writes>]}` as a finished pickle.
fn dump(f: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark();
    p.str("rollout_id").int(0);
    p.str("samples").empty_list().mark();
    f(&mut p);
    p.appends().setitems();
    p.stop()
}

/// One sample dict with a trace of one closed span; `attrs` writes extra key/value pairs
/// into the span end's attributes.
pub(super) fn good_sample(p: &mut Pickle, attrs: impl FnOnce(&mut Pickle)) {
    sample(p, |_| {}, attrs);
}

/// [`good_sample`] with extra sample fields written by `fields`.
fn sample(p: &mut Pickle, fields: impl FnOnce(&mut Pickle), attrs: impl FnOnce(&mut Pickle)) {
    p.empty_dict().mark();
    p.str("index").int(0);
    fields(p);
    p.str("trace");
    trace(p, attrs);
    p.setitems();
}

/// `{"events": [start, end]}` for a span `generate` from ts 1.0 to 2.0.
fn trace(p: &mut Pickle, attrs: impl FnOnce(&mut Pickle)) {
    p.empty_dict().str("events").empty_list().mark();
    event(p, "span_start", 1.0, |_| {});
    event(p, "span_end", 2.0, attrs);
    p.appends().setitem();
}

fn event(p: &mut Pickle, kind: &str, ts: f64, attrs: impl FnOnce(&mut Pickle)) {
    p.empty_dict().mark();
    p.str("type").str(kind);
    p.str("name").str("generate");
    p.str("ts").float(ts);
    p.str("span_id").str("a1");
    p.str("attrs").empty_dict().mark();
    attrs(p);
    p.setitems();
    p.setitems();
}

/// A tuple of `n` Nones (one byte each), memoised as [`M_BIG`] and popped.
fn big_tuple(p: &mut Pickle, n: usize) {
    p.mark();
    p.repeat(n, |p| {
        p.none();
    });
    p.tuple().put(M_BIG).pop();
}

/// A ZIP whose `data.pkl` is a DEFLATE stream of 1.1 GiB (a `tokens` list appended in
/// batches, valid all the way) in about a megabyte, with a ZIP64 header declaring 5 GiB.
///
/// Built without inflating anything: one megabyte of batches is compressed once with a full
/// flush (byte-aligned, no back references out of it) and the block repeated.
fn deflate_bomb() -> Vec<u8> {
    let mut prefix = Pickle::proto(2);
    prefix
        .empty_dict()
        .mark()
        .str("samples")
        .empty_list()
        .mark();
    prefix.appends().str("tokens").empty_list();
    // One long batch per block (pickle writes 1000 a batch; any size is valid) compresses
    // best: ≈ 1 MiB of `K 0`.
    let mut unit = Pickle::new();
    unit.mark().repeat(524_287, |p| {
        p.int(0);
    });
    unit.appends();
    let body = deflated_repeat(&prefix.bytes, &unit.bytes, 1100, b"u.");
    zip64_single("rollout_0/data.pkl", &body, 5 << 30)
}

/// A raw DEFLATE stream of `prefix`, `unit` `times` times, then `suffix`, built without
/// compressing more than one unit: each part is compressed once with a full flush
/// (byte-aligned, no back references out of it) and the unit's block repeated.
pub(super) fn deflated_repeat(prefix: &[u8], unit: &[u8], times: usize, suffix: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    fn block(data: &[u8], flush: FlushCompress) -> Vec<u8> {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() / 100 + 1024);
        // Compressing into a Vec with room to spare cannot fail; an error leaves it short.
        let _ = c.compress_vec(data, &mut out, flush);
        out
    }
    let mut body = block(prefix, FlushCompress::Full);
    let one = block(unit, FlushCompress::Full);
    for _ in 0..times {
        body.extend_from_slice(&one);
    }
    body.extend_from_slice(&block(suffix, FlushCompress::Finish));
    body
}

/// A one-entry ZIP (DEFLATED) whose sizes are in ZIP64 extra fields, the uncompressed size
/// being `declared`. The CRC is left 0: the declared size is a lie anyway.
pub(super) fn zip64_single(name: &str, body: &[u8], declared: u64) -> Vec<u8> {
    let mut extra = Vec::new();
    extra.extend_from_slice(&1u16.to_le_bytes());
    extra.extend_from_slice(&16u16.to_le_bytes());
    extra.extend_from_slice(&declared.to_le_bytes());
    extra.extend_from_slice(&(body.len() as u64).to_le_bytes());
    let header = |central: bool| {
        let mut h = Vec::new();
        h.extend_from_slice(&if central { 0x0201_4b50u32 } else { 0x0403_4b50 }.to_le_bytes());
        if central {
            h.extend_from_slice(&45u16.to_le_bytes()); // made by
        }
        h.extend_from_slice(&45u16.to_le_bytes()); // needed: ZIP64
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&8u16.to_le_bytes()); // DEFLATED
        h.extend_from_slice(&0u32.to_le_bytes()); // time, date
        h.extend_from_slice(&0u32.to_le_bytes()); // crc
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        if central {
            h.extend_from_slice(&0u16.to_le_bytes()); // comment
            h.extend_from_slice(&0u16.to_le_bytes()); // disk
            h.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
            h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            h.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        }
        h.extend_from_slice(name.as_bytes());
        h.extend_from_slice(&extra);
        h
    };
    let mut out = header(false);
    out.extend_from_slice(body);
    let cd_offset = out.len() as u32;
    let central = header(true);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

//! Hostile input is normal input: every case gives a value or a specific typed error,
//! never a panic, a hang, a stack overflow or an allocation the bytes do not justify.

mod common;

use std::io::Write;

use pt::{Error, Limits, Node, PickleErrorKind, Value};

fn load(bytes: &[u8]) -> Result<pt::Tree, pt::PickleError> {
    pt::pickle::load(bytes, &Limits::default(), 0).map(|(t, _)| t)
}

fn kind(bytes: &[u8]) -> (u64, PickleErrorKind) {
    let e = load(bytes).expect_err("should fail");
    (e.offset, e.kind)
}

#[test]
fn two_hundred_thousand_nested_lists_read_print_and_drop() {
    let depth = 200_000;
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b']', depth));
    p.extend(std::iter::repeat_n(b'a', depth - 1));
    p.push(b'.');
    let tree = load(&p).unwrap();
    assert_eq!(tree.nodes.len(), depth);
    let text = pt::walk::repr(&tree, &tree.root, 50);
    assert!(text.starts_with("[[[[") && text.ends_with('…'), "{text}");
    drop(tree);
}

#[test]
fn a_list_that_contains_itself_prints_finitely() {
    // l = []; l.append(l)
    let p = b"\x80\x02]q\x00h\x00a.";
    let tree = load(p).unwrap();
    assert_eq!(pt::walk::repr(&tree, &tree.root, 100), "[[...]]");
}

#[test]
fn shared_references_cannot_blow_up_printing() {
    // x = [x0, x0] nested 60 times: 2^60 leaves if expanded.
    let mut p = vec![0x80, 2, b'K', 1];
    for _ in 0..60 {
        p.extend_from_slice(b"2\x86"); // DUP, TUPLE2
    }
    p.push(b'.');
    let tree = load(&p).unwrap();
    let text = pt::walk::repr(&tree, &tree.root, 10_000);
    assert!(text.len() < 10_100);
}

#[test]
fn truncated_pickle_says_where() {
    let (off, k) = kind(b"\x80\x02X\x05\x00\x00\x00ab");
    assert_eq!(k, PickleErrorKind::Truncated);
    assert_eq!(off, 2, "offset of the BINUNICODE opcode");
    let (_, k) = kind(b"\x80\x02K\x01");
    assert_eq!(k, PickleErrorKind::NoStop);
}

#[test]
fn length_fields_beyond_the_data_allocate_nothing() {
    // BINUNICODE8 claiming 2^62 bytes; BINBYTES claiming 4 GB: more than the memory limit,
    // refused at the opcode without waiting for (or allocating) the bytes.
    let mut p = vec![0x80, 4, 0x8d];
    p.extend_from_slice(&(1u64 << 62).to_le_bytes());
    let limit = Limits::default().max_memory;
    assert_eq!(kind(&p), (2, PickleErrorKind::MemoryLimit(limit)));
    assert_eq!(
        kind(b"\x80\x03B\xff\xff\xff\xffabc"),
        (2, PickleErrorKind::MemoryLimit(limit))
    );
    // A claim within the limit, with the bytes missing, is a truncation.
    assert_eq!(
        kind(b"\x80\x03B\xff\xff\x00\x00abc").1,
        PickleErrorKind::Truncated
    );
    // A memo key of 4 billion is stored sparsely.
    let t = load(b"\x80\x02K\x07r\xff\xff\xff\xff0j\xff\xff\xff\xff.").unwrap();
    assert_eq!(t.root, Value::Int(7));
}

#[test]
fn stack_and_memo_misuse_are_typed_errors() {
    assert_eq!(kind(b"\x80\x02a.").1, PickleErrorKind::StackUnderflow);
    assert_eq!(kind(b"\x80\x02e.").1, PickleErrorKind::NoMark);
    assert_eq!(kind(b"\x80\x02h\x09.").1, PickleErrorKind::MemoMissing(9));
    assert_eq!(kind(b"\x80\x02\xff").1, PickleErrorKind::UnknownOpcode);
    assert_eq!(kind(b"\x80\x09.").1, PickleErrorKind::Protocol(9));
    // Popping below a MARK is an underflow, as in CPython; POP at a mark drops the mark.
    assert_eq!(kind(b"\x80\x02K\x01(.").1, PickleErrorKind::StackUnderflow);
    assert_eq!(load(b"\x80\x02K\x01(0.").unwrap().root, Value::Int(1));
    assert!(matches!(
        kind(b"\x80\x02K\x00K\x01K\x02s.").1,
        PickleErrorKind::Malformed(_)
    ));
}

#[test]
fn limits_on_memory_and_stack_hold() {
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b']', 10_000));
    let small = Limits {
        max_stack: 1000,
        ..Limits::default()
    };
    let e = pt::pickle::load(&p, &small, 0).unwrap_err();
    assert_eq!(e.kind, PickleErrorKind::StackLimit(1000));
    assert_eq!(e.offset, 2 + 1000);
    let small = Limits {
        max_memory: 10_000,
        ..Limits::default()
    };
    let e = pt::pickle::load(&p, &small, 0).unwrap_err();
    assert_eq!(e.kind, PickleErrorKind::MemoryLimit(10_000));
}

#[test]
fn not_a_torch_file() {
    let e = pt::read(b"hello world", &Limits::default()).unwrap_err();
    assert!(matches!(e, Error::NotTorch(_)));
    assert!(e.to_string().contains("68 65 6c 6c"), "{e}");
    assert!(pt::read(b"", &Limits::default())
        .unwrap_err()
        .to_string()
        .contains("empty"));
}

fn zip_with(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, deflate) in entries {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_layouts_deflate_and_bombs() {
    let pickle = b"\x80\x02}q\x00X\x07\x00\x00\x00samples]q\x01s.";
    // Any folder name, STORED or DEFLATED.
    for deflate in [false, true] {
        let z = zip_with(&[
            ("weird name/data.pkl", pickle, deflate),
            ("weird name/byteorder", b"little", false),
        ]);
        let d = pt::read(&z, &Limits::default()).unwrap();
        assert_eq!(
            d.format,
            pt::Format::Zip {
                entry: "weird name/data.pkl".into()
            }
        );
    }
    let e = pt::read(&zip_with(&[("a/x", b"1", false)]), &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("no */data.pkl"), "{e}");
    let e = pt::read(
        &zip_with(&[("a/data.pkl", pickle, false), ("b/data.pkl", pickle, false)]),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("2 entries"), "{e}");
    // 64 MB of zeros deflate to ~64 KB; the cap stops inflation.
    let zeros = vec![0u8; 64 << 20];
    let z = zip_with(&[("a/data.pkl", &zeros, true)]);
    assert!(z.len() < 1 << 20);
    let limits = Limits {
        max_pickle_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = pt::read(&z, &limits).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // A pickle error inside names the entry and the offset.
    let z = zip_with(&[("r/data.pkl", b"\x80\x02K\x01\xfe", false)]);
    let e = pt::read(&z, &Limits::default()).unwrap_err().to_string();
    assert!(e.starts_with("r/data.pkl: unknown opcode at byte 4"), "{e}");
    // A truncated archive.
    let z = zip_with(&[("r/data.pkl", pickle, false)]);
    assert!(pt::read(&z[..z.len() / 2], &Limits::default()).is_err());
}

/// `{key: [0, 1, …, 99]}` as pickle writes it (one MARK … APPENDS batch).
fn keyed_numbers(key: &str) -> Vec<u8> {
    let mut p = picklegen::Pickle::proto(2);
    p.empty_dict().str(key).list_of(100, |p, i| {
        p.int(i as i64);
    });
    p.setitem();
    p.stop()
}

/// Numeric lists over 10 numbers under `tokens` elided.
fn eliding_tokens() -> Limits {
    Limits {
        keep_numeric_list_max: Some(10),
        elide_keys: &["tokens"],
        ..Limits::default()
    }
}

/// `bytes` read by the machine `chunk` bytes at a time (a chunk's unread tail kept for the
/// next), to the end: the pickle must finish.
fn read_in_chunks(bytes: &[u8], limits: &Limits, chunk: usize) -> pt::Tree {
    let mut m = pt::pickle::Machine::new(limits, 0);
    let mut pending: Vec<u8> = Vec::new();
    for piece in bytes.chunks(chunk) {
        pending.extend_from_slice(piece);
        match m.run(&pending, false).unwrap() {
            pt::pickle::Progress::Done { .. } => return m.finish().unwrap(),
            pt::pickle::Progress::NeedMore { consumed } => {
                pending.drain(..consumed);
            }
        }
    }
    panic!("chunk {chunk}: the pickle did not finish")
}

#[test]
fn numeric_lists_are_elided_when_asked() {
    let limits = eliding_tokens();
    let (t, _) = pt::pickle::load(&keyed_numbers("tokens"), &limits, 0).unwrap();
    // 0 + 1 + … + 99, counted by the fast path without building values.
    assert!(matches!(
        t.get(&t.root, "tokens").and_then(|v| t.node_of(v)),
        Some(Node::ElidedList { len: 100, sum }) if *sum == 4950.0
    ));
    // Under another key (a span attribute, say) the list is kept whole.
    let (t, _) = pt::pickle::load(&keyed_numbers("attr"), &limits, 0).unwrap();
    let kept = t.get(&t.root, "attr").unwrap();
    assert_eq!(t.as_seq(kept).unwrap().len(), 100);
    // And without elision, everything is kept.
    let t = load(&keyed_numbers("tokens")).unwrap();
    assert_eq!(
        t.as_seq(t.get(&t.root, "tokens").unwrap()).unwrap().len(),
        100
    );
}

/// `{key: [head…, then n × item]}` with the list's numbers written by `head` and `item`.
fn keyed_list(head: impl Fn(&mut picklegen::Pickle), n: usize, item: i64) -> Vec<u8> {
    let mut p = picklegen::Pickle::proto(2);
    p.empty_dict().str("tokens").list_of(n + 1, |p, i| {
        if i == 0 {
            head(p)
        } else {
            p.int(item);
        }
    });
    p.setitem();
    p.stop()
}

#[test]
fn an_elided_list_sums_to_what_adding_each_number_in_turn_gives() {
    let limits = eliding_tokens();
    let sum_of = |bytes: &[u8]| {
        let (t, _) = pt::pickle::load(bytes, &limits, 0).unwrap();
        match t.get(&t.root, "tokens").and_then(|v| t.node_of(v)) {
            Some(Node::ElidedList { sum, .. }) => *sum,
            other => panic!("not elided: {other:?}"),
        }
    };
    // Integers of each width, negatives included: exact.
    assert_eq!(
        sum_of(&keyed_list(
            |p| {
                p.int(-5);
            },
            2500,
            1
        )),
        2495.0
    );
    assert_eq!(
        sum_of(&keyed_list(
            |p| {
                p.int(70_000);
            },
            2500,
            65_535
        )),
        163_907_500.0
    );
    let big = i32::MAX as i64;
    assert_eq!(
        sum_of(&keyed_list(
            |p| {
                p.int(i32::MIN as i64);
            },
            3000,
            big
        )),
        (i32::MIN as i64 + 3000 * big) as f64
    );
    // After a float of 2^60 (whose neighbours are 256 apart), adding 1 in turn leaves it
    // as it is, 900 times: the sum is 2^60, not 2^60 + 900 rounded. (In one batch of 1 000:
    // a batch's numbers are added in turn, then to the list's sum.)
    let huge = (1u64 << 60) as f64;
    assert_eq!(
        sum_of(&keyed_list(
            |p| {
                p.float(huge);
            },
            900,
            1
        )),
        huge
    );
    // After a fraction, each addition rounds in turn as well: 2^52 - 0.5 + 1 is a tie,
    // rounded to 2^52, and the next 899 ones are exact (2^52 + 899); the 900 at once would
    // give the tie 2^52 + 899.5, rounded to 2^52 + 900.
    let below = (1u64 << 52) as f64 - 0.5;
    let mut expect = below;
    for _ in 0..900 {
        expect += 1.0;
    }
    assert_eq!(expect, (1u64 << 52) as f64 + 899.0);
    assert_eq!(
        sum_of(&keyed_list(
            |p| {
                p.float(below);
            },
            900,
            1
        ))
        .to_bits(),
        expect.to_bits()
    );
}

#[test]
fn protocol_zero_text_opcodes() {
    // {'a': [1, 2.5, 'x', None, True]} as protocol 0 writes it.
    let p = b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\naNaI01\nas.";
    let t = load(p).unwrap();
    assert_eq!(
        pt::walk::repr(&t, &t.root, 200),
        "{'a': [1, 2.5, 'x', None, True]}"
    );
    let t = load(b"S'it\\'s'\np0\n.").unwrap();
    assert_eq!(t.root, Value::Str("it's".into()));
    let t = load(b"L123456789012345678901234567890L\n.").unwrap();
    assert_eq!(
        t.root,
        Value::BigInt("123456789012345678901234567890".into())
    );
}

/// One number of each kind the fast path reads, chosen by `i`'s hash: ints of each width and
/// sign (BININT1, BININT2, BININT), floats (fractions, ±0, large), and both bools, in runs of
/// one kind and in mixes. Magnitudes stay small enough that a number counted wrong changes
/// the sum's bits.
fn any_number(p: &mut picklegen::Pickle, i: usize) -> f64 {
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    // Runs of one kind (a hundred of each in turn), then stretches of mixed ones.
    let kind = if (i / 600).is_multiple_of(2) {
        (i / 100) % 6
    } else {
        (h % 6) as usize
    };
    let pick = h >> 8;
    match kind {
        0 => {
            p.int((pick % 256) as i64);
            (pick % 256) as f64
        }
        1 => {
            let v = 256 + (pick % 65_280) as i64;
            p.int(v);
            v as f64
        }
        2 => {
            let v = 65_536 + (pick % (1 << 20)) as i64;
            let v = if pick.is_multiple_of(3) { -v } else { v };
            p.int(v);
            v as f64
        }
        3 => {
            let v = [0.1, -0.0, 0.0, -2.75, 12_345.678, 1e-300][(pick % 6) as usize];
            p.float(v);
            v
        }
        4 => {
            p.bool(pick.is_multiple_of(2));
            pick.is_multiple_of(2) as u8 as f64
        }
        _ => {
            let v = i32::MIN as i64 + (pick % 1000) as i64;
            p.int(v);
            v as f64
        }
    }
}

#[test]
fn the_fast_path_and_the_opcode_path_agree_on_any_mix_of_numbers() {
    let limits = eliding_tokens();
    let n = 12_345;
    let mut p = picklegen::Pickle::proto(2);
    let mut numbers = Vec::new();
    p.empty_dict()
        .str("tokens")
        .list_of(n, |p, i| numbers.push(any_number(p, i)));
    p.setitem();
    let bytes = p.stop();
    // What Python's sum gives, batch by batch: each batch's numbers added in turn from 0,
    // then added to the list's sum.
    let expect = numbers.chunks(1000).fold(0.0, |total, batch| {
        total + batch.iter().fold(0.0, |s, x| s + x)
    });
    let elided = |t: &pt::Tree| match t.get(&t.root, "tokens").and_then(|v| t.node_of(v)) {
        Some(Node::ElidedList { len, sum }) => (*len, sum.to_bits()),
        other => panic!("not elided: {other:?}"),
    };
    // Whole: every batch counted from the bytes.
    let (whole, _) = pt::pickle::load(&bytes, &limits, 0).unwrap();
    assert_eq!(elided(&whole), (n as u64, expect.to_bits()));
    // In small pieces: the fast path sees parts of batches (and gives up on them), the
    // opcode-by-opcode path builds each number; the same bits either way.
    for chunk in [1usize, 5, 9, 1000] {
        assert_eq!(
            elided(&read_in_chunks(&bytes, &limits, chunk)),
            (n as u64, expect.to_bits()),
            "chunk {chunk}"
        );
    }
    // Bytes that end right after a batch's APPENDS (a chunk's end): its last numbers, too
    // close to the end for the wide reads, are counted one at a time.
    for last in [300, 40_000, 65_535, -5, 70_000, 7] {
        let mut p = picklegen::Pickle::proto(2);
        p.empty_dict().str("tokens").list_of(20, |p, i| {
            p.int(if i == 19 { last } else { i as i64 * 1000 });
        });
        p.setitem();
        let bytes = p.stop();
        let cut = bytes.len() - 2; // SETITEM and STOP
        let mut m = pt::pickle::Machine::new(&limits, 0);
        let pt::pickle::Progress::NeedMore { consumed } = m.run(&bytes[..cut], false).unwrap()
        else {
            panic!("done early")
        };
        assert_eq!(consumed, cut);
        assert!(matches!(
            m.run(&bytes[cut..], false).unwrap(),
            pt::pickle::Progress::Done { .. }
        ));
        let expect = (0..19).map(|i| i as f64 * 1000.0).sum::<f64>() + last as f64;
        assert_eq!(
            elided(&m.finish().unwrap()),
            (20, expect.to_bits()),
            "last {last}"
        );
    }
}

/// A sum that is NaN is the one NaN on both paths (which NaN an addition gives is the
/// compiler's choice: a list of Python's NaN and x86's had a different sign read whole and
/// byte by byte).
#[test]
fn a_nan_sum_is_the_same_nan_on_both_paths() {
    let mut p = picklegen::Pickle::proto(2);
    p.empty_dict().str("tokens").list_of(30, |p, i| {
        p.float(match i % 3 {
            0 => f64::from_bits(0x7ff8_0000_0000_0000),
            1 => f64::from_bits(0xfff8_0000_0000_0000),
            _ => 1.5,
        });
    });
    p.setitem();
    let bytes = p.stop();
    let limits = eliding_tokens();
    let sum_of = |t: &pt::Tree| match t.get(&t.root, "tokens").and_then(|v| t.node_of(v)) {
        Some(Node::ElidedList { sum, .. }) => sum.to_bits(),
        other => panic!("not elided: {other:?}"),
    };
    let (whole, _) = pt::pickle::load(&bytes, &limits, 0).unwrap();
    assert_eq!(sum_of(&whole), f64::NAN.to_bits());
    assert_eq!(
        sum_of(&read_in_chunks(&bytes, &limits, 1)),
        f64::NAN.to_bits()
    );
}

/// A batch longer than the fast path counts (2^22 numbers, whose integer partial sums could
/// pass 2^53) is read number by number: each addition past 2^53 rounds, as Python's does.
#[test]
fn a_batch_past_two_to_the_twenty_two_numbers_sums_as_python_does() {
    let n = (1usize << 22) + 1000;
    let mut p = picklegen::Pickle::proto(2);
    p.empty_dict().str("tokens").empty_list().mark();
    for _ in 0..n - 1 {
        p.int(i32::MAX as i64);
    }
    p.int(3).appends().setitem();
    let bytes = p.stop();
    let mut expect = 0.0f64;
    for _ in 0..n - 1 {
        expect += i32::MAX as f64;
    }
    expect += 3.0;
    // Exact integers would give another number: the rounding is what is checked.
    assert_ne!(expect, (n as f64 - 1.0) * i32::MAX as f64 + 3.0);
    let (t, _) = pt::pickle::load(&bytes, &eliding_tokens(), 0).unwrap();
    assert!(matches!(
        t.get(&t.root, "tokens").and_then(|v| t.node_of(v)),
        Some(Node::ElidedList { len, sum }) if *len == n as u64 && sum.to_bits() == expect.to_bits()
    ));
}

#[test]
fn resumable_in_any_chunking() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime/agent_2.pt");
    let bytes = std::fs::read(path).unwrap();
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut a.by_name("agent_2/data.pkl").unwrap(), &mut data).unwrap();
    // With elision on, 1-byte chunks never give the numeric fast path a whole batch, so this
    // also checks that the fast path and the opcode-by-opcode path build the same tree.
    for limits in [Limits::default(), Limits::for_timeline()] {
        let (whole, _) = pt::pickle::load(&data, &limits, 0).unwrap();
        // The comparison below is strict (every node; elided lists by length and sum, floats
        // by bits), and with elision on there must be elided lists for it to mean anything.
        let elided = whole
            .nodes
            .iter()
            .filter(|n| matches!(n, Node::ElidedList { sum, .. } if *sum != 0.0))
            .count();
        assert_eq!(
            elided > 0,
            limits.keep_numeric_list_max.is_some(),
            "{elided}"
        );
        for chunk in [1usize, 7, 4096] {
            let t = read_in_chunks(&data, &limits, chunk);
            if let Some(diff) = common::tree_difference(&whole, &t) {
                panic!("chunk {chunk}: {diff}");
            }
        }
    }
}

#[test]
fn picklegen_torch_zips_read_like_torch_files() {
    let mut p = picklegen::Pickle::proto(2);
    p.str_dict([(
        "samples",
        Box::new(|p: &mut picklegen::Pickle| {
            p.empty_list();
        }) as Box<dyn FnOnce(&mut picklegen::Pickle)>,
    )]);
    let pkl = p.stop();
    for method in [picklegen::Method::Stored, picklegen::Method::Deflated] {
        let zip = picklegen::zip_entries(&[picklegen::Entry {
            name: "rollout_0/data.pkl",
            data: &pkl,
            method,
        }]);
        let dump = pt::read(&zip, &Limits::default()).unwrap();
        assert!(tree_has_samples(&dump.tree), "{method:?}");
    }
    let dump = pt::read(&picklegen::torch_zip("rollout_0", &pkl), &Limits::default()).unwrap();
    assert!(tree_has_samples(&dump.tree));
}

fn tree_has_samples(tree: &pt::Tree) -> bool {
    matches!(tree.get(&tree.root, "samples").and_then(|s| tree.node_of(s)), Some(Node::List(v)) if v.is_empty())
}

/// A numeric batch too large for the stack is refused by the fast path as by the normal one
/// (the same error), at any limit around the batch's size.
#[test]
fn numeric_batch_past_the_stack_limit_errs_on_both_paths() {
    for max_stack in [40, 100, 101, 102, 103, 104, 150] {
        let on = Limits {
            keep_numeric_list_max: Some(10),
            elide_keys: &["tokens"],
            max_stack,
            ..Limits::default()
        };
        let off = Limits {
            max_stack,
            ..Limits::default()
        };
        // A hundred numbers of one kind: BININT1, BININT2, BININT, BINFLOAT, bools.
        for kind in 0..5 {
            let mut p = picklegen::Pickle::proto(2);
            p.empty_dict().str("tokens").list_of(100, |p, i| {
                let i = i as i64;
                match kind {
                    0 => p.int(i),
                    1 => p.int(300 + i),
                    2 => p.int(-70_000 - i),
                    3 => p.float(i as f64 + 0.5),
                    _ => p.bool(i % 3 == 0),
                };
            });
            p.setitem();
            let bytes = p.stop();
            let fast = pt::pickle::load(&bytes, &on, 0).map(|_| ());
            let slow = pt::pickle::load(&bytes, &off, 0).map(|_| ());
            assert_eq!(
                fast.as_ref().map_err(|e| e.to_string()),
                slow.as_ref().map_err(|e| e.to_string()),
                "max_stack {max_stack}, kind {kind}"
            );
            // The dict, its key, the list, the mark and a hundred numbers: 103 values.
            assert_eq!(
                fast.is_err(),
                max_stack < 103,
                "max_stack {max_stack}, kind {kind}"
            );
        }
    }
}

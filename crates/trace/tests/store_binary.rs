//! The row store's binary form (`trace::store::binary`, what a one-file report embeds): every
//! fixture and hostile catalog case reads back as the same store (the same cache, warnings
//! and analysis, and the same bytes when written again), through `load` and the `Loader`
//! alike; damaged bytes give an error that says what and where, never a panic.

#[path = "support/inputs.rs"]
mod inputs;

use trace::store::binary;

fn bytes_of(l: &trace::Loaded) -> Vec<u8> {
    let mut out = Vec::new();
    binary::write(l, &mut out).unwrap();
    out
}

fn materialized(l: &trace::Loaded) -> Vec<u8> {
    let mut out = Vec::new();
    l.write_materialized(&mut out).unwrap();
    out
}

fn loaded(file: &str) -> trace::Loaded {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime")
        .join(file);
    let bytes = std::fs::read(path).unwrap();
    trace::load(&bytes, &trace::LoadOptions::new(file, 1.5)).unwrap()
}

#[test]
fn every_store_reads_back_equal() {
    let mut read_back = 0;
    for (name, bytes) in inputs::fixtures_and_catalog(usize::MAX) {
        let Ok(l) = trace::load(&bytes, &trace::LoadOptions::new(&name, 1.5)) else {
            continue;
        };
        let written = bytes_of(&l);
        let back = binary::read(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (a, b) = (materialized(&back), materialized(&l));
        if a != b {
            let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            let show = |v: &[u8]| {
                String::from_utf8_lossy(&v[at.saturating_sub(80)..(at + 80).min(v.len())])
                    .into_owned()
            };
            panic!(
                "{name}: reads back different rows at {at}:\n{}\n{}",
                show(&a),
                show(&b)
            );
        }
        assert!(
            bytes_of(&back) == written,
            "{name}: writes back different bytes"
        );
        assert_eq!(back.head, l.head, "{name}");
        // A store is a file kind of its own: the front door and the streaming reader take it.
        let again = trace::load(&written, &trace::LoadOptions::new("other", 9.0)).unwrap();
        assert!(bytes_of(&again) == written, "{name}: through load");
        let mut loader = trace::Loader::new(trace::LoadOptions::new("other", 9.0));
        for chunk in written.chunks(1000) {
            loader.push(chunk).unwrap();
        }
        assert!(
            bytes_of(&loader.finish().unwrap()) == written,
            "{name}: through the Loader"
        );
        // Told the size (as the page's worker tells it), or an impossible size: the same.
        for more in [written.len(), usize::MAX] {
            let mut loader = trace::Loader::new(trace::LoadOptions::new("other", 9.0));
            for (i, chunk) in written.chunks(1 << 16).enumerate() {
                loader.push(chunk).unwrap();
                if i == 0 {
                    loader.reserve(more);
                }
            }
            assert!(
                bytes_of(&loader.finish().unwrap()) == written,
                "{name}: through the Loader told {more} more bytes"
            );
        }
        read_back += 1;
    }
    assert!(read_back >= 20, "{read_back}");
}

/// Every prefix of a store is refused as cut short, and so is one more byte: a report cut by
/// a full disk or a partial download says so.
#[test]
fn a_cut_or_extended_store_is_refused() {
    let written = bytes_of(&loaded("agent_2.pt"));
    let step = (written.len() / 500).max(1);
    for n in (0..written.len()).step_by(step) {
        let e = binary::read(&written[..n]).err().map(|e| e.to_string());
        let e = e.unwrap_or_else(|| panic!("a store cut at {n} bytes was read"));
        assert!(e.starts_with("not a valid row store: "), "{e}");
    }
    let e = binary::read(&written[..written.len() - 1])
        .unwrap_err()
        .to_string();
    assert!(e.contains("the end mark") && e.contains("cut short"), "{e}");
    let mut longer = written.clone();
    longer.push(0);
    let e = binary::read(&longer).unwrap_err().to_string();
    assert!(e.contains("followed by more bytes"), "{e}");
}

/// Each byte flipped in turn gives a store that reads as a valid one or an error, never a
/// panic; and flips in the places that matter name them.
#[test]
fn flipped_bytes_give_errors_not_panics() {
    let l = loaded("legacy_6.pt");
    let written = bytes_of(&l);
    let mut refused = 0;
    // Every byte of the start (header, heads), then a spread of the columns and texts.
    let step = (written.len() / 600).max(1);
    let at_all: Vec<usize> = (0..600.min(written.len()))
        .chain((600..written.len()).step_by(step))
        .collect();
    for &at in &at_all {
        for flip in [0x01u8, 0xff] {
            let mut b = written.clone();
            b[at] ^= flip;
            match binary::read(&b) {
                Ok(back) => {
                    // Whatever reads is whole: it writes and reads back as itself.
                    let again = bytes_of(&back);
                    assert!(binary::read(&again).is_ok(), "byte {at}");
                    let _ = materialized(&back);
                }
                Err(e) => {
                    assert!(e.to_string().starts_with("not a valid row store: "));
                    refused += 1;
                }
            }
        }
    }
    assert!(refused > at_all.len(), "{refused} of {}", 2 * at_all.len());
}

#[test]
fn what_a_store_must_hold_is_checked() {
    let l = loaded("agent_2.pt");
    let bad = |f: &dyn Fn(&mut trace::Loaded), want: &str| {
        let mut m = l.clone();
        f(&mut m);
        let e = binary::read(&bytes_of(&m)).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    };
    bad(
        &|m| m.store.cols.lane[3] = 1 << 30,
        "row 0, item 3: lane 1073741824",
    );
    bad(&|m| m.store.cols.depth[0] = 1 << 20, "depth 1048576 beyond");
    bad(&|m| m.store.cols.name[1] = 9999, "item 1: a name id past");
    bad(&|m| m.store.cols.span_id[1] = 99_999, "a span id past");
    bad(
        &|m| m.store.cols.start[2] = f64::INFINITY,
        "item 2: times inf",
    );
    bad(&|m| m.store.cols.kind[0] |= 0x40, "kind 0x4");
    bad(
        &|m| m.store.heads[0].closed_span_count += 1,
        "row 0: its counts say",
    );
    bad(
        &|m| m.store.heads[0].lane_count = 1 << 30,
        "row 0: 1073741824 lanes for 14 items",
    );
    bad(&|m| m.store.heads[0].start = f64::NAN, "row 0: start NaN");
    bad(
        &|m| {
            // An attribute text that would end the export's JSON object early.
            let at = m.store.cols.attr_at[1];
            m.store.attrs[at] = b']';
        },
        "row 0, item 1: its",
    );
    bad(
        &|m| {
            let pd = &mut m.store.pd;
            (pd.item, pd.t0, pd.t1, pd.phase) = (vec![u32::MAX], vec![0.0], vec![1.0], vec![0]);
        },
        "PD segment 0: item 4294967295 out of order or past the",
    );
    // Attribute keys (`store/keys.rs`): marks naming keys the table has, keys JSON strings.
    let marked = |m: &trace::Loaded| {
        let at = memchr_mark(&m.store.attrs);
        assert!(at.is_some(), "agent_2.pt has marked keys");
        at.unwrap()
    };
    bad(
        &|m| {
            let at = marked(m);
            m.store.attrs[at + 1] = 0x7f;
        },
        "row 0, item 0: its attrs are not JSON",
    );
    bad(
        &|m| {
            let at = marked(m);
            m.store.attrs[at + 2] = 0x80;
        },
        "the attributes are not UTF-8",
    );
    bad(
        &|m| {
            m.store.keys = trace::store::Interner::default();
            m.store.keys.intern_text("7");
        },
        "attribute key 0 is not a JSON string of at most 128 bytes",
    );
    bad(
        &|m| {
            let long = format!("\"{}\"", "k".repeat(127));
            m.store.keys.intern_text(&long);
        },
        "is not a JSON string of at most 128 bytes",
    );
    let mut b = bytes_of(&l);
    b[16] = 4;
    let e = binary::read(&b).unwrap_err().to_string();
    assert_eq!(
        e,
        "not a valid row store: layout version 4, this reader knows 3"
    );
}

/// A claimed count or length larger than the bytes left allocates nothing and says so.
#[test]
fn huge_claims_are_refused_before_allocating() {
    let written = bytes_of(&loaded("agent_2.pt"));
    let meta_len = u64::from_le_bytes(written[20..28].try_into().unwrap()) as usize;
    let counts = 28 + meta_len;
    let mut b = written.clone();
    b[counts..counts + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = binary::read(&b).unwrap_err().to_string();
    assert!(
        e.contains("18446744073709551615 rows, more than the limit of 1048576"),
        "{e}"
    );
    let mut b = written.clone();
    b[counts..counts + 8].copy_from_slice(&(1u64 << 20).to_le_bytes());
    let e = binary::read(&b).unwrap_err().to_string();
    assert!(e.contains("cut short"), "{e}");
    let mut b = written;
    b[20..28].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = binary::read(&b).unwrap_err().to_string();
    assert!(
        e.contains("the header: a length of 18446744073709551615 runs past"),
        "{e}"
    );
}

/// The header is JSON that must have the header's shape: JSON of another shape (or not JSON)
/// is refused with the header named, not read as an empty analysis.
#[test]
fn a_header_of_the_wrong_shape_is_an_error() {
    let written = bytes_of(&loaded("agent_2.pt"));
    let meta_len = u64::from_le_bytes(written[20..28].try_into().unwrap()) as usize;
    for (header, says) in [
        (&b"{}"[..], "missing field"),
        (b"[1, 2]", "the header"),
        (b"{\"pt_path\": 3", "EOF"),
    ] {
        let mut b = written[..20].to_vec();
        b.extend_from_slice(&(header.len() as u64).to_le_bytes());
        b.extend_from_slice(header);
        b.extend_from_slice(&written[28 + meta_len..]);
        let e = binary::read(&b).unwrap_err().to_string();
        assert!(e.contains("the header") && e.contains(says), "{e}");
    }
}

/// Where the first key mark of `attrs` is.
fn memchr_mark(attrs: &[u8]) -> Option<usize> {
    attrs.iter().position(|&b| b == trace::store::keys::MARK)
}

/// The fuzzer's seeds (`fuzz/regressions/store_read/seed-*`) are stores of fixtures in the
/// current layout, so that it starts from stores the reader takes (a layout change refuses
/// stale ones at their version). `ROLLSCOPE_BLESS=1` writes them anew.
#[test]
fn the_fuzz_seeds_are_current_stores() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/store_read");
    for fixture in ["empty_8.pt", "legacy_6.pt", "pd_1.pt"] {
        let want = bytes_of(&loaded(fixture));
        let path = dir.join(format!("seed-{fixture}.store"));
        if std::env::var_os("ROLLSCOPE_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read(&path).unwrap();
        assert!(
            have == want,
            "{} is not this layout's store of {fixture}: run this test with ROLLSCOPE_BLESS=1",
            path.display()
        );
        assert!(binary::read(&have).is_ok());
    }
}

/// A store whose item 0 has start attributes `text` (the arena rebuilt around it).
fn with_start_attrs(l: &trace::Loaded, text: &[u8]) -> trace::Loaded {
    let mut m = l.clone();
    let c = &mut m.store.cols;
    let (a, mid) = (c.attr_at[0], c.attr_mid[0]);
    let mut attrs = m.store.attrs[..a].to_vec();
    attrs.extend_from_slice(text);
    attrs.extend_from_slice(&m.store.attrs[mid..]);
    let grew = text.len() as isize - (mid - a) as isize;
    c.attr_mid[0] = (c.attr_mid[0] as isize + grew) as usize;
    for (i, at) in c.attr_at.iter_mut().enumerate().skip(1) {
        *at = (*at as isize + grew) as usize;
        if i < c.attr_mid.len() {
            c.attr_mid[i] = (c.attr_mid[i] as isize + grew) as usize;
        }
    }
    m.store.attrs = attrs;
    m
}

/// A build marks each key of an object once: a text repeating a mark is refused, whatever
/// JSON it expands to. Repeated, one 128-byte key (a string `","` then spaces, which a
/// string value around the marks turns into valid JSON) makes three bytes 43 times as
/// many: a few MB of store (a few KB gzipped in a report) would expand to hundreds of MB
/// in one text when read, and so would every export of it.
#[test]
fn a_text_repeating_a_key_mark_is_refused() {
    let l = loaded("agent_2.pt");
    let mut l2 = l.clone();
    let key = format!("\",\"{}", " ".repeat(trace::store::keys::MAX_KEY_TEXT - 3));
    let id = l2.store.keys.intern_text(&key);
    let mark = [trace::store::keys::MARK, (id >> 7) as u8, (id & 0x7f) as u8];
    // One mark: a build could not have made it, but it expands to a small valid JSON.
    let mut text = b"[\"".to_vec();
    text.extend_from_slice(&mark);
    text.extend_from_slice(b"\"]");
    let one = with_start_attrs(&l2, &text);
    let (t, _) = one.store.attr_text(0);
    let mut json = Vec::new();
    one.store.write_attrs(t, &mut json).unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
    assert!(binary::read(&bytes_of(&one)).is_ok());
    // Many.
    let n = 200_000;
    let mut text = b"[\"".to_vec();
    for _ in 0..n {
        text.extend_from_slice(&mark);
    }
    text.extend_from_slice(b"\"]");
    let many = with_start_attrs(&l2, &text);
    let bytes = bytes_of(&many);
    match binary::read(&bytes) {
        Ok(back) => {
            let (t, _) = back.store.attr_text(0);
            let mut json = Vec::new();
            back.store.write_attrs(t, &mut json).unwrap();
            panic!(
                "a store of {} bytes read, its first text expanding to {} bytes",
                bytes.len(),
                json.len()
            );
        }
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("row 0, item 0: its attrs repeat a key mark"),
                "{e}"
            );
        }
    }
}

/// The rows' JSON bound (`check_output`) counts the attribute texts as expanded: full key
/// tables of 128-byte keys, every key once in each text, are ≈ 26 times their store's bytes
/// in JSON, past what a store of that size may give.
#[test]
fn the_output_bound_counts_expanded_attributes() {
    use trace::store::keys::{MARK, MAX_KEYS, MAX_KEY_TEXT};
    let l = ["pd_1.pt", "agent_2.pt", "basic_0.pt"]
        .into_iter()
        .map(loaded)
        .max_by_key(|l| l.store.item_count())
        .unwrap();
    let mut m = l.clone();
    let s = &mut m.store;
    s.keys = trace::store::Interner::default();
    for k in 0..MAX_KEYS {
        let text = format!("\"k{k:0width$}\"", width = MAX_KEY_TEXT - 3);
        assert_eq!(text.len(), MAX_KEY_TEXT);
        s.keys.intern_text(&text);
    }
    let mut all = b"{".to_vec();
    for k in 0..MAX_KEYS {
        all.extend_from_slice(&[MARK, (k >> 7) as u8, (k & 0x7f) as u8, b'0', b',']);
    }
    *all.last_mut().unwrap() = b'}';
    // Texts enough for ≈ 400 MB of JSON from ≈ 15 MB of store.
    let texts = (400usize << 20) / (MAX_KEYS * (MAX_KEY_TEXT + 3)) + 1;
    assert!(s.item_count() >= texts, "{} items", s.item_count());
    let n = s.item_count();
    let c = &mut s.cols;
    let mut attrs = Vec::new();
    for i in 0..n {
        let span = c.attr_at[i + 1] > c.attr_mid[i];
        attrs.extend_from_slice(if i < texts { &all } else { b"{}" });
        c.attr_mid[i] = attrs.len();
        if span {
            attrs.extend_from_slice(b"{}");
        }
        c.attr_at[i + 1] = attrs.len();
    }
    s.attrs = attrs;
    let bytes = bytes_of(&m);
    let e = binary::read(&bytes)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("the rows would be more than"),
        "a store of {} bytes: {e:?}",
        bytes.len()
    );
}

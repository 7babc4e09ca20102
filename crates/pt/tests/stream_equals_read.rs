//! Stream = whole read, always: on every input, `pt::StreamReader` (the browser) gives
//! exactly what `pt::read` (the CLI) gives: the same format and tree, compared node by node
//! (elided lists by length and sum, floats by bits), or the same error message. Inputs:
//! every fixture (as written and with data.pkl re-compressed), every case of the hostile
//! catalog, and edge cases built here; chunkings: whole, 1 byte, random up to 7, 5 000 and
//! 64 Ki bytes; limits: default, timeline, and tight memory limits.
//!
//! Bound: every read of every input finishes; the whole test takes seconds in a debug build
//! (each 1-byte feed of a 1.5 MB line is O(1), not a rescan).

mod common;

use std::io::Read;
use std::path::PathBuf;

use common::{lcg, read_difference, streamed};
use picklegen::{zip_entries, Entry, Method, Pickle};
use pt::Limits;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pt"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    assert!(v.len() >= 10, "expected the slime fixtures");
    v
}

/// A fixture's entries again, data.pkl DEFLATED.
fn deflated(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).ok()?;
        let mut data = Vec::new();
        f.read_to_end(&mut data).ok()?;
        entries.push((f.name().ok()?.into_owned(), data));
    }
    let list: Vec<Entry<'_>> = entries
        .iter()
        .map(|(n, d)| Entry {
            name: n,
            data: d,
            method: if n.ends_with("data.pkl") {
                Method::Deflated
            } else {
                Method::Stored
            },
        })
        .collect();
    Some(zip_entries(&list))
}

fn small_dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().setitem();
    p.stop()
}

/// Inputs built here, each an edge where the two readers once differed or could.
fn edge_cases() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    let fixture = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/basic_0.pt"),
    )
    .unwrap();
    let legacy = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/legacy_6.pt"),
    )
    .unwrap();
    for cut in [
        3,
        29,
        100,
        fixture.len() / 2,
        fixture.len() - 30,
        fixture.len() - 1,
    ] {
        v.push((format!("zip cut at {cut}"), fixture[..cut].to_vec()));
    }
    for cut in [legacy.len() / 3, legacy.len() - 1] {
        v.push((format!("legacy cut at {cut}"), legacy[..cut].to_vec()));
    }
    v.push(("empty".into(), Vec::new()));
    v.push(("3 bytes".into(), b"PK\x03".to_vec()));
    v.push(("text".into(), b"hello world".to_vec()));
    let pkl = small_dump();
    let mut trailing = pkl.clone();
    trailing.extend_from_slice(b"garbage after STOP");
    v.push(("bare pickle with trailing bytes".into(), trailing));
    // A pickle without STOP in its entry, followed by other entries.
    let no_stop = &pkl[..pkl.len() - 1];
    v.push((
        "data.pkl without STOP".into(),
        picklegen::torch_zip("r", no_stop),
    ));
    // data.pkl after another entry; and an entry that is not data.pkl only.
    let e = |name: &'static str, data: &'static [u8]| Entry {
        name,
        data,
        method: Method::Stored,
    };
    let pkl: &'static [u8] = Box::leak(pkl.into_boxed_slice());
    v.push((
        "data.pkl second".into(),
        zip_entries(&[e("r/byteorder", b"little"), e("r/data.pkl", pkl)]),
    ));
    v.push(("no data.pkl".into(), zip_entries(&[e("r/x", b"1")])));
    // DEFLATED data.pkl with its compressed bytes damaged here and there.
    let good = zip_entries(&[Entry {
        name: "r/data.pkl",
        data: &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/edge_9.pt"),
        )
        .unwrap(),
        method: Method::Deflated,
    }]);
    for at in [40, 100, 400, 1000] {
        let mut bad = good.clone();
        if at < bad.len() {
            bad[at] ^= 0x5a;
            v.push((format!("deflate damaged at {at}"), bad));
        }
    }
    v
}

fn check(name: &str, bytes: &[u8], limits: &Limits) {
    let whole = pt::read(bytes, limits);
    let mut chunkings: Vec<(String, Box<dyn FnMut() -> usize>)> = vec![
        ("one push".into(), Box::new(|| usize::MAX)),
        ("random ≤ 5000".into(), Box::new(lcg(7, 5000))),
        // Chunks past `StreamReader`'s 4 KiB stitch, cutting long opcodes too.
        ("random ≤ 64 KiB".into(), Box::new(lcg(13, 64 << 10))),
        ("random ≤ 7".into(), Box::new(lcg(11, 7))),
    ];
    // 1-byte chunks for everything up to 2 MB (all catalog cases and fixtures).
    if bytes.len() <= 2 << 20 {
        chunkings.push(("1 byte".into(), Box::new(|| 1)));
    }
    for (how, mut sizes) in chunkings {
        let s = streamed(bytes, limits, &mut sizes);
        if let Some(diff) = read_difference(&whole, &s) {
            panic!("{name} ({how}, {limits:?}): read / stream differ: {diff}");
        }
    }
}

#[test]
fn fixtures_read_the_same_streamed() {
    for (name, bytes) in fixtures() {
        for limits in [Limits::default(), Limits::for_timeline()] {
            check(&name, &bytes, &limits);
            if let Some(d) = deflated(&bytes) {
                check(&format!("{name} (deflated)"), &d, &limits);
            }
        }
        // Sanity: a fixture reads without error (a test comparing two errors proves little).
        assert!(pt::read(&bytes, &Limits::for_timeline()).is_ok(), "{name}");
    }
}

#[test]
fn catalog_cases_read_the_same_streamed() {
    let cases = picklegen::hostile::catalog();
    assert!(cases.iter().filter(|c| c.file.ends_with(".pt")).count() >= 10);
    for c in cases.iter().filter(|c| c.file.ends_with(".pt")) {
        for limits in [Limits::default(), Limits::for_timeline()] {
            let t = std::time::Instant::now();
            check(c.file, &c.bytes, &limits);
            // Four chunkings, four reads each: generous for a debug build.
            assert!(t.elapsed().as_secs() < 60, "{}: {:?}", c.file, t.elapsed());
        }
    }
}

#[test]
fn edge_cases_read_the_same_streamed() {
    let cases = edge_cases();
    // Some edges must be errors on both sides and some must not: check a few outcomes too.
    let mut errors = 0;
    for (name, bytes) in &cases {
        for limits in [Limits::default(), Limits::for_timeline()] {
            check(name, bytes, &limits);
        }
        errors += pt::read(bytes, &Limits::default()).is_err() as usize;
    }
    let ok = |n: &str| {
        let (_, b) = cases.iter().find(|(c, _)| c == n).unwrap();
        pt::read(b, &Limits::default())
    };
    assert!(ok("data.pkl second").is_ok());
    assert!(ok("bare pickle with trailing bytes").is_ok());
    // A ZIP cut anywhere (even after data.pkl's STOP: the central directory is missing)
    // is an error on both sides; the stream used to show it.
    for (name, bytes) in cases.iter().filter(|(c, _)| c.starts_with("zip cut")) {
        assert!(pt::read(bytes, &Limits::default()).is_err(), "{name}");
    }
    let e = ok("zip cut at 221199").unwrap_err().to_string();
    assert!(e.contains("no end of central directory"), "{e}");
    assert!(errors >= 10, "{errors} of {} edges are errors", cases.len());
}

/// Memory charged must not depend on the path a batch takes (numeric fast path or opcode
/// by opcode), or a memory limit would fire for one chunking and not another: sweep tight
/// limits over a dump with elided lists and allocations after them.
#[test]
fn memory_limits_fire_at_the_same_opcode_however_the_bytes_arrive() {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark();
    for k in 0..6 {
        p.str("tokens").list_of(150, |p, i| {
            p.int((i * k) as i64);
        });
        p.str(&format!("other{k}")).list_of(30, |p, i| {
            p.float(i as f64 / 3.0);
        });
    }
    p.setitems();
    let pkl = p.stop();
    let zip = picklegen::torch_zip("r", &pkl);
    let mut outcomes = std::collections::BTreeSet::new();
    for max_memory in (500..9000).step_by(151) {
        let limits = Limits {
            max_memory,
            ..Limits::for_timeline()
        };
        check("tight memory", &zip, &limits);
        outcomes.insert(pt::read(&zip, &limits).is_ok());
    }
    // The sweep crosses the limit: both outcomes occur.
    assert_eq!(outcomes.len(), 2);
}

/// The inflation cap is reached at the same inflated byte in any chunking, and the message
/// names the limit.
#[test]
fn inflation_cap_is_the_same_streamed() {
    // 8 MiB of valid pickle (a long list of zeros) under a header that declares 100 bytes.
    let mut p = Pickle::proto(2);
    p.empty_list().mark().repeat(4 << 20, |p| {
        p.int(0);
    });
    p.appends();
    let pkl = p.stop();
    let mut zip = zip_entries(&[Entry {
        name: "r/data.pkl",
        data: &pkl,
        method: Method::Deflated,
    }]);
    // Local header: uncompressed size at offset 22 says 100 bytes.
    zip[22..26].copy_from_slice(&100u32.to_le_bytes());
    let limits = Limits {
        max_pickle_bytes: 1 << 20,
        ..Limits::default()
    };
    check("lying deflate", &zip, &limits);
    let e = pt::read(&zip, &limits).unwrap_err().to_string();
    assert_eq!(e, "r/data.pkl inflates to more than 1 MiB");
    // An honest header past the limit is refused before inflating.
    let honest = zip_entries(&[Entry {
        name: "r/data.pkl",
        data: &pkl,
        method: Method::Deflated,
    }]);
    let e = pt::read(&honest, &limits).unwrap_err().to_string();
    assert!(
        e.starts_with("r/data.pkl declares 8.0 MiB uncompressed, more than the limit of 1 MiB"),
        "{e}"
    );
}

//! The same result (rows, warnings, metrics, or the same error) whether a file arrives in one
//! chunk, in 1-byte chunks or in random sizes, and whatever the ZIP entries' compression:
//! `trace::Loader` fed in chunks (the browser, the CLI) and `trace::load` on the whole file
//! agree on every fixture, every hostile catalog case and the sniffing edge cases.

use std::io::{Read, Write};
use std::path::PathBuf;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pt") || n.ends_with(".trace_timeline_cache.json")
        })
        .collect();
    v.sort();
    // Every test over this list would pass on an empty directory.
    assert!(!v.is_empty(), "no fixtures found");
    v
}

fn whole(bytes: &[u8]) -> String {
    match trace::load(bytes, &trace::LoadOptions::new("x", 0.0)).map(trace::Loaded::materialize) {
        Ok(b) => serde_json::to_string(&b).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

fn streamed(bytes: &[u8], sizes: &mut dyn FnMut() -> usize) -> String {
    let mut loader = trace::Loader::new(trace::LoadOptions::new("x", 0.0));
    let mut at = 0;
    while at < bytes.len() {
        let n = sizes().clamp(1, bytes.len() - at);
        if let Err(e) = loader.push(&bytes[at..at + n]) {
            return format!("error: {e}");
        }
        at += n;
    }
    match loader.finish().map(trace::Loaded::materialize) {
        Ok(b) => serde_json::to_string(&b).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

/// A small deterministic generator (no dependency needed for test chunk sizes).
fn lcg(seed: u64) -> impl FnMut() -> usize {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + ((x >> 33) % 5000) as usize
    }
}

#[test]
fn one_chunk_one_byte_and_random_chunks_agree() {
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let expect = whole(&bytes);
        assert!(!expect.starts_with("error"), "{}: {expect}", path.display());
        let name = path.display();
        assert_eq!(
            streamed(&bytes, &mut || usize::MAX),
            expect,
            "{name}: one chunk"
        );
        assert_eq!(streamed(&bytes, &mut || 1), expect, "{name}: 1-byte chunks");
        for seed in [1, 2, 3] {
            assert_eq!(
                streamed(&bytes, &mut lcg(seed)),
                expect,
                "{name}: random chunks {seed}"
            );
        }
    }
}

/// The same dumps rewritten with DEFLATED entries, and with data.pkl not first.
#[test]
fn deflated_and_reordered_archives_stream_too() {
    for path in fixtures()
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".pt"))
    {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])) else {
            continue; // the legacy fixture is not a zip
        };
        let mut entries: Vec<(String, Vec<u8>)> = (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (f.name().unwrap().to_string(), data)
            })
            .collect();
        let expect = whole(&bytes);
        for (deflate, reorder) in [(true, false), (false, true), (true, true)] {
            if reorder {
                entries.rotate_left(1); // data.pkl no longer first: streaming skips ahead or buffers
            }
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (name, data) in &entries {
                let method = if deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                w.start_file(
                    name.as_str(),
                    zip::write::SimpleFileOptions::default().compression_method(method),
                )
                .unwrap();
                w.write_all(data).unwrap();
            }
            let rewritten = w.finish().unwrap().into_inner();
            assert_eq!(
                whole(&rewritten),
                expect,
                "{}: whole, deflate {deflate} reorder {reorder}",
                path.display()
            );
            assert_eq!(
                streamed(&rewritten, &mut lcg(9)),
                expect,
                "{}: streamed, deflate {deflate} reorder {reorder}",
                path.display()
            );
            assert_eq!(
                streamed(&rewritten, &mut || 1),
                expect,
                "{}: 1-byte, deflate {deflate} reorder {reorder}",
                path.display()
            );
        }
    }
}

#[test]
fn errors_are_the_same_as_whole_reads() {
    let bytes = std::fs::read(
        fixtures()
            .into_iter()
            .find(|p| p.ends_with("basic_0.pt"))
            .unwrap(),
    )
    .unwrap();
    for cut in [0, 3, 40, 200] {
        let part = &bytes[..cut];
        let w = whole(part);
        assert!(w.starts_with("error"), "cut {cut}: {w}");
        assert_eq!(streamed(part, &mut lcg(5)), w, "cut {cut}");
        assert_eq!(streamed(part, &mut || 1), w, "cut {cut}, 1-byte chunks");
    }
    assert_eq!(streamed(b"GIF89a....", &mut || 3), whole(b"GIF89a...."));
}

/// A ZIP cut in the middle of data.pkl: the whole read and the stream give one error.
#[test]
fn truncated_zip_errors_are_the_same() {
    let bytes = std::fs::read(
        fixtures()
            .into_iter()
            .find(|p| p.ends_with("basic_0.pt"))
            .unwrap(),
    )
    .unwrap();
    let part = &bytes[..bytes.len() / 2];
    let w = whole(part);
    assert!(w.starts_with("error"), "{w}");
    assert_eq!(streamed(part, &mut lcg(5)), w);
}

/// Files whose kind is decided by their first bytes: BOM, leading whitespace, Prometheus text
/// whose first line arrives a byte at a time, files shorter than the sniffing window, JSON
/// that starts past it.
#[test]
fn sniffing_edges_agree() {
    let cache = std::fs::read(
        fixtures()
            .into_iter()
            .find(|p| p.ends_with("basic_0.trace_timeline_cache.json"))
            .unwrap(),
    )
    .unwrap();
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(&cache);
    let mut spaced = b" \n\t ".to_vec();
    spaced.extend_from_slice(&cache);
    let mut far = vec![b' '; 5000];
    far.extend_from_slice(&cache);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one space", b" ".to_vec()),
        ("BOM only", b"\xef\xbb\xbf".to_vec()),
        ("BOM + cache", with_bom),
        ("whitespace + cache", spaced),
        ("cache after 5000 spaces", far),
        (
            "prometheus text",
            b"sglang:num_running_reqs{a=\"1\"} 3 1790000000000\n".to_vec(),
        ),
        (
            "prometheus comment",
            b"# HELP x y\n# TYPE x gauge\nx 1\n".to_vec(),
        ),
        (
            "BOM + prometheus",
            b"\xef\xbb\xbf# HELP x y\nx 1\n".to_vec(),
        ),
        (
            "prometheus json",
            br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_vec(),
        ),
        ("short json", b"{}".to_vec()),
        ("bad json", b"{\"cache_version\": 1,".to_vec()),
        ("word", b"hello".to_vec()),
        ("pickle int", b"\x80\x02K\x07.".to_vec()),
    ];
    for (name, bytes) in cases {
        let w = whole(&bytes);
        for (chunks, mut sizes) in [
            (
                "whole",
                Box::new(|| usize::MAX) as Box<dyn FnMut() -> usize>,
            ),
            ("1-byte", Box::new(|| 1)),
            ("random", Box::new(lcg(7))),
        ] {
            assert_eq!(streamed(&bytes, &mut sizes), w, "{name}, {chunks} chunks");
        }
    }
    assert!(
        whole(b"\xef\xbb\xbf{}").contains("cache_version"),
        "a BOM before JSON is read as JSON"
    );
}

/// Every hostile file of the catalog: the same result both ways (bounded time: each case
/// must finish; the CLI test states the per-case bounds).
#[test]
fn catalog_cases_stream_like_whole_reads() {
    for case in picklegen::hostile::catalog() {
        let w = whole(&case.bytes);
        assert_eq!(
            streamed(&case.bytes, &mut lcg(11)),
            w,
            "{}: random chunks",
            case.file
        );
        if case.bytes.len() < 300_000 {
            assert_eq!(
                streamed(&case.bytes, &mut || 1),
                w,
                "{}: 1-byte chunks",
                case.file
            );
        }
    }
}

/// A size hint (what `ops` gives for a file on disk) reserves room for the rows and changes
/// nothing they are: the same bytes whole, streamed, with and without it; room a hint as
/// large as the 427 MB benchmark dump reserved and the rows did not use is given back.
#[test]
fn a_size_hint_reserves_room_and_changes_nothing() {
    let hinted = |bytes: &[u8], hint: u64| {
        let options = trace::LoadOptions {
            size_hint: Some(hint),
            ..trace::LoadOptions::new("x", 0.0)
        };
        let mut loader = trace::Loader::new(options);
        for c in bytes.chunks(4096) {
            loader.push(c).unwrap();
        }
        loader.finish().unwrap()
    };
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let plain = whole(&bytes);
        for hint in [bytes.len() as u64, 0, 427 << 20] {
            let got = serde_json::to_string(&hinted(&bytes, hint).materialize()).unwrap();
            assert!(
                got == plain,
                "{}: hint {hint} changed the rows",
                path.display()
            );
        }
    }
    // What the rows did not use is given back once they are built.
    let bytes = std::fs::read(&fixtures()[0]).unwrap();
    let big = hinted(&bytes, 427 << 20);
    let s = &big.store;
    assert!(!s.cols.kind.is_empty());
    assert!(
        s.cols.kind.capacity() <= 2 * s.cols.kind.len() && s.attrs.capacity() <= 2 * s.attrs.len(),
        "{} items in {}, {} attribute bytes in {}",
        s.cols.kind.len(),
        s.cols.kind.capacity(),
        s.attrs.len(),
        s.attrs.capacity()
    );
}

/// The room a hint reserves, before any row is built.
#[test]
fn a_size_hint_reserves_the_columns_up_front() {
    let mut store = trace::store::Store::default();
    store.reserve(1_300_000, 200 << 20);
    assert!(store.cols.kind.capacity() >= 1_300_000);
    assert!(store.cols.attr_at.capacity() >= 1_300_000);
    assert!(store.attrs.capacity() >= 200 << 20);
    store.trim();
    assert!(store.attrs.capacity() < 1 << 20, "trim gives it back");
}

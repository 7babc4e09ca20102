//! The same rows whether a file arrives in one chunk, in 1-byte chunks or in random sizes,
//! and whatever the ZIP entries' compression.

use std::io::{Read, Write};
use std::path::PathBuf;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/slime");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pt") || n.ends_with(".trace_timeline_cache.json")
        })
        .collect();
    v.sort();
    v
}

fn whole(bytes: &[u8]) -> String {
    match trace::load(bytes, "x", 0.0) {
        Ok(b) => serde_json::to_string(&b.cache).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

fn streamed(bytes: &[u8], sizes: &mut dyn FnMut() -> usize) -> String {
    let mut loader = trace::StreamLoader::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = sizes().clamp(1, bytes.len() - at);
        if let Err(e) = loader.push(&bytes[at..at + n]) {
            return format!("error: {e}");
        }
        at += n;
    }
    match loader.finish().and_then(|p| p.build("x", 0.0)) {
        Ok(b) => serde_json::to_string(&b.cache).unwrap(),
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
    for cut in [0, 3, 40, 200, bytes.len() / 2] {
        let part = &bytes[..cut];
        let w = whole(part);
        assert!(w.starts_with("error"), "cut {cut}: {w}");
        let s = streamed(part, &mut lcg(5));
        assert!(s.starts_with("error"), "cut {cut}: {s}");
    }
    assert_eq!(streamed(b"GIF89a....", &mut || 3), whole(b"GIF89a...."));
}

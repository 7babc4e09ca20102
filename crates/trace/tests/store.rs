//! The compact row store against the materialised rows: on every fixture, cache JSON and
//! hostile catalog case, the cache JSON written straight from the store is byte for byte what
//! `serde_json` writes for the materialised `Cache` (whose semantics the reference-cache tests
//! check against slime), a store rebuilt from those rows writes the same bytes again, and a
//! serialised `Materialized` (what a one-file report carries) reads back as the same rows and analysis.

#[path = "support/inputs.rs"]
mod inputs;

use std::path::PathBuf;

fn inputs() -> Vec<(String, Vec<u8>)> {
    inputs::fixtures_and_catalog(1 << 20)
}

#[test]
fn store_writes_the_cache_serde_writes() {
    let mut checked = 0;
    let mut items = 0;
    for (name, bytes) in inputs() {
        let Ok(compact) = trace::load(&bytes, &trace::LoadOptions::new("x.pt", 1.5)) else {
            continue;
        };
        let mut direct = Vec::new();
        compact.write_cache(&mut direct).unwrap();
        items += compact.store.item_count();
        let built = compact.clone().materialize();
        let via_serde = serde_json::to_vec(&built.cache).unwrap();
        assert!(
            direct == via_serde,
            "{name}: store JSON differs from serde's:\n{}\n---\n{}",
            String::from_utf8_lossy(&direct[..direct.len().min(2000)]),
            String::from_utf8_lossy(&via_serde[..via_serde.len().min(2000)])
        );
        let again = trace::Loaded::from_materialized(built);
        let mut rewritten = Vec::new();
        again.write_cache(&mut rewritten).unwrap();
        assert!(
            rewritten == direct,
            "{name}: rebuilt store writes other bytes"
        );
        checked += 1;
    }
    assert!(
        checked >= 20 && items > 1000,
        "{checked} files, {items} items"
    );
}

#[test]
fn a_serialised_built_reads_back_as_itself() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/basic_0.pt");
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("basic_0.pt", 2.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    assert!(built.analysis.requests > 0 && built.analysis.samples > 0);
    let json = serde_json::to_vec(&built).unwrap();
    let back = trace::load(&json, &trace::LoadOptions::new("report", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    assert_eq!(
        serde_json::to_string(&back.cache).unwrap(),
        serde_json::to_string(&built.cache).unwrap()
    );
    assert_eq!(back.analysis, built.analysis, "the dump's analysis is kept");
    assert_eq!(back.warnings, built.warnings);
}

/// A writer that takes `limit` bytes, then fails every call: counts what it is asked for
/// after its first failure.
struct FailAfter {
    limit: usize,
    taken: Vec<u8>,
    failed: bool,
    calls_after: usize,
}

impl FailAfter {
    fn new(limit: usize) -> FailAfter {
        FailAfter {
            limit,
            taken: Vec::new(),
            failed: false,
            calls_after: 0,
        }
    }
}

impl std::io::Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            self.calls_after += 1;
            return Err(std::io::Error::other("written again after failing"));
        }
        let room = self.limit - self.taken.len();
        if room == 0 && !buf.is_empty() {
            self.failed = true;
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(room);
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed {
            self.calls_after += 1;
            return Err(std::io::Error::other("flushed after failing"));
        }
        Ok(())
    }
}

/// A cache write whose writer fails part way returns that error, and asks nothing more of the
/// writer: the rows' buffer is not flushed again when it is dropped (it would be, `BufWriter`
/// flushes on drop), and the closing `]}` is not written. Failing in the header, in the rows
/// (before and after the rows' 256 KiB buffer first fills) and in the last bytes.
#[test]
fn a_cache_write_stops_at_the_writers_first_error() {
    let attrs = "a".repeat(10_000);
    let bytes = picklegen::rollout_zip(|p| {
        p.empty_list().mark();
        for i in 0..60 {
            p.empty_dict().mark().str("index").int(i).str("trace");
            p.empty_dict().mark().str("events").empty_list().mark();
            p.empty_dict()
                .mark()
                .str("type")
                .str("event")
                .str("name")
                .str("e");
            p.str("ts").float(1.0).str("attrs");
            p.empty_dict().mark().str("s").str(&attrs).setitems();
            p.setitems().appends().setitems().setitems();
        }
        p.appends();
    });
    let loaded = trace::load(&bytes, &trace::LoadOptions::new("x.pt", 1.5)).unwrap();
    let mut whole = Vec::new();
    loaded.write_cache(&mut whole).unwrap();
    let total = whole.len();
    assert!(total > 500_000, "the rows pass their buffer: {total} bytes");
    let rows_at = whole.windows(8).position(|w| w == b"\"rows\":[").unwrap() + 8;
    let mut limits: Vec<usize> = (0..total).step_by(total / 40).collect();
    limits.extend([
        rows_at - 1,
        rows_at,
        rows_at + 1,
        300_000,
        total - 2,
        total - 1,
    ]);
    for limit in limits {
        let mut w = FailAfter::new(limit);
        let err = loaded.write_cache(&mut w).unwrap_err();
        assert_eq!(err.to_string(), "disk full", "failing after {limit} bytes");
        assert_eq!(
            w.calls_after, 0,
            "failing after {limit} of {total} bytes: the writer was called again"
        );
        assert!(
            w.taken == whole[..limit],
            "failing after {limit} bytes: other bytes taken"
        );
    }
    let mut w = FailAfter::new(total);
    loaded.write_cache(&mut w).unwrap();
    assert!(w.taken == whole && w.calls_after == 0);
}

/// A store's id is its own: every store built or read back has another, its clones share it
/// (what the viewer's worker checks before trusting rows it sent while the file was read).
#[test]
fn each_store_has_its_own_id() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/basic_0.pt");
    let bytes = std::fs::read(path).unwrap();
    let options = trace::LoadOptions::new("x.pt", 1.5);
    let (a, b) = (
        trace::load(&bytes, &options).unwrap().store,
        trace::load(&bytes, &options).unwrap().store,
    );
    assert_ne!(a.id(), b.id());
    assert_eq!(a.clone().id(), a.id());
    let mut packed = Vec::new();
    let loaded = trace::load(&bytes, &options).unwrap();
    trace::store::binary::write(&loaded, &mut packed).unwrap();
    let back = trace::load(&packed, &options).unwrap().store;
    assert_ne!(back.id(), loaded.store.id());
    assert_eq!(back.len(), loaded.store.len());
}

//! `fuzzcheck`: what every fuzz target checks, in one place.
//!
//! **Owns:** one `check_<target>(data)` per fuzz target in `fuzz/fuzz_targets/`. Each runs the
//! code under test on the fuzzer's bytes and panics when an invariant a crash would not show is
//! broken. The fuzz targets call these, and `tests/replay.rs` replays every committed input of
//! `fuzz/regressions/<target>/` through the same function, so a finding stays fixed without
//! fuzzing in CI.
//!
//! **Invariants checked** (on top of "no panic, no hang, no abort", which the fuzzer sees):
//! - a successful load serialises to strict JSON that `serde_json` reads back into a
//!   [`trace::Materialized`] equal to the original (compared by `Debug`, so a NaN that became `null`
//!   or an infinity that cannot be read back is caught), see [`built::check_built`];
//! - its JSON is at most [`OUT_PER_INPUT_BYTE`] bytes per input byte plus [`OUT_FLOOR`];
//! - rows are self-consistent (`lane < lane_count ≤ items + 1`, counts match the items);
//! - the streaming readers give exactly what the whole-buffer readers give, the same value or
//!   an error on both, for any chunking ([`stream`]);
//! - a `pt` value tree stays within the memory limit it was read under ([`tree`]);
//! - a tokenizer's pieces concatenate to its decoding, with consistent offsets
//!   ([`check_tokenizer`]).
//!
//! - the exports and the report's rows written from the row store equal the value-tree
//!   path's bytes and stay within their output limit ([`export`]);
//! - a verl step log gives the same rows and notes whole and in any chunks, a detail per row
//!   and no more rows than lines ([`verl`]);
//! - a row store's bytes that read write back the same and pass the load checks
//!   ([`check_store_read`]);
//! - the run listing of a virtual folder tree is exactly the files its rules name (regular
//!   files with valid names of the folders it may read, none through a link), or the error
//!   they give, and its note counts what it skipped ([`listing`]).
//!
//! Layout: this file (targets and dispatch), `built.rs` (checks on a `Materialized` and on series),
//! `export.rs` (the streamed writers),
//! `tree.rs` (value tree size and canonical form), `stream.rs` (chunked vs whole), `verl.rs`
//! (verl's JSONL step logs), `listing.rs` (the run listing over a virtual folder tree).

pub mod built;
pub mod export;
pub mod listing;
pub mod stream;
pub mod tree;
pub mod verl;

pub use built::{OUT_FLOOR, OUT_PER_INPUT_BYTE};

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/` and its folder in
/// `fuzz/regressions/`.
pub const TARGETS: &[&str] = &[
    "pt_read",
    "trace_load",
    "trace_json",
    "stream_vs_whole",
    "interop",
    "cache_json",
    "structured",
    "tokenizer",
    "run_read",
    "export_stream",
    "verl_read",
    "store_read",
    "run_listing",
];

/// Runs the check of `target` on `data`. Panics on an invariant violation or an unknown target.
pub fn check(target: &str, data: &[u8]) {
    match target {
        "pt_read" => check_pt_read(data),
        "trace_load" => check_trace_load(data),
        "trace_json" => check_trace_json(data),
        "stream_vs_whole" => check_stream_vs_whole(data),
        "interop" => check_interop(data),
        "cache_json" => check_cache_json(data),
        "structured" => check_structured(data),
        "tokenizer" => check_tokenizer(data),
        "run_read" => check_run_read(data),
        "export_stream" => export::check_export_stream(data),
        "verl_read" => verl::check_verl_read(data),
        "store_read" => check_store_read(data),
        "run_listing" => listing::check_run_listing(data),
        other => panic!("unknown fuzz target {other:?} (known: {TARGETS:?})"),
    }
}

/// `pt::read` under [`tree::FUZZ_LIMITS`] (numeric lists elided, as the timeline reads) and
/// under the same limits keeping every value. A tree must fit the memory limit it was read
/// under.
pub fn check_pt_read(data: &[u8]) {
    for limits in [tree::FUZZ_LIMITS, tree::FUZZ_LIMITS_KEEP_ALL] {
        if let Ok(dump) = pt::read(data, &limits) {
            tree::check_tree_bounded(&dump.tree, &limits);
        }
    }
}

/// `trace::load` on any bytes (dumps, legacy files, bare pickles, JSON, text).
pub fn check_trace_load(data: &[u8]) {
    if let Ok(built) =
        trace::load(data, &trace::LoadOptions::new("fuzz.pt", 0.0)).map(trace::Loaded::materialize)
    {
        built::check_built(&built, data.len(), built::origin_of(data));
    }
}

/// `trace::load` on JSON (cache JSON, OTLP/JSON, Prometheus JSON), plus the Chrome and OTLP
/// exports of what loaded: each must be JSON no larger than [`built::EXPORT_PER_CACHE_BYTE`]
/// times the cache.
pub fn check_trace_json(data: &[u8]) {
    if let Ok(built) = trace::load(data, &trace::LoadOptions::new("fuzz.json", 0.0))
        .map(trace::Loaded::materialize)
    {
        built::check_built(&built, data.len(), built::origin_of(data));
        built::check_exports(&built);
    }
}

/// The differential: `trace::Loader` fed in chunks vs `trace::load` on the whole
/// buffer (whose `Materialized` gets the `trace_load` checks), and `pt::StreamReader` vs `pt::read`. The first bytes choose the chunk sizes (see
/// [`stream::split_input`]).
pub fn check_stream_vs_whole(data: &[u8]) {
    let (sizes, file) = stream::split_input(data);
    stream::check_trace_stream(file, &sizes);
    stream::check_pt_stream(file, &sizes);
}

/// OTLP/JSON import and Prometheus import (JSON and text exposition), whatever the bytes look
/// like: the sniffing is not under test here, the importers are.
pub fn check_interop(data: &[u8]) {
    if let Ok(series) = trace::interop::parse_prometheus(data) {
        built::check_series(&series, data.len());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        // Under the limits a user's file gets (`trace::load` passes the file's size).
        let limits = trace::BuildLimits::for_input(data.len() as u64);
        if let Ok(loaded) = trace::interop::import_otlp(&value, "fuzz.json", 0.0, &limits) {
            built::check_built(&loaded.materialize(), data.len(), built::Origin::Otlp);
        }
    }
}

/// The row store's reader (`trace::store::binary`, what a one-file report embeds), on bytes
/// after its start mark (added when missing, so the fuzzer starts past it): what it accepts
/// writes back as the same bytes, reads again, and passes the `trace_load` checks (bounded
/// output, rows the page can draw).
pub fn check_store_read(data: &[u8]) {
    use trace::store::binary;
    let owned;
    let bytes = if data.starts_with(binary::MAGIC) {
        data
    } else {
        owned = [&binary::MAGIC[..], &binary::VERSION.to_le_bytes(), data].concat();
        &owned
    };
    let Ok(loaded) = binary::read(bytes) else {
        return;
    };
    let mut again = Vec::new();
    binary::write(&loaded, &mut again).expect("writing a store to a Vec");
    let back = binary::read(&again)
        .unwrap_or_else(|e| panic!("a store that was read does not read again once written: {e}"));
    let mut twice = Vec::new();
    binary::write(&back, &mut twice).expect("writing a store to a Vec");
    assert!(again == twice, "a store read back writes different bytes");
    built::check_built(&loaded.materialize(), bytes.len(), built::Origin::Dump);
}

/// Cache JSON validation (`trace::load` on a cache JSON): what it accepts must be safe for
/// the page.
pub fn check_cache_json(data: &[u8]) {
    if built::origin_of(data) != built::Origin::Cache {
        return;
    }
    if let Ok(loaded) = trace::load(data, &trace::LoadOptions::new("fuzz.json", 0.0)) {
        built::check_built(&loaded.materialize(), data.len(), built::Origin::Cache);
    }
}

/// A rollout-dump-shaped pickle generated from the bytes ([`picklegen::arb`]), loaded whole and
/// streamed in the chunk sizes the generator chose, with the checks of `trace_load` and
/// `stream_vs_whole`.
pub fn check_structured(data: &[u8]) {
    let generated = picklegen::arb::dump_from_bytes(data);
    // Checks the whole read's `Materialized` too (bounded relative to the generated file).
    stream::check_trace_stream(&generated.bytes, &generated.chunks);
    stream::check_pt_stream(&generated.bytes, &generated.chunks);
}

/// `tokenizer::Tokenizer::from_json` on any bytes; on success, decoding ids taken from
/// the same bytes (known ids, ids just past them and any `u32`): one piece per id, the pieces'
/// texts concatenate to `decode`, each piece's `start..end` is its text's place in chars, and
/// the text is at most 3 bytes per token byte (U+FFFD per invalid byte).
pub fn check_tokenizer(data: &[u8]) {
    use tokenizer::{Tokenizer, MAX_IDS, MAX_TOKEN_BYTES};
    let Ok(tok) = Tokenizer::from_json(data) else {
        return;
    };
    assert!(tok.len() <= MAX_IDS, "{} ids", tok.len());
    let span = tok.len() as u32 + 8;
    let ids: Vec<u32> = data
        .chunks_exact(4)
        .take(4096)
        .map(|c| {
            let raw = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            // Mostly ids near the known ones (multi-byte characters split over tokens),
            // sometimes any id at all.
            if c[0] % 4 == 0 {
                raw
            } else {
                (raw >> 8) % span
            }
        })
        .collect();
    let mut token_bytes = 0;
    for &id in &ids {
        if let Some(b) = tok.token_bytes(id) {
            assert!(b.len() <= MAX_TOKEN_BYTES, "token {id}: {} bytes", b.len());
            token_bytes += b.len();
        } else {
            token_bytes += 3;
        }
    }
    let text = tok.decode(&ids);
    assert!(
        text.len() <= 3 * token_bytes,
        "{} bytes of text",
        text.len()
    );
    let pieces = tok.pieces(&ids);
    assert_eq!(pieces.len(), ids.len(), "one piece per id");
    let chars: Vec<char> = text.chars().collect();
    let mut joined = String::new();
    let mut at = 0;
    for (p, &id) in pieces.iter().zip(&ids) {
        assert_eq!(p.id, id);
        assert_eq!(p.start, at, "piece starts where the last ended");
        assert!(p.end <= chars.len(), "piece past the text");
        let slice: String = chars[p.start..p.end].iter().collect();
        assert_eq!(slice, p.text, "offsets point at the piece's text");
        joined.push_str(&p.text);
        at = p.end;
    }
    assert_eq!(at, chars.len(), "pieces cover the text");
    assert_eq!(joined, text, "pieces concatenate to decode");
}

/// The run reader (`trace::run`) on any bytes: a dump scanned for a summary and for a step,
/// then summarised, and the bytes read as train data. Rows are one per sample either way, a
/// step has a detail per row, and what the step holds is bounded by the scan's work allowance.
pub fn check_run_read(data: &[u8]) {
    use trace::run::{scan_bytes, summarize, DumpKind, DumpRef, TrainData};
    let dump = DumpRef {
        rollout_id: 0,
        kind: DumpKind::Train,
        file: "fuzz.pt".into(),
        train_file: None,
    };
    let summary = scan_bytes(data, false);
    let step = scan_bytes(data, true);
    match (&summary, &step) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                a.rows.len(),
                b.rows.len(),
                "summary and step scans differ in rows"
            );
            assert_eq!(b.details.len(), b.rows.len(), "a step has a detail per row");
            let text: u64 = b
                .details
                .iter()
                .map(|d| {
                    (d.response.len() + 4 * d.tokens.len() + 5 * d.rollout_log_probs.len()) as u64
                })
                .sum();
            assert!(
                text <= 64 * data.len() as u64 + (64 << 20) + (4 << 20),
                "a step holds {text} bytes from a {}-byte file",
                data.len()
            );
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "summary and step scans fail differently"),
        // The step scan keeps every list, so it may pass a memory limit the summary does not.
        _ => {}
    }
    if let Ok(s) = summary {
        let (sum, _) = summarize(&dump, s, None, false);
        serde_json::to_string(&sum).expect("a summary is JSON");
    }
    if let Ok(t) = TrainData::read(data, true) {
        // Every value kept was charged to the read's allowance.
        let kept: u64 = t
            .tokens
            .values()
            .map(|t| {
                (t.log_probs.len()
                    + t.rollout_log_probs.len()
                    + t.advantages.len()
                    + t.returns.len()
                    + t.kl.len()
                    + t.loss_masks.len()) as u64
            })
            .sum();
        let limit = trace::run::Allowance::for_input(data.len() as u64);
        assert!(
            kept <= limit,
            "a train read kept {kept} values; {limit} allowed"
        );
    }
}

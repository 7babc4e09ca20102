//! Checks on what a successful load produced: strict JSON, bounded size, consistent rows.

use trace::interop::Series;
use trace::{Item, Materialized, State};

/// Output bound: the JSON of a `Materialized` may be at most this many bytes per input byte, plus
/// [`OUT_FLOOR`].
///
/// Why this figure: the rows may be at most `trace::OUTPUT_PER_INPUT_BYTE` (256) bytes per
/// input byte (an honest dump yields about one; one sample listed 50 000 times, ≈ 280); twice
/// that leaves room for the warnings and the analysis beside them, and still catches a limit
/// that is not charged for what it writes (an id copied into every item: ≈ 4 000 bytes out
/// per byte in) and the amplifications of issue #12 class 2 (10⁴–10⁶).
pub const OUT_PER_INPUT_BYTE: usize = 2 * trace::OUTPUT_PER_INPUT_BYTE as usize;

/// Output any input may have regardless of its size (a tiny file with a few rows and metrics).
pub const OUT_FLOOR: usize = 1 << 20;

/// An export (Chrome trace, OTLP/JSON) may be at most this many times the cache JSON, plus
/// [`OUT_FLOOR`]: both write about one record per item, with a constant overhead per record.
pub const EXPORT_PER_CACHE_BYTE: usize = 8;

/// Where a `Materialized` came from: rows built by us, or a cache JSON taken as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Materialized from a dump by `trace`'s row builder.
    Dump,
    /// Materialized from OTLP spans by the same row builder.
    Otlp,
    /// A cache JSON, validated but not rebuilt.
    Cache,
}

/// Which path `trace::load` takes for these bytes (`trace::sniff::kind`, then OTLP or not).
pub fn origin_of(data: &[u8]) -> Origin {
    if trace::sniff::kind(data) != trace::sniff::Kind::Json {
        return Origin::Dump;
    }
    let text = data.strip_prefix(trace::sniff::BOM).unwrap_or(data);
    match serde_json::from_slice::<serde_json::Value>(text) {
        Ok(v) if trace::interop::is_otlp(&v) => Origin::Otlp,
        _ => Origin::Cache,
    }
}

/// Every check on a successful load of `input_len` bytes. Panics naming the broken invariant.
pub fn check_built(built: &Materialized, input_len: usize, origin: Origin) {
    let text = serde_json::to_string(built)
        .unwrap_or_else(|e| panic!("a loaded Materialized does not serialise to JSON: {e}"));
    let limit = OUT_PER_INPUT_BYTE
        .saturating_mul(input_len)
        .saturating_add(OUT_FLOOR);
    assert!(
        text.len() <= limit,
        "unbounded output: {} bytes of JSON ({} rows) from {input_len} input bytes \
         (bound: {OUT_PER_INPUT_BYTE} per input byte + {OUT_FLOOR})",
        text.len(),
        built.cache.rows.len(),
    );
    let back: Materialized = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the JSON of a loaded Materialized does not read back as a Materialized (the page could not \
             decode it): {e}; near: {}",
            around(&text, e.column().saturating_sub(1))
        )
    });
    same_text(
        &format!("{built:?}"),
        &format!("{back:?}"),
        "a loaded Materialized and its JSON read back differ (a value did not survive strict JSON)",
    );
    check_rows(built, origin);
}

/// Row invariants the page relies on: lanes within `lane_count`, and `lane_count` at most one
/// more than the items (the page allocates per lane). Rows built by us must also have counts that
/// match their items.
pub fn check_rows(built: &Materialized, origin: Origin) {
    let cache = &built.cache;
    if origin != Origin::Cache {
        assert_eq!(
            cache.sample_count,
            cache.rows.len(),
            "sample_count is not the number of rows"
        );
    }
    for row in &cache.rows {
        let r = row.row_id;
        let items = row.items.len();
        // trace keeps every time finite (non-finite times are dropped with a warning); only
        // derived numbers such as durations may be ±inf, written as strings.
        assert!(
            row.start.is_finite() && row.end.is_finite(),
            "row {r}: a time that is not finite (start {}, end {})",
            row.start,
            row.end
        );
        for (i, item) in row.items.iter().enumerate() {
            if let Item::Span(s) = item {
                let times = [Some(s.start_ts), s.end_ts, Some(s.display_end_ts)];
                assert!(
                    times.iter().flatten().all(|t| t.is_finite()),
                    "row {r} item {i}: a time that is not finite ({times:?})"
                );
            }
        }
        // Not `≤ items`: slime's depth rule gives a span whose parent chain is a cycle one
        // more than its ancestors (a span that is its own parent has lane 1), so a lane can
        // equal the number of items, never more.
        assert!(
            row.lane_count as usize <= items + 1,
            "row {r}: lane_count {} for {items} items (a page allocating per lane would \
             allocate for lanes that hold nothing)",
            row.lane_count
        );
        for (i, item) in row.items.iter().enumerate() {
            assert!(
                item.lane() < row.lane_count,
                "row {r} item {i}: lane {} is not below lane_count {}",
                item.lane(),
                row.lane_count
            );
        }
        if origin == Origin::Cache {
            continue;
        }
        assert_eq!(row.item_count, items, "row {r}: item_count");
        let count = |s: State| row.items.iter().filter(|it| it.state() == s).count();
        assert_eq!(
            row.closed_span_count,
            count(State::ClosedSpan),
            "row {r}: closed_span_count"
        );
        assert_eq!(
            row.open_span_count,
            count(State::OpenSpan),
            "row {r}: open_span_count"
        );
        assert_eq!(
            row.point_event_count,
            count(State::PointEvent),
            "row {r}: point_event_count"
        );
        assert_eq!(
            row.orphan_count,
            count(State::OrphanEnd),
            "row {r}: orphan_count"
        );
        let top = row.items.iter().map(Item::lane).max().unwrap_or(0);
        assert_eq!(
            row.lane_count,
            top + 1,
            "row {r}: lane_count is not 1 + the highest lane"
        );
        assert!(
            row.duration >= 0.0,
            "row {r}: negative duration {}",
            row.duration
        );
    }
}

/// Prometheus series: strict JSON that reads back the same (the page receives them as JSON),
/// and no more points or series than input bytes (each needs at least a few bytes).
pub fn check_series(series: &[Series], input_len: usize) {
    let points: usize = series.iter().map(|s| s.points.len()).sum();
    assert!(
        points <= input_len && series.len() <= input_len,
        "{} series with {points} points from {input_len} input bytes",
        series.len()
    );
    let text = serde_json::to_string(series)
        .unwrap_or_else(|e| panic!("series do not serialise to JSON: {e}"));
    let back: Vec<Series> = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the JSON of imported series does not read back (the page could not decode it): \
             {e}; near: {}",
            around(&text, e.column().saturating_sub(1))
        )
    });
    same_text(
        &format!("{series:?}"),
        &format!("{back:?}"),
        "imported series and their JSON read back differ (a value did not survive strict JSON)",
    );
}

/// The Chrome and OTLP exports of a loaded cache: bounded by the cache's own size.
pub fn check_exports(built: &Materialized) {
    let cache_len = serde_json::to_string(&built.cache)
        .map(|t| t.len())
        .unwrap_or(0);
    let limit = EXPORT_PER_CACHE_BYTE
        .saturating_mul(cache_len)
        .saturating_add(OUT_FLOOR);
    for (name, value) in [
        ("chrome", trace::interop::export_chrome(&built.cache)),
        ("otlp", trace::interop::export_otlp(&built.cache)),
    ] {
        let text = serde_json::to_string(&value)
            .unwrap_or_else(|e| panic!("the {name} export does not serialise: {e}"));
        assert!(
            text.len() <= limit,
            "the {name} export is {} bytes for a {cache_len}-byte cache (bound: \
             {EXPORT_PER_CACHE_BYTE}× + {OUT_FLOOR})",
            text.len()
        );
    }
}

/// Panics with the first difference between `a` and `b` (with some context) if they differ.
pub fn same_text(a: &str, b: &str, what: &str) {
    if a == b {
        return;
    }
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    panic!(
        "{what}: they first differ at byte {at} of {} / {}:\n  left:  {}\n  right: {}",
        a.len(),
        b.len(),
        around(a, at),
        around(b, at)
    );
}

/// Up to 100 characters of `text` either side of byte `at`.
pub fn around(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(100).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = at.saturating_add(100).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("…{}…", &text[start..end])
}

//! Hostile files whose cost is in what they make the builder visit or copy, not in what they
//! produce (issue #12, class 2): one skipped event named by every event of a sample named by
//! every sample; one huge `ts` or `attempt` text named by thousands of events; an OTLP file
//! whose span names one big attribute as a start attribute 300 000 times (the resource
//! attributes case is in `otlp_hostile.rs`, alone for its memory bound). Each test states its
//! bound.

use std::time::{Duration, Instant};

use picklegen::Pickle;

#[path = "support/shapes.rs"]
mod shapes;

/// Generous: each finishes in well under a second in a debug build; the old code took from
/// 10 s to minutes on the same files.
const BOUND: Duration = Duration::from_secs(5);

/// Memo keys of the shared values (LONG_BINPUT/LONG_BINGET).
const SHARED: u32 = 1;
const KEYS: u32 = 10;

/// `{"rollout_id": 0, "samples": <f>}` in a torch ZIP.
fn dump(f: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    picklegen::rollout_zip(f)
}

/// A key string, memoised at `KEYS + i` the first time (`first`), named after that.
fn key(p: &mut Pickle, i: u32, s: &str, first: bool) {
    if first {
        p.str(s).put(KEYS + i);
    } else {
        p.get(KEYS + i);
    }
}

/// A sample `{"index": i, "trace": {"events": [<events>], <trace>}}`.
fn sample(
    p: &mut Pickle,
    i: i64,
    trace: impl FnOnce(&mut Pickle),
    events: impl FnOnce(&mut Pickle),
) {
    p.empty_dict().mark().str("index").int(i).str("trace");
    p.empty_dict().mark();
    trace(p);
    p.str("events").empty_list();
    events(p);
    p.setitems().setitems();
}

/// One good event, so that the file has a row.
fn good_sample(p: &mut Pickle) {
    sample(
        p,
        0,
        |_| {},
        |p| {
            p.mark();
            p.empty_dict().mark();
            p.str("type").str("event").str("name").str("ok");
            p.str("ts").float(1.0).setitems();
            p.appends();
        },
    );
}

/// `n` references to the value `first` writes (memoised at `SHARED`), in APPENDS batches.
fn shared_items(p: &mut Pickle, n: usize, first: impl FnOnce(&mut Pickle)) {
    p.mark();
    first(p);
    p.put(SHARED);
    for i in 1..n {
        if i % 1000 == 0 {
            p.appends().mark();
        }
        p.get(SHARED);
    }
    p.appends();
}

fn load(bytes: &[u8]) -> trace::Materialized {
    let t = Instant::now();
    let b = trace::load(bytes, &trace::LoadOptions::new("x.pt", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    assert!(took < BOUND, "took {took:?}");
    b
}

fn warnings(b: &trace::Materialized) -> Vec<String> {
    b.warnings.iter().map(|w| w.to_string()).collect()
}

/// `{"samples": [good, S, S, …]}` with `S` naming one `{"ts": None}` event 4 000 times and
/// named 4 000 times: 16 M skipped events from a 40 KB file (quadratic: the old code took
/// 4 s at 32 KB in release). Bound: < 5 s; the events visited stop at the file's event
/// limit (16 per input byte + 2^20), said in a warning naming the first sample not read.
#[test]
fn a_shared_skipped_event_is_charged_every_time_it_is_visited() {
    const N: usize = 4000;
    let bytes = dump(|p| {
        p.empty_list().mark();
        good_sample(p);
        p.appends();
        shared_items(p, N, |p| {
            sample(
                p,
                1,
                |_| {},
                |p| {
                    shared_items(p, N, |p| {
                        p.empty_dict().mark().str("ts").none().setitems();
                    })
                },
            );
        });
    });
    // The shared event and sample sit at the same memo key: the sample's key is written
    // after its events, so every later reference names the sample.
    assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
    let b = load(&bytes);
    assert_eq!(b.cache.rows.len(), 1, "the good sample is shown");
    let file_limit = trace::BuildLimits::for_input(bytes.len() as u64).max_file_events;
    assert!(file_limit < 4 << 20, "{file_limit}");
    // Samples are built as the reader completes them, under the limit of the bytes read so
    // far (which only grows): the warning names the limit that stopped them, at most the
    // file's and at least the floor.
    let w = warnings(&b);
    // The samples of the second batch name the first batch's (freed) sample: said last.
    assert!(
        w.last()
            .is_some_and(|m| m.contains("read and freed long before")),
        "{w:#?}"
    );
    let stop = w.iter().rev().find(|m| m.contains("not shown"));
    let limit: usize = stop
        .and_then(|m| m.split("limit of ").nth(1))
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{w:#?}"));
    assert!(
        (trace::EVENTS_FLOOR..=file_limit).contains(&limit),
        "{limit}"
    );
    // The good sample's one event, then 4 000 per bad sample while they fit.
    let first_not_read = 1 + (limit - 1) / N;
    assert_eq!(
        stop.unwrap(),
        &format!(
            "sample {first_not_read}: this and the {} samples after it are not shown: the rows \
             would pass the file's limit of {limit} trace events (kept or skipped)",
            N - first_not_read
        )
    );
    assert!(
        w.iter()
            .any(|m| m == "sample 1: skipped 4000 of 4000 trace events (4000 no ts); no usable events, no row"),
        "{w:?}"
    );
}

/// The file's event limit counts kept and skipped events, and a sample that would pass it is
/// not read; one that reaches it exactly is.
#[test]
fn the_event_limit_is_exact() {
    let samples = vec![shapes::fifo(10), shapes::fifo(10), shapes::fifo(10)];
    let tree = pt::read(&shapes::dump(&samples), &pt::Limits::for_timeline())
        .unwrap()
        .tree;
    for (limit, rows) in [(60, 3), (59, 2), (40, 2), (39, 1)] {
        let limits = trace::BuildLimits {
            max_file_events: limit,
            ..trace::BuildLimits::DEFAULT
        };
        let b = shapes::rows_limited(&tree, limits);
        assert_eq!(b.cache.rows.len(), rows, "limit {limit}");
        let w = warnings(&b);
        if rows == 3 {
            assert!(w.is_empty(), "{w:?}");
        } else {
            assert_eq!(
                w.last().unwrap(),
                &format!(
                    "sample {rows}: this and the {} samples after it are not shown: the rows \
                     would pass the file's limit of {limit} trace events (kept or skipped)",
                    2 - rows
                )
            );
        }
    }
}

/// One 1 MiB digit string as the `ts` of 4 000 events (a 1 MB file; the old code parsed it
/// for each: 79 s). Bound: < 5 s; the events are skipped with one warning for the sample.
#[test]
fn a_huge_shared_ts_text_is_refused_unread() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        good_sample(p);
        sample(
            p,
            1,
            |_| {},
            |p| {
                p.mark();
                for i in 0..4000 {
                    p.empty_dict().mark();
                    key(p, 0, "type", i == 0);
                    key(p, 1, "event", i == 0);
                    key(p, 2, "name", i == 0);
                    key(p, 3, "e", i == 0);
                    key(p, 4, "ts", i == 0);
                    if i == 0 {
                        p.str(&"1".repeat(1 << 20)).put(SHARED);
                    } else {
                        p.get(SHARED);
                    }
                    p.setitems();
                }
                p.appends();
            },
        );
        p.appends();
    });
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let b = load(&bytes);
    assert_eq!(b.cache.rows.len(), 1);
    assert!(
        warnings(&b).contains(
            &"sample 1: skipped 4000 of 4000 trace events (4000 ts a text over 100 bytes); \
              no usable events, no row"
                .to_string()
        ),
        "{:?}",
        warnings(&b)
    );
}

/// One 1 MiB text as the trace-level `attempt` of a sample of 4 000 events and as the own
/// `attempt` of 4 000 events of another (the old code trimmed and copied it for each event).
/// Bound: < 5 s; both rows are shown with attempt 0 and the problem said once per sample.
#[test]
fn a_huge_shared_attempt_text_is_refused_unread() {
    let big = "7".repeat(1 << 20);
    let bytes = dump(|p| {
        p.empty_list().mark();
        for s in 0..2 {
            let own = s == 1;
            sample(
                p,
                s,
                |p| {
                    if !own {
                        p.str("attempt").str(&big).put(SHARED);
                    }
                },
                |p| {
                    p.mark();
                    for i in 0..4000 {
                        let first = s == 0 && i == 0;
                        p.empty_dict().mark();
                        key(p, 0, "type", first);
                        key(p, 1, "event", first);
                        key(p, 2, "name", first);
                        key(p, 3, "e", first);
                        key(p, 4, "ts", first);
                        p.float(i as f64);
                        if own {
                            key(p, 5, "attempt", i == 0);
                            p.get(SHARED);
                        }
                        p.setitems();
                    }
                    p.appends();
                },
            );
        }
        p.appends();
    });
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let b = load(&bytes);
    assert_eq!(b.cache.rows.len(), 2);
    for r in &b.cache.rows {
        assert_eq!(r.item_count, 4000);
        assert!(r.items.iter().all(|i| match i {
            trace::Item::Event(p) => p.attempt == 0,
            _ => false,
        }));
    }
    let problem = "attempt is a text of 1048576 bytes, longer than the limit of 100";
    let w = warnings(&b);
    for s in 0..2 {
        assert!(
            w.contains(&format!(
                "sample {s}: 4000 trace events have a bad attempt ({problem}); 0 used"
            )),
            "{w:?}"
        );
    }
    assert!(
        w.contains(&format!("sample 0: trace {problem}; 0 used")),
        "{w:?}"
    );
}

/// A span whose start-attribute list names its one 1 MiB attribute 300 000 times (an 8 MB
/// file): the old import copied the value for each mention (300 GB of copying: 8 s in a debug build). Bound: < 5 s,
/// the value in the span's start attrs only.
#[test]
fn a_start_key_listed_many_times_is_copied_once() {
    let keys: Vec<_> = (0..300_000)
        .map(|_| serde_json::json!({"stringValue": "big"}))
        .collect();
    let bytes = serde_json::to_vec(
        &serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "01", "spanId": "02", "name": "s",
            "startTimeUnixNano": "1000000000", "endTimeUnixNano": "2000000000",
            "attributes": [
                {"key": "big", "value": {"stringValue": "b".repeat(1 << 20)}},
                {"key": "rollscope.start_attrs", "value": {"arrayValue": {"values": keys}}},
            ],
        }]}]}]}),
    )
    .unwrap();
    assert!(bytes.len() < 9 << 20, "{} bytes", bytes.len());
    let t = Instant::now();
    let b = trace::load(&bytes, &trace::LoadOptions::new("x.json", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    match &b.cache.rows[0].items[..] {
        [trace::Item::Span(s)] => {
            // Cut at the per-value limit, as any value.
            let big = s.attrs.start_attrs["big"].as_str().unwrap_or("");
            assert!(
                big.starts_with("bbbb") && big.contains("…<cut"),
                "{}",
                big.len()
            );
            assert!(s.attrs.end_attrs.get("big").is_none());
        }
        other => panic!("{other:?}"),
    }
}

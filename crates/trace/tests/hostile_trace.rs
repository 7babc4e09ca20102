//! Hostile dumps built with `picklegen` (classes 1, 2, 4 and 7 of issue #12, trace side):
//! cycles through object state, shared references that would amplify output, quadratic span
//! shapes and float edges. Each test states its bound and checks it.

use std::time::{Duration, Instant};

use picklegen::Pickle;

#[path = "support/shapes.rs"]
mod shapes;

/// Generous: these finish in milliseconds to ≈ 2.6 s in a debug build (rows go through the
/// compact store and are materialised again; 12 s on a 2-core box busy with other builds); a
/// hang or an O(n²) walk (minutes) would not.
const BOUND: Duration = Duration::from_secs(30);

/// `{"rollout_id": 0, "samples": <f>}` in a torch ZIP.
fn dump(f: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    picklegen::rollout_zip(f)
}

/// One event dict `{"type": "event", "name": name, "ts": ts, "attrs": <attrs>}`.
fn event(p: &mut Pickle, name: &str, ts: f64, attrs: impl FnOnce(&mut Pickle)) {
    p.empty_dict().mark();
    p.str("type")
        .str("event")
        .str("name")
        .str(name)
        .str("ts")
        .float(ts);
    p.str("attrs");
    attrs(p);
    p.setitems();
}

/// A sample dict `{"index": i, "trace": {"events": [<events>]}, <more>}`.
fn sample(
    p: &mut Pickle,
    i: i64,
    events: impl FnOnce(&mut Pickle),
    more: impl FnOnce(&mut Pickle),
) {
    p.empty_dict().mark().str("index").int(i).str("trace");
    p.empty_dict().mark().str("events").empty_list().mark();
    events(p);
    p.appends().setitems();
    more(p);
    p.setitems();
}

fn load(bytes: &[u8]) -> (trace::Materialized, Duration) {
    let t = Instant::now();
    let b = trace::load(bytes, &trace::LoadOptions::new("x.pt", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    assert!(took < BOUND, "took {took:?}");
    (b, took)
}

fn warnings(b: &trace::Materialized) -> Vec<String> {
    b.warnings.iter().map(|w| w.to_string()).collect()
}

/// An attrs dict that holds a tensor-like object whose BUILD state names the object itself
/// (`dtype`) and the attrs dict (`shape`); a dict keyed by such an object and by a list
/// containing itself. Bound: < 5 s, cache JSON < 64 KiB, both values written as text.
#[test]
fn cycles_through_object_state_in_attrs_and_keys() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                event(p, "self_ref", 1.0, |p| {
                    p.empty_dict()
                        .put(1)
                        .str("obj")
                        .new_object("torch", "Tensor")
                        .put(2);
                    p.empty_dict()
                        .mark()
                        .str("dtype")
                        .get(2)
                        .str("shape")
                        .get(1)
                        .setitems();
                    p.build().setitem();
                });
                event(p, "odd_keys", 2.0, |p| {
                    p.empty_dict().mark();
                    p.new_object("torch", "Tensor").put(3);
                    p.empty_dict()
                        .mark()
                        .str("dtype")
                        .get(3)
                        .str("shape")
                        .empty_list();
                    p.setitems().build().int(1);
                    p.empty_list().put(4).get(4).append().int(2);
                    p.setitems();
                });
            },
            |_| {},
        );
        p.appends();
    });
    let (b, _) = load(&bytes);
    assert_eq!(b.cache.rows.len(), 1);
    let items = &b.cache.rows[0].items;
    assert_eq!(items.len(), 2);
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.len() < 64 << 10, "{} bytes", text.len());
    let attrs = |name: &str| match items.iter().find(|i| i.name() == name).unwrap() {
        trace::Item::Event(p) => p.attrs.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        attrs("self_ref")["obj"],
        "<torch.Tensor dtype=<...> shape={'obj': <...>}>"
    );
    let keys: Vec<String> = attrs("odd_keys")
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(
        keys.contains(&"<torch.Tensor dtype=<...> shape=[]>".to_string()),
        "{keys:?}"
    );
    assert!(keys.contains(&"[[...]]".to_string()), "{keys:?}");
}

/// A sample whose metadata is an object with state `(itself, None)` and whose reward is an
/// object whose state dict holds itself; and a Sample object whose state tuple holds itself
/// (it is not a dict: skipped with a warning). Bound: < 5 s.
#[test]
fn self_referencing_sample_fields() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                event(p, "e", 1.0, |p| {
                    p.empty_dict();
                })
            },
            |p| {
                p.str("metadata").new_object("m", "Meta").put(1);
                p.get(1).none().tuple_n(2).build();
                p.str("reward").new_object("m", "Reward").put(2);
                p.empty_dict().mark().str("me").get(2).setitems().build();
                p.str("status").new_object("m", "Status").put(3);
                p.get(3).none().tuple_n(2).build();
            },
        );
        p.new_object("slime.utils.types", "Sample").put(5);
        p.get(5).none().tuple_n(2).build();
        p.appends();
    });
    let (b, _) = load(&bytes);
    assert_eq!(b.cache.rows.len(), 1);
    let row = &b.cache.rows[0];
    assert_eq!(row.reward, "<m.Reward object>");
    assert_eq!(row.status, "<m.Status object>");
    assert!(row.source.is_null());
    let w = warnings(&b);
    assert!(
        w.iter().any(|x| x.starts_with(
            "sample 1: is a slime.utils.types.Sample object, not a dict or a Sample object"
        )),
        "{w:#?}"
    );
    assert_eq!(b.analysis.samples, 2);
}

/// One 1 MiB string named as 4 096 attribute values of one event: the attrs are cut at
/// 64 KiB, visibly, and a warning says so. Bound: < 5 s, cache JSON < 80 KiB (uncut: 4 GiB).
#[test]
fn a_shared_string_is_written_once_per_budget() {
    let big = "x".repeat(1 << 20);
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                event(p, "wide", 1.0, |p| {
                    p.empty_dict().mark().str("first").str(&big).put(1);
                    for i in 0..4096 {
                        p.str(&format!("k{i}")).get(1);
                    }
                    p.setitems();
                })
            },
            |_| {},
        );
        p.appends();
    });
    assert!(bytes.len() < (1 << 20) + 100_000);
    let (b, _) = load(&bytes);
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.len() < 80 << 10, "{} bytes", text.len());
    assert!(
        text.contains("…<cut: 1048576 bytes>"),
        "the cut string says so"
    );
    assert!(text.contains(trace::json::CUT_MARK), "the cut dict says so");
    let w = warnings(&b);
    assert!(
        w.iter()
            .any(|x| x.contains("1 values were cut at the limit of 64 KiB")),
        "{w:#?}"
    );
}

/// One attrs dict (a 1 MiB string inside) shared by the events of 4 096 samples: output is
/// counted as produced, so the build stops at the output limit (here 16 MiB) and names the
/// first sample not shown. Bound: < 5 s, cache JSON ≤ the limit.
#[test]
fn shared_attrs_stop_at_the_output_limit() {
    let big = "y".repeat(1 << 20);
    let bytes = dump(|p| {
        p.empty_list().mark();
        for i in 0..4096 {
            sample(
                p,
                i,
                |p| {
                    event(p, "e", 1.0 + i as f64, |p| {
                        if i == 0 {
                            p.empty_dict().mark().str("s").str(&big).setitems().put(1);
                        } else {
                            p.get(1);
                        }
                    })
                },
                |_| {},
            );
        }
        p.appends();
    });
    let limits = trace::BuildLimits {
        max_output_bytes: 16 << 20,
        ..trace::BuildLimits::DEFAULT
    };
    let tree = pt::read(&bytes, &pt::Limits::for_timeline()).unwrap().tree;
    let t = Instant::now();
    let b = shapes::rows_limited(&tree, limits);
    assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
    let shown = b.cache.rows.len();
    assert!(
        (200..300).contains(&shown),
        "{shown} rows of 64 KiB in 16 MiB"
    );
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.len() as u64 <= 16 << 20, "{} bytes", text.len());
    let w = warnings(&b);
    let expect = format!(
        "sample {shown}: this and the {} samples after it are not shown: the rows would pass the file's limit of 16 MiB of output",
        4096 - shown - 1
    );
    assert!(w.contains(&expect), "{w:#?}");
}

/// One sample referenced 50 000 times: rows are built per reference (as slime would), and
/// the file's item limit (here 20 000) stops the build with a warning naming the sample.
/// Bound: < 5 s, and exactly the rows the limit allows.
#[test]
fn one_sample_named_50_000_times_stops_at_the_item_limit() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        let events: Vec<shapes::Ev> = shapes::fifo(2);
        sample(
            p,
            0,
            |p| {
                for e in &events {
                    p.empty_dict()
                        .mark()
                        .str("type")
                        .str(e.kind)
                        .str("name")
                        .str(&e.name);
                    p.str("ts").float(e.ts).str("span_id");
                    p.str(e.span.as_deref().unwrap_or(""));
                    p.setitems();
                }
            },
            |_| {},
        );
        p.put(1);
        for _ in 1..50_000 {
            p.get(1);
        }
        p.appends();
    });
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    let tree = pt::read(&bytes, &pt::Limits::for_timeline()).unwrap().tree;
    for (limit, rows) in [(20_000, 10_000), (19_999, 9_999)] {
        let limits = trace::BuildLimits {
            max_file_items: limit,
            ..trace::BuildLimits::DEFAULT
        };
        let t = Instant::now();
        let b = shapes::rows_limited(&tree, limits);
        assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
        assert_eq!(b.cache.rows.len(), rows, "2 items per row");
        assert_eq!(
            warnings(&b).last().unwrap(),
            &format!(
                "sample {rows}: this and the {} samples after it are not shown: the rows would \
                 pass the file's limit of {limit} items",
                50_000 - rows - 1
            )
        );
        assert_eq!(b.analysis.samples, 50_000, "facts still cover every sample");
    }
}

/// One event dict of 100 000 keys, named 100 000 times: each time its fields are found by key,
/// not by a pass over its entries (10^10 steps). Bound: < 30 s, one item per naming.
#[test]
fn an_event_of_many_keys_named_many_times_is_read_by_key() {
    const N: usize = 100_000;
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                p.empty_dict().mark();
                for k in 0..N {
                    p.str(&format!("k{k}")).int(0);
                }
                p.str("type").str("event").str("name").str("many_keys");
                p.str("ts").float(1.0);
                p.setitems().put(1);
                for _ in 1..N {
                    p.get(1);
                }
            },
            |_| {},
        );
        p.appends();
    });
    let (b, _) = load(&bytes);
    let row = &b.cache.rows[0];
    assert_eq!((row.item_count, row.point_event_count), (N, N));
    assert!(row.items.iter().all(|i| i.name() == "many_keys"));
}

/// A sample with more events than the per-sample limit is skipped and named; the others stay.
#[test]
fn a_sample_over_the_event_limit_is_skipped() {
    let samples = vec![shapes::fifo(10), shapes::fifo(1000), shapes::fifo(3)];
    let tree = pt::read(&shapes::dump(&samples), &pt::Limits::for_timeline())
        .unwrap()
        .tree;
    let limits = trace::BuildLimits {
        max_sample_events: 100,
        ..trace::BuildLimits::DEFAULT
    };
    let b = shapes::rows_limited(&tree, limits);
    let rows: Vec<usize> = b.cache.rows.iter().map(|r| r.row_id).collect();
    assert_eq!(rows, vec![0, 2]);
    assert!(warnings(&b).contains(
        &"sample 1: has 2000 trace events, more than the limit of 100 per sample; skipped".into()
    ));
}

/// The quadratic shapes of issue #12 at sizes where O(n²) would take minutes in a debug build
/// (the release figures for 200 000 spans are in `benches/shapes.rs`). Each: < 5 s, and the
/// result is slime's.
#[test]
fn quadratic_shapes_finish_and_keep_slimes_answers() {
    // 30 000 nested spans that never close: each is clipped at the row's end.
    let (b, _) = load(&shapes::dump(&[shapes::nested_open(30_000)]));
    let row = &b.cache.rows[0];
    assert_eq!((row.open_span_count, row.lane_count), (30_000, 30_000));
    assert!(row.items.iter().all(|i| matches!(i, trace::Item::Span(s)
        if s.attrs.end_attrs["clipped_by"] == "row_end" || s.lane == 29_999)));

    // 50 000 spans ended in the order they started (FIFO): depth i for the i-th.
    let (b, _) = load(&shapes::dump(&[shapes::fifo(50_000)]));
    let row = &b.cache.rows[0];
    assert_eq!((row.closed_span_count, row.lane_count), (50_000, 50_000));

    // 50 000 open siblings with one parent and one start: no later sibling, clipped to self.
    let (b, _) = load(&shapes::dump(&[shapes::open_siblings(50_000)]));
    let row = &b.cache.rows[0];
    assert_eq!(row.open_span_count, 50_001);
    let selfs = row
        .items
        .iter()
        .filter(|i| matches!(i, trace::Item::Span(s) if s.attrs.end_attrs["clipped_by"] == "self"))
        .count();
    assert_eq!(selfs, 50_000);

    // 20 000 spans with flat pd_* attrs: 40 000 [P]/[D] lanes, one each.
    let (b, _) = load(&shapes::dump(&[shapes::pd_lanes(20_000)]));
    let row = &b.cache.rows[0];
    assert_eq!((row.item_count, row.lane_count), (60_000, 40_001));
}

/// Times of ±1e308 give infinite durations; metrics overflow. Output stays strict JSON, the
/// non-finite values are the strings "Infinity"/"NaN", and `Materialized` reads back equal.
#[test]
fn float_edges_stay_strict_json_and_read_back() {
    let mut far = vec![
        shapes::ev("span_start", "sglang_generate", -1e308, Some("a".into())),
        shapes::Ev {
            attrs: vec![
                ("e2e_latency", 1e308),
                ("pd_prefill_forward_duration", 1e308),
                ("completion_tokens", 1e308),
            ],
            ..shapes::ev("span_end", "sglang_generate", 1e308, Some("a".into()))
        },
    ];
    far.push(shapes::Ev {
        attrs: vec![("e2e_latency", 1.7e308), ("completion_tokens", 1.7e308)],
        ..shapes::ev("span_end", "sglang_generate", 1.5e308, Some("a".into()))
    });
    far.push(shapes::ev(
        "span_start",
        "sglang_generate",
        1.0,
        Some("b".into()),
    ));
    far.push(shapes::Ev {
        attrs: vec![("e2e_latency", 1.7e308)],
        ..shapes::ev("span_end", "sglang_generate", 2.0, Some("b".into()))
    });
    let (b, _) = load(&shapes::dump(&[far]));
    let text = serde_json::to_string(&b).unwrap();
    let strict: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(strict["cache"]["rows"][0]["duration"], "Infinity");
    assert!(text.contains("\"timeline_pd_parent_duration\":\"Infinity\""));
    assert_eq!(strict["analysis"]["wall_time"], "Infinity");
    let back: trace::Materialized = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    assert!(back.analysis.wall_time.is_infinite());
}

/// The output limit follows the file's size: a ≈ 100 KB dump listing one event (a 2 KiB string
/// in its attrs) 5 000 times in each of 4 samples may give at most `OUTPUT_PER_INPUT_BYTE`
/// (256) bytes of JSON per byte of the file plus 1 MiB, not the 41 MB its references spell
/// out; the rows stop with a warning naming the limit.
#[test]
fn output_is_bounded_by_the_files_size() {
    let s = "z".repeat(2 << 10);
    let bytes = dump(|p| {
        p.empty_list().mark();
        for i in 0..4 {
            sample(
                p,
                i,
                |p| {
                    for k in 0..5000 {
                        if i == 0 && k == 0 {
                            event(p, "e", 1.0, |p| {
                                p.empty_dict().mark().str("s").str(&s).setitems();
                            });
                            p.put(1);
                        } else {
                            p.get(1);
                        }
                    }
                },
                |_| {},
            );
        }
        p.appends();
    });
    let limit = trace::OUTPUT_PER_INPUT_BYTE * bytes.len() as u64 + trace::OUTPUT_FLOOR;
    assert!(
        limit < 4 * 5000 * (2 << 10),
        "the case must exceed the limit: {limit}"
    );
    let b = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.len() as u64 <= limit, "{} > {limit}", text.len());
    assert!(
        !b.cache.rows.is_empty() && b.cache.rows.len() < 4,
        "{}",
        b.cache.rows.len()
    );
    let w = warnings(&b);
    assert!(
        w.iter()
            .any(|w| w.contains("not shown") && w.contains("MiB of output")),
        "{w:#?}"
    );
    // Streamed, the same file gives the same rows.
    let mut s = trace::Loader::new(trace::LoadOptions::new("x", 0.0));
    for c in bytes.chunks(999) {
        s.push(c).unwrap();
    }
    let streamed = s.finish().unwrap().materialize();
    assert_eq!(streamed.cache.rows.len(), b.cache.rows.len());
}

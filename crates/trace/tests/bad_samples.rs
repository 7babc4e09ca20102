//! One bad sample never hides the rest; a file that is not a rollout dump is a clear error.

use serde_pickle::{HashableValue as H, Value as P};

fn s(x: &str) -> P {
    P::String(x.into())
}

fn dict(pairs: Vec<(&str, P)>) -> P {
    P::Dict(
        pairs
            .into_iter()
            .map(|(k, v)| (H::String(k.into()), v))
            .collect(),
    )
}

fn ev(kind: &str, name: P, ts: P, span: Option<&str>) -> P {
    let mut v = vec![("type", s(kind)), ("name", name), ("ts", ts)];
    if let Some(id) = span {
        v.push(("span_id", s(id)));
    }
    dict(v)
}

fn sample(index: i64, events: Vec<P>) -> P {
    dict(vec![
        ("index", P::I64(index)),
        ("group_index", P::I64(0)),
        (
            "trace",
            dict(vec![("trace_id", s("t")), ("events", P::List(events))]),
        ),
    ])
}

fn good(index: i64) -> P {
    sample(
        index,
        vec![
            ev("span_start", s("root"), P::F64(10.0), Some("r")),
            ev("span_end", s("root"), P::F64(12.0), Some("r")),
        ],
    )
}

fn dump(samples: Vec<P>) -> Vec<u8> {
    let root = dict(vec![
        ("rollout_id", P::I64(0)),
        ("samples", P::List(samples)),
    ]);
    serde_pickle::value_to_vec(&root, serde_pickle::SerOptions::new().proto_v2().clone()).unwrap()
}

fn load(samples: Vec<P>) -> trace::Materialized {
    trace::load(&dump(samples), &trace::LoadOptions::new("x.pt", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap()
}

fn warnings(b: &trace::Materialized) -> Vec<String> {
    b.warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn each_bad_sample_is_named_and_the_good_ones_stay() {
    let b = load(vec![
        good(0),
        P::I64(7),
        dict(vec![("trace", s("oops"))]),
        dict(vec![("trace", dict(vec![("events", P::I64(3))]))]),
        sample(
            4,
            vec![
                ev("span_start", P::None, P::F64(1.0), Some("a")),
                ev("span_end", P::None, P::F64(2.0), Some("a")),
            ],
        ),
        sample(
            5,
            vec![
                ev("event", s("x"), P::F64(f64::NAN), None),
                ev("event", s("y"), s("soon"), None),
                ev("event", s("z"), P::F64(3.0), None),
            ],
        ),
        sample(
            6,
            vec![
                ev("span_start", s("b"), P::F64(5.0), Some("b")),
                ev("span_end", s("b"), P::F64(4.0), Some("b")),
            ],
        ),
        good(7),
    ]);
    let rows: Vec<usize> = b.cache.rows.iter().map(|r| r.row_id).collect();
    assert_eq!(rows, vec![0, 4, 5, 6, 7]);
    let w = warnings(&b);
    let has = |n: &str| assert!(w.iter().any(|x| x.contains(n)), "missing {n:?} in {w:#?}");
    has("sample 1: is an int, not a dict or a Sample object; skipped");
    has("sample 2: trace is a str, not a dict; skipped");
    has("sample 3: trace events is an int, not a list; skipped");
    has("sample 4: 2 trace events have a name that is not a string");
    has("sample 5: skipped 2 of 3 trace events (1 ts not a number, 1 ts not finite)");
    has("sample 6: span \"b\" ends before it starts");
    // Strict JSON out: no NaN anywhere.
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(!text.contains("NaN") && !text.contains("Infinity"));
    // The None-named span still has its row and its (null) name.
    let r4 = &b.cache.rows[1];
    assert_eq!(r4.closed_span_count, 1);
    assert!(r4.items[0].name().is_null());
}

#[test]
fn cycles_and_duplicates_warn_and_terminate() {
    // Two open spans whose parents point at each other: the reference loops forever here.
    let mut a = ev("span_start", s("a"), P::F64(1.0), Some("a"));
    let mut bb = ev("span_start", s("b"), P::F64(2.0), Some("b"));
    if let P::Dict(d) = &mut a {
        d.insert(H::String("parent_span_id".into()), s("b"));
    }
    if let P::Dict(d) = &mut bb {
        d.insert(H::String("parent_span_id".into()), s("a"));
    }
    let dup = sample(
        1,
        vec![
            ev("span_start", s("d"), P::F64(1.0), Some("d")),
            ev("span_start", s("d"), P::F64(2.0), Some("d")),
            ev("span_end", s("d"), P::F64(3.0), Some("d")),
        ],
    );
    let b = load(vec![sample(0, vec![a, bb]), dup]);
    let w = warnings(&b);
    assert!(
        w.iter()
            .any(|x| x.starts_with("sample 0: span parent ids form a cycle")),
        "{w:#?}"
    );
    assert!(
        w.iter()
            .any(|x| x.starts_with("sample 1: span id \"d\" started again while open")),
        "{w:#?}"
    );
    assert_eq!(b.cache.rows.len(), 2);
    assert_eq!(b.cache.rows[1].closed_span_count, 1);
    assert_eq!(
        b.cache.rows[1].start, 2.0,
        "the second start replaced the first"
    );
}

#[test]
fn files_that_are_not_rollout_dumps() {
    let pickle = |v: &P| {
        serde_pickle::value_to_vec(v, serde_pickle::SerOptions::new().proto_v2().clone()).unwrap()
    };
    let e = trace::load(&pickle(&P::I64(42)), &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "not a rollout dump: the file holds an int (42); expected a dict with 'samples' or a list of samples");
    let state_dict = dict(vec![
        ("layer.weight", P::F64(1.0)),
        ("layer.bias", P::F64(0.0)),
    ]);
    let e = trace::load(&pickle(&state_dict), &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a dict without a 'samples' key (keys: 'layer."),
        "{e}"
    );
    let e = trace::load(
        &pickle(&dict(vec![("samples", P::I64(1))])),
        &trace::LoadOptions::new("x", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap_err()
    .to_string();
    assert_eq!(e, "not a rollout dump: 'samples' is an int (1), not a list");
    let e = trace::load(
        b"{\"cache_version\": 2}",
        &trace::LoadOptions::new("x", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("not a valid timeline cache"), "{e}");
    let e = trace::load(b"GIF89a", &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("not a torch file or pickle"), "{e}");
}

#[test]
fn text_from_a_dump_stays_data() {
    let mut x = ev("event", s("<script>alert(1)</script>"), P::F64(1.0), None);
    if let P::Dict(d) = &mut x {
        d.insert(
            H::String("attrs".into()),
            dict(vec![("html", s("<img src=x onerror=alert(1)>"))]),
        );
    }
    let b = load(vec![sample(0, vec![x])]);
    let item = &b.cache.rows[0].items[0];
    assert_eq!(item.name().as_str(), Some("<script>alert(1)</script>"));
}

/// 200 000 nested lists in an attr: read, converted to JSON, written and dropped without
/// overflowing any stack; a list that contains itself is written once, as text at the repeat.
#[test]
fn deep_and_self_referencing_attrs() {
    fn text(out: &mut Vec<u8>, s: &str) {
        out.push(b'X');
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let depth = 200_000;
    let mut p = vec![0x80, 2, b'}', b'('];
    text(&mut p, "samples");
    p.extend_from_slice(b"](}(");
    text(&mut p, "trace");
    p.extend_from_slice(b"}(");
    text(&mut p, "events");
    p.extend_from_slice(b"](}(");
    for (k, v) in [("type", "event"), ("name", "n")] {
        text(&mut p, k);
        text(&mut p, v);
    }
    text(&mut p, "ts");
    p.push(b'G');
    p.extend_from_slice(&1.5f64.to_be_bytes());
    text(&mut p, "attrs");
    p.extend_from_slice(b"}(");
    text(&mut p, "deep");
    p.extend(std::iter::repeat_n(b']', depth));
    p.extend(std::iter::repeat_n(b'a', depth - 1));
    text(&mut p, "me");
    p.extend_from_slice(b"]q\x00h\x00a"); // l = []; l.append(l)
    p.extend_from_slice(b"uueuueu.");
    let b = trace::load(&p, &trace::LoadOptions::new("deep.pt", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(
        text.contains("\"me\":[\"[[...]]\"]"),
        "self-reference written as text"
    );
    assert!(
        text.contains("[[[[[[[[[["),
        "deep list kept to the depth cap"
    );
    assert!(text.len() < 100_000);
    drop(b);
}

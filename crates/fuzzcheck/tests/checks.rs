//! The checks themselves can fail: each invariant is broken on purpose and must be reported,
//! and the structured generator must produce what it promises (valid dumps, sharing, cycles).

use std::panic::catch_unwind;

use fuzzcheck::built::{check_built, check_series, Origin};
use fuzzcheck::stream::{chunk_size, chunks, split_input};
use fuzzcheck::tree::{canonical, check_tree_bounded, tree_bytes};
use pt::{Limits, Node, NodeId, Tree, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/slime/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn edge_9() -> trace::Materialized {
    trace::load(
        &fixture("edge_9.pt"),
        &trace::LoadOptions::new("edge_9.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap()
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    let p = catch_unwind(f).err()?;
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
}

#[test]
fn a_real_fixture_passes_every_check() {
    let built = edge_9();
    assert!(!built.cache.rows.is_empty());
    check_built(&built, fixture("edge_9.pt").len(), Origin::Dump);
}

#[test]
fn a_time_that_is_not_finite_is_reported() {
    let mut built = edge_9();
    built.cache.rows[0].start = f64::NAN;
    let m = panic_message(move || check_built(&built, 4000, Origin::Dump)).unwrap();
    assert!(m.contains("not finite"), "{m}");

    let mut built = edge_9();
    let span = built.cache.rows[0]
        .items
        .iter_mut()
        .find_map(|it| match it {
            trace::Item::Span(s) => Some(s),
            _ => None,
        })
        .unwrap();
    span.end_ts = Some(f64::INFINITY);
    let m = panic_message(move || check_built(&built, 4000, Origin::Dump)).unwrap();
    assert!(m.contains("not finite"), "{m}");
}

#[test]
fn a_value_that_does_not_survive_json_is_reported() {
    // The comparison behind the round-trip check: any difference is named with context.
    let m = panic_message(|| {
        fuzzcheck::built::same_text(
            "Span { end_ts: Some(1.0) }",
            "Span { end_ts: None }",
            "lost",
        )
    })
    .unwrap();
    assert!(m.contains("lost"), "{m}");
}

#[test]
fn output_beyond_the_bound_is_reported() {
    let mut built = edge_9();
    let row = built.cache.rows[0].clone();
    while serde_json::to_string(&built).unwrap().len() <= fuzzcheck::OUT_FLOOR + 4096 {
        let mut r = row.clone();
        r.row_id = built.cache.rows.len();
        built.cache.rows.push(r);
    }
    built.cache.sample_count = built.cache.rows.len();
    let big = built.clone();
    // 4 input bytes may give at most OUT_FLOOR + 4 KiB: this is more.
    let m = panic_message(move || check_built(&big, 4, Origin::Dump)).unwrap();
    assert!(m.contains("unbounded output"), "{m}");
    // From a large enough input the same output is fine.
    check_built(&built, 1 << 20, Origin::Dump);
}

#[test]
fn a_lane_count_beyond_the_items_is_reported_even_for_a_cache() {
    let mut built = edge_9();
    built.cache.rows[0].lane_count = 4_294_967_294;
    let m = panic_message(move || check_built(&built, 1 << 20, Origin::Cache)).unwrap();
    assert!(m.contains("lane_count 4294967294"), "{m}");

    let mut built = edge_9();
    built.cache.rows[0].item_count += 1;
    // A cache's counts are taken as given; rows we build must match their items.
    check_built(&built, 1 << 20, Origin::Cache);
    let m = panic_message(move || check_built(&built, 1 << 20, Origin::Dump)).unwrap();
    assert!(m.contains("item_count"), "{m}");
}

#[test]
fn series_with_a_nan_time_are_reported() {
    // The importer no longer makes such points; the check must still catch one.
    let series = vec![trace::interop::Series {
        name: "y".into(),
        labels: Default::default(),
        points: vec![(f64::NAN, 2.0)],
    }];
    let m = panic_message(move || check_series(&series, 100)).unwrap();
    assert!(
        m.contains("did not survive") || m.contains("read back"),
        "{m}"
    );
}

#[test]
fn chunking_follows_the_sizes_and_cycles_them() {
    assert_eq!(
        chunks(b"abcdefg", &[1, 2]),
        vec![&b"a"[..], b"bc", b"d", b"ef", b"g"]
    );
    assert_eq!(chunks(b"abc", &[]), vec![&b"abc"[..]]);
    assert!(chunks(b"", &[3]).is_empty());
    let (sizes, file) = split_input(&[2, 0, 0xF0, b'x', b'y']);
    assert_eq!(sizes, vec![1, 4096]);
    assert_eq!(file, b"xy");
    assert_eq!(chunk_size(239), 240);
    assert_eq!(chunk_size(255), 16 * 4096);
}

/// `[[1]]` with the inner list at index `inner` and the outer at `outer`.
fn nested(outer: u32, inner: u32, value: i64) -> Tree {
    let mut nodes = vec![Node::List(Vec::new()), Node::List(Vec::new())];
    nodes[outer as usize] = Node::List(vec![Value::Node(NodeId(inner))]);
    nodes[inner as usize] = Node::List(vec![Value::Int(value)]);
    Tree {
        nodes: nodes.into(),
        root: Value::Node(NodeId(outer)),
    }
}

#[test]
fn canonical_form_ignores_numbering_but_not_values_and_survives_cycles() {
    assert_eq!(canonical(&nested(0, 1, 1)), canonical(&nested(1, 0, 1)));
    assert_ne!(canonical(&nested(0, 1, 1)), canonical(&nested(0, 1, 2)));
    let cyclic = Tree {
        nodes: vec![Node::List(vec![Value::Node(NodeId(0))])].into(),
        root: Value::Node(NodeId(0)),
    };
    assert_eq!(canonical(&cyclic), "root #0 \nlist #0 ");
    // NaN equals itself, -0.0 differs from 0.0.
    let float = |f: f64| Tree {
        nodes: Default::default(),
        root: Value::Float(f),
    };
    assert_eq!(canonical(&float(f64::NAN)), canonical(&float(f64::NAN)));
    assert_ne!(canonical(&float(0.0)), canonical(&float(-0.0)));
}

#[test]
fn a_shared_string_counts_once_and_a_tree_over_its_limit_is_reported() {
    let s: std::rc::Rc<str> = "x".repeat(1 << 20).into();
    let tree = Tree {
        nodes: vec![Node::List(vec![Value::Str(s); 1000])].into(),
        root: Value::Node(NodeId(0)),
    };
    let bytes = tree_bytes(&tree);
    assert!((1 << 20) < bytes && bytes < (1 << 20) + 100_000, "{bytes}");
    let small = Limits {
        max_memory: 100_000,
        ..Limits::TIMELINE
    };
    let m = panic_message(move || check_tree_bounded(&tree, &small)).unwrap();
    assert!(m.contains("memory limit"), "{m}");
}

/// Deterministic pseudo-random fuzz inputs for the generator tests.
fn inputs(n: usize) -> Vec<Vec<u8>> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|i| {
            (0..(i * 7) % 600)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_generator_writes_dumps_with_rows_sharing_and_cycles() {
    let (mut read, mut with_rows, mut shared) = (0, 0, 0);
    let all = inputs(100);
    for data in &all {
        let g = picklegen::arb::dump_from_bytes(data);
        assert_eq!(g.bytes, picklegen::arb::dump_from_bytes(data).bytes);
        assert!(g.bytes.len() <= 4 * picklegen::arb::MAX_BYTES);
        if let Ok(dump) = pt::read(&g.bytes, &Limits::for_timeline()) {
            read += 1;
            // A node referred to from two places: shared, or a cycle.
            let mut refs = vec![0u32; dump.tree.nodes.len()];
            let mut see = |v: &Value| {
                if let Value::Node(id) = v {
                    refs[id.0 as usize] += 1;
                }
            };
            for node in &dump.tree.nodes {
                match node {
                    Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => {
                        x.iter().for_each(&mut see)
                    }
                    Node::Dict(d) => d.entries.iter().for_each(|(k, v)| {
                        see(k);
                        see(v)
                    }),
                    Node::Object(o) => {
                        see(&o.args);
                        see(&o.state)
                    }
                    _ => {}
                }
            }
            if refs.iter().any(|&r| r > 1) {
                shared += 1;
            }
        }
        if trace::load(&g.bytes, &trace::LoadOptions::new("g.pt", 0.0))
            .map(trace::Loaded::materialize)
            .is_ok_and(|b| !b.cache.rows.is_empty())
        {
            with_rows += 1;
        }
    }
    // Most inputs must make files the reader gets through, with rows: otherwise the fuzzer
    // would spend its time on errors near the top of the file.
    assert!(read * 2 >= all.len(), "only {read} of {} read", all.len());
    assert!(with_rows * 3 >= all.len(), "only {with_rows} gave rows");
    assert!(shared * 5 >= all.len(), "only {shared} share a container");
}

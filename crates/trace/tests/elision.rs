//! Fidelity of elision (issue #12, class 6): long number lists are elided only where they
//! are never output, the per-token fields of slime's `Sample` (`tokens`, `loss_mask`,
//! `rollout_log_probs`, …). A list of 100 numbers or one with `None`s inside span attributes
//! reaches the cache as slime's `_json_safe` writes it: a JSON array, `None` as `null`,
//! whether the file is read whole or streamed in any chunks; the token lists of 10 000 numbers
//! are still kept as their length and sum, and `rollout/response_len/*` (from
//! `sum(loss_mask)`) still matches.

use picklegen::Pickle;
use serde_json::{json, Value as J};

const TOKENS: usize = 10_000;

/// The span attribute lists and what slime's `_json_safe` makes of them.
fn hundred() -> Vec<f64> {
    (0..100).map(|i| i as f64 * 0.5).collect()
}

fn write_attrs(p: &mut Pickle) {
    p.str("series").list_of(100, |p, i| {
        p.float(i as f64 * 0.5);
    });
    p.str("with_nones").list_of(100, |p, i| {
        if i % 10 == 3 {
            p.none();
        } else {
            p.int(i as i64);
        }
    });
}

fn expected_series() -> J {
    json!(hundred())
}

fn expected_with_nones() -> J {
    J::Array(
        (0..100)
            .map(|i| if i % 10 == 3 { J::Null } else { json!(i) })
            .collect(),
    )
}

/// One sample's fields (the keys of `Sample.to_dict()` a row and the metrics read), written
/// between MARK and SETITEMS. `ones` of the loss mask are 1.
fn sample_fields(p: &mut Pickle, index: i64, ones: usize) {
    p.str("index").int(index);
    p.str("group_index").int(0);
    p.str("tokens").list_of(TOKENS, |p, i| {
        p.int(1000 + i as i64);
    });
    p.str("response_length").int(7);
    p.str("loss_mask").list_of(TOKENS, |p, i| {
        p.int((i < ones) as i64);
    });
    p.str("rollout_log_probs").list_of(TOKENS, |p, i| {
        p.float(-(i as f64) / 1000.0);
    });
    p.str("status").str("completed");
    p.str("trace")
        .empty_dict()
        .str("events")
        .empty_list()
        .mark();
    for (kind, ts) in [("span_start", 1.0), ("span_end", 2.0)] {
        p.empty_dict().mark();
        p.str("type").str(kind);
        p.str("name").str("generate");
        p.str("ts").float(ts + index as f64);
        p.str("span_id").str("a1");
        p.str("attrs").empty_dict().mark();
        write_attrs(p);
        p.setitems();
        p.setitems();
    }
    p.appends().setitem();
}

/// Three samples: two dicts (as `Sample.to_dict()` gives) and one `Sample` object whose
/// BUILD state is that dict, in a torch ZIP.
fn dump() -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark();
    p.str("rollout_id").int(3);
    p.str("samples").empty_list().mark();
    for (index, ones) in [(0, 100), (1, 250)] {
        p.empty_dict().mark();
        sample_fields(&mut p, index, ones);
        p.setitems();
    }
    p.new_object("slime.utils.types", "Sample")
        .empty_dict()
        .mark();
    sample_fields(&mut p, 2, 400);
    p.setitems().build();
    p.appends().setitems();
    picklegen::torch_zip("rollout_3", &p.stop())
}

fn metric(b: &trace::Materialized, name: &str) -> f64 {
    b.analysis
        .slime
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn streamed(bytes: &[u8], mut size: impl FnMut() -> usize) -> trace::Materialized {
    let mut loader = trace::Loader::new(trace::LoadOptions::new("x", 0.0));
    let mut at = 0;
    while at < bytes.len() {
        let n = size().clamp(1, bytes.len() - at);
        loader.push(&bytes[at..at + n]).unwrap();
        at += n;
    }
    loader.finish().unwrap().materialize()
}

#[test]
fn span_attribute_lists_are_kept_as_slime_writes_them() {
    let bytes = dump();
    let whole = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    assert_eq!(whole.cache.rows.len(), 3);
    for row in &whole.cache.rows {
        let j = serde_json::to_value(&row.items).unwrap();
        let span = &j[0];
        assert_eq!(span["name"], "generate", "{span}");
        for which in ["start_attrs", "end_attrs"] {
            let attrs = &span["attrs"][which];
            assert_eq!(attrs["series"], expected_series(), "{which}");
            assert_eq!(attrs["with_nones"], expected_with_nones(), "{which}");
        }
    }
    // The same cache whatever the chunks (the fast path sees whole batches only when they
    // arrive whole).
    let expect = serde_json::to_string(&whole.cache).unwrap();
    let mut x = 7u64;
    let random = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + (x >> 33) as usize % 3000
    };
    for (how, b) in [
        ("1 byte", streamed(&bytes, || 1)),
        ("random", streamed(&bytes, random)),
        ("whole", streamed(&bytes, || usize::MAX)),
    ] {
        assert_eq!(serde_json::to_string(&b.cache).unwrap(), expect, "{how}");
    }
}

#[test]
fn token_lists_are_still_elided_and_metrics_still_match() {
    let bytes = dump();
    // The reader's own tree (trace's reader frees samples once their rows are built).
    let d = pt::read(&bytes, &pt::Limits::for_timeline()).expect("a dump");
    let t = &d.tree;
    let samples = t.as_seq(t.get(&t.root, "samples").unwrap()).unwrap();
    assert_eq!(samples.len(), 3);
    for (s, ones) in samples.iter().zip([100.0, 250.0, 400.0]) {
        for key in ["tokens", "loss_mask", "rollout_log_probs"] {
            let v = t.get(s, key).unwrap();
            assert!(
                matches!(t.node_of(v), Some(pt::Node::ElidedList { len, .. }) if *len == TOKENS as u64),
                "{key}"
            );
        }
        let mask = t.get(s, "loss_mask").unwrap();
        assert!(matches!(t.node_of(mask), Some(pt::Node::ElidedList { sum, .. }) if *sum == ones));
    }
    // The tree stays small: 3 × 30 000 token numbers are not values. What is left is the
    // attribute lists (2 × 2 × 100 a sample) and the trace around them.
    let values: usize = t
        .nodes
        .iter()
        .map(|n| match n {
            pt::Node::List(v) | pt::Node::Tuple(v) => v.len(),
            pt::Node::Dict(d) => 2 * d.len(),
            _ => 1,
        })
        .sum();
    assert!(values < 3 * 600, "{values} values");
    // rollout/response_len/* from sum(loss_mask), not from response_length (7).
    let b = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    assert_eq!(metric(&b, "rollout/response_len/mean"), 250.0);
    assert_eq!(metric(&b, "rollout/response_len/max"), 400.0);
    assert_eq!(metric(&b, "rollout/response_len/min"), 100.0);
}

/// The catalog's class-6 case (run through the real binary by `hostile_cli.rs` and opened in
/// the browser) keeps its attribute lists whole and its token list elided.
#[test]
fn the_catalog_elision_case_keeps_attribute_lists() {
    let case = picklegen::hostile::catalog()
        .into_iter()
        .find(|c| c.file == "elision_attr_lists.pt")
        .expect("the class-6 catalog case");
    let built = trace::load(&case.bytes, &trace::LoadOptions::new(case.file, 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let json = serde_json::to_value(&built.cache).unwrap();
    let end = &json["rows"][0]["items"][0]["attrs"]["end_attrs"];
    let logprobs: Vec<f64> = (0..100).map(|i| -(i as f64) / 100.0).collect();
    assert_eq!(end["logprobs"], json!(logprobs), "{end}");
    assert_eq!(end["mask"], J::Array(vec![J::Null; 100]), "{end}");
    let ids: Vec<i64> = (0..100).collect();
    assert_eq!(
        end["tokens"],
        json!(ids),
        "an attribute named like a token field: {end}"
    );
    let dump = pt::read(&case.bytes, &pt::Limits::for_timeline()).unwrap();
    let tokens = dump.tree.get(&dump.tree.root, "samples").and_then(|s| {
        let first = dump.tree.as_seq(s)?.first()?.clone();
        dump.tree.get(&first, "tokens").cloned()
    });
    assert!(
        matches!(
            tokens.as_ref().and_then(|t| dump.tree.node_of(t)),
            Some(pt::Node::ElidedList { len: 10_000, .. })
        ),
        "{tokens:?}"
    );
}

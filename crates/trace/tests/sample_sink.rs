//! Rows built while the file is read (samples handed over batch by batch and freed) are the
//! rows built from the whole value tree: on every fixture, and on a crafted pickle that names
//! a freed sample again in a later batch.

use std::path::PathBuf;

use picklegen::Pickle;

fn from_tree(bytes: &[u8]) -> Result<trace::Materialized, String> {
    let tree = pt::read(bytes, &pt::Limits::for_timeline())
        .map_err(|e| e.to_string())?
        .tree;
    let limits = trace::BuildLimits::for_input(bytes.len() as u64);
    trace::build_rows(
        &tree,
        &trace::LoadOptions {
            limits: Some(limits),
            ..trace::LoadOptions::new("x", 0.0)
        },
    )
    .map(trace::Loaded::materialize)
    .map_err(|e| e.to_string())
}

/// Takes samples as the row build does (the reader frees what it handed over).
struct Taker;

impl pt::SampleSink for Taker {
    fn take(&mut self, _: &pt::Tree, _: pt::NodeId, _: usize, _: &[pt::Value], _: u64) {}
}

#[test]
fn fixtures_give_the_same_rows_read_as_they_stream() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut n = 0;
    let mut released_somewhere = false;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "pt") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        // slime's dumps are read the freeing way: their samples are released.
        if let Ok(dump) = pt::read_with_sink(&bytes, &pt::Limits::for_timeline(), Box::new(Taker)) {
            let released = dump
                .tree
                .nodes
                .iter()
                .filter(|n| matches!(n, pt::Node::Released))
                .count();
            let kept = dump.tree.nodes.len() - released;
            released_somewhere |= released > 0 && kept < released;
        }
        let streamed = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
            .map(trace::Loaded::materialize)
            .map_err(|e| e.to_string());
        let whole = from_tree(&bytes);
        match (streamed, whole) {
            (Ok(a), Ok(b)) => {
                let j = |b: &trace::Materialized| {
                    serde_json::to_string(&(&b.cache, &b.analysis, &b.warnings)).unwrap()
                };
                assert_eq!(j(&a), j(&b), "{}", p.display());
                n += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{}", p.display()),
            (a, b) => panic!("{}: {:?} vs {:?}", p.display(), a.is_ok(), b.is_ok()),
        }
    }
    assert!(n >= 10, "{n} fixtures compared");
    assert!(released_somewhere, "no fixture was read the freeing way");
}

/// `[S, T]` in a first batch, then `[S, T, S]` again by memo reference in a second: the
/// reader has freed S and T by then; their rows are copied, in order, with the new row ids,
/// exactly as a build over the whole tree gives them.
#[test]
fn a_freed_sample_named_again_gets_its_row_again() {
    let mut p = Pickle::proto(4);
    p.empty_dict().mark().str("samples").empty_list().mark();
    for (k, key) in [(0u32, "a"), (1, "b")] {
        one_sample(&mut p, k as i64, key);
        p.put(100 + k);
    }
    p.appends().mark().get(100).get(101).get(100).appends();
    p.setitems();
    let bytes = p.stop();
    let streamed = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let whole = from_tree(&bytes).unwrap();
    let ids: Vec<usize> = streamed.cache.rows.iter().map(|r| r.row_id).collect();
    assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    let names: Vec<String> = streamed
        .cache
        .rows
        .iter()
        .map(|r| r.items[0].name().to_string())
        .collect();
    assert_eq!(names, ["\"a\"", "\"b\"", "\"a\"", "\"b\"", "\"a\""]);
    assert_eq!(
        serde_json::to_string(&(&streamed.cache, &streamed.analysis)).unwrap(),
        serde_json::to_string(&(&whole.cache, &whole.analysis)).unwrap()
    );
    assert_eq!(streamed.analysis.samples, 5);
}

/// One sample dict (index `k`) whose trace is one closed span named `name`.
fn one_sample(p: &mut Pickle, k: i64, name: &str) {
    p.empty_dict().mark().str("index").int(k).str("trace");
    p.empty_dict().mark().str("events").empty_list().mark();
    for (kind, ts) in [("span_start", 1.0), ("span_end", 2.5)] {
        p.empty_dict()
            .mark()
            .str("type")
            .str(kind)
            .str("name")
            .str(name);
        p.str("ts")
            .float(ts + k as f64)
            .str("span_id")
            .str(name)
            .setitems();
    }
    p.appends().setitems().setitems();
}

/// A list of samples `(index, name)` as a whole pickle.
fn sample_list(samples: &[(i64, &str)]) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_list().mark();
    for &(k, name) in samples {
        one_sample(&mut p, k, name);
    }
    p.appends().stop()
}

/// Torch's legacy layout: `magic` (the first pickle), `protocol`, an empty sys info dict,
/// then `object`.
fn legacy(magic: &[u8], protocol: &[u8], object: &[u8]) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend_from_slice(protocol);
    out.extend(Pickle::proto(2).empty_dict().stop());
    out.extend_from_slice(object);
    out
}

fn rows_everywhere(bytes: &[u8]) -> Vec<(usize, String)> {
    let j = |b: &trace::Materialized| serde_json::to_string(&(&b.cache, &b.analysis)).unwrap();
    let whole = trace::load(bytes, &trace::LoadOptions::new("x", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let tree = from_tree(bytes).unwrap();
    assert_eq!(j(&whole), j(&tree), "read as it streams vs from the tree");
    let mut l = trace::Loader::new(trace::LoadOptions::new("x", 0.0));
    for c in bytes.chunks(1) {
        l.push(c).unwrap();
    }
    let streamed = l.finish().unwrap().materialize();
    assert_eq!(j(&whole), j(&streamed), "whole vs 1-byte chunks");
    whole
        .cache
        .rows
        .iter()
        .map(|r| {
            (
                r.sample_index.as_u64().unwrap() as usize,
                r.items[0].name().to_string(),
            )
        })
        .collect()
}

/// Only a legacy file's object pickle is its samples: a crafted protocol-version pickle
/// that is a list of samples gave its rows (and, its node ids coinciding with the object
/// pickle's, the object's first sample was taken for a copy of the header's).
#[test]
fn a_legacy_files_header_pickles_give_no_rows() {
    let object = sample_list(&[(0, "a"), (1, "b")]);
    let header = sample_list(&[(7, "header")]);
    let mut m = Pickle::proto(2);
    let bytes = legacy(&m.legacy_magic().stop(), &header, &object);
    let want = vec![(0, "\"a\"".to_string()), (1, "\"b\"".to_string())];
    assert_eq!(rows_everywhere(&bytes), want);

    // The first pickle hands a sample over, then ends as the magic number.
    let mut first = Pickle::proto(2);
    first.empty_list().mark();
    one_sample(&mut first, 9, "first");
    first.appends().pop();
    let first = first.legacy_magic().stop();
    let protocol = Pickle::proto(2).int(1001).stop();
    let bytes = legacy(&first, &protocol, &object);
    assert_eq!(rows_everywhere(&bytes), want);
}

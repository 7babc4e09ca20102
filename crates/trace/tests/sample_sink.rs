//! Rows built while the file is read (samples handed over batch by batch and freed) are the
//! rows built from the whole value tree: on every fixture, and on a crafted pickle that names
//! a freed sample again in a later batch.

use std::path::PathBuf;

use picklegen::Pickle;

fn from_tree(bytes: &[u8]) -> Result<trace::Built, String> {
    let tree = pt::read(bytes, &pt::Limits::for_timeline())
        .map_err(|e| e.to_string())?
        .tree;
    let limits = trace::BuildLimits::for_input(bytes.len() as u64);
    trace::build_cache_limited(&tree, "x", 0.0, &limits, &mut |_, _| {}).map_err(|e| e.to_string())
}

#[test]
fn fixtures_give_the_same_rows_read_as_they_stream() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/slime");
    let mut n = 0;
    let mut released_somewhere = false;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "pt") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        // slime's dumps are read the freeing way: their samples are released.
        if let Ok(trace::Parsed::Dump(d)) = trace::parse(&bytes) {
            let released = d
                .dump
                .tree
                .nodes
                .iter()
                .filter(|n| matches!(n, pt::Node::Released))
                .count();
            let kept = d.dump.tree.nodes.len() - released;
            released_somewhere |= released > 0 && kept < released;
        }
        let streamed = trace::load(&bytes, "x", 0.0).map_err(|e| e.to_string());
        let whole = from_tree(&bytes);
        match (streamed, whole) {
            (Ok(a), Ok(b)) => {
                let j = |b: &trace::Built| {
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
        p.empty_dict()
            .mark()
            .str("index")
            .int(k as i64)
            .str("trace");
        p.empty_dict().mark().str("events").empty_list().mark();
        for (kind, ts) in [("span_start", 1.0), ("span_end", 2.5)] {
            p.empty_dict()
                .mark()
                .str("type")
                .str(kind)
                .str("name")
                .str(key);
            p.str("ts")
                .float(ts + k as f64)
                .str("span_id")
                .str(key)
                .setitems();
        }
        p.appends().setitems().setitems();
        p.put(100 + k);
    }
    p.appends().mark().get(100).get(101).get(100).appends();
    p.setitems();
    let bytes = p.stop();
    let streamed = trace::load(&bytes, "x", 0.0).unwrap();
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

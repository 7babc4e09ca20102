//! `SampleSink`: each batch of complete samples is handed over at the opcode that appends it
//! (so the same hand-overs in any chunks), then freed; the sample list's containers never
//! all exist at once; nothing but the sample list is ever handed over or freed.

use std::cell::RefCell;
use std::rc::Rc;

use picklegen::Pickle;
use pt::{Limits, Node, NodeId, SampleSink, StreamReader, Tree, Value};

/// (first position, count, offset, how many of the batch's items were dicts) per hand-over,
/// and the most containers alive at a hand-over.
#[derive(Default, Debug, PartialEq)]
struct Log {
    batches: Vec<(usize, usize, u64, usize)>,
    most_alive: usize,
}

struct Recorder(Rc<RefCell<Log>>);

impl SampleSink for Recorder {
    fn take(&mut self, tree: &Tree, _list: NodeId, first: usize, items: &[Value], offset: u64) {
        let dicts = items
            .iter()
            .filter(|v| matches!(tree.node_of(v), Some(Node::Dict(_))))
            .count();
        let alive = tree
            .nodes
            .iter()
            .filter(|n| !matches!(n, Node::Released))
            .count();
        let mut log = self.0.borrow_mut();
        log.batches.push((first, items.len(), offset, dicts));
        log.most_alive = log.most_alive.max(alive);
    }
}

/// `{"rollout_id": 3, "samples": [<n samples in batches of `batch`>], "other": [1, 2]}`,
/// each sample a dict holding a list of `events` event dicts.
fn dump(n: usize, batch: usize, events: usize) -> Vec<u8> {
    let mut p = Pickle::proto(4);
    p.empty_dict()
        .mark()
        .str("rollout_id")
        .int(3)
        .str("samples");
    p.empty_list();
    for start in (0..n).step_by(batch) {
        p.mark();
        for i in start..(start + batch).min(n) {
            p.empty_dict()
                .mark()
                .str("index")
                .int(i as i64)
                .str("trace");
            p.empty_dict().mark().str("events").empty_list().mark();
            for e in 0..events {
                p.empty_dict().mark().str("type").str("event");
                p.str("name").str("x").str("ts").float(e as f64).setitems();
            }
            p.appends().setitems().setitems();
        }
        p.appends();
    }
    p.str("other").empty_list().mark().int(1).int(2).appends();
    p.setitems();
    p.stop()
}

fn read(bytes: &[u8], chunk: usize) -> (Log, Tree) {
    let log = Rc::new(RefCell::new(Log::default()));
    let limits = Limits::for_timeline();
    let mut r = StreamReader::with_sink(&limits, Box::new(Recorder(log.clone())));
    for c in bytes.chunks(chunk) {
        r.push(c).unwrap();
    }
    let tree = r.finish().unwrap().tree;
    let log = Rc::try_unwrap(log).unwrap().into_inner();
    (log, tree)
}

#[test]
fn batches_are_handed_over_the_same_in_any_chunks_and_then_released() {
    let bytes = dump(10, 4, 3);
    let (whole, tree) = read(&bytes, bytes.len());
    // Batches of 4, 4 and 2 samples, every item a complete sample dict.
    let shape: Vec<(usize, usize, usize)> = whole.batches.iter().map(|b| (b.0, b.1, b.3)).collect();
    assert_eq!(shape, vec![(0, 4, 4), (4, 4, 4), (8, 2, 2)]);
    assert!(
        whole.batches.windows(2).all(|w| w[0].2 < w[1].2),
        "offsets grow"
    );
    for chunk in [1, 7, 100] {
        assert_eq!(read(&bytes, chunk).0, whole, "chunks of {chunk}");
    }
    let same = read(&bytes, 1).1;
    assert_eq!(same.nodes.len(), tree.nodes.len());
    // The samples are released; the root dict, the list and "other" are not.
    let samples = tree
        .as_seq(tree.get(&tree.root, "samples").unwrap())
        .unwrap();
    assert_eq!(samples.len(), 10);
    assert!(samples
        .iter()
        .all(|s| matches!(tree.node_of(s), Some(Node::Released))));
    let other = tree.as_seq(tree.get(&tree.root, "other").unwrap()).unwrap();
    assert_eq!(other, &[Value::Int(1), Value::Int(2)]);
    // Per sample: its dict, trace dict, events list and 3 events = 6 containers. At a
    // hand-over only the current batch's are alive besides the root, list and no more.
    assert!(whole.most_alive <= 2 + 4 * 6, "{}", whole.most_alive);
}

#[test]
fn a_root_list_is_a_sample_list_and_other_lists_are_not() {
    // The pickle's value is the list of samples.
    let mut p = Pickle::proto(4);
    p.empty_list().mark();
    p.empty_dict().mark().str("index").int(0).setitems();
    p.empty_dict().mark().str("index").int(1).setitems();
    p.appends();
    let (log, _) = read(&p.stop(), 3);
    assert_eq!(log.batches.len(), 1);
    assert_eq!((log.batches[0].0, log.batches[0].1), (0, 2));

    // A dict without "samples", and a "samples" list nested one level down: nothing.
    let mut p = Pickle::proto(4);
    p.empty_dict()
        .mark()
        .str("data")
        .empty_dict()
        .mark()
        .str("samples");
    p.empty_list()
        .mark()
        .int(1)
        .int(2)
        .appends()
        .setitems()
        .setitems();
    let (log, tree) = read(&p.stop(), 5);
    assert!(log.batches.is_empty(), "{log:?}");
    assert!(!tree.nodes.iter().any(|n| matches!(n, Node::Released)));
}

#[test]
fn without_a_sink_nothing_is_released() {
    let bytes = dump(6, 4, 2);
    let tree = pt::read(&bytes, &Limits::for_timeline()).unwrap().tree;
    assert!(!tree.nodes.iter().any(|n| matches!(n, Node::Released)));
    let samples = tree
        .as_seq(tree.get(&tree.root, "samples").unwrap())
        .unwrap();
    assert!(samples
        .iter()
        .all(|s| matches!(tree.node_of(s), Some(Node::Dict(_)))));
}

struct Ignore;

impl SampleSink for Ignore {
    fn take(&mut self, _: &Tree, _: NodeId, _: usize, _: &[Value], _: u64) {}
}

/// A released container keeps its slot in the arena, so its slot stays charged: 200 batches
/// of 1 000 empty lists each (200 000 slots, ≈ 6 MB, from 200 KB of pickle) pass a 1 MiB
/// memory limit with a sink as they do without one. Freeing whole slots' charges let the
/// arena grow ≈ 32 bytes per input byte with no limit at all.
#[test]
fn containers_made_between_batches_still_count_against_the_memory_limit() {
    let mut p = Pickle::proto(4);
    p.empty_list();
    for _ in 0..200 {
        p.mark().repeat(1000, |p| {
            p.empty_list();
        });
        p.pop_mark().empty_dict().append();
    }
    let bytes = p.stop();
    let limits = Limits {
        max_memory: 1 << 20,
        ..Limits::for_timeline()
    };
    let without = pt::read(&bytes, &limits)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(without.contains("memory limit of 1 MiB"), "{without}");
    for chunk in [bytes.len(), 4096] {
        let mut r = StreamReader::with_sink(&limits, Box::new(Ignore));
        let got = bytes
            .chunks(chunk)
            .try_for_each(|c| r.push(c))
            .and_then(|()| r.finish().map(|_| ()));
        let err = got.unwrap_err().to_string();
        assert!(
            err.contains("memory limit of 1 MiB"),
            "chunks of {chunk}: {err}"
        );
    }
    // Batches under the limit still read: the samples' items are returned at each batch.
    let mut p = Pickle::proto(4);
    p.empty_list();
    for _ in 0..200 {
        p.mark().repeat(1000, |p| {
            p.int(1);
        });
        p.list().append();
    }
    let bytes = p.stop();
    let tree = pt::read_with_sink(&bytes, &limits, Box::new(Ignore))
        .unwrap()
        .tree;
    assert_eq!(tree.as_seq(&tree.root).map(<[Value]>::len), Some(200));
    assert!(
        pt::read(&bytes, &limits).is_err(),
        "without a sink it would not fit"
    );
}

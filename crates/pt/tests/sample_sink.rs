//! `SampleSink`: complete samples are handed over as the batch is read and at the opcode that
//! appends it (so the same hand-overs in any chunks), then freed; the sample list's containers
//! never all exist at once, nor a whole batch's; nothing but the sample list is ever handed
//! over or freed.

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

/// The root dict's `samples` holds `n` items, every one a released container.
fn assert_all_released(tree: &Tree, n: usize) {
    let samples = tree
        .as_seq(tree.get(&tree.root, "samples").unwrap())
        .unwrap();
    assert_eq!(samples.len(), n);
    assert!(samples
        .iter()
        .all(|s| matches!(tree.node_of(s), Some(Node::Released))));
}

#[test]
fn batches_are_handed_over_the_same_in_any_chunks_and_then_released() {
    let bytes = dump(10, 4, 3);
    let (whole, tree) = read(&bytes, bytes.len());
    // Batches of 4, 4 and 2 samples, every item a complete sample dict: a batch's first
    // sample is handed over once three more follow it (no opcode but APPENDS can reach it
    // then), the rest at the APPENDS.
    let shape: Vec<(usize, usize, usize)> = whole.batches.iter().map(|b| (b.0, b.1, b.3)).collect();
    assert_eq!(
        shape,
        vec![(0, 1, 1), (1, 3, 3), (4, 1, 1), (5, 3, 3), (8, 2, 2)]
    );
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
    assert_all_released(&tree, 10);
    let other = tree.as_seq(tree.get(&tree.root, "other").unwrap()).unwrap();
    assert_eq!(other, &[Value::Int(1), Value::Int(2)]);
    // Per sample: its dict, trace dict, events list and 3 events = 6 containers. At a
    // hand-over only the current batch's are alive besides the root, list and no more.
    assert!(whole.most_alive <= 2 + 4 * 6, "{}", whole.most_alive);
}

/// The pickler's batches are 1 000 samples: they are handed over as they are read and freed
/// 128 to 256 samples later (a later sample sharing one of their objects still finds it), so
/// at most 256 + 4 samples' containers exist at once, not a thousand; the same in any chunks.
#[test]
fn a_large_batch_is_handed_over_sample_by_sample() {
    let bytes = dump(1000, 1000, 2);
    let (whole, tree) = read(&bytes, bytes.len());
    assert_eq!(read(&bytes, 333).0, whole);
    let handed: usize = whole.batches.iter().map(|b| b.1).sum();
    assert_eq!(handed, 1000);
    assert!(whole.batches.len() > 900, "{}", whole.batches.len());
    // Per sample: its dict, trace dict, events list and 2 events = 5 containers.
    assert!(
        whole.most_alive <= 2 + 5 * (2 * 128 + 4),
        "{}",
        whole.most_alive
    );
    assert_all_released(&tree, 1000);
}

/// A batch above the sample list whose MARK is consumed by anything but its APPENDS (only a
/// crafted pickle does that) is an error once samples of it were handed over; before that,
/// nothing happened and the read goes on.
#[test]
fn a_batch_handed_over_must_be_appended() {
    let batch = |n: usize| {
        let mut p = Pickle::proto(4);
        p.empty_list().mark();
        for i in 0..n {
            p.empty_dict().mark().str("index").int(i as i64);
            p.str("trace").empty_dict().setitems();
        }
        p.pop_mark().empty_dict().append();
        p.stop()
    };
    let limits = Limits::for_timeline();
    let err = pt::read_with_sink(&batch(5), &limits, Box::new(Ignore))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("partly read as samples"), "{err}");
    let tree = pt::read_with_sink(&batch(3), &limits, Box::new(Ignore))
        .unwrap()
        .tree;
    assert_eq!(tree.as_seq(&tree.root).map(<[Value]>::len), Some(1));
}

/// `[sample…]` in one batch of `n`, sample `i` `{"index": i, "trace": T}`; the first `T` is
/// made by sample `from` (and memoized), every later sample refers to it (`BINGET`).
fn shared_trace(n: usize, from: usize) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_list().mark();
    for i in 0..n {
        p.empty_dict()
            .mark()
            .str("index")
            .int(i as i64)
            .str("trace");
        if i < from {
            p.empty_dict();
        } else if i == from {
            p.empty_dict().put(7).mark().str("events").empty_list();
            p.empty_dict()
                .mark()
                .str("name")
                .str("x")
                .setitems()
                .append();
            p.setitems();
        } else {
            p.get(7);
        }
        p.setitems();
    }
    p.appends();
    p.stop()
}

/// The trace each handed-over sample held when it was handed over: its "events" list's
/// length, `None` when its trace was released or not a dict.
struct Traces(Rc<RefCell<Vec<Option<usize>>>>);

impl SampleSink for Traces {
    fn take(&mut self, tree: &Tree, _: NodeId, _: usize, items: &[Value], _: u64) {
        for s in items {
            let events = tree
                .get(s, "trace")
                .and_then(|t| tree.get(t, "events"))
                .and_then(|e| tree.as_seq(e))
                .map(<[Value]>::len);
            self.0.borrow_mut().push(events);
        }
    }
}

fn traces(bytes: &[u8], chunk: usize) -> Vec<Option<usize>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let limits = Limits::for_timeline();
    let mut r = StreamReader::with_sink(&limits, Box::new(Traces(seen.clone())));
    for c in bytes.chunks(chunk) {
        r.push(c).unwrap();
    }
    r.finish().unwrap();
    Rc::try_unwrap(seen).unwrap().into_inner()
}

/// Samples that share a container (a second reference to one object is a memo reference):
/// the first reference to a container of the batch stops the sample-by-sample hand-over, so
/// every sample still sees the shared trace, as when whole batches were handed over (the
/// hostile catalogue's `output_shared_trace_*`, 1 000 samples of one trace). Without the
/// check, samples 4… read the first sample's trace after it was released.
#[test]
fn samples_sharing_a_container_are_handed_over_with_it() {
    for from in [0, 5] {
        let bytes = shared_trace(1000, from);
        let seen = traces(&bytes, bytes.len());
        assert_eq!(seen.len(), 1000);
        assert!(seen[..from].iter().all(|t| t.is_none()));
        let lost = seen[from..].iter().position(|t| *t != Some(1));
        assert_eq!(lost, None, "from {from}: sample {lost:?} lost the trace");
        assert_eq!(traces(&bytes, 97), seen);
    }
}

/// One sample listed again and again (each time a memo reference to the first): every
/// item handed over is the whole sample.
#[test]
fn a_sample_listed_many_times_is_whole_each_time() {
    let mut p = Pickle::proto(2);
    p.empty_list().mark();
    p.empty_dict().put(1).mark().str("trace");
    p.empty_dict().mark().str("events").empty_list();
    p.empty_dict()
        .mark()
        .str("name")
        .str("x")
        .setitems()
        .append();
    p.setitems().setitems();
    p.repeat(999, |p| {
        p.get(1);
    });
    p.appends();
    let bytes = p.stop();
    let seen = traces(&bytes, bytes.len());
    assert_eq!(seen, vec![Some(1); 1000]);
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

/// A released container's slot stays charged (the arena drops it, but the charges stay the
/// whole read's): 200 batches of 1 000 empty lists each (200 000 slots, ≈ 6 MB, from 200 KB of
/// pickle) pass a 1 MiB memory limit with a sink as they do without one. Freeing whole slots'
/// charges let the arena grow ≈ 32 bytes per input byte with no limit at all. (Protocol 1: a
/// MARK right above the list opens no batch, so the marked runs are not handed over; the
/// sample-by-sample hand-over is `samples_handed_over_one_by_one_…` below.)
#[test]
fn containers_made_between_batches_still_count_against_the_memory_limit() {
    let mut p = Pickle::proto(1);
    p.empty_list();
    for _ in 0..200 {
        p.mark().repeat(1000, |p| {
            p.empty_list();
        });
        p.pop_mark().empty_dict().append();
    }
    let bytes = p.stop();
    let limits = past_one_mib_without_a_sink(&bytes);
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
    let mut p = Pickle::proto(1);
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

/// `{"samples": [<n samples in batches of 1 000>]}` at protocol 2 (what `torch.save` writes),
/// each sample `{"trace": {"events": [{} × 30]}}`: 33 containers a sample and few string
/// bytes (what a string holds stays charged whatever is released).
fn traced_samples(n: usize) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark().str("samples").empty_list();
    for start in (0..n).step_by(1000) {
        p.mark();
        for _ in start..(start + 1000).min(n) {
            p.empty_dict().mark().str("trace");
            p.empty_dict().mark().str("events").empty_list().mark();
            p.repeat(30, |p| {
                p.empty_dict();
            });
            p.appends().setitems().setitems();
        }
        p.appends();
    }
    p.setitems();
    p.stop()
}

/// How many samples each hand-over gave (no more: [`Recorder`] scans the arena each time).
struct Sizes(Rc<RefCell<Vec<usize>>>);

impl SampleSink for Sizes {
    fn take(&mut self, _: &Tree, _: NodeId, _: usize, items: &[Value], _: u64) {
        self.0.borrow_mut().push(items.len());
    }
}

/// Reads `bytes` in chunks under `limits`, keeping the hand-overs' sizes when the read fails.
fn read_sizes(bytes: &[u8], chunk: usize, limits: &Limits) -> (Vec<usize>, Result<Tree, String>) {
    let sizes = Rc::new(RefCell::new(Vec::new()));
    let mut r = StreamReader::with_sink(limits, Box::new(Sizes(sizes.clone())));
    let got = bytes
        .chunks(chunk)
        .try_for_each(|c| r.push(c))
        .and_then(|()| r.finish())
        .map(|read| read.tree)
        .map_err(|e| e.to_string());
    (Rc::try_unwrap(sizes).unwrap().into_inner(), got)
}

/// The memory property above on the path real dumps take: protocol 2, samples with a
/// `trace` handed over one by one as their batch is read, and released. Their containers'
/// slots stay charged, so 4 000 samples of 33 containers (132 000 slots, ≈ 4 MB) pass a
/// 1 MiB memory limit with a sink as they do without one. Uncharging released slots lets
/// the read finish with the arena past the limit.
#[test]
fn samples_handed_over_one_by_one_still_count_against_the_memory_limit() {
    let bytes = traced_samples(4000);
    let limits = past_one_mib_without_a_sink(&bytes);
    for chunk in [bytes.len(), 4096] {
        let (sizes, got) = read_sizes(&bytes, chunk, &limits);
        let Err(err) = got else {
            panic!("chunks of {chunk}: read whole under the 1 MiB limit");
        };
        assert!(
            err.contains("memory limit of 1 MiB"),
            "chunks of {chunk}: {err}"
        );
        // The samples were handed over one by one before the limit stopped the read, not
        // as whole batches at their APPENDS.
        let handed: usize = sizes.iter().sum();
        let largest = sizes.iter().copied().max().unwrap_or(0);
        assert!(
            handed > 500 && largest < 1000,
            "chunks of {chunk}: {} hand-overs of {handed} samples, the largest {largest}",
            sizes.len()
        );
    }
    // Under a limit they fit, the same samples read, handed over one by one.
    let roomy = Limits {
        max_memory: 64 << 20,
        ..Limits::for_timeline()
    };
    let (sizes, got) = read_sizes(&bytes, bytes.len(), &roomy);
    assert_all_released(&got.unwrap(), 4000);
    assert!(sizes.len() > 3900, "{} hand-overs", sizes.len());
}

/// A 1 MiB memory limit, which `bytes` pass when read without a sink (the tree held whole).
fn past_one_mib_without_a_sink(bytes: &[u8]) -> Limits {
    let limits = Limits {
        max_memory: 1 << 20,
        ..Limits::for_timeline()
    };
    let without = pt::read(bytes, &limits)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(without.contains("memory limit of 1 MiB"), "{without}");
    limits
}

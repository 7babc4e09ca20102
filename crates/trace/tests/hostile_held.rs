//! Hostile files whose cost is in what a sample's row holds while it is built: values shared
//! by pickle reference that every event, or every item, copies (the `structured` fuzz
//! target's finding of 2026-12-06: a 535 KB dump whose events share one large dict as their
//! name held ≈ 400 MB, each item copying its parent's name). Names and span ids are
//! converted within `json::MAX_KEY_BYTES`; a sample whose values would hold more than
//! `MAX_SAMPLE_HELD` is skipped with a warning, and the samples after it stay.

use std::time::{Duration, Instant};

use picklegen::Pickle;

/// Generous: each finishes in about a second in a debug build.
const BOUND: Duration = Duration::from_secs(10);

const SHARED: u32 = 1;

fn dump(f: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    picklegen::rollout_zip(f)
}

/// `{"index": i, "trace": {"events": [<events>]}, <more>}`.
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

/// `{"type": kind, "name": <name>, "ts": ts, "span_id": span, "attrs": <attrs>}`.
fn event(
    p: &mut Pickle,
    kind: &str,
    name: impl FnOnce(&mut Pickle),
    ts: f64,
    span: Option<&str>,
    attrs: impl FnOnce(&mut Pickle),
) {
    p.empty_dict().mark().str("type").str(kind).str("name");
    name(p);
    p.str("ts").float(ts);
    if let Some(s) = span {
        p.str("span_id").str(s);
    }
    p.str("attrs");
    attrs(p);
    p.setitems();
}

/// `n` events whose attrs are one list of 20 000 empty lists, shared by reference: ≈ 60 KB of
/// JSON each, ≈ 1.3 MB as estimated values.
fn events_sharing_empty_lists(p: &mut Pickle, n: usize) {
    for k in 0..n {
        let attrs = |p: &mut Pickle| {
            if k == 0 {
                p.empty_list().mark();
                for _ in 0..20_000 {
                    p.empty_list();
                }
                p.appends().put(SHARED);
            } else {
                p.get(SHARED);
            }
        };
        event(p, "event", |p| _ = p.str("e"), 1.0 + k as f64, None, attrs);
    }
}

fn load(bytes: &[u8]) -> trace::Materialized {
    let t = Instant::now();
    let b = trace::load(bytes, &trace::LoadOptions::new("x", 0.0))
        .unwrap()
        .materialize();
    assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
    b
}

fn messages(b: &trace::Materialized) -> Vec<String> {
    b.warnings.iter().map(|w| w.to_string()).collect()
}

/// One span whose name is a 2 000-entry dict (≈ 30 KB of JSON), and 5 000 point events
/// inside it naming the same dict by reference: each point copies its own name and its
/// parent's. Every name is cut at `MAX_KEY_BYTES`, so the row costs ≈ 40 MB of JSON, not
/// the ≈ 300 MB the full names would (the old code: 64 KiB per copy, held at once).
#[test]
fn a_large_shared_name_is_cut_at_the_key_limit() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                let big = |p: &mut Pickle| {
                    p.empty_dict().mark();
                    for k in 0..2000 {
                        p.str(&format!("key{k:05}")).int(k);
                    }
                    p.setitems().put(SHARED);
                };
                event(p, "span_start", big, 1.0, Some("root"), |p| {
                    p.empty_dict();
                });
                for k in 0..5000 {
                    let named = |p: &mut Pickle| {
                        p.get(SHARED);
                    };
                    event(p, "event", named, 2.0 + k as f64, None, |p| {
                        p.empty_dict();
                    });
                }
            },
            |_| {},
        );
        p.appends();
    });
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    let b = load(&bytes);
    let row = &b.cache.rows[0];
    assert_eq!(row.point_event_count, 5000);
    let cap = trace::json::MAX_KEY_BYTES + 64;
    for item in &row.items {
        let (name, parent) = match item {
            trace::Item::Span(s) => (&s.name, &s.parent_span_name),
            trace::Item::Event(p) | trace::Item::OrphanEnd(p) => (&p.name, &p.parent_span_name),
        };
        for j in [name, parent] {
            let text = j.to_string();
            assert!(text.len() <= cap, "{} bytes", text.len());
        }
    }
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(
        text.contains(trace::json::KEY_CUT_MARK),
        "the cut name says so"
    );
    assert!(text.len() < 50 << 20, "{} bytes of cache", text.len());
    assert!(
        messages(&b)
            .iter()
            .any(|m| m.contains("4 KiB for names and span ids")),
        "{:#?}",
        messages(&b)
    );
}

/// A sample whose 300 events share one list of 20 000 empty lists as their attrs: ≈ 60 KB of
/// JSON each (under the 64 KiB per value) but ≈ 10× that in memory as values (≈ 20× as
/// estimated), ≈ 400 MB for the sample. It is skipped with a warning naming the limit once it would pass
/// `MAX_SAMPLE_HELD`; the next sample keeps its row, and the skipped sample's output is not
/// charged to the file (the padding keeps the file's own output limit out of the way).
#[test]
fn a_sample_holding_too_much_is_skipped_and_the_next_stays() {
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(p, 0, |p| events_sharing_empty_lists(p, 300), |_| {});
        sample(
            p,
            1,
            |p| {
                let name = |p: &mut Pickle| {
                    p.str("ok");
                };
                event(p, "event", name, 1.0, None, |p| {
                    p.empty_dict();
                });
            },
            |p| {
                p.str("prompt").str(&"x".repeat(100_000));
            },
        );
        p.appends();
    });
    let b = load(&bytes);
    let ms = messages(&b);
    let held = trace::BuildLimits::for_input(bytes.len() as u64).max_sample_held;
    let limit = format!("more than {} MiB of memory", held >> 20);
    assert!(
        ms.iter()
            .any(|m| m.starts_with("sample 0: ") && m.contains(&limit) && m.contains("skipped")),
        "{ms:#?}"
    );
    assert!(
        !ms.iter().any(|m| m.contains("not shown")),
        "the file's limits are not what stopped it: {ms:#?}"
    );
    assert_eq!(b.cache.rows.len(), 1, "{ms:#?}");
    assert_eq!(b.cache.rows[0].sample_index, serde_json::json!(1));
    assert_eq!(b.analysis.samples, 2, "facts still cover both samples");
}

/// What a sample may hold grows with the file, as its output does: a 46 MB dump of one honest
/// 200 000-span sample holds ≈ 360 MB while its row is built, and must not be skipped.
#[test]
fn what_a_sample_may_hold_grows_with_the_file() {
    let small = trace::BuildLimits::for_input(1 << 20).max_sample_held;
    assert_eq!(
        small,
        trace::SAMPLE_HELD_FLOOR + trace::SAMPLE_HELD_PER_INPUT_BYTE * (1 << 20)
    );
    assert!(trace::BuildLimits::for_input(46 << 20).max_sample_held > 700 << 20);
    assert_eq!(
        trace::BuildLimits::for_input(u64::MAX).max_sample_held,
        trace::MAX_SAMPLE_HELD
    );
}

/// A span whose id is a 4 000-character string and 30 000 point events inside it (one event
/// dict by reference): each point inherits the id as its parent and writes it, ≈ 120 MB of
/// JSON from a ≈ 100 KB file. The copies are charged to the output as they are made, so the
/// row stops at the file's limit with a warning (uncharged, the same shape reached 8 GB).
#[test]
fn an_inherited_parent_id_is_charged_to_the_output() {
    let id = "i".repeat(4000);
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(
            p,
            0,
            |p| {
                event(
                    p,
                    "span_start",
                    |p| _ = p.str("s"),
                    1.0,
                    Some(&id),
                    |p| {
                        p.empty_dict();
                    },
                );
                p.empty_dict()
                    .mark()
                    .str("type")
                    .str("event")
                    .str("name")
                    .str("e");
                p.str("ts").float(2.0).setitems().put(SHARED);
                for _ in 1..30_000 {
                    p.get(SHARED);
                }
            },
            |_| {},
        );
        p.appends();
    });
    let limit = trace::OUTPUT_PER_INPUT_BYTE * bytes.len() as u64 + trace::OUTPUT_FLOOR;
    assert!(
        limit < 30_000 * 4000,
        "the case must pass the limit: {limit}"
    );
    let b = load(&bytes);
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.len() as u64 <= limit, "{} > {limit}", text.len());
    assert!(
        messages(&b)
            .iter()
            .any(|m| m.contains("not shown") && m.contains("MiB of output")),
        "{:#?}",
        messages(&b)
    );
}

/// The output a skipped sample had charged before it was skipped goes back to the file: here
/// sample 0 is skipped after ≈ 12 MB of attribute text, and sample 1's ≈ 20 MB of rows fit
/// the file's limit only without it.
#[test]
fn a_skipped_samples_output_is_not_charged_to_the_file() {
    let big = "z".repeat(16 << 10);
    let bytes = dump(|p| {
        p.empty_list().mark();
        sample(p, 0, |p| events_sharing_empty_lists(p, 400), |_| {});
        sample(
            p,
            1,
            |p| {
                for k in 0..1250 {
                    let attrs = |p: &mut Pickle| {
                        if k == 0 {
                            p.empty_dict().mark().str("s").str(&big).setitems().put(2);
                        } else {
                            p.get(2);
                        }
                    };
                    event(p, "event", |p| _ = p.str("f"), 1.0 + k as f64, None, attrs);
                }
            },
            |_| {},
        );
        p.appends();
    });
    let limit = trace::BuildLimits::for_input(bytes.len() as u64).max_output_bytes;
    let b = load(&bytes);
    let ms = messages(&b);
    assert!(
        ms.iter()
            .any(|m| m.starts_with("sample 0: ") && m.contains("skipped")),
        "{ms:#?}"
    );
    assert_eq!(b.cache.rows.len(), 1, "{ms:#?}");
    let text = serde_json::to_string(&b.cache).unwrap().len() as u64;
    // Sample 1 alone is over half the limit: with sample 0's text still charged it would not fit.
    assert!(text > limit / 2 && text <= limit, "{text} of {limit}");
}

/// Samples that each name one heavy trace (made before the sample list, by reference): each
/// is skipped for what it would hold, and its output goes back to the file, so only the
/// discarded work's own limit (the output's) stops them. The review's probe of 2026-12-06:
/// 400 samples of 13 bytes each, 143 KB, took 53 s with nothing to show; now the build stops
/// after a few, saying which limit.
#[test]
fn samples_naming_one_heavy_trace_stop_at_the_discarded_limit() {
    const TRACE: u32 = 9;
    let bytes = dump(|p| {
        p.empty_dict().mark().str("events").empty_list().mark();
        events_sharing_empty_lists(p, 250);
        p.appends().str("pad").str(&"x".repeat(100_000)).setitems();
        p.put(TRACE).pop();
        p.empty_list().mark();
        for i in 0..400 {
            p.empty_dict().mark().str("index").int(i).str("trace");
            p.get(TRACE).setitems();
        }
        p.appends();
    });
    let b = load(&bytes);
    let ms = messages(&b);
    let skipped = ms.iter().filter(|m| m.contains("skipped")).count();
    assert!(
        (1..20).contains(&skipped),
        "{skipped} skipped: {:#?}",
        &ms[..3]
    );
    assert!(
        ms.iter().any(|m| m.contains("not shown")
            && m.contains("converted for samples skipped for their size")),
        "{ms:#?}"
    );
    assert!(b.cache.rows.is_empty());
}

/// What a converted value holds counts a dict's keys as well as its values (a map entry and
/// an allocation each, besides the text): a dict of 1 000 one-letter keys holding empty
/// lists is ≈ 7 KB of text and holds ≈ 2 × 1 000 × `HELD_PER_VALUE` more.
#[test]
fn a_dicts_keys_count_in_what_it_holds() {
    let mut p = Pickle::proto(2);
    p.empty_dict().mark();
    for k in 0..1000 {
        p.str(&format!("k{k}")).empty_list();
    }
    p.setitems();
    let tree = pt::read(&p.stop(), &pt::Limits::for_timeline())
        .unwrap()
        .tree;
    let mut out = trace::json::Output::default();
    trace::json::to_json_counted(&tree, &tree.root, &mut out);
    let per = trace::json::HELD_PER_VALUE;
    assert!(out.held >= out.bytes + 2 * 1000 * per, "{out:?}");
    assert!(out.held < out.bytes + 2 * 1001 * per + per, "{out:?}");
}

/// A sample past the held limit and the file's output limit at the same event is skipped as
/// one sample (the held check comes first), not taken for the end of the file's rows: what it
/// converted goes back to the file, so the small samples after it still give rows. Small
/// limits: samples 0–2 fill most of the output (≈ 60 KB of attrs each, well under the held
/// limit); sample 3's one event is a list of 19 000 empty lists, ≈ 57 KB of text (past the
/// output limit on top of samples 0–2's, but under it alone, so not the discarded-work
/// limit) and ≈ 1.2 MB held (past the 1 MiB held limit). Checking the output first ends the
/// rows at sample 3 with "not shown".
#[test]
fn a_sample_past_both_the_held_and_the_output_limit_is_skipped_alone() {
    let limits = trace::BuildLimits {
        max_output_bytes: 200_000,
        max_sample_held: 1 << 20,
        ..trace::BuildLimits::DEFAULT
    };
    let text = "t".repeat(60_000);
    let bytes = dump(|p| {
        p.empty_list().mark();
        for i in 0..3 {
            let attrs = |p: &mut Pickle| _ = p.empty_dict().mark().str("s").str(&text).setitems();
            sample(
                p,
                i,
                |p| event(p, "event", |p| _ = p.str("fill"), 1.0, None, attrs),
                |_| {},
            );
        }
        let heavy = |p: &mut Pickle| {
            p.empty_list().mark();
            for _ in 0..19_000 {
                p.empty_list();
            }
            p.appends();
        };
        sample(
            p,
            3,
            |p| event(p, "event", |p| _ = p.str("heavy"), 1.0, None, heavy),
            |_| {},
        );
        for i in 4..6 {
            let attrs = |p: &mut Pickle| _ = p.empty_dict();
            sample(
                p,
                i,
                |p| event(p, "event", |p| _ = p.str("small"), 1.0, None, attrs),
                |_| {},
            );
        }
        p.appends();
    });
    let mut options = trace::LoadOptions::new("x", 0.0);
    options.limits = Some(limits);
    let t = Instant::now();
    let b = trace::load(&bytes, &options).unwrap().materialize();
    assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
    let ms = messages(&b);
    let indexes: Vec<_> = b
        .cache
        .rows
        .iter()
        .map(|r| r.sample_index.clone())
        .collect();
    assert_eq!(
        indexes,
        [0, 1, 2, 4, 5].map(|i| serde_json::json!(i)),
        "{ms:#?}"
    );
    assert!(
        ms.iter().any(|m| m.starts_with("sample 3: ")
            && m.contains("more than 1 MiB of memory")
            && m.contains("skipped")),
        "{ms:#?}"
    );
    assert!(
        !ms.iter().any(|m| m.contains("not shown")),
        "the output limit did not end the rows: {ms:#?}"
    );
    // The case is what it says: sample 3 alone fits the output limit, and not after 0–2.
    let text = serde_json::to_string(&b.cache).unwrap().len() as u64;
    assert!(
        text > 150_000 && text + 57_000 > limits.max_output_bytes,
        "{text}"
    );
}

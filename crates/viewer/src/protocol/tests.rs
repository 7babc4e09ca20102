use super::*;

fn head(row_id: usize) -> RowHead {
    RowHead {
        row_id,
        sample_index: row_id.to_string(),
        source: None,
        status: "completed".into(),
        label: "math".into(),
        trace_id: "t".into(),
        reward: Some(1.0),
        start: 0.0,
        end: 1.0,
        duration: 1.0,
        lane_count: 1,
        closed_spans: 2,
        open_spans: 0,
    }
}

fn row(n: usize, name: u32) -> RowData {
    RowData {
        track: Track {
            start: (0..n).map(|i| i as f64).collect(),
            end: (0..n).map(|i| i as f64 + 0.5).collect(),
            name: vec![name; n],
            kind: vec![0; n],
            lane: vec![0; n],
            depth: vec![0; n],
        },
        attempt: vec![0; n],
        pd: vec![PdSegment {
            item: 1,
            phase: 3,
            t0: 1.0,
            t1: 1.2,
        }],
    }
}

/// Two rows in one batch, the worker's tables holding one name and one attempt.
fn batch() -> (BatchHead, Columns) {
    let mut names = Names::default();
    names.intern_text("sglang_generate");
    let mut w = BatchWriter::default();
    w.push(0, head(0), &row(3, 0), (0, 0));
    w.push(1, head(1), &row(2, 0), (1, 1));
    w.take(&names, &[0]).expect("a batch")
}

#[test]
fn a_batch_splits_into_its_rows() {
    let (h, c) = batch();
    assert_eq!(c.offsets, vec![0, 3, 5]);
    let mut t = Tables::default();
    let (heads, rows) = decode_batch(h, c, 0, &mut t).expect("decodes");
    assert_eq!(heads.len(), 2);
    assert_eq!(rows[0], row(3, 0));
    assert_eq!(rows[1], row(2, 0));
    assert_eq!(t.names.text(0), "sglang_generate");
    assert_eq!(t.attempts, vec![0]);
}

#[test]
fn every_inconsistency_of_a_batch_is_an_error_naming_rows() {
    type Break = fn(&mut BatchHead, &mut Columns);
    let cases: [(&str, Break); 9] = [
        ("starts at row", |h, _| h.first_row = 5),
        ("offsets for", |_, c| {
            c.offsets.pop();
        }),
        ("go backwards", |_, c| c.offsets[1] = 9),
        ("column end", |_, c| {
            c.end.pop();
        }),
        ("name id 7", |_, c| c.name[2] = 7),
        ("attempt index", |_, c| c.attempt[0] = 1),
        ("unknown item kind", |_, c| c.kind[0] = 0x80),
        ("PD phase", |_, c| c.pd[1] = 99.0),
        ("4-number", |_, c| {
            c.pd.pop();
        }),
    ];
    for (want, f) in cases {
        let (mut h, mut c) = batch();
        f(&mut h, &mut c);
        let err = decode_batch(h, c, 0, &mut Tables::default()).unwrap_err();
        assert!(err.contains(want), "{want}: {err}");
        assert!(err.contains("batch of rows"), "{err}");
        assert!(err.contains("rows missing"), "{err}");
    }
    // A batch out of order is refused too.
    let (h, c) = batch();
    let err = decode_batch(h, c, 2, &mut Tables::default()).unwrap_err();
    assert!(err.contains("it starts at row 0, expected 2"), "{err}");
    // A PD segment pointing past its batch.
    let (h, mut c) = batch();
    c.pd[0] = 40.0;
    let err = decode_batch(h, c, 0, &mut Tables::default()).unwrap_err();
    assert!(err.contains("outside its batch"), "{err}");
}

#[test]
fn batches_close_at_the_row_or_item_cap() {
    let mut w = BatchWriter::default();
    assert!(!w.is_full());
    for r in 0..ROWS_PER_MESSAGE {
        w.push(r, head(r), &row(1, 0), (0, 0));
    }
    assert!(w.is_full());
    let mut w = BatchWriter::default();
    w.push(0, head(0), &row(ITEMS_PER_MESSAGE, 0), (0, 0));
    assert!(w.is_full(), "one big row fills a batch");
}

#[test]
fn the_filter_reads_every_head_field() {
    // Each field gets a value no other field contains, so a hit proves that field was read.
    let h = RowHead {
        sample_index: "417".into(),
        source: Some("Src-Qq".into()),
        status: "aborted".into(),
        label: "Geometry".into(),
        trace_id: "zz9x".into(),
        ..head(12)
    };
    for needle in ["417", "src-qq", "abort", "geometry", "zz9x"] {
        assert!(h.matches(needle), "{needle}");
    }
    // Only those fields: the row id, reward and times are not searched.
    for needle in ["12", "1.0", "nothing-like-it"] {
        assert!(!h.matches(needle), "{needle}");
    }
    // A missing source reads as Python's `None`.
    let none = RowHead {
        source: None,
        ..h.clone()
    };
    assert!(none.matches("none") && !h.matches("none"));
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for text in ["", "{", "[]", "null", r#"{"kind":"nope"}"#, "\u{0}"] {
        assert!(decode(text).is_err(), "{text:?}");
        assert!(decode_head(text).is_err(), "{text:?}");
    }
    assert!(matches!(
        decode(r#"{"kind":"ready"}"#),
        Ok(FromWorker::Ready)
    ));
    assert!(matches!(decode(r#"{"kind":"pong"}"#), Ok(FromWorker::Pong)));
    assert!(decode(r#"{"kind":"done","summary":{}}"#)
        .unwrap_err()
        .contains("summary"));
}

#[test]
fn an_unwritable_message_becomes_an_error_message() {
    let text = to_text(&FromWorker::Progress {
        stage: "x".into(),
        done: 1.0,
        total: 2.0,
    });
    assert!(matches!(decode(&text), Ok(FromWorker::Progress { .. })));
    let err = to_text(&FromWorker::Error {
        message: "quote \" and \u{1} control".into(),
    });
    match decode(&err) {
        Ok(FromWorker::Error { message }) => assert!(message.contains("quote \"")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_summary_with_non_finite_times_round_trips() {
    let s = Summary {
        name: "x.pt".into(),
        sample_count: 1,
        rows: 0,
        global_start: Some(f64::NAN),
        global_end: None,
        warnings: vec![],
        analysis: Default::default(),
        pd_phases: vec![1],
    };
    let text = to_text(&FromWorker::Done {
        summary: Box::new(s),
    });
    match decode(&text) {
        Ok(FromWorker::Done { summary }) => {
            assert!(summary.global_start.is_some_and(f64::is_nan));
            assert_eq!(summary.pd_phases, vec![1]);
        }
        other => panic!("{other:?}"),
    }
}

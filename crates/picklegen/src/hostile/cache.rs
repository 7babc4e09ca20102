//! Untrusted cache JSON (class 8 of issue #12): slime-format timeline caches with crafted
//! lanes and counts, non-finite and wrongly typed fields. Expectations are what
//! `rollscope cache FILE` gives: an error naming the row, item and field, or the row with the
//! claimed count replaced by what its items say (and a warning).

use super::{Case, Expect};

/// A one-row cache (a closed span and a point event inside it) in slime's layout, with
/// `edit` applied to its text: each `(from, to)` replaces the first `from`.
fn cache(edits: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from(concat!(
        r#"{"cache_version": 1, "pt_path": "x.pt", "generated_at": 0.0, "sample_count": 1, "#,
        r#""global_start": 1.0, "global_end": 2.0, "rows": [{"row_id": 0, "sample_index": 0, "#,
        r#""group_index": 0, "source": null, "status": null, "label": null, "reward": null, "#,
        r#""trace_id": "t", "attempt": 0, "start": 1.0, "end": 2.0, "duration": 1.0, "#,
        r#""lane_count": 2, "item_count": 2, "closed_span_count": 1, "open_span_count": 0, "#,
        r#""point_event_count": 1, "orphan_count": 0, "total_response_length": 0, "#,
        r#""max_response_length": 0, "items": ["#,
        r#"{"type": "span", "state": "closed_span", "name": "a", "start_ts": 1.0, "#,
        r#""end_ts": 2.0, "display_end_ts": 2.0, "attempt": 0, "span_id": "a", "#,
        r#""parent_span_id": null, "parent_span_name": null, "lane": 0, "depth": 0, "#,
        r#""attrs": {"start_attrs": {}, "end_attrs": {}}}, "#,
        r#"{"type": "event", "state": "point_event", "name": "e", "ts": 1.5, "attempt": 0, "#,
        r#""span_id": null, "parent_span_id": "a", "parent_span_name": "a", "lane": 1, "#,
        r#""depth": 1, "attrs": {}}]}]}"#
    ));
    for (from, to) in edits {
        text = text.replacen(from, to, 1);
    }
    text.into_bytes()
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            file: "cache_lane_huge.json",
            class: 8,
            what: "an item claiming lane 4 294 967 294 (a page sizing rows by lane would \
                   allocate per claimed lane)",
            bytes: cache(&[(r#""lane": 1"#, r#""lane": 4294967294"#)]),
            expect: Expect::Error("row 0, item 1: `lane` is 4294967294"),
            browser: true,
        },
        Case {
            file: "cache_lane_count_huge.json",
            class: 8,
            what: "a row claiming lane_count 4 294 967 294 with items on two lanes",
            bytes: cache(&[(r#""lane_count": 2"#, r#""lane_count": 4294967294"#)]),
            expect: Expect::Rows {
                rows: 1,
                warning: "lane_count says 4294967294 but its items use 2 lanes",
            },
            browser: true,
        },
        Case {
            file: "cache_item_counts.json",
            class: 8,
            what: "a row claiming a million items while holding two",
            bytes: cache(&[(r#""item_count": 2"#, r#""item_count": 1000000"#)]),
            expect: Expect::Rows {
                rows: 1,
                warning: "item counts say (1000000, 1, 0, 1, 0)",
            },
            browser: true,
        },
        Case {
            file: "cache_infinite_time.json",
            class: 8,
            what: "a span starting at \"Infinity\" (our spelling of a non-finite number)",
            bytes: cache(&[(r#""start_ts": 1.0"#, r#""start_ts": "Infinity""#)]),
            expect: Expect::Error("row 0, item 0: `start_ts` is Infinity, not a finite number"),
            browser: true,
        },
        Case {
            file: "cache_bare_nan.json",
            class: 8,
            what: "Python's json.dump spelling NaN (not JSON)",
            bytes: cache(&[(r#""duration": 1.0"#, r#""duration": NaN"#)]),
            expect: Expect::Error("not a valid timeline cache"),
            browser: true,
        },
        Case {
            file: "cache_wrong_type.json",
            class: 8,
            what: "a lane that is a string",
            bytes: cache(&[(r#""lane": 1"#, r#""lane": "1""#)]),
            expect: Expect::Error("row 0, item 1: `lane` is a string, not a whole number"),
            browser: true,
        },
        Case {
            file: "cache_rows_object.json",
            class: 8,
            what: "rows as an object instead of a list",
            bytes: br#"{"cache_version": 1, "pt_path": "x", "generated_at": 0, "sample_count": 0, "global_start": null, "global_end": null, "rows": {"0": {}}}"#.to_vec(),
            expect: Expect::Error("`rows` is an object, not a list"),
            browser: true,
        },
    ]
}

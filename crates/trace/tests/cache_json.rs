//! A cache JSON is untrusted input (class 8 of issue #12): crafted lanes, counts, non-finite
//! or wrongly typed fields give an error naming the row, item and field, or are replaced by
//! what the row's items say, with a warning. Every `Materialized` we write reads back equal.

#![recursion_limit = "256"]
use serde_json::{json, Value as J};

fn base() -> J {
    json!({
        "cache_version": 1, "pt_path": "x.pt", "generated_at": 0.0, "sample_count": 1,
        "global_start": 1.0, "global_end": 2.0,
        "rows": [{
            "row_id": 0, "sample_index": 0, "group_index": 0, "source": null, "status": null,
            "label": null, "reward": null, "trace_id": "t", "attempt": 0,
            "start": 1.0, "end": 2.0, "duration": 1.0, "lane_count": 2, "item_count": 2,
            "closed_span_count": 1, "open_span_count": 0, "point_event_count": 1,
            "orphan_count": 0, "total_response_length": 0, "max_response_length": 0,
            "items": [
                {"type": "span", "state": "closed_span", "name": "a", "start_ts": 1.0,
                 "end_ts": 2.0, "display_end_ts": 2.0, "attempt": 0, "span_id": "a",
                 "parent_span_id": null, "parent_span_name": null, "lane": 0, "depth": 0,
                 "attrs": {"start_attrs": {}, "end_attrs": {}}},
                {"type": "event", "state": "point_event", "name": "e", "ts": 1.5,
                 "attempt": 0, "span_id": null, "parent_span_id": "a", "parent_span_name": "a",
                 "lane": 1, "depth": 1, "attrs": {}}
            ]
        }]
    })
}

fn load(v: &J) -> Result<trace::Materialized, String> {
    trace::load(
        &serde_json::to_vec(v).unwrap(),
        &trace::LoadOptions::new("c.json", 0.0),
    )
    .map(trace::Loaded::materialize)
    .map_err(|e| e.to_string())
}

fn with(f: impl FnOnce(&mut J)) -> J {
    let mut v = base();
    f(&mut v);
    v
}

#[test]
fn a_valid_cache_loads_as_it_is() {
    let b = load(&base()).unwrap();
    assert_eq!(b.cache.rows[0].items.len(), 2);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
}

#[test]
fn crafted_lanes_are_refused_before_anything_is_sized_by_them() {
    let e = load(&with(|v| {
        v["rows"][0]["items"][1]["lane"] = json!(4_294_967_294u64)
    }))
    .unwrap_err();
    assert_eq!(
        e,
        "not a valid timeline cache: row 0, item 1: `lane` is 4294967294, beyond what the \
         row's 2 items can use"
    );
    let e = load(&with(|v| v["rows"][0]["items"][0]["depth"] = json!(5))).unwrap_err();
    assert!(e.contains("row 0, item 0: `depth` is 5"), "{e}");
    let e = load(&with(|v| {
        v["rows"][0]["items"][0]["lane"] = json!(1u64 << 40)
    }))
    .unwrap_err();
    assert!(
        e.contains("row 0, item 0: `lane` is 1099511627776, more than 4294967295"),
        "{e}"
    );
}

#[test]
fn a_lane_count_that_disagrees_is_replaced_with_a_warning() {
    let b = load(&with(|v| {
        v["rows"][0]["lane_count"] = json!(4_294_967_294u64)
    }))
    .unwrap();
    assert_eq!(b.cache.rows[0].lane_count, 2);
    let w: Vec<String> = b.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec!["sample 0: lane_count says 4294967294 but its items use 2 lanes; 2 used"]
    );
    let b = load(&with(|v| v["rows"][0]["item_count"] = json!(1_000_000))).unwrap();
    assert_eq!(b.cache.rows[0].item_count, 2);
    assert!(b.warnings[0]
        .message
        .starts_with("item counts say (1000000, 1, 0, 1, 0)"));
}

#[test]
fn non_finite_and_wrongly_typed_fields_name_row_item_and_field() {
    let cases: Vec<(J, &str)> = vec![
        (
            with(|v| v["rows"][0]["items"][0]["start_ts"] = json!("Infinity")),
            "row 0, item 0: `start_ts` is Infinity, not a finite number",
        ),
        (
            with(|v| v["rows"][0]["items"][1]["ts"] = json!("NaN")),
            "row 0, item 1: `ts` is NaN, not a finite number",
        ),
        (
            with(|v| v["rows"][0]["start"] = json!("soon")),
            "row 0: `start` is a string, not a number",
        ),
        (
            with(|v| v["rows"][0]["items"][1]["lane"] = json!("x")),
            "row 0, item 1: `lane` is a string, not a whole number",
        ),
        (
            with(|v| v["rows"][0]["items"][1]["lane"] = json!(-1)),
            "row 0, item 1: `lane` is -1, not a whole number ≥ 0",
        ),
        (
            with(|v| v["rows"][0]["attempt"] = json!(1.5)),
            "row 0: `attempt` is 1.5, not a 64-bit integer",
        ),
        (
            with(|v| v["rows"][0]["duration"] = json!(-1.0)),
            "row 0: `duration` is -1, less than 0",
        ),
        (
            with(|v| {
                v["rows"][0]["items"][0]["end_ts"] = J::Null;
            }),
            "row 0, item 0: a closed span without `end_ts`",
        ),
        (
            with(|v| v["rows"][0]["items"][0]["state"] = json!("point_event")),
            "row 0, item 0: `state` \"point_event\" does not go with type \"span\"",
        ),
        (
            with(|v| {
                v["rows"][0].as_object_mut().unwrap().remove("items");
            }),
            "row 0: missing field `items`",
        ),
        (
            with(|v| v["rows"] = json!({})),
            "`rows` is an object, not a list",
        ),
        (
            with(|v| v["rows"][0] = json!(7)),
            "row 0: is a number, not an object",
        ),
    ];
    for (v, want) in cases {
        let e = load(&v).unwrap_err();
        assert_eq!(e, format!("not a valid timeline cache: {want}"));
    }
    // Python's bare NaN token is not JSON at all.
    let text = serde_json::to_string(&base())
        .unwrap()
        .replace("\"duration\":1.0", "\"duration\":NaN");
    let e = trace::load(text.as_bytes(), &trace::LoadOptions::new("c.json", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not a valid timeline cache: expected value"),
        "{e}"
    );
}

/// An infinite duration (far-apart finite times) is what we write; it reads back.
#[test]
fn our_infinite_durations_read_back() {
    let v = with(|v| {
        v["rows"][0]["start"] = json!(-1e308);
        v["rows"][0]["end"] = json!(1e308);
        v["rows"][0]["duration"] = json!("Infinity");
    });
    let b = load(&v).unwrap();
    assert!(b.cache.rows[0].duration.is_infinite());
    let text = serde_json::to_string(&b.cache).unwrap();
    assert!(text.contains("\"duration\":\"Infinity\""));
    let again = load(&serde_json::from_str(&text).unwrap()).unwrap();
    assert!(again.cache.rows[0].duration.is_infinite());
    assert_eq!(serde_json::to_string(&again.cache).unwrap(), text);
}

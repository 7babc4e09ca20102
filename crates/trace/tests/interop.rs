//! Export to OTLP/JSON and import it back: the same spans (names, times within 1 µs, parents,
//! attributes) and point events. Chrome Trace export: the format's required fields.

use std::path::PathBuf;

use serde_json::{Map, Value as J};
use trace::{Item, State};

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pt"))
        .collect();
    v.sort();
    v
}

/// Comparable facts of a row: (kind, name, start µs, end µs, parent name, start attrs, end attrs).
fn facts(row: &trace::Row) -> Vec<(String, String, i64, i64, String, J, J)> {
    let us = |t: f64| (t * 1e6).round() as i64;
    let strip = |a: &J| {
        let mut m: Map<String, J> = a.as_object().cloned().unwrap_or_default();
        m.remove("clipped_by");
        J::Object(m)
    };
    let mut v: Vec<_> = row
        .items
        .iter()
        .filter_map(|it| match it {
            Item::Span(s) if s.attrs.end_attrs.get("timeline_pd_virtual_role").is_some() => None,
            Item::Span(s) => Some((
                format!("{:?}", s.state),
                trace::json::py_str(&s.name),
                us(s.start_ts),
                us(s.display_end_ts),
                trace::json::py_str(&s.parent_span_name),
                s.attrs.start_attrs.clone(),
                strip(&s.attrs.end_attrs),
            )),
            Item::Event(p) | Item::OrphanEnd(p) => Some((
                format!("{:?}", p.state),
                trace::json::py_str(&p.name),
                us(p.ts),
                us(p.ts),
                trace::json::py_str(&p.parent_span_name),
                J::Null,
                p.attrs.clone(),
            )),
        })
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

#[test]
fn otlp_round_trip_keeps_every_span() {
    let mut compared = 0;
    for path in fixtures() {
        let built = trace::load(
            &std::fs::read(&path).unwrap(),
            &trace::LoadOptions::new("x", 0.0),
        )
        .map(trace::Loaded::materialize)
        .unwrap();
        let text = serde_json::to_string(&trace::interop::export_otlp(&built.cache)).unwrap();
        let back = trace::load(text.as_bytes(), &trace::LoadOptions::new("x", 0.0))
            .map(trace::Loaded::materialize)
            .unwrap();
        let name = path.display();
        assert_eq!(
            back.cache.rows.len(),
            built.cache.rows.len(),
            "{name}: rows"
        );
        for (a, b) in built.cache.rows.iter().zip(&back.cache.rows) {
            assert_eq!(a.sample_index, b.sample_index, "{name}");
            assert_eq!(a.status, b.status, "{name}");
            assert_eq!(a.group_index, b.group_index, "{name}");
            let (fa, fb) = (facts(a), facts(b));
            assert_eq!(fa.len(), fb.len(), "{name}: sample {}", a.sample_index);
            for (x, y) in fa.iter().zip(&fb) {
                assert_eq!(x, y, "{name}: sample {}", a.sample_index);
                compared += 1;
            }
            assert_eq!(
                a.items
                    .iter()
                    .filter(|i| i.state() == State::OpenSpan)
                    .count(),
                b.items
                    .iter()
                    .filter(|i| i.state() == State::OpenSpan)
                    .count(),
                "{name}: open spans stay open"
            );
        }
    }
    assert!(compared > 1000, "compared {compared} items");
}

#[test]
fn otlp_ids_are_hex_unique_and_pinned() {
    // Pinned derivations: exported ids must not change between versions (other tools link
    // by them), and slime's own 32-hex trace ids are kept.
    let mut row = trace::load(
        &std::fs::read(
            fixtures()
                .into_iter()
                .find(|p| p.ends_with("basic_0.pt"))
                .unwrap(),
        )
        .unwrap(),
        &trace::LoadOptions::new("x", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap()
    .cache
    .rows
    .remove(0);
    row.trace_id = J::String("rollout-0-sample-3".into());
    assert_eq!(trace::interop::otlp_trace_id(&row), PINNED_TRACE_ID);
    row.trace_id = J::String("0123456789ABCDEF0123456789abcdef".into());
    assert_eq!(
        trace::interop::otlp_trace_id(&row),
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        trace::interop::otlp_span_id("0123456789abcdef0123456789abcdef", "span-1"),
        PINNED_SPAN_ID
    );

    let path = fixtures()
        .into_iter()
        .find(|p| p.ends_with("agent_2.pt"))
        .unwrap();
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("x", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let a = trace::interop::export_otlp(&built.cache);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut checked = 0;
    for r in a["resourceSpans"].as_array().unwrap() {
        let spans = r
            .pointer("/scopeSpans/0/spans")
            .unwrap()
            .as_array()
            .unwrap();
        let ids: std::collections::HashSet<&str> = spans
            .iter()
            .map(|s| s["spanId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), spans.len(), "span ids are unique within a trace");
        for s in spans {
            assert!(hex(s["traceId"].as_str().unwrap(), 32));
            assert!(hex(s["spanId"].as_str().unwrap(), 16));
            let p = s["parentSpanId"].as_str().unwrap();
            assert!(p.is_empty() || hex(p, 16));
            let (st, en) = (
                s["startTimeUnixNano"].as_str().unwrap(),
                s["endTimeUnixNano"].as_str().unwrap(),
            );
            assert!(st.parse::<u64>().unwrap() <= en.parse::<u64>().unwrap());
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} spans");
}

const PINNED_TRACE_ID: &str = "3d9734fa37b5793c44eaecb166ffbe97";
const PINNED_SPAN_ID: &str = "7dfca928a6b9aa24";

/// slime marks failed spans with end attrs `error_type` / `error_message` (agent_2 has 16):
/// each becomes an OTLP span with STATUS_CODE_ERROR and the message, and a red Chrome event;
/// no other span does.
#[test]
fn error_spans_get_an_error_status() {
    let path = fixtures()
        .into_iter()
        .find(|p| p.ends_with("agent_2.pt"))
        .unwrap();
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("x", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let failed: usize = built
        .cache
        .rows
        .iter()
        .flat_map(|r| &r.items)
        .filter(|i| {
            matches!(i, Item::Span(s) if s.pd_virtual_role().is_none()
                && s.attrs.end_attrs.get("error_type").is_some())
        })
        .count();
    assert_eq!(failed, 16, "the fixture's failed spans");
    let otlp = trace::interop::export_otlp(&built.cache);
    let mut errors = Vec::new();
    let mut ok = 0;
    for r in otlp["resourceSpans"].as_array().unwrap() {
        for s in r
            .pointer("/scopeSpans/0/spans")
            .unwrap()
            .as_array()
            .unwrap()
        {
            match s["status"].get("code") {
                Some(c) => {
                    assert_eq!(c, 2, "{s}");
                    errors.push(s["status"]["message"].as_str().unwrap().to_string());
                }
                None => ok += 1,
            }
        }
    }
    assert_eq!(errors.len(), failed);
    assert!(ok > 0);
    assert!(
        errors
            .iter()
            .all(|m| m == "RuntimeError: sglang returned 503: server overloaded"),
        "{errors:?}"
    );
    let chrome = trace::interop::export_chrome(&built.cache);
    let red = chrome["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cname"] == "terrible")
        .count();
    assert_eq!(red, failed);
}

#[test]
fn chrome_trace_has_the_required_fields() {
    for path in fixtures() {
        let built = trace::load(
            &std::fs::read(&path).unwrap(),
            &trace::LoadOptions::new("x", 0.0),
        )
        .map(trace::Loaded::materialize)
        .unwrap();
        let v = trace::interop::export_chrome(&built.cache);
        let events = v["traceEvents"].as_array().unwrap();
        let spans: usize = built
            .cache
            .rows
            .iter()
            .map(|r| r.items.iter().filter(|i| matches!(i, Item::Span(s) if s.attrs.end_attrs.get("timeline_pd_virtual_role").is_none())).count())
            .sum();
        assert_eq!(
            events.iter().filter(|e| e["ph"] == "X").count(),
            spans,
            "{}",
            path.display()
        );
        for e in events {
            let ph = e["ph"].as_str().unwrap();
            assert!(e["name"].is_string() && e["pid"].is_u64(), "{e}");
            match ph {
                "X" => assert!(
                    e["ts"].is_i64() && e["dur"].as_i64().unwrap() >= 0 && e["tid"].is_u64()
                ),
                "i" => assert!(e["ts"].is_i64() && e["s"] == "t"),
                "M" => assert!(matches!(
                    e["name"].as_str(),
                    Some("process_name" | "thread_name")
                )),
                other => panic!("unexpected ph {other}"),
            }
        }
    }
}

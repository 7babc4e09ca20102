//! Export to OTLP/JSON and import it back: the same spans (names, times within 1 µs, parents,
//! attributes) and point events. Chrome Trace export: the format's required fields.

use std::path::PathBuf;

use serde_json::{Map, Value as J};
use trace::{Item, State};

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/slime");
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
        let built = trace::load(&std::fs::read(&path).unwrap(), "x", 0.0).unwrap();
        let text = serde_json::to_string(&trace::interop::export_otlp(&built.cache)).unwrap();
        let back =
            trace::interop::import_otlp(&serde_json::from_str(&text).unwrap(), "x", 0.0).unwrap();
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
fn otlp_ids_are_hex_and_deterministic() {
    let path = fixtures()
        .into_iter()
        .find(|p| p.ends_with("agent_2.pt"))
        .unwrap();
    let built = trace::load(&std::fs::read(path).unwrap(), "x", 0.0).unwrap();
    let a = trace::interop::export_otlp(&built.cache);
    assert_eq!(a, trace::interop::export_otlp(&built.cache));
    let spans = a
        .pointer("/resourceSpans/0/scopeSpans/0/spans")
        .unwrap()
        .as_array()
        .unwrap();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
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
    }
    // Errors become span status ERROR.
    let any_error = a["resourceSpans"].as_array().unwrap().iter().any(|r| {
        r.pointer("/scopeSpans/0/spans")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"]["code"] == 2)
    });
    let has_error_attr = built.cache.rows.iter().any(|r| {
        r.items.iter().any(|i| matches!(i, Item::Span(s) if s.attrs.end_attrs.get("error").is_some_and(trace::json::truthy)))
    });
    assert_eq!(any_error, has_error_attr);
}

#[test]
fn chrome_trace_has_the_required_fields() {
    for path in fixtures() {
        let built = trace::load(&std::fs::read(&path).unwrap(), "x", 0.0).unwrap();
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

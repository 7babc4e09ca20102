//! Chrome Trace Event Format export (what Perfetto UI and chrome://tracing open).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as J};

use crate::json::py_str;
use crate::model::{Item, State};
use crate::Cache;

use super::{error_of, merge_attrs, micros};

/// Chrome Trace Event Format (what Perfetto UI and chrome://tracing open): one process per
/// GRPO group, one thread per sample, closed and open spans as complete events (`X`; open ones
/// marked in `args`), point events and orphan ends as instant events (`i`). Times in µs.
/// Spans that failed (see [`error_of`]) carry `"cname": "terrible"`.
pub fn export_chrome(cache: &Cache) -> J {
    let mut events: Vec<J> = Vec::new();
    let mut pids: BTreeMap<String, usize> = BTreeMap::new();
    for row in &cache.rows {
        let group = py_str(&row.group_index);
        let next = pids.len() + 1;
        let pid = *pids.entry(group.clone()).or_insert_with(|| {
            events.push(json!({"name": "process_name", "ph": "M", "pid": next,
                "args": {"name": format!("group {group}")}}));
            next
        });
        let tid = row.row_id + 1;
        events.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
            "args": {"name": format!("sample {} ({})", py_str(&row.sample_index), py_str(&row.status))}}));
        for it in &row.items {
            match it {
                Item::Span(s) if s.pd_virtual_role().is_some() => {}
                Item::Span(s) => {
                    let mut args = Map::new();
                    merge_attrs(&mut args, &s.attrs.start_attrs);
                    merge_attrs(&mut args, &s.attrs.end_attrs);
                    args.insert("span_id".into(), s.span_id.clone());
                    args.insert("parent_span_id".into(), s.parent_span_id.clone());
                    args.insert("attempt".into(), J::from(s.attempt));
                    if s.state == State::OpenSpan {
                        args.insert("open".into(), J::Bool(true));
                    }
                    let ts = micros(s.start_ts);
                    let mut e = json!({"name": py_str(&s.name), "cat": "span", "ph": "X",
                        "ts": ts, "dur": micros(s.display_end_ts).saturating_sub(ts).max(0),
                        "pid": pid, "tid": tid, "args": args});
                    if error_of(&s.attrs.end_attrs).is_some() {
                        // Chrome's reserved colour for failures (chrome://tracing draws it red).
                        e["cname"] = J::String("terrible".into());
                    }
                    events.push(e);
                }
                Item::Event(p) | Item::OrphanEnd(p) => {
                    let mut args = Map::new();
                    merge_attrs(&mut args, &p.attrs);
                    args.insert("parent_span_id".into(), p.parent_span_id.clone());
                    args.insert("attempt".into(), J::from(p.attempt));
                    if p.state == State::OrphanEnd {
                        args.insert("orphan_end".into(), J::Bool(true));
                        args.insert("span_id".into(), p.span_id.clone());
                    }
                    events.push(json!({"name": py_str(&p.name),
                        "cat": if p.state == State::OrphanEnd { "orphan_end" } else { "event" },
                        "ph": "i", "s": "t", "ts": micros(p.ts), "pid": pid, "tid": tid, "args": args}));
                }
            }
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms",
        "otherData": {"source": cache.pt_path, "exporter": "rollscope"}})
}

//! Chrome Trace Event Format export (what Perfetto UI and chrome://tracing open).
//!
//! [`write_chrome`] streams it from the row store one event at a time; [`export_chrome`]
//! builds the same document as one value (kept for callers that hold a materialised
//! [`Cache`]; both go through the same per-event functions, so they cannot drift).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Map, Value as J};

use crate::json::py_str;
use crate::model::{Item, State};
use crate::{Cache, Loaded};

use super::out::{document_around, Out};
use super::{error_of, merge_attrs, micros};

/// Chrome Trace Event Format (what Perfetto UI and chrome://tracing open): one process per
/// GRPO group, one thread per sample, closed and open spans as complete events (`X`; open ones
/// marked in `args`), point events and orphan ends as instant events (`i`). Times in µs.
/// Spans that failed (see [`error_of`]) carry `"cname": "terrible"`.
pub fn export_chrome(cache: &Cache) -> J {
    let mut events: Vec<J> = Vec::new();
    let mut pids = Pids::default();
    for row in &cache.rows {
        let (pid, new) = pids.of(&row.group_index);
        events.extend(new);
        let tid = row.row_id + 1;
        events.push(thread_event(pid, tid, &row.sample_index, &row.status));
        events.extend(row.items.iter().filter_map(|it| item_event(it, pid, tid)));
    }
    let mut doc = envelope(&cache.pt_path);
    doc["traceEvents"] = J::Array(events);
    doc
}

/// [`export_chrome`] written to `out` from the row store, one event at a time: the same bytes
/// as `serde_json` writes for [`export_chrome`]'s value.
pub(super) fn write_chrome<W: Write>(c: &Loaded, out: &mut Out<W>) -> std::io::Result<()> {
    let (head, tail) = document_around(&envelope(&c.head.pt_path), "traceEvents")?;
    out.write_all(head.as_bytes())?;
    let mut pids = Pids::default();
    let mut first = true;
    let mut event = |out: &mut Out<W>, e: &J| {
        if !std::mem::take(&mut first) {
            out.write_all(b",")?;
        }
        out.json(e)
    };
    for h in &c.store.heads {
        let (pid, new) = pids.of(&h.group_index);
        if let Some(e) = new {
            event(out, &e)?;
        }
        let tid = h.row_id + 1;
        event(out, &thread_event(pid, tid, &h.sample_index, &h.status))?;
        for i in h.items() {
            if let Some(e) = item_event(&c.store.item(i), pid, tid) {
                event(out, &e)?;
            }
        }
    }
    out.write_all(tail.as_bytes())
}

/// The document without its events (`traceEvents` empty).
fn envelope(pt_path: &str) -> J {
    json!({"traceEvents": [], "displayTimeUnit": "ms",
        "otherData": {"source": pt_path, "exporter": "rollscope"}})
}

/// One process id per GRPO group, in first-seen order.
#[derive(Default)]
struct Pids(BTreeMap<String, usize>);

impl Pids {
    /// The group's pid, and its `process_name` event when the group is new.
    fn of(&mut self, group_index: &J) -> (usize, Option<J>) {
        let group = py_str(group_index);
        if let Some(&pid) = self.0.get(&group) {
            return (pid, None);
        }
        let pid = self.0.len() + 1;
        let e = json!({"name": "process_name", "ph": "M", "pid": pid,
            "args": {"name": format!("group {group}")}});
        self.0.insert(group, pid);
        (pid, Some(e))
    }
}

fn thread_event(pid: usize, tid: usize, sample_index: &J, status: &J) -> J {
    json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
        "args": {"name": format!("sample {} ({})", py_str(sample_index), py_str(status))}})
}

/// An item's event; `None` for PD virtual spans (their real spans are exported).
fn item_event(it: &Item, pid: usize, tid: usize) -> Option<J> {
    match it {
        Item::Span(s) if s.pd_virtual_role().is_some() => None,
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
            Some(e)
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
            Some(json!({"name": py_str(&p.name),
                "cat": if p.state == State::OrphanEnd { "orphan_end" } else { "event" },
                "ph": "i", "s": "t", "ts": micros(p.ts), "pid": pid, "tid": tid, "args": args}))
        }
    }
}

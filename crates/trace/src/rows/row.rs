//! 3.7: the row of a sample — its span of time, counts and response lengths from its items,
//! and the sample's own fields (index, group, source, status, label, reward, trace id).

use pt::Tree;
use serde_json::Value as J;

use super::events::attempt_of;
use super::{fields, round6, Budget, Found, Stop, ROW_OVERHEAD};
use crate::json::{to_json_counted, Output};
use crate::model::{Item, Row, State};

/// 3.7: the row around `items` (charged to the budget with the sample's fields).
pub(super) fn make_row(
    tree: &Tree,
    found: &Found<'_>,
    row_id: usize,
    items: Vec<Item>,
    budget: &mut Budget,
    warn: &mut Vec<String>,
) -> Result<Row, Stop> {
    let start = items.iter().map(Item::start).fold(f64::INFINITY, f64::min);
    let end = items
        .iter()
        .map(Item::display_end)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut total_len: i64 = 0;
    let mut max_len: i64 = 0;
    for item in &items {
        for payload in item.attr_payloads() {
            if let Some(n) = payload
                .get("response_length")
                .and_then(fields::response_length)
            {
                total_len = total_len.saturating_add(n);
                max_len = max_len.max(n);
            }
        }
    }
    let get = |k: &str| found.fields.get_str(k);
    let json_of = |k: &str, out: &mut Output| {
        get(k)
            .map(|v| to_json_counted(tree, v, out))
            .unwrap_or(J::Null)
    };
    let count = |s: State| items.iter().filter(|i| i.state() == s).count();
    let lane_count = 1 + items.iter().map(Item::lane).max().unwrap_or(0);
    let row_attempt = match attempt_of(found.trace.get_str("attempt")) {
        Ok(a) => a,
        Err(e) => {
            warn.push(format!("trace {e}; 0 used"));
            0
        }
    };
    let out = &mut budget.out;
    let sample_index = match get("index") {
        Some(v) => to_json_counted(tree, v, out),
        None => J::from(row_id),
    };
    let group_index = json_of("group_index", out);
    let source = fields::infer_source(
        tree,
        found.fields,
        get("metadata"),
        &mut budget.source_memo,
        &mut budget.out,
    );
    let out = &mut budget.out;
    let status = json_of("status", out);
    let label = json_of("label", out);
    let reward = json_of("reward", out);
    let trace_id = found
        .trace
        .get_str("trace_id")
        .map(|v| to_json_counted(tree, v, out))
        .unwrap_or(J::Null);
    budget.out.bytes += ROW_OVERHEAD as u64;
    budget.check_bytes()?;
    budget.items += items.len();
    Ok(Row {
        row_id,
        sample_index,
        group_index,
        source: fields::compact_text(source, 64),
        status: fields::compact_text(status, 64),
        label: fields::compact_text(label, 256),
        reward,
        trace_id,
        attempt: row_attempt,
        start,
        end,
        duration: round6((end - start).max(0.0)),
        lane_count,
        item_count: items.len(),
        closed_span_count: count(State::ClosedSpan),
        open_span_count: count(State::OpenSpan),
        point_event_count: count(State::PointEvent),
        orphan_count: count(State::OrphanEnd),
        total_response_length: total_len,
        max_response_length: max_len,
        items,
    })
}

//! Test fixtures shared by the metrics tests: spans and rows built by hand.

use serde_json::{Map, Value as J};

use crate::model::{Item, Row, State};

pub(super) fn span(name: &str, start: f64, end: Option<f64>, display_end: f64, lane: u32) -> Item {
    Item::Span(crate::model::SpanItem {
        state: if end.is_some() {
            State::ClosedSpan
        } else {
            State::OpenSpan
        },
        name: J::String(name.into()),
        start_ts: start,
        end_ts: end,
        display_end_ts: display_end,
        attempt: 0,
        span_id: J::Null,
        parent_span_id: J::Null,
        parent_span_name: J::Null,
        lane,
        depth: lane,
        attrs: crate::model::SpanAttrs {
            start_attrs: J::Object(Map::new()),
            end_attrs: serde_json::json!({"completion_tokens": 10}),
        },
    })
}

pub(super) fn row(items: Vec<Item>) -> Row {
    let start = items.iter().map(Item::start).fold(f64::INFINITY, f64::min);
    let end = items
        .iter()
        .map(Item::display_end)
        .fold(f64::NEG_INFINITY, f64::max);
    Row {
        row_id: 0,
        sample_index: J::from(0),
        group_index: J::from(0),
        source: J::Null,
        status: J::Null,
        label: J::Null,
        reward: J::Null,
        trace_id: J::Null,
        attempt: 0,
        start,
        end,
        duration: end - start,
        lane_count: 3,
        item_count: items.len(),
        closed_span_count: 0,
        open_span_count: 0,
        point_event_count: 0,
        orphan_count: 0,
        total_response_length: 0,
        max_response_length: 0,
        items,
    }
}

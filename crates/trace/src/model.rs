//! The timeline cache (v1) as Rust types: what `rollscope cache` writes and what slime's
//! `trace_timeline_viewer.py` reads and writes. Field order follows slime's output.

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

pub const CACHE_VERSION: u32 = 1;

/// A whole cache file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cache {
    pub cache_version: u32,
    pub pt_path: String,
    pub generated_at: f64,
    pub sample_count: usize,
    pub global_start: Option<f64>,
    pub global_end: Option<f64>,
    pub rows: Vec<Row>,
}

/// One sample's row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub row_id: usize,
    pub sample_index: J,
    pub group_index: J,
    pub source: J,
    pub status: J,
    pub label: J,
    pub reward: J,
    pub trace_id: J,
    pub attempt: i64,
    pub start: f64,
    pub end: f64,
    pub duration: f64,
    pub lane_count: u32,
    pub item_count: usize,
    pub closed_span_count: usize,
    pub open_span_count: usize,
    pub point_event_count: usize,
    pub orphan_count: usize,
    pub total_response_length: i64,
    pub max_response_length: i64,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    ClosedSpan,
    OpenSpan,
    PointEvent,
    OrphanEnd,
}

/// Something drawn in a row: a span (closed or open), a point event or an orphan end.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Item {
    #[serde(rename = "span")]
    Span(SpanItem),
    #[serde(rename = "event")]
    Event(PointItem),
    #[serde(rename = "orphan_end")]
    OrphanEnd(PointItem),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpanItem {
    pub state: State,
    pub name: J,
    pub start_ts: f64,
    pub end_ts: Option<f64>,
    /// Where the bar ends: `end_ts` when closed, the clip point (see `clipped_by` in the end
    /// attrs) when open.
    pub display_end_ts: f64,
    pub attempt: i64,
    pub span_id: J,
    pub parent_span_id: J,
    pub parent_span_name: J,
    pub lane: u32,
    pub depth: u32,
    pub attrs: SpanAttrs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpanAttrs {
    pub start_attrs: J,
    pub end_attrs: J,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointItem {
    pub state: State,
    pub name: J,
    pub ts: f64,
    pub attempt: i64,
    pub span_id: J,
    pub parent_span_id: J,
    pub parent_span_name: J,
    pub lane: u32,
    pub depth: u32,
    pub attrs: J,
}

/// The end-attrs key that marks a `[P]`/`[D]` virtual span (spec §3.5) and names its role.
pub const PD_VIRTUAL_ROLE: &str = "timeline_pd_virtual_role";

impl SpanItem {
    /// `Some("prefill" | "decode")` for a `[P]`/`[D]` virtual span made from flat `pd_*` attrs.
    pub fn pd_virtual_role(&self) -> Option<&str> {
        self.attrs.end_attrs.get(PD_VIRTUAL_ROLE)?.as_str()
    }
}

impl Item {
    pub fn lane(&self) -> u32 {
        match self {
            Item::Span(s) => s.lane,
            Item::Event(p) | Item::OrphanEnd(p) => p.lane,
        }
    }

    /// `start_ts` of a span, `ts` of a point.
    pub fn start(&self) -> f64 {
        match self {
            Item::Span(s) => s.start_ts,
            Item::Event(p) | Item::OrphanEnd(p) => p.ts,
        }
    }

    /// `display_end_ts` of a span, `ts` of a point.
    pub fn display_end(&self) -> f64 {
        match self {
            Item::Span(s) => s.display_end_ts,
            Item::Event(p) | Item::OrphanEnd(p) => p.ts,
        }
    }

    pub fn name(&self) -> &J {
        match self {
            Item::Span(s) => &s.name,
            Item::Event(p) | Item::OrphanEnd(p) => &p.name,
        }
    }

    pub fn state(&self) -> State {
        match self {
            Item::Span(s) => s.state,
            Item::Event(p) | Item::OrphanEnd(p) => p.state,
        }
    }

    pub fn attempt(&self) -> i64 {
        match self {
            Item::Span(s) => s.attempt,
            Item::Event(p) | Item::OrphanEnd(p) => p.attempt,
        }
    }

    /// The attribute dicts slime scans for `response_length`: a point's attrs (and any
    /// `start_attrs`/`end_attrs` inside them), a span's start and end attrs.
    pub fn attr_payloads(&self) -> Vec<&J> {
        match self {
            Item::Span(s) => vec![&s.attrs.start_attrs, &s.attrs.end_attrs],
            Item::Event(p) | Item::OrphanEnd(p) => {
                let mut v = vec![&p.attrs];
                v.extend(p.attrs.get("start_attrs"));
                v.extend(p.attrs.get("end_attrs"));
                v
            }
        }
    }
}

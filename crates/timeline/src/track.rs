//! A row as the page holds it: plain columns, no JSON.
//!
//! The worker owns the rows (`trace`'s store, names, attributes); the page gets, per row, only
//! what it draws and hit-tests: each item's times, name id, kind, lane and depth, as columns
//! that travel as transferable `ArrayBuffer`s. Item `i` of a [`Track`] is item `i` of the
//! worker's row, so the page asks the worker for an item's details by `(row, i)`.

use std::collections::HashMap;

use serde_json::Value as J;
use trace::{Item, Row};

/// `Track::kind`: the item's state in the low bits, and the `[P]`/`[D]` flags: `trace`'s store
/// kinds (their one home), under the names the page uses.
pub use trace::store::{
    CLOSED_SPAN as KIND_CLOSED, OPEN_SPAN as KIND_OPEN, ORPHAN_END as KIND_ORPHAN,
    PD_DECODE as KIND_PD_DECODE, PD_PREFILL as KIND_PD_PREFILL, POINT_EVENT as KIND_EVENT,
    STATE_MASK as KIND_STATE_MASK,
};

/// One row's items as columns (all the same length, in the row's item order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// `start_ts` of a span, `ts` of a point.
    pub start: Vec<f64>,
    /// `display_end_ts` of a span, `ts` of a point.
    pub end: Vec<f64>,
    /// Index into [`Names`].
    pub name: Vec<u32>,
    /// `KIND_*` state plus flags.
    pub kind: Vec<u8>,
    /// The cache's lane (slime's rule; display lanes are computed from it).
    pub lane: Vec<u32>,
    pub depth: Vec<u32>,
}

impl Track {
    pub fn len(&self) -> usize {
        self.start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// The state bits of item `i`.
    pub fn state(&self, i: usize) -> u8 {
        self.kind[i] & KIND_STATE_MASK
    }

    pub fn is_span(&self, i: usize) -> bool {
        self.state(i) <= KIND_OPEN
    }

    /// `Some(true)` for a `[P]` virtual span, `Some(false)` for `[D]`, `None` otherwise.
    pub fn pd_role(&self, i: usize) -> Option<bool> {
        let k = self.kind[i];
        if k & KIND_PD_PREFILL != 0 {
            Some(true)
        } else if k & KIND_PD_DECODE != 0 {
            Some(false)
        } else {
            None
        }
    }

    /// The columns of a `trace` row, names interned into `names`.
    pub fn from_row(row: &Row, names: &mut Names) -> Track {
        let mut t = Track::default();
        for item in &row.items {
            t.push(item, names);
        }
        t
    }

    fn push(&mut self, item: &Item, names: &mut Names) {
        let (lane, depth) = match item {
            Item::Span(s) => (s.lane, s.depth),
            Item::Event(p) | Item::OrphanEnd(p) => (p.lane, p.depth),
        };
        let kind = trace::sglang::item_kind(item);
        self.start.push(item.start());
        self.end.push(item.display_end());
        self.name.push(names.intern(item.name()));
        self.kind.push(kind);
        self.lane.push(lane);
        self.depth.push(depth);
    }
}

/// Item names as shown: a JSON string's text, any other name's JSON text. Interned, so a
/// million spans of twenty kinds hold twenty strings.
#[derive(Debug, Clone, Default)]
pub struct Names {
    texts: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    /// The id of `name`'s display text, adding it if new.
    pub fn intern(&mut self, name: &J) -> u32 {
        match name {
            J::String(s) => self.intern_text(s),
            other => self.intern_text(&other.to_string()),
        }
    }

    pub fn intern_text(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.index.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.texts.push(text.to_string());
        self.index.insert(text.to_string(), id);
        id
    }

    /// The text of `id` (empty for an id never given out).
    pub fn text(&self, id: u32) -> &str {
        self.texts.get(id as usize).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Texts from id `from` on, in id order (what a page that has the first `from` lacks).
    pub fn since(&self, from: usize) -> &[String] {
        self.texts.get(from..).unwrap_or(&[])
    }
}

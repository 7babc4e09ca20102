//! The compact row store: every row of a build as columns, built one row at a time.
//!
//! A `Row` of `serde_json` values costs ≈ 0.6–1 KB per span (boxed names, ids, attribute
//! maps); a million-span dump then takes gigabytes. Here a row is its head (the sample's own
//! fields, a few dozen bytes) and a range of items; items are columns (state, times, attempt,
//! lane, depth), names and span ids are interned (a million spans of twenty names hold twenty
//! strings), and attributes are kept as the exact JSON text the cache writes, each object's
//! keys kept once (`keys.rs`), materialised only when asked for ([`Store::row`],
//! [`Store::item`]). The cache JSON is written straight from the columns (`write.rs`), byte
//! for byte what `serde_json` writes for the same [`Cache`](crate::Cache) (tested on every
//! fixture).
//!
//! Files: `intern.rs` (interned JSON texts), `keys.rs` (attribute keys as marks), `write.rs`
//! (cache JSON out), `binary.rs` (the store as bytes and back, what a one-file report
//! embeds), `pd.rs` (the PD picture), this file.

pub mod binary;
mod intern;
pub mod keys;
mod pd;
pub mod write;

pub use intern::Interner;
pub use pd::PdIndex;

use serde_json::Value as J;

use crate::model::{Item, PointItem, Row, SpanAttrs, SpanItem, State};

/// `kind` of an item: its state …
pub const CLOSED_SPAN: u8 = 0;
pub const OPEN_SPAN: u8 = 1;
pub const POINT_EVENT: u8 = 2;
pub const ORPHAN_END: u8 = 3;
/// … (these bits) …
pub const STATE_MASK: u8 = 0b11;
/// … and whether a span is a `[P]` (prefill) or `[D]` (decode) virtual span (spec §3.5).
pub const PD_PREFILL: u8 = 1 << 4;
pub const PD_DECODE: u8 = 1 << 5;

/// A row without its items: the sample's fields and counts, and where its items are.
#[derive(Debug, Clone)]
pub struct RowHead {
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
    pub closed_span_count: usize,
    pub open_span_count: usize,
    pub point_event_count: usize,
    pub orphan_count: usize,
    pub total_response_length: i64,
    pub max_response_length: i64,
    /// This row's items are `first..first + len` of the store's columns.
    pub first: usize,
    pub len: usize,
}

impl RowHead {
    pub fn items(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.len
    }
}

/// Item columns, all of one length.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// State plus PD flags (the constants above).
    pub kind: Vec<u8>,
    /// `start_ts` of a span, `ts` of a point.
    pub start: Vec<f64>,
    /// `end_ts` of a closed span; NaN for an open span (`null`) and for points.
    pub end: Vec<f64>,
    /// `display_end_ts` of a span, `ts` of a point.
    pub display_end: Vec<f64>,
    pub attempt: Vec<i64>,
    /// Ids in [`Store::names`].
    pub name: Vec<u32>,
    pub parent_span_name: Vec<u32>,
    /// Ids in [`Store::ids`].
    pub span_id: Vec<u32>,
    pub parent_span_id: Vec<u32>,
    pub lane: Vec<u32>,
    pub depth: Vec<u32>,
    /// Item `i`'s attributes are `attrs[attr_at[i]..attr_at[i + 1]]` of the JSON arena: a
    /// point's attrs, or a span's start attrs then end attrs split at `attr_mid[i]`.
    pub attr_at: Vec<usize>,
    pub attr_mid: Vec<usize>,
}

/// Rows as heads plus item columns (see the module doc).
#[derive(Debug, Clone)]
pub struct Store {
    pub heads: Vec<RowHead>,
    pub cols: Columns,
    /// Item and parent-span names, as JSON text.
    pub names: Interner,
    /// Span ids, as JSON text.
    pub ids: Interner,
    /// Attribute JSON texts, one after another, their keys as marks (`keys.rs`).
    pub attrs: Vec<u8>,
    /// The keys the marks in `attrs` name, as JSON text.
    pub keys: Interner,
    /// The PD phases spans name and the segments of PD virtual spans (`pd.rs`).
    pub pd: PdIndex,
    /// Tells this store from every other one made in this process ([`Store::id`]).
    id: u64,
}

/// A new store's [`Store::id`].
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Store {
    fn default() -> Self {
        let mut cols = Columns::default();
        cols.attr_at.push(0);
        Store {
            heads: Vec::new(),
            cols,
            names: Interner::default(),
            ids: Interner::default(),
            attrs: Vec::new(),
            keys: Interner::default(),
            pd: PdIndex::default(),
            id: next_id(),
        }
    }
}

/// Runs `$body` with `$v` bound to each column of `$c` in turn (a macro: the columns hold
/// different types).
macro_rules! each_column {
    ($c:expr, $v:ident => $body:expr) => {{
        let c: &mut Columns = $c;
        {
            let $v = &mut c.kind;
            $body;
        }
        for $v in [&mut c.start, &mut c.end, &mut c.display_end] {
            $body;
        }
        {
            let $v = &mut c.attempt;
            $body;
        }
        for $v in [
            &mut c.name,
            &mut c.parent_span_name,
            &mut c.span_id,
            &mut c.parent_span_id,
            &mut c.lane,
            &mut c.depth,
        ] {
            $body;
        }
        for $v in [&mut c.attr_at, &mut c.attr_mid] {
            $body;
        }
    }};
}

impl Store {
    /// Room for about `items` items (and their span ids) and `attr_bytes` of attribute text, so that a large
    /// build does not copy its columns as they grow (each doubling copies what is there into
    /// memory never touched before: a tenth of a 1 M-span build's time). Room never written
    /// is only reserved address space; room the allocator refuses (an address-space limit)
    /// is simply not reserved.
    pub fn reserve(&mut self, items: usize, attr_bytes: usize) {
        each_column!(&mut self.cols, v => {
            let _ = v.try_reserve(items);
        });
        let _ = self.attrs.try_reserve(attr_bytes);
        // Span ids: about one new id per item, a uuid's hex text each.
        self.ids.reserve(items, items.saturating_mul(40));
    }

    /// Gives back room [`Store::reserve`] set aside and the rows did not use (a column less
    /// than half full): a loaded file kept in a long-lived process (Python, Ray) holds no
    /// more address space than its rows. Growth alone never leaves a column that empty.
    pub fn trim(&mut self) {
        fn trim<T>(v: &mut Vec<T>) {
            if v.capacity() / 2 > v.len() {
                v.shrink_to_fit();
            }
        }
        each_column!(&mut self.cols, v => trim(v));
        trim(&mut self.attrs);
        self.ids.trim();
        self.pd.trim();
    }

    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// Which store this is (the object, not its content): every store made or read back has
    /// its own, which its clones keep. A caller that sent rows while they were built
    /// ([`crate::Loader::with_rows_so_far`]) knows by it whether the finished file's rows are
    /// those (the build starts a new store when it starts over).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Items over all rows.
    pub fn item_count(&self) -> usize {
        self.cols.kind.len()
    }

    /// Adds a row (taking it apart: nothing of it is kept as `serde_json` values but its
    /// head fields).
    pub fn push(&mut self, row: Row) {
        let first = self.item_count();
        let len = row.items.len();
        for item in &row.items {
            self.push_item(item);
        }
        self.heads.push(RowHead {
            row_id: row.row_id,
            sample_index: row.sample_index,
            group_index: row.group_index,
            source: row.source,
            status: row.status,
            label: row.label,
            reward: row.reward,
            trace_id: row.trace_id,
            attempt: row.attempt,
            start: row.start,
            end: row.end,
            duration: row.duration,
            lane_count: row.lane_count,
            closed_span_count: row.closed_span_count,
            open_span_count: row.open_span_count,
            point_event_count: row.point_event_count,
            orphan_count: row.orphan_count,
            total_response_length: row.total_response_length,
            max_response_length: row.max_response_length,
            first,
            len,
        });
    }

    fn push_item(&mut self, item: &Item) {
        let kind = crate::sglang::item_kind(item);
        if let Item::Span(s) = item {
            let i = self.item_count();
            self.pd
                .add(i, kind, &s.name, s.start_ts, &s.attrs.end_attrs);
        }
        let c = &mut self.cols;
        c.kind.push(kind);
        // The fields every item has, then the times and attributes of its kind.
        let (name, parent_name, span_id, parent_id, attempt, lane, depth) = match item {
            Item::Span(s) => (
                &s.name,
                &s.parent_span_name,
                &s.span_id,
                &s.parent_span_id,
                s.attempt,
                s.lane,
                s.depth,
            ),
            Item::Event(p) | Item::OrphanEnd(p) => (
                &p.name,
                &p.parent_span_name,
                &p.span_id,
                &p.parent_span_id,
                p.attempt,
                p.lane,
                p.depth,
            ),
        };
        c.attempt.push(attempt);
        c.name.push(self.names.intern(name));
        c.parent_span_name.push(self.names.intern(parent_name));
        c.span_id.push(self.ids.intern(span_id));
        c.parent_span_id.push(self.ids.intern(parent_id));
        c.lane.push(lane);
        c.depth.push(depth);
        match item {
            Item::Span(s) => {
                c.start.push(s.start_ts);
                c.end.push(s.end_ts.unwrap_or(f64::NAN));
                c.display_end.push(s.display_end_ts);
                keys::push(&mut self.attrs, &mut self.keys, &s.attrs.start_attrs);
                c.attr_mid.push(self.attrs.len());
                keys::push(&mut self.attrs, &mut self.keys, &s.attrs.end_attrs);
            }
            Item::Event(p) | Item::OrphanEnd(p) => {
                c.start.push(p.ts);
                c.end.push(f64::NAN);
                c.display_end.push(p.ts);
                keys::push(&mut self.attrs, &mut self.keys, &p.attrs);
                c.attr_mid.push(self.attrs.len());
            }
        }
        c.attr_at.push(self.attrs.len());
    }

    /// The state bits of item `i` (of all rows).
    pub fn state(&self, i: usize) -> u8 {
        self.cols.kind[i] & STATE_MASK
    }

    /// Item `i`'s attribute texts as stored, keys marked: (start attrs, end attrs) of a span,
    /// (attrs, empty) of a point. [`Store::write_attrs`] gives their JSON.
    pub fn attr_text(&self, i: usize) -> (&[u8], &[u8]) {
        let c = &self.cols;
        let (a, m, b) = (c.attr_at[i], c.attr_mid[i], c.attr_at[i + 1]);
        (&self.attrs[a..m], &self.attrs[m..b])
    }

    /// Writes attribute text of [`Store::attr_text`] as JSON (see `keys.rs`).
    pub fn write_attrs<W: std::io::Write + ?Sized>(
        &self,
        text: &[u8],
        w: &mut W,
    ) -> std::io::Result<()> {
        keys::expand(text, &self.keys, w)
    }

    /// Attribute text of [`Store::attr_text`] as a value (`null` if it is no JSON).
    pub fn attr_value(&self, text: &[u8]) -> J {
        let mut json = Vec::with_capacity(text.len() * 2);
        match self.write_attrs(text, &mut json) {
            Ok(()) => serde_json::from_slice(&json).unwrap_or(J::Null),
            Err(_) => J::Null,
        }
    }

    /// Item `i` (of all rows) as the cache's `Item`.
    pub fn item(&self, i: usize) -> Item {
        let c = &self.cols;
        let parse = |t: &[u8]| self.attr_value(t);
        let (a, b) = self.attr_text(i);
        let name = self.names.value(c.name[i]);
        let span_id = self.ids.value(c.span_id[i]);
        let parent_span_id = self.ids.value(c.parent_span_id[i]);
        let parent_span_name = self.names.value(c.parent_span_name[i]);
        match self.state(i) {
            s @ (CLOSED_SPAN | OPEN_SPAN) => Item::Span(SpanItem {
                state: if s == CLOSED_SPAN {
                    State::ClosedSpan
                } else {
                    State::OpenSpan
                },
                name,
                start_ts: c.start[i],
                end_ts: (!c.end[i].is_nan()).then_some(c.end[i]),
                display_end_ts: c.display_end[i],
                attempt: c.attempt[i],
                span_id,
                parent_span_id,
                parent_span_name,
                lane: c.lane[i],
                depth: c.depth[i],
                attrs: SpanAttrs {
                    start_attrs: parse(a),
                    end_attrs: parse(b),
                },
            }),
            s => {
                let p = PointItem {
                    state: if s == POINT_EVENT {
                        State::PointEvent
                    } else {
                        State::OrphanEnd
                    },
                    name,
                    ts: c.start[i],
                    attempt: c.attempt[i],
                    span_id,
                    parent_span_id,
                    parent_span_name,
                    lane: c.lane[i],
                    depth: c.depth[i],
                    attrs: parse(a),
                };
                if s == POINT_EVENT {
                    Item::Event(p)
                } else {
                    Item::OrphanEnd(p)
                }
            }
        }
    }

    /// Row `r` as the cache's `Row` (items materialised).
    pub fn row(&self, r: usize) -> Row {
        let h = &self.heads[r];
        Row {
            row_id: h.row_id,
            sample_index: h.sample_index.clone(),
            group_index: h.group_index.clone(),
            source: h.source.clone(),
            status: h.status.clone(),
            label: h.label.clone(),
            reward: h.reward.clone(),
            trace_id: h.trace_id.clone(),
            attempt: h.attempt,
            start: h.start,
            end: h.end,
            duration: h.duration,
            lane_count: h.lane_count,
            item_count: h.len,
            closed_span_count: h.closed_span_count,
            open_span_count: h.open_span_count,
            point_event_count: h.point_event_count,
            orphan_count: h.orphan_count,
            total_response_length: h.total_response_length,
            max_response_length: h.max_response_length,
            items: h.items().map(|i| self.item(i)).collect(),
        }
    }

    /// Bytes held (columns, texts, heads), for benchmarks and budgets.
    pub fn heap_bytes(&self) -> usize {
        let c = &self.cols;
        let n = c.kind.capacity()
            + 8 * (c.start.capacity()
                + c.end.capacity()
                + c.display_end.capacity()
                + c.attempt.capacity())
            + 4 * (c.name.capacity()
                + c.parent_span_name.capacity()
                + c.span_id.capacity()
                + c.parent_span_id.capacity()
                + c.lane.capacity()
                + c.depth.capacity())
            + std::mem::size_of::<usize>() * (c.attr_at.capacity() + c.attr_mid.capacity());
        n + self.attrs.capacity()
            + self.keys.heap_bytes()
            + self.names.heap_bytes()
            + self.ids.heap_bytes()
            + self.pd.heap_bytes()
            + self.heads.capacity() * std::mem::size_of::<RowHead>()
    }
}

//! The cache JSON written straight from the store, row by row: the same bytes `serde_json`
//! writes for the materialised [`Cache`](crate::Cache) (field order of `model.rs`, numbers
//! through [`jf64`](crate::model::jf64)), without ever holding a row of `serde_json` values.

use std::io::{self, Write};

use serde::Serialize;

use super::{Store, CLOSED_SPAN, OPEN_SPAN, POINT_EVENT};
use crate::model::jf64::F;
use crate::model::sample_fields;
use crate::CacheHead;

/// Bytes of cache JSON put together before they go to the writer.
const ROW_BUFFER: usize = 256 << 10;

fn json<W: Write + ?Sized, T: Serialize + ?Sized>(w: &mut W, v: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(io::Error::other)
}

impl Store {
    /// Writes the whole cache JSON (`Cache` with `cache_version` 1).
    pub fn write_cache<W: Write + ?Sized>(&self, head: &CacheHead, w: &mut W) -> io::Result<()> {
        w.write_all(b"{\"cache_version\":")?;
        json(w, &crate::CACHE_VERSION)?;
        w.write_all(b",\"pt_path\":")?;
        json(w, &head.pt_path)?;
        w.write_all(b",\"generated_at\":")?;
        json(w, &F(head.generated_at))?;
        w.write_all(b",\"sample_count\":")?;
        json(w, &self.len())?;
        w.write_all(b",\"global_start\":")?;
        json(w, &head.global_start.map(F))?;
        w.write_all(b",\"global_end\":")?;
        json(w, &head.global_end.map(F))?;
        w.write_all(b",\"rows\":[")?;
        // Rows go through a buffer of their own: a row is dozens of small pieces per item, and
        // `w` is often a `dyn Write` (one indirect call each). Not a whole row in memory: one
        // row may hold most of a file's output (a trace shared by reference, item after item).
        let mut buf = io::BufWriter::with_capacity(ROW_BUFFER, &mut *w);
        let rows = (0..self.len()).try_for_each(|r| {
            if r > 0 {
                buf.write_all(b",")?;
            }
            self.write_row(r, &mut buf)
        });
        if let Err(e) = rows.and_then(|()| buf.flush()) {
            // Nothing more goes to a writer that failed (dropping `buf` would try again).
            let _ = buf.into_parts();
            return Err(e);
        }
        drop(buf);
        w.write_all(b"]}")
    }

    /// Writes row `r` as the cache's `Row` JSON.
    pub fn write_row<W: Write + ?Sized>(&self, r: usize, w: &mut W) -> io::Result<()> {
        let h = &self.heads[r];
        w.write_all(b"{\"row_id\":")?;
        json(w, &h.row_id)?;
        for (key, v) in sample_fields!(h) {
            write!(w, ",\"{key}\":")?;
            json(w, v)?;
        }
        w.write_all(b",\"attempt\":")?;
        json(w, &h.attempt)?;
        for (key, x) in [("start", h.start), ("end", h.end), ("duration", h.duration)] {
            write!(w, ",\"{key}\":")?;
            json(w, &F(x))?;
        }
        w.write_all(b",\"lane_count\":")?;
        json(w, &h.lane_count)?;
        for (key, n) in [
            ("item_count", h.len),
            ("closed_span_count", h.closed_span_count),
            ("open_span_count", h.open_span_count),
            ("point_event_count", h.point_event_count),
            ("orphan_count", h.orphan_count),
        ] {
            write!(w, ",\"{key}\":")?;
            json(w, &n)?;
        }
        w.write_all(b",\"total_response_length\":")?;
        json(w, &h.total_response_length)?;
        w.write_all(b",\"max_response_length\":")?;
        json(w, &h.max_response_length)?;
        w.write_all(b",\"items\":[")?;
        for (k, i) in h.items().enumerate() {
            if k > 0 {
                w.write_all(b",")?;
            }
            self.write_item(i, w)?;
        }
        w.write_all(b"]}")
    }

    /// Writes item `i` (of all rows) as the cache's `Item` JSON.
    pub fn write_item<W: Write + ?Sized>(&self, i: usize, w: &mut W) -> io::Result<()> {
        let c = &self.cols;
        let state = self.state(i);
        let (kind, state_name) = match state {
            CLOSED_SPAN => ("span", "closed_span"),
            OPEN_SPAN => ("span", "open_span"),
            POINT_EVENT => ("event", "point_event"),
            _ => ("orphan_end", "orphan_end"),
        };
        write!(
            w,
            "{{\"type\":\"{kind}\",\"state\":\"{state_name}\",\"name\":"
        )?;
        w.write_all(self.names.json(c.name[i]).as_bytes())?;
        let (a, b) = self.attr_text(i);
        if state == CLOSED_SPAN || state == OPEN_SPAN {
            w.write_all(b",\"start_ts\":")?;
            json(w, &F(c.start[i]))?;
            w.write_all(b",\"end_ts\":")?;
            json(w, &(!c.end[i].is_nan()).then_some(F(c.end[i])))?;
            w.write_all(b",\"display_end_ts\":")?;
            json(w, &F(c.display_end[i]))?;
        } else {
            w.write_all(b",\"ts\":")?;
            json(w, &F(c.start[i]))?;
        }
        w.write_all(b",\"attempt\":")?;
        json(w, &c.attempt[i])?;
        w.write_all(b",\"span_id\":")?;
        w.write_all(self.ids.json(c.span_id[i]).as_bytes())?;
        w.write_all(b",\"parent_span_id\":")?;
        w.write_all(self.ids.json(c.parent_span_id[i]).as_bytes())?;
        w.write_all(b",\"parent_span_name\":")?;
        w.write_all(self.names.json(c.parent_span_name[i]).as_bytes())?;
        w.write_all(b",\"lane\":")?;
        json(w, &c.lane[i])?;
        w.write_all(b",\"depth\":")?;
        json(w, &c.depth[i])?;
        if state == CLOSED_SPAN || state == OPEN_SPAN {
            w.write_all(b",\"attrs\":{\"start_attrs\":")?;
            self.write_attrs(a, w)?;
            w.write_all(b",\"end_attrs\":")?;
            self.write_attrs(b, w)?;
            w.write_all(b"}}")
        } else {
            w.write_all(b",\"attrs\":")?;
            self.write_attrs(a, w)?;
            w.write_all(b"}")
        }
    }
}

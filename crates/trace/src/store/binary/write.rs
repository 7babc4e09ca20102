//! The writer of the layout in the parent's doc.

use std::io::{self, Write};

use serde::Serialize;

use super::{END, MAGIC, VERSION};
use crate::metrics::Analysis;
use crate::model::jf64;
use crate::store::{Interner, RowHead};
use crate::{Loaded, Warning};

/// Writes `loaded` in the layout of the `binary` module doc.
pub fn write<W: Write + ?Sized>(loaded: &Loaded, w: &mut W) -> io::Result<()> {
    let s = &loaded.store;
    w.write_all(MAGIC)?;
    w.write_all(&VERSION.to_le_bytes())?;
    let meta = serde_json::to_vec(&MetaRef::of(loaded)).map_err(io::Error::other)?;
    u64s(w, [meta.len() as u64])?;
    w.write_all(&meta)?;
    u64s(w, [s.len() as u64, s.item_count() as u64])?;
    let mut buf = Vec::new();
    for h in &s.heads {
        buf.clear();
        write_head(h, &mut buf)?;
        w.write_all(&buf)?;
    }
    let c = &s.cols;
    w.write_all(&c.kind)?;
    for col in [&c.start, &c.end, &c.display_end] {
        column(w, col, |x| x.to_le_bytes())?;
    }
    column(w, &c.attempt, |x| x.to_le_bytes())?;
    for col in [
        &c.name,
        &c.parent_span_name,
        &c.span_id,
        &c.parent_span_id,
        &c.lane,
        &c.depth,
    ] {
        column(w, col, |x| x.to_le_bytes())?;
    }
    let n = s.item_count();
    let start_len = (0..n).map(|i| len32(c.attr_mid[i] - c.attr_at[i]));
    column(w, &start_len.collect::<io::Result<Vec<u32>>>()?, |x| {
        x.to_le_bytes()
    })?;
    let end_len = (0..n).map(|i| len32(c.attr_at[i + 1] - c.attr_mid[i]));
    column(w, &end_len.collect::<io::Result<Vec<u32>>>()?, |x| {
        x.to_le_bytes()
    })?;
    write_texts(w, &s.names)?;
    write_texts(w, &s.ids)?;
    write_texts(w, &s.keys)?;
    u64s(w, [s.attrs.len() as u64])?;
    w.write_all(&s.attrs)?;
    let pd = &s.pd;
    w.write_all(&pd.seen_bits().to_le_bytes())?;
    u64s(w, [pd.item.len() as u64])?;
    column(w, &pd.item, |x| x.to_le_bytes())?;
    column(w, &pd.t0, |x| x.to_le_bytes())?;
    column(w, &pd.t1, |x| x.to_le_bytes())?;
    w.write_all(&pd.phase)?;
    w.write_all(END)
}

/// [`Meta`] borrowing from a [`Loaded`] (the analysis is not copied to be written).
#[derive(Serialize)]
struct MetaRef<'a> {
    pt_path: &'a str,
    generated_at: jf64::F,
    global_start: Option<jf64::F>,
    global_end: Option<jf64::F>,
    warnings: &'a [Warning],
    analysis: &'a Analysis,
}

impl<'a> MetaRef<'a> {
    fn of(l: &'a Loaded) -> MetaRef<'a> {
        MetaRef {
            pt_path: &l.head.pt_path,
            generated_at: jf64::F(l.head.generated_at),
            global_start: l.head.global_start.map(jf64::F),
            global_end: l.head.global_end.map(jf64::F),
            warnings: &l.warnings,
            analysis: &l.analysis,
        }
    }
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::other(format!("a text of {n} bytes (over 4 GiB)")))
}

fn u64s<W: Write + ?Sized, const N: usize>(w: &mut W, xs: [u64; N]) -> io::Result<()> {
    xs.iter().try_for_each(|x| w.write_all(&x.to_le_bytes()))
}

/// A column through a buffer (one `write_all` per 64 KiB, not per value).
fn column<W: Write + ?Sized, T: Copy, const N: usize>(
    w: &mut W,
    col: &[T],
    le: impl Fn(T) -> [u8; N],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for chunk in col.chunks((1 << 16) / N) {
        buf.clear();
        chunk.iter().for_each(|&x| buf.extend_from_slice(&le(x)));
        w.write_all(&buf)?;
    }
    Ok(())
}

fn write_head(h: &RowHead, b: &mut Vec<u8>) -> io::Result<()> {
    b.extend_from_slice(&(h.row_id as u64).to_le_bytes());
    for v in [
        &h.sample_index,
        &h.group_index,
        &h.source,
        &h.status,
        &h.label,
        &h.reward,
        &h.trace_id,
    ] {
        let text = serde_json::to_vec(v).map_err(io::Error::other)?;
        b.extend_from_slice(&len32(text.len())?.to_le_bytes());
        b.extend_from_slice(&text);
    }
    b.extend_from_slice(&h.attempt.to_le_bytes());
    for x in [h.start, h.end, h.duration] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend_from_slice(&h.lane_count.to_le_bytes());
    for n in [
        h.len,
        h.closed_span_count,
        h.open_span_count,
        h.point_event_count,
        h.orphan_count,
    ] {
        b.extend_from_slice(&(n as u64).to_le_bytes());
    }
    b.extend_from_slice(&h.total_response_length.to_le_bytes());
    b.extend_from_slice(&h.max_response_length.to_le_bytes());
    Ok(())
}

fn write_texts<W: Write + ?Sized>(w: &mut W, t: &Interner) -> io::Result<()> {
    u64s(w, [t.len() as u64])?;
    let lens = (0..t.len() as u32).map(|id| len32(t.json(id).len()));
    column(w, &lens.collect::<io::Result<Vec<u32>>>()?, |x| {
        x.to_le_bytes()
    })?;
    let mut buf = Vec::with_capacity(1 << 16);
    for id in 0..t.len() as u32 {
        buf.extend_from_slice(t.json(id).as_bytes());
        if buf.len() >= 1 << 16 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

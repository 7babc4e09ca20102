//! A [`Loaded`] as bytes and back: the row store's own binary form, which a one-file report
//! embeds instead of JSON (a ≈1 M-span dump's rows are ≈0.5 GB of JSON; here they are the
//! store's columns as they are, which the page's worker opens without parsing a single row).
//!
//! **Layout** (version [`VERSION`], every number little-endian):
//!
//! ```text
//! MAGIC (16 bytes)  version: u32
//! meta: u64 length + JSON {pt_path, generated_at, global_start, global_end, warnings, analysis}
//! rows: u64  items: u64
//! heads, per row: row_id u64, 7 × (u32 length + JSON text) for sample_index … trace_id,
//!     attempt i64, start f64, end f64, duration f64, lane_count u32,
//!     item_count, closed, open, point events, orphan ends: 5 × u64,
//!     total_response_length i64, max_response_length i64
//! columns, each `items` long: kind u8, start f64, end f64, display_end f64, attempt i64,
//!     name, parent_span_name, span_id, parent_span_id, lane, depth: u32,
//!     start-attrs length u32, end-attrs length u32
//! names, then ids: count u64, `count` × u32 length, the texts one after another
//! attrs: u64 length, the attribute JSON texts one after another
//! END (4 bytes), and nothing after it
//! ```
//!
//! Columns, not records, because a column of one kind of number compresses well (the report
//! gzips this). Rows are contiguous and in order, so a head need not say where its items are.
//!
//! **It is input.** A report is a file anyone can hand over, so [`read`] trusts nothing: every
//! length is checked against the bytes left before anything is allocated (the store costs at
//! most a small multiple of its bytes), and every value against what a build can make: counts
//! under [`crate::MAX_SAMPLES`] and [`crate::MAX_FILE_ITEMS`], ids inside their tables,
//! lanes and depths below the row's item count, times finite, every text valid JSON (the
//! store writes attribute and id texts into exports verbatim), the counts of a head equal to
//! its items'. Errors name the part and the row or item.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use super::{Columns, Interner, RowHead, Store, OPEN_SPAN, PD_DECODE, PD_PREFILL, STATE_MASK};
use super::{CLOSED_SPAN, ORPHAN_END, POINT_EVENT};
use crate::metrics::Analysis;
use crate::model::jf64;
use crate::{CacheHead, Error, Loaded, Warning};

/// The first bytes of a store: what [`crate::sniff`] recognises.
pub const MAGIC: &[u8; 16] = b"rollscope-store\n";
/// The layout's version; any other is refused.
pub const VERSION: u32 = 1;
const END: &[u8; 4] = b"end\n";

/// The JSON part: the cache header, warnings and analysis (small, and already serde types).
#[derive(Serialize, Deserialize)]
struct Meta {
    pt_path: String,
    #[serde(with = "jf64")]
    generated_at: f64,
    #[serde(with = "jf64::opt")]
    global_start: Option<f64>,
    #[serde(with = "jf64::opt")]
    global_end: Option<f64>,
    warnings: Vec<Warning>,
    analysis: Analysis,
}

/// Writes `loaded` in the layout of the module doc.
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
    u64s(w, [s.attrs.len() as u64])?;
    w.write_all(&s.attrs)?;
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

/// Reads a store written by [`write`], checking everything (see the module doc).
pub fn read(bytes: &[u8]) -> Result<Loaded, Error> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len(), "the start")? != MAGIC {
        return Err(r.bad("the start is not a rollscope row store's"));
    }
    let version = r.u32("the version")?;
    if version != VERSION {
        return Err(Error::BadStore(format!(
            "layout version {version}, this reader knows {VERSION}"
        )));
    }
    let meta_len = r.len(1, "the header")?;
    // Through a `Value`, as a cache JSON is read: the analysis and warnings then deserialise
    // with the code the JSON path already has (straight from the bytes, the worker's wasm
    // carries a second copy of every analysis type's deserialiser).
    let meta: Meta = serde_json::from_slice::<J>(r.take(meta_len, "the header")?)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadStore(format!("the header: {e}")))?;
    if meta.warnings.len() > crate::MAX_WARNINGS + 1 {
        return Err(Error::BadStore(format!(
            "{} warnings, more than the {} a build keeps",
            meta.warnings.len(),
            crate::MAX_WARNINGS + 1
        )));
    }
    let rows = r.count("rows", crate::MAX_SAMPLES)?;
    let items = r.count("items", crate::MAX_FILE_ITEMS)?;
    let mut heads = Vec::with_capacity(rows.min(r.left() / HEAD_MIN));
    let mut first = 0usize;
    for row in 0..rows {
        let mut h = r.head(row)?;
        // Rows are contiguous and in order (checked against the columns in `check`).
        h.first = first;
        first = first.saturating_add(h.len);
        heads.push(h);
    }
    let cols = r.columns(items)?;
    let names = r.texts("names", items)?;
    let ids = r.texts("span ids", items)?;
    let attrs_len = r.len(1, "the attributes")?;
    let attrs = r.take(attrs_len, "the attributes")?.to_vec();
    if r.take(END.len(), "the end mark")? != END || r.left() != 0 {
        return Err(r.bad("the end mark is missing or followed by more bytes"));
    }
    let store = Store {
        heads,
        cols,
        names,
        ids,
        attrs,
    };
    check(&store)?;
    check_output(&store, bytes.len())?;
    Ok(Loaded {
        head: CacheHead {
            pt_path: meta.pt_path,
            generated_at: meta.generated_at,
            global_start: meta.global_start,
            global_end: meta.global_end,
        },
        store,
        warnings: meta.warnings,
        analysis: meta.analysis,
    })
}

/// The fewest bytes a head takes (seven empty texts), so that a claimed row count allocates
/// no more heads than the bytes left could hold.
const HEAD_MIN: usize = 8 + 7 * 4 + 8 + 24 + 4 + 40 + 16;

/// A cursor over the bytes; every read checks what is left first.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn bad(&self, what: &str) -> Error {
        Error::BadStore(format!("{what} (byte {})", self.at))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        if n > self.left() {
            return Err(self.bad(&format!(
                "{what}: {n} bytes needed, {} left (the file is cut short)",
                self.left()
            )));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Error> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, Error> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, Error> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn f64(&mut self, what: &str) -> Result<f64, Error> {
        self.array(what).map(f64::from_le_bytes)
    }

    fn i64(&mut self, what: &str) -> Result<i64, Error> {
        self.array(what).map(i64::from_le_bytes)
    }

    /// A length of things of `unit` bytes each, which must fit in the bytes left.
    fn len(&mut self, unit: usize, what: &str) -> Result<usize, Error> {
        let n = self.u64(what)?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(unit) <= self.left() => Ok(n),
            _ => Err(self.bad(&format!(
                "{what}: a length of {n} runs past the end of the file ({} bytes left)",
                self.left()
            ))),
        }
    }

    /// A count under `max`.
    fn count(&mut self, what: &str, max: usize) -> Result<usize, Error> {
        let n = self.u64(what)?;
        match usize::try_from(n) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(self.bad(&format!("{n} {what}, more than the limit of {max}"))),
        }
    }

    fn json(&mut self, what: &str) -> Result<J, Error> {
        let n = self.u32(what)? as usize;
        let text = self.take(n, what)?;
        serde_json::from_slice(text).map_err(|e| self.bad(&format!("{what}: {e}")))
    }

    fn head(&mut self, row: usize) -> Result<RowHead, Error> {
        let at = format!("row {row}");
        let row_id = self.u64(&at)?;
        let mut v = [
            J::Null,
            J::Null,
            J::Null,
            J::Null,
            J::Null,
            J::Null,
            J::Null,
        ];
        for (x, name) in v.iter_mut().zip([
            "sample_index",
            "group_index",
            "source",
            "status",
            "label",
            "reward",
            "trace_id",
        ]) {
            *x = self.json(&format!("{at}, {name}"))?;
        }
        let [sample_index, group_index, source, status, label, reward, trace_id] = v;
        let attempt = self.i64(&at)?;
        let (start, end, duration) = (self.f64(&at)?, self.f64(&at)?, self.f64(&at)?);
        let times_ok = start.is_finite() && end.is_finite() && duration >= 0.0;
        if !times_ok {
            return Err(self.bad(&format!(
                "{at}: start {start}, end {end}, duration {duration} (times must be finite)"
            )));
        }
        let lane_count = self.u32(&at)?;
        let mut n = [0usize; 5];
        for x in &mut n {
            *x = usize::try_from(self.u64(&at)?).unwrap_or(usize::MAX);
        }
        Ok(RowHead {
            row_id: usize::try_from(row_id).map_err(|_| self.bad(&format!("{at}: row_id")))?,
            sample_index,
            group_index,
            source,
            status,
            label,
            reward,
            trace_id,
            attempt,
            start,
            end,
            duration,
            lane_count,
            len: n[0],
            closed_span_count: n[1],
            open_span_count: n[2],
            point_event_count: n[3],
            orphan_count: n[4],
            total_response_length: self.i64(&at)?,
            max_response_length: self.i64(&at)?,
            first: 0,
        })
    }

    /// A column of `n` values of `N` bytes.
    fn column<T, const N: usize>(
        &mut self,
        n: usize,
        what: &str,
        le: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, Error> {
        let bytes = self.take(n.saturating_mul(N), &format!("the {what} column"))?;
        Ok(bytes
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0; N];
                a.copy_from_slice(c);
                le(a)
            })
            .collect())
    }

    fn columns(&mut self, n: usize) -> Result<Columns, Error> {
        let kind = self.take(n, "the kind column")?.to_vec();
        let mut c = Columns {
            kind,
            start: self.column(n, "start", f64::from_le_bytes)?,
            end: self.column(n, "end", f64::from_le_bytes)?,
            display_end: self.column(n, "display end", f64::from_le_bytes)?,
            attempt: self.column(n, "attempt", i64::from_le_bytes)?,
            name: self.column(n, "name", u32::from_le_bytes)?,
            parent_span_name: self.column(n, "parent span name", u32::from_le_bytes)?,
            span_id: self.column(n, "span id", u32::from_le_bytes)?,
            parent_span_id: self.column(n, "parent span id", u32::from_le_bytes)?,
            lane: self.column(n, "lane", u32::from_le_bytes)?,
            depth: self.column(n, "depth", u32::from_le_bytes)?,
            attr_at: Vec::with_capacity(n + 1),
            attr_mid: Vec::with_capacity(n),
        };
        let start_len: Vec<u32> = self.column(n, "start attrs length", u32::from_le_bytes)?;
        let end_len: Vec<u32> = self.column(n, "end attrs length", u32::from_le_bytes)?;
        let mut at = 0usize;
        c.attr_at.push(0);
        for (a, b) in start_len.into_iter().zip(end_len) {
            at = at.saturating_add(a as usize);
            c.attr_mid.push(at);
            at = at.saturating_add(b as usize);
            c.attr_at.push(at);
        }
        Ok(c)
    }

    /// An interned table of JSON texts: at most `2 × items` (each item names two).
    fn texts(&mut self, what: &str, items: usize) -> Result<Interner, Error> {
        let n = self.count(what, items.saturating_mul(2))?;
        let lens: Vec<u32> = self.column(n, what, u32::from_le_bytes)?;
        let mut t = Interner::default();
        for (id, len) in lens.into_iter().enumerate() {
            let bytes = self.take(len as usize, what)?;
            let text = std::str::from_utf8(bytes)
                .ok()
                .filter(|s| is_json(s.as_bytes()))
                .ok_or_else(|| self.bad(&format!("{what}: text {id} is not JSON")))?;
            if t.intern_text(text) as usize != id {
                return Err(self.bad(&format!("{what}: text {id} is there twice")));
            }
        }
        Ok(t)
    }
}

/// Checks that the store is one a build could have made (see the module doc).
fn check(s: &Store) -> Result<(), Error> {
    let bad = |what: String| Error::BadStore(what);
    let c = &s.cols;
    if c.attr_at.last().copied() != Some(s.attrs.len()) {
        return Err(bad(format!(
            "the attribute lengths add up to {}, but the attributes are {} bytes",
            c.attr_at.last().copied().unwrap_or(0),
            s.attrs.len()
        )));
    }
    // Each text is checked as JSON below; JSON never starts or ends inside a character, so
    // this makes every text UTF-8 (`Store::attr_text`).
    if let Err(e) = std::str::from_utf8(&s.attrs) {
        return Err(bad(format!("the attributes are not UTF-8: {e}")));
    }
    for (r, h) in s.heads.iter().enumerate() {
        let (first, end) = (h.first, h.first.saturating_add(h.len));
        if end > s.item_count() {
            return Err(bad(format!(
                "row {r}: {} items, past the {} of the file",
                h.len,
                s.item_count()
            )));
        }
        let mut counts = [0usize; 4];
        for i in first..end {
            check_item(s, i, h, &mut counts)
                .map_err(|e| bad(format!("row {r}, item {}: {e}", i - first)))?;
        }
        let claimed = [
            h.closed_span_count,
            h.open_span_count,
            h.point_event_count,
            h.orphan_count,
        ];
        if claimed != counts {
            return Err(bad(format!(
                "row {r}: its counts say {claimed:?} but its items give {counts:?}"
            )));
        }
        // As the row builder (and the page) allow: a span that is its own parent sits one
        // lane below its ancestors, so a lane can equal the item count, never pass it.
        if h.lane_count as usize > h.len.saturating_add(1) {
            return Err(bad(format!(
                "row {r}: {} lanes for {} items",
                h.lane_count, h.len
            )));
        }
    }
    let held = s.heads.last().map_or(0, |h| h.first.saturating_add(h.len));
    if held != s.item_count() {
        return Err(bad(format!(
            "the rows hold {held} items, the columns {}",
            s.item_count()
        )));
    }
    Ok(())
}

/// The rows' JSON (cache, exports) is bounded by the store's size as a dump's is by its
/// (`BuildLimits::for_input`): interned names and ids are written once per item that names
/// them, so a long name named by every item would otherwise give terabytes. Counted from
/// below (texts only), so a store a build made always passes.
fn check_output(s: &Store, input_len: usize) -> Result<(), Error> {
    let limit = crate::BuildLimits::for_input(input_len as u64).max_output_bytes;
    let c = &s.cols;
    let mut n = s.attrs.len() as u64;
    for i in 0..s.item_count() {
        for (t, id) in [
            (&s.names, c.name[i]),
            (&s.names, c.parent_span_name[i]),
            (&s.ids, c.span_id[i]),
            (&s.ids, c.parent_span_id[i]),
        ] {
            n = n.saturating_add(t.json(id).len() as u64);
        }
        if n > limit {
            return Err(Error::BadStore(format!(
                "item {i}: the rows would be more than {limit} bytes of JSON, the most a file \
                 of {input_len} bytes may give"
            )));
        }
    }
    Ok(())
}

/// Item `i` (of row head `h`): counted by state into `counts`.
fn check_item(s: &Store, i: usize, h: &RowHead, counts: &mut [usize; 4]) -> Result<(), String> {
    let c = &s.cols;
    let kind = c.kind[i];
    if kind & !(STATE_MASK | PD_PREFILL | PD_DECODE) != 0 {
        return Err(format!("kind {kind:#x} has unknown bits"));
    }
    let state = kind & STATE_MASK;
    counts[state as usize] += 1;
    let span = state == CLOSED_SPAN || state == OPEN_SPAN;
    let (start, end, shown) = (c.start[i], c.end[i], c.display_end[i]);
    let end_ok = match state {
        CLOSED_SPAN => end.is_finite(),
        _ => end.is_nan(),
    };
    if !(start.is_finite() && shown.is_finite() && end_ok) {
        return Err(format!(
            "times {start}, {end}, {shown} (finite, and no end unless a closed span)"
        ));
    }
    let names = s.names.len() as u32;
    let ids = s.ids.len() as u32;
    if c.name[i] >= names || c.parent_span_name[i] >= names {
        return Err(format!("a name id past the {names} names"));
    }
    if c.span_id[i] >= ids || c.parent_span_id[i] >= ids {
        return Err(format!("a span id past the {ids} ids"));
    }
    // As for a cache JSON: a row of n items uses at most n lanes (see `cache_json.rs`).
    let (lane, depth) = (c.lane[i], c.depth[i]);
    if lane >= h.lane_count || depth as usize > h.len {
        return Err(format!(
            "lane {lane} or depth {depth} beyond the row's {} lanes and {} items",
            h.lane_count, h.len
        ));
    }
    let (a, m, b) = (c.attr_at[i], c.attr_mid[i], c.attr_at[i + 1]);
    let json = |r: std::ops::Range<usize>| s.attrs.get(r).is_some_and(is_json);
    let attrs_ok = json(a..m) && if span { json(m..b) } else { m == b };
    if !attrs_ok {
        let which = if state == ORPHAN_END || state == POINT_EVENT {
            "attrs"
        } else {
            "start or end attrs"
        };
        return Err(format!("its {which} are not JSON"));
    }
    Ok(())
}

/// Whether `text` is one JSON value (checked, not kept). One reader for the attribute and
/// id texts, so the wasm has one copy of it.
fn is_json(text: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
}

//! The reader: the layout walked with every length checked against the bytes left before
//! anything is allocated; what the values mean is checked after, by `check`.

use serde_json::Value as J;

use super::check::{check, check_output, is_json};
use super::{Meta, END, MAGIC, VERSION};
use crate::store::{Columns, Interner, PdIndex, RowHead, Store};
use crate::{CacheHead, Error, Loaded};

/// Reads a store written by [`super::write`], checking everything (see the `binary` module doc).
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
    // Each item names two of each.
    let names = r.texts("names", items.saturating_mul(2))?;
    let ids = r.texts("span ids", items.saturating_mul(2))?;
    let keys = r.texts("attribute keys", crate::store::keys::MAX_KEYS)?;
    let attrs_len = r.len(1, "the attributes")?;
    let attrs = r.take(attrs_len, "the attributes")?.to_vec();
    let pd = r.pd(items)?;
    if r.take(END.len(), "the end mark")? != END || r.left() != 0 {
        return Err(r.bad("the end mark is missing or followed by more bytes"));
    }
    let store = Store {
        heads,
        cols,
        names,
        ids,
        attrs,
        keys,
        pd,
        id: crate::store::next_id(),
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
        for (x, name) in v.iter_mut().zip(crate::model::SAMPLE_FIELD_KEYS) {
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

    /// The PD index of a store of `items` items (see `store/pd.rs`).
    fn pd(&mut self, items: usize) -> Result<PdIndex, Error> {
        let seen = u16::from_le_bytes(self.array("the PD phases seen")?);
        let n = self.len(8 + 8 + 4 + 1, "the PD segments")?;
        let item = self.column(n, "PD segment item", u32::from_le_bytes)?;
        let t0 = self.column(n, "PD segment start", f64::from_le_bytes)?;
        let t1 = self.column(n, "PD segment end", f64::from_le_bytes)?;
        let phase = self.take(n, "the PD segment phase column")?.to_vec();
        PdIndex::from_parts(seen, item, t0, t1, phase, items).map_err(Error::BadStore)
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

    /// An interned table of at most `max` JSON texts.
    fn texts(&mut self, what: &str, max: usize) -> Result<Interner, Error> {
        let n = self.count(what, max)?;
        let lens: Vec<u32> = self.column(n, what, u32::from_le_bytes)?;
        let mut t = Interner::default();
        // Room for them all at once (a million span ids: no regrowth, no rehashing), never
        // more than the bytes left could hold.
        let bytes = lens.iter().map(|&l| l as usize).sum::<usize>();
        t.reserve(n, bytes.min(self.left()));
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

//! The checks of a store just read: that it is one a build could have made (ids inside their
//! tables, times, lanes, counts, JSON texts) and that the rows' JSON it gives stays bounded.

use crate::store::{keys, CLOSED_SPAN, ORPHAN_END, POINT_EVENT};
use crate::store::{RowHead, Store, OPEN_SPAN, PD_DECODE, PD_PREFILL, STATE_MASK};
use crate::Error;

/// Checks that the store is one a build could have made (see the module doc).
pub(super) fn check(s: &Store) -> Result<(), Error> {
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
    // this makes every text UTF-8.
    if let Err(e) = std::str::from_utf8(&s.attrs) {
        return Err(bad(format!("the attributes are not UTF-8: {e}")));
    }
    // What a build marks: JSON strings, short (which bounds what the attributes expand to).
    for k in 0..s.keys.len() as u32 {
        let key = s.keys.json(k);
        if !key.starts_with('"') || key.len() > keys::MAX_KEY_TEXT {
            return Err(bad(format!(
                "attribute key {k} is not a JSON string of at most {} bytes",
                keys::MAX_KEY_TEXT
            )));
        }
    }
    // Each attribute text expanded, in turn; `marks` says which keys it named (see
    // `check_item`).
    let mut text = Vec::new();
    let mut marks = Marks {
        text_of: vec![0; s.keys.len()],
        text: 0,
    };
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
            check_item(s, i, h, &mut counts, &mut text, &mut marks)
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
        // The builder gives a row exactly the lanes its items use (one for an empty row).
        let top = c.lane[first..end].iter().copied().max().unwrap_or(0);
        if h.lane_count != top.saturating_add(1) {
            return Err(bad(format!(
                "row {r}: {} lanes, but its highest lane is {top}",
                h.lane_count
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
pub(super) fn check_output(s: &Store, input_len: usize) -> Result<(), Error> {
    let limit = crate::BuildLimits::for_input(input_len as u64).max_output_bytes;
    let c = &s.cols;
    let mut n = keys::expanded_len(&s.attrs, &s.keys);
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
fn check_item(
    s: &Store,
    i: usize,
    h: &RowHead,
    counts: &mut [usize; 4],
    text: &mut Vec<u8>,
    marks: &mut Marks,
) -> Result<(), String> {
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
    let (start, end) = (s.attrs.get(a..m), s.attrs.get(m..b));
    // A build marks the keys of one object, each once: a text naming a key twice is refused
    // before it is expanded (repeated, one mark would expand three bytes to 129, in one text).
    if !start.is_some_and(|t| marks.once_each(t)) || !end.is_some_and(|t| marks.once_each(t)) {
        let which = if span { "start or end attrs" } else { "attrs" };
        return Err(format!("its {which} repeat a key mark"));
    }
    let mut json = |t: Option<&[u8]>| {
        text.clear();
        t.is_some_and(|t| s.write_attrs(t, text).is_ok() && is_json(text))
    };
    let attrs_ok = json(start) && if span { json(end) } else { m == b };
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

/// Which keys the attribute text being checked has named: key `k` when `text_of[k]` is its
/// number (one stamp per text, so nothing is cleared between texts).
struct Marks {
    text_of: Vec<u32>,
    text: u32,
}

impl Marks {
    /// Whether `t` names no key twice (marks cut short or naming no key are left to
    /// `keys::expand`, which refuses them).
    fn once_each(&mut self, t: &[u8]) -> bool {
        self.text = self.text.wrapping_add(1);
        if self.text == 0 {
            self.text_of.fill(0);
            self.text = 1;
        }
        let mut rest = t;
        while let Some(at) = memchr::memchr(keys::MARK, rest) {
            if let Some(key) = keys::mark_id(&rest[at..]) {
                if let Some(seen) = self.text_of.get_mut(key as usize) {
                    if *seen == self.text {
                        return false;
                    }
                    *seen = self.text;
                }
            }
            rest = &rest[(at + 3).min(rest.len())..];
        }
        true
    }
}

/// Whether `text` is one JSON value (checked, not kept). One reader for the attribute and
/// id texts, so the wasm has one copy of it.
pub(super) fn is_json(text: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
}

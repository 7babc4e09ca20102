//! The store's PD picture, kept as spans are stored: which PD phases any span names (by its
//! name or a `pd_*` end attribute: the legend's), and the phase segments of every `[P]`/`[D]`
//! virtual span (what the timeline draws inside them). Read from a span's values while it is
//! stored (a few keys each), so that nothing reads a million spans' attribute text again
//! afterwards; a store read back from bytes ([`super::binary`]) is indexed from its text.

use std::ops::Range;

use serde_json::Value as J;

use crate::sglang::{pd_phase_index, pd_segments_from, PD_PHASES};

use super::{Store, OPEN_SPAN, PD_DECODE, PD_PREFILL, STATE_MASK};

/// See the module doc. Segment `k` belongs to item `item[k]` (of all rows; non-decreasing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdIndex {
    /// Bit `p`: phase `p` of [`PD_PHASES`] is named by some span.
    seen: u16,
    pub item: Vec<u32>,
    pub t0: Vec<f64>,
    pub t1: Vec<f64>,
    /// Index into [`PD_PHASES`].
    pub phase: Vec<u8>,
}

impl PdIndex {
    /// Item `i` (of kind `kind`, named `name`, starting at `start`) with end attributes
    /// `end_attrs`, if it is a span.
    pub(super) fn add(&mut self, i: usize, kind: u8, name: &J, start: f64, end_attrs: &J) {
        if kind & STATE_MASK > OPEN_SPAN {
            return;
        }
        if let Some(p) = name.as_str().and_then(pd_phase_index) {
            self.seen |= 1 << p;
        }
        let Some(attrs) = end_attrs.as_object() else {
            return;
        };
        for k in attrs.keys().filter(|k| k.starts_with("pd_")) {
            if let Some(p) = pd_phase_index(k) {
                self.seen |= 1 << p;
            }
        }
        if kind & (PD_PREFILL | PD_DECODE) != 0 {
            let Ok(at) = u32::try_from(i) else {
                return;
            };
            for (t0, t1, p) in pd_segments_from(start, |a| attrs.get(a).and_then(J::as_f64)) {
                self.item.push(at);
                self.t0.push(t0);
                self.t1.push(t1);
                self.phase.push(p);
            }
        }
    }

    /// The index of a store read back from bytes: from its names and attribute text.
    pub fn of(store: &Store) -> PdIndex {
        let mut pd = PdIndex::default();
        let c = &store.cols;
        for i in 0..store.item_count() {
            if c.kind[i] & STATE_MASK > OPEN_SPAN {
                continue;
            }
            let end = serde_json::from_str::<J>(store.attr_text(i).1).unwrap_or(J::Null);
            pd.add(
                i,
                c.kind[i],
                &store.names.value(c.name[i]),
                c.start[i],
                &end,
            );
        }
        pd
    }

    /// The phases some span names, as indices into [`PD_PHASES`], in that order.
    pub fn phases_seen(&self) -> Vec<usize> {
        (0..PD_PHASES.len())
            .filter(|p| self.seen & (1 << p) != 0)
            .collect()
    }

    /// The positions of the segments of items `items` (by binary search).
    pub fn segments_of(&self, items: Range<usize>) -> Range<usize> {
        let lo = self.item.partition_point(|&x| (x as usize) < items.start);
        let hi = self.item.partition_point(|&x| (x as usize) < items.end);
        lo..hi.max(lo)
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.item.capacity() * 4
            + (self.t0.capacity() + self.t1.capacity()) * 8
            + self.phase.capacity()
    }

    pub(super) fn trim(&mut self) {
        self.item.shrink_to_fit();
        self.t0.shrink_to_fit();
        self.t1.shrink_to_fit();
        self.phase.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the store keeps while rows are pushed is what its text gives (the path of a
    /// store read back from bytes), on every PD fixture.
    #[test]
    fn kept_while_pushing_equals_read_from_text() {
        let mut segments = 0;
        for name in ["pdflat_5.pt", "pd_1.pt", "basic_0.pt", "agent_2.pt"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/slime")
                .join(name);
            let bytes = std::fs::read(path).expect("fixture");
            let store = crate::load(&bytes, &crate::LoadOptions::new(name, 0.0))
                .expect("loads")
                .store;
            assert_eq!(store.pd, PdIndex::of(&store), "{name}");
            segments += store.pd.item.len();
            if name.starts_with("pd") {
                assert!(!store.pd.phases_seen().is_empty(), "{name}");
            }
        }
        assert!(segments >= 5, "only {segments} segments");
    }

    #[test]
    fn segments_of_a_range_of_items() {
        let pd = PdIndex {
            item: vec![2, 2, 5, 9],
            t0: vec![0.0; 4],
            t1: vec![0.0; 4],
            phase: vec![0; 4],
            ..Default::default()
        };
        assert_eq!(pd.segments_of(0..2), 0..0);
        assert_eq!(pd.segments_of(0..3), 0..2);
        assert_eq!(pd.segments_of(3..9), 2..3);
        assert_eq!(pd.segments_of(9..10), 3..4);
        assert_eq!(pd.segments_of(10..20), 4..4);
        let (hi, lo) = (5, 3);
        assert_eq!(pd.segments_of(hi..lo), 2..2);
    }
}

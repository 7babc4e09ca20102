//! The store's PD picture, kept as spans are stored: which PD phases any span names (by its
//! name or a `pd_*` end attribute: the legend's), and the phase segments of every `[P]`/`[D]`
//! virtual span (what the timeline draws inside them). Read from a span's values while it is
//! stored (a few keys each), so that nothing reads a million spans' attribute text again
//! afterwards; a store's bytes ([`super::binary`]) carry it.

use std::ops::Range;

use serde_json::Value as J;

use crate::sglang::{pd_phase_index, pd_segments_from, PD_PHASES};

#[cfg(test)]
use super::Store;
use super::{OPEN_SPAN, PD_DECODE, PD_PREFILL, STATE_MASK};

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

    /// The index from a store's names and attribute text (what the values pushed give).
    #[cfg(test)]
    fn of(store: &Store) -> PdIndex {
        let mut pd = PdIndex::default();
        let c = &store.cols;
        for i in 0..store.item_count() {
            if c.kind[i] & STATE_MASK > OPEN_SPAN {
                continue;
            }
            let end = store.attr_value(store.attr_text(i).1);
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

    /// Which phases some span names, one bit each (what a store's bytes keep).
    pub fn seen_bits(&self) -> u16 {
        self.seen
    }

    /// The index of a store of `items` items as its bytes give it (hostile input): checked
    /// as a build makes it, never trusted.
    pub fn from_parts(
        seen: u16,
        item: Vec<u32>,
        t0: Vec<f64>,
        t1: Vec<f64>,
        phase: Vec<u8>,
        items: usize,
    ) -> Result<PdIndex, String> {
        if seen >> PD_PHASES.len() != 0 {
            return Err(format!(
                "PD phases seen: bits {seen:#x} past the {} phases",
                PD_PHASES.len()
            ));
        }
        let n = item.len();
        if t0.len() != n || t1.len() != n || phase.len() != n {
            return Err("PD segment columns of unequal lengths".into());
        }
        for k in 0..n {
            if item[k] as usize >= items || (k > 0 && item[k] < item[k - 1]) {
                return Err(format!(
                    "PD segment {k}: item {} out of order or past the {items} items",
                    item[k]
                ));
            }
            if phase[k] as usize >= PD_PHASES.len() || !t0[k].is_finite() || !t1[k].is_finite() {
                return Err(format!(
                    "PD segment {k}: phase {} or its times are not a build's",
                    phase[k]
                ));
            }
        }
        Ok(PdIndex {
            seen,
            item,
            t0,
            t1,
            phase,
        })
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

    /// What the store keeps while rows are pushed is what its text gives, and what its
    /// bytes give back, on every PD fixture.
    #[test]
    fn kept_while_pushing_equals_read_from_text() {
        let mut segments = 0;
        for name in ["pdflat_5.pt", "pd_1.pt", "basic_0.pt", "agent_2.pt"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/slime")
                .join(name);
            let bytes = std::fs::read(path).expect("fixture");
            let loaded = crate::load(&bytes, &crate::LoadOptions::new(name, 0.0)).expect("loads");
            let mut written = Vec::new();
            crate::store::binary::write(&loaded, &mut written).expect("writes");
            let back = crate::store::binary::read(&written)
                .expect("reads back")
                .store;
            let store = loaded.store;
            assert_eq!(store.pd, PdIndex::of(&store), "{name}");
            assert_eq!(back.pd, store.pd, "{name}");
            segments += store.pd.item.len();
            if name.starts_with("pd") {
                assert!(!store.pd.phases_seen().is_empty(), "{name}");
            }
        }
        assert!(segments >= 5, "only {segments} segments");
    }

    #[test]
    fn parts_from_bytes_are_checked() {
        let ok = |item: Vec<u32>, phase: u8, t: f64| {
            let n = item.len();
            PdIndex::from_parts(1, item, vec![t; n], vec![0.0; n], vec![phase; n], 10).is_ok()
        };
        assert!(ok(vec![1, 1, 9], 0, 0.5));
        assert!(!ok(vec![3, 2], 0, 0.5), "out of order");
        assert!(!ok(vec![10], 0, 0.5), "past the items");
        assert!(!ok(vec![1], PD_PHASES.len() as u8, 0.5), "no such phase");
        assert!(!ok(vec![1], 0, f64::NAN), "a time not finite");
        assert!(PdIndex::from_parts(1 << 12, vec![], vec![], vec![], vec![], 10).is_err());
        assert!(PdIndex::from_parts(0, vec![1], vec![], vec![0.0], vec![0], 10).is_err());
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

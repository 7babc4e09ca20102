//! PD (prefill/decode disaggregation) phases: their names and colours, and the segments drawn
//! inside `[P]`/`[D]` virtual spans, for `trace` rows and, as columns, for tracks.

use trace::{Item, Row};

/// The colour of each of `trace`'s [`trace::sglang::PD_PHASES`], by index, used everywhere:
/// `[P]`/`[D]` lane segments, `sglang_pd_*` child spans and the legend.
const PD_COLORS: [&str; trace::sglang::PD_PHASES.len()] = [
    "#9c755f", "#bab0ac", "#edc948", "#4e79a7", "#76b7b2", "#ff9da7", "#b07aa1", "#e15759",
    "#59a14f", "#f28e2b",
];

/// The PD phases as `(key, label, colour)`: key and label from [`trace::sglang::PD_PHASES`]
/// (their one home), the colour from here.
pub const PD_PHASES: [(&str, &str, &str); trace::sglang::PD_PHASES.len()] = {
    let mut out = [("", "", ""); trace::sglang::PD_PHASES.len()];
    let mut i = 0;
    while i < out.len() {
        let p = &trace::sglang::PD_PHASES[i];
        out[i] = (p.key, p.label, PD_COLORS[i]);
        i += 1;
    }
    out
};

/// The PD phase a span name or attribute key stands for, if any: `sglang_pd_prefill_forward`
/// and `pd_prefill_forward_duration` both give `prefill_forward`.
pub fn pd_phase(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    PD_PHASES.get(trace::sglang::pd_phase_index(name)?)
}

/// Colour for PD spans: a phase's own colour, or the role's for `sglang_pd_prefill`,
/// `sglang_pd_decode` and the `[P]`/`[D]` lanes.
pub fn pd_color(name: &str) -> Option<&'static str> {
    if let Some((_, _, c)) = pd_phase(name) {
        return Some(c);
    }
    if name.ends_with(" [P]") || name == "sglang_pd_prefill" {
        Some("#a0b9d6")
    } else if name.ends_with(" [D]") || name == "sglang_pd_decode" {
        Some("#f7c08a")
    } else {
        None
    }
}

/// Segments drawn inside a `[P]`/`[D]` span: its `pd_*_duration` attrs laid end to end
/// from the span's start, as `(t0, t1, colour)`.
pub fn pd_segments(item: &Item) -> Vec<(f64, f64, &'static str)> {
    phases_of(item)
        .into_iter()
        .map(|(t0, t1, p)| (t0, t1, PD_PHASES[p as usize].2))
        .collect()
}

/// The segments of [`pd_segments`] with their phase (an index into [`PD_PHASES`]).
fn phases_of(item: &Item) -> Vec<(f64, f64, u8)> {
    let Item::Span(span) = item else {
        return Vec::new();
    };
    let Some(attrs) = span.attrs.end_attrs.as_object() else {
        return Vec::new();
    };
    if span.pd_virtual_role().is_none() {
        return Vec::new();
    }
    trace::sglang::pd_segments_from(span.start_ts, |attr| {
        attrs.get(attr).and_then(|v| v.as_f64())
    })
}

/// The PD phase segments of a row's `[P]`/`[D]` virtual spans as columns, for a page that
/// holds [`crate::Track`]s and no attributes: the worker builds it with the track and sends
/// it along (at most five segments per virtual span, 17 bytes each), and the page draws
/// [`PdSegments::of`] inside each virtual span instead of calling [`pd_segments`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdSegments {
    /// The item each segment belongs to, non-decreasing.
    pub item: Vec<u32>,
    pub t0: Vec<f64>,
    pub t1: Vec<f64>,
    /// Index into [`PD_PHASES`] (name, label, colour).
    pub phase: Vec<u8>,
}

impl PdSegments {
    /// The segments of every virtual span of `row`, in item order. O(items).
    pub fn from_row(row: &Row) -> PdSegments {
        let mut s = PdSegments::default();
        for (i, item) in row.items.iter().enumerate() {
            for (t0, t1, p) in phases_of(item) {
                s.item.push(i as u32);
                s.t0.push(t0);
                s.t1.push(t1);
                s.phase.push(p);
            }
        }
        s
    }

    /// Adds the segments of `item`, item `i` of its row (items added in order).
    pub fn add(&mut self, i: u32, item: &Item) {
        for (t0, t1, p) in phases_of(item) {
            self.item.push(i);
            self.t0.push(t0);
            self.t1.push(t1);
            self.phase.push(p);
        }
    }

    /// The positions of item `i`'s segments (empty if it has none), by binary search:
    /// O(log segments). Read `t0[k]`, `t1[k]`, `PD_PHASES[phase[k]]` for `k` in it.
    pub fn of(&self, i: usize) -> std::ops::Range<usize> {
        let lo = self.item.partition_point(|&x| (x as usize) < i);
        let hi = self.item.partition_point(|&x| (x as usize) <= i);
        // Columns of unequal length (a malformed buffer) are cut to the shortest.
        let n = self.t0.len().min(self.t1.len()).min(self.phase.len());
        lo.min(n)..hi.min(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pd_segment_columns_equal_pd_segments_on_fixtures() {
        let mut with = 0;
        for name in ["pdflat_5.pt", "pd_1.pt", "basic_0.pt"] {
            let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/slime")
                .join(name);
            let built = trace::load(
                &std::fs::read(path).unwrap(),
                &trace::LoadOptions::new(name, 0.0),
            )
            .map(trace::Loaded::materialize)
            .unwrap();
            for row in &built.cache.rows {
                let cols = PdSegments::from_row(row);
                for (i, item) in row.items.iter().enumerate() {
                    let got: Vec<(f64, f64, &str)> = cols
                        .of(i)
                        .map(|k| (cols.t0[k], cols.t1[k], PD_PHASES[cols.phase[k] as usize].2))
                        .collect();
                    assert_eq!(got, pd_segments(item), "{name} row {} item {i}", row.row_id);
                    with += !got.is_empty() as usize;
                }
                assert!(cols.of(row.items.len() + 5).is_empty());
            }
        }
        assert!(with >= 5, "only {with} items with segments");
    }
}

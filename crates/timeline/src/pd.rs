//! PD (prefill/decode disaggregation) phases: their names and colours, and the segments drawn
//! inside a `trace` row's `[P]`/`[D]` virtual spans (a stored file keeps them as columns:
//! `trace::store::PdIndex`).

use trace::Item;

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

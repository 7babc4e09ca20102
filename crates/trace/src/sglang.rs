//! What SGLang's request attributes mean, in one place: the PD (prefill/decode
//! disaggregation) phases — attribute key, role and label, in the order they happen — and
//! slime's request perf fields (metric key → attribute). The rows (spec §3.5's `[P]`/`[D]`
//! lanes), the metrics, the run reader and `timeline`'s colours all read them from here.

use crate::model::Item;
use crate::store::{CLOSED_SPAN, OPEN_SPAN, ORPHAN_END, PD_DECODE, PD_PREFILL, POINT_EVENT};
use crate::State;

/// Which side of a PD deployment a phase or a `[P]`/`[D]` virtual span belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdRole {
    Prefill,
    Decode,
}

impl PdRole {
    pub const ALL: [PdRole; 2] = [PdRole::Prefill, PdRole::Decode];

    /// The role as the virtual span's `timeline_pd_virtual_role` attribute names it.
    pub const fn name(self) -> &'static str {
        match self {
            PdRole::Prefill => "prefill",
            PdRole::Decode => "decode",
        }
    }

    /// The virtual span's name suffix: `P` (`name [P]`) or `D`.
    pub const fn suffix(self) -> &'static str {
        match self {
            PdRole::Prefill => "P",
            PdRole::Decode => "D",
        }
    }

    /// The role a virtual span's `timeline_pd_virtual_role` names: `"prefill"` is prefill,
    /// any other value decode (as slime's viewer draws it).
    pub fn of_attr(role: &str) -> PdRole {
        if role == PdRole::Prefill.name() {
            PdRole::Prefill
        } else {
            PdRole::Decode
        }
    }

    /// The item-kind flag of a virtual span of this role.
    pub const fn kind_flag(self) -> u8 {
        match self {
            PdRole::Prefill => PD_PREFILL,
            PdRole::Decode => PD_DECODE,
        }
    }
}

/// One PD phase: `key` is the attribute `attr` without `pd_` and `_duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdPhase {
    pub key: &'static str,
    pub attr: &'static str,
    pub role: PdRole,
    pub label: &'static str,
}

const fn phase(
    key: &'static str,
    attr: &'static str,
    role: PdRole,
    label: &'static str,
) -> PdPhase {
    PdPhase {
        key,
        attr,
        role,
        label,
    }
}

/// The ten PD phases, prefill's then decode's, each in the order it happens.
pub const PD_PHASES: [PdPhase; 10] = {
    use PdRole::{Decode as D, Prefill as P};
    [
        phase(
            "prefill_bootstrap_queue",
            "pd_prefill_bootstrap_queue_duration",
            P,
            "[P] bootstrap queue",
        ),
        phase(
            "prefill_bootstrap",
            "pd_prefill_bootstrap_duration",
            P,
            "[P] bootstrap",
        ),
        phase(
            "prefill_alloc_wait",
            "pd_prefill_alloc_wait_duration",
            P,
            "[P] alloc wait",
        ),
        phase(
            "prefill_forward",
            "pd_prefill_forward_duration",
            P,
            "[P] prefill forward",
        ),
        phase(
            "prefill_transfer_queue",
            "pd_prefill_transfer_queue_duration",
            P,
            "[P] transfer queue",
        ),
        phase(
            "decode_prealloc",
            "pd_decode_prealloc_duration",
            D,
            "[D] prealloc",
        ),
        phase(
            "decode_bootstrap",
            "pd_decode_bootstrap_duration",
            D,
            "[D] bootstrap",
        ),
        phase(
            "decode_alloc_wait",
            "pd_decode_alloc_wait_duration",
            D,
            "[D] alloc wait",
        ),
        phase(
            "decode_transfer",
            "pd_decode_transfer_duration",
            D,
            "[D] kv transfer",
        ),
        phase(
            "decode_forward",
            "pd_decode_forward_duration",
            D,
            "[D] decode forward",
        ),
    ]
};

/// The index in [`PD_PHASES`] of the phase a span name or attribute key stands for:
/// `sglang_pd_prefill_forward` and `pd_prefill_forward_duration` both give
/// `prefill_forward`'s.
pub fn pd_phase_index(name: &str) -> Option<usize> {
    let key = name
        .strip_prefix("sglang_pd_")
        .or_else(|| name.strip_prefix("pd_"))?;
    let key = key.strip_suffix("_duration").unwrap_or(key);
    PD_PHASES.iter().position(|p| p.key == key)
}

/// The phase segments drawn inside a `[P]`/`[D]` virtual span starting at `start`: each
/// phase whose duration (`duration(attr)`, its end attribute) is positive and finite, laid
/// end to end, as `(t0, t1, index in PD_PHASES)`.
pub fn pd_segments_from(start: f64, duration: impl Fn(&str) -> Option<f64>) -> Vec<(f64, f64, u8)> {
    let mut t = start;
    let mut out = Vec::new();
    for (p, phase) in PD_PHASES.iter().enumerate() {
        if let Some(d) = duration(phase.attr) {
            if d > 0.0 && d.is_finite() {
                out.push((t, t + d, p as u8));
                t += d;
            }
        }
    }
    out
}

/// The attribute of phase `i` of [`PD_PHASES`] (for the `const` table below).
const fn at(i: usize) -> &'static str {
    PD_PHASES[i].attr
}

/// slime's request perf fields (`_SGLANG_REQUEST_PERF_FIELDS`, then prefill, then decode), in
/// slime's order: (metric key, attribute of a `sglang_generate` end).
pub const REQUEST_PERF_FIELDS: [(&str, &str); 16] = [
    ("perf/request/e2e_latency", "e2e_latency"),
    ("perf/request/queue_time", "queue_time"),
    ("perf/decode/throughput", "decode_throughput"),
    ("perf/prefill/bootstrap_queue_duration", at(0)),
    ("perf/prefill/bootstrap_duration", at(1)),
    ("perf/prefill/alloc_wait_duration", at(2)),
    ("perf/prefill/forward_duration", at(3)),
    ("perf/prefill/transfer_queue_duration", at(4)),
    ("perf/prefill/transfer_speed_gb_s", "pd_transfer_speed_gb_s"),
    ("perf/prefill/transfer_total_mb", "pd_transfer_total_mb"),
    ("perf/prefill/retry_count", "pd_prefill_retry_count"),
    ("perf/decode/prealloc_duration", at(5)),
    ("perf/decode/bootstrap_duration", at(6)),
    ("perf/decode/alloc_wait_duration", at(7)),
    ("perf/decode/transfer_duration", at(8)),
    ("perf/decode/forward_duration", at(9)),
];

/// An item's kind as the store and `timeline`'s tracks keep it: its state in the low bits,
/// plus the PD flag of a `[P]`/`[D]` virtual span.
pub fn item_kind(item: &Item) -> u8 {
    let state = match item.state() {
        State::ClosedSpan => CLOSED_SPAN,
        State::OpenSpan => OPEN_SPAN,
        State::PointEvent => POINT_EVENT,
        State::OrphanEnd => ORPHAN_END,
    };
    match item {
        Item::Span(s) => {
            state
                | s.pd_virtual_role()
                    .map_or(0, |r| PdRole::of_attr(r).kind_flag())
        }
        _ => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_attrs_and_labels_agree() {
        for p in PD_PHASES {
            assert_eq!(p.attr, format!("pd_{}_duration", p.key));
            assert!(p.key.starts_with(p.role.name()), "{}", p.key);
            assert!(
                p.label.starts_with(&format!("[{}] ", p.role.suffix())),
                "{}",
                p.label
            );
        }
        let perf: Vec<&str> = REQUEST_PERF_FIELDS.iter().map(|f| f.1).collect();
        assert!(PD_PHASES.iter().all(|p| perf.contains(&p.attr)));
        for (metric, attr) in REQUEST_PERF_FIELDS {
            if let Some(p) = PD_PHASES.iter().find(|p| p.attr == attr) {
                let rest = p.key.strip_prefix(p.role.name()).unwrap_or_default();
                assert_eq!(
                    metric,
                    format!("perf/{}/{}_duration", p.role.name(), &rest[1..])
                );
            }
        }
    }
}

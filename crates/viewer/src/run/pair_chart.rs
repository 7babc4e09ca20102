//! Two runs' trends in one set of charts (plain Rust, tested natively): run B's series are
//! laid over run A's chart of the same id, named `A · …` / `B · …` and coloured apart; the x
//! axis is the rollout id or, aligned by samples seen, the samples trained on up to each dump
//! (`trace::run::samples_seen`, the CLI's alignment). B's points refer to B's dumps by index
//! `a_len + j`, so a chart's dumps are A's then B's ([`a_dump_for`] maps a click back to A).

use std::sync::Arc;

use serde_json::{Map, Value as J};
use trace::run::{rollout_record, DumpRef, RolloutSummary};

use super::chart_data::Chart;
use super::math::dump_key;

/// Run B's colours (A keeps the run's own).
const B_COLORS: [&str; 3] = ["#d1242f", "#fb8500", "#9a6700"];
/// The prefixes of each run's series names.
pub const A_PREFIX: &str = "A · ";
pub const B_PREFIX: &str = "B · ";

/// The records `trace::run::samples_seen` reads, one per dump (a dump not read yet, or that
/// failed, names only itself).
pub fn records(dumps: &[DumpRef], sums: &[Option<Arc<RolloutSummary>>]) -> Vec<Map<String, J>> {
    dumps
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut m = match sums.get(i).and_then(Option::as_ref) {
                Some(s) if s.error.is_none() => rollout_record(s),
                _ => Map::new(),
            };
            m.insert("rollout_id".into(), J::from(d.rollout_id));
            m.insert("kind".into(), J::from(d.kind.as_str()));
            m
        })
        .collect()
}

/// Samples seen per dump, as x values.
pub fn samples_seen_x(dumps: &[DumpRef], sums: &[Option<Arc<RolloutSummary>>]) -> Vec<Option<f64>> {
    trace::run::samples_seen(&records(dumps, sums))
        .into_iter()
        .map(|s| s.map(|s| s as f64))
        .collect()
}

/// Puts each point at `x[its dump]` (points without one are dropped).
pub fn remap_x(charts: &mut [Chart], x: &[Option<f64>]) {
    for c in charts {
        for s in &mut c.series {
            let keep: Vec<bool> = s
                .points
                .iter()
                .map(|p| x.get(p.0).copied().flatten().is_some())
                .collect();
            if let Some(b) = &mut s.band {
                let mut k = keep.iter();
                b.retain(|_| k.next().copied().unwrap_or(false));
            }
            let mut k = keep.iter();
            s.points.retain(|_| k.next().copied().unwrap_or(false));
            for p in &mut s.points {
                p.1 = x.get(p.0).copied().flatten().unwrap_or(p.1);
            }
        }
    }
}

/// A's charts with B's laid over them (see the module doc). A chart B has and A lacks comes
/// after A's; outliers stay A's.
pub fn overlay(mut a: Vec<Chart>, b: Vec<Chart>, a_len: usize) -> Vec<Chart> {
    for c in &mut a {
        for s in &mut c.series {
            s.name = format!("{A_PREFIX}{}", s.name);
        }
    }
    for mut cb in b {
        for (k, s) in cb.series.iter_mut().enumerate() {
            s.name = format!("{B_PREFIX}{}", s.name);
            s.color = B_COLORS[k % B_COLORS.len()];
            // A's band stays; two overlapping bands would hide both lines.
            s.band = None;
            for p in &mut s.points {
                p.0 += a_len;
            }
        }
        cb.outliers.clear();
        match a.iter_mut().find(|c| c.id == cb.id) {
            Some(ca) => ca.series.extend(cb.series),
            None => a.push(cb),
        }
    }
    a
}

/// The dump of A a chart's dump `i` stands for: itself, or for one of B's (`i >= a_len`)
/// A's dump of the same rollout id and kind.
pub fn a_dump_for(dumps: &[DumpRef], a_len: usize, i: usize) -> Option<usize> {
    if i < a_len {
        return Some(i);
    }
    let key = dump_key(dumps.get(i)?);
    dumps[..a_len.min(dumps.len())]
        .iter()
        .position(|d| dump_key(d) == key)
}

/// B's dump with the same rollout id and kind as A's `d`.
pub fn same_dump(b: &[DumpRef], d: &DumpRef) -> Option<usize> {
    let key = dump_key(d);
    b.iter().position(|x| dump_key(x) == key)
}

#[cfg(test)]
#[path = "pair_chart_tests.rs"]
mod tests;

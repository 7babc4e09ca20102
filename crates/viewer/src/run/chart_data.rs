//! The trend charts' data, apart from the DOM (plain Rust, tested natively): which charts a
//! run has, their series over rollout id (train lines, one dashed line per eval dataset),
//! min–max bands, outliers, and a point's hover text; the train side's charts follow
//! (`trends_train.rs`). `trends.rs` draws them.

use std::sync::Arc;

use trace::run::{DumpKind, DumpKind::Train, DumpRef, RolloutSummary};

use super::math::{dump_label, median, metric};
use crate::numbers::compact as fmt_num;

/// How far above the run's median a rollout time is an outlier.
pub const OUTLIER_FACTOR: f64 = 3.0;

pub(super) const TRAIN_COLORS: [&str; 3] = ["#0969da", "#8250df", "#1a7f37"];
const EVAL_COLORS: [&str; 4] = ["#bf3989", "#bc4c00", "#1b7c83", "#6e7781"];

/// One line of a chart: a value per dump of its kind (`None`: the dump has none, the line
/// breaks there), and an optional band (min, max) per point.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub eval: bool,
    /// (dump index, rollout id, value)
    pub points: Vec<(usize, f64, Option<f64>)>,
    pub band: Option<Vec<Option<(f64, f64)>>>,
}

pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    /// A ratio chart is drawn on 0..1 whatever its values.
    pub unit_range: bool,
    pub series: Vec<Series>,
    /// (series index, point index) ringed as outliers, with why.
    pub outliers: Vec<(usize, usize, String)>,
}

pub type Sums = [Option<Arc<RolloutSummary>>];

/// A series over every readable dump of `kind`, with `value` of each.
pub(super) fn series(
    name: impl Into<String>,
    color: &'static str,
    kind: DumpKind,
    dumps: &[DumpRef],
    sums: &Sums,
    value: impl Fn(&RolloutSummary) -> Option<f64>,
) -> Series {
    let points = dumps
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == kind)
        .filter_map(|(i, d)| {
            let s = sums.get(i)?.as_ref()?;
            Some((
                i,
                d.rollout_id as f64,
                s.error.is_none().then(|| value(s)).flatten(),
            ))
        })
        .collect();
    Series {
        name: name.into(),
        color,
        eval: kind == DumpKind::Eval,
        points,
        band: None,
    }
}

/// The eval datasets named by the run's eval dumps, in order of first appearance.
fn datasets(sums: &Sums) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in sums.iter().flatten() {
        if let Some(list) = s.metrics.get("eval_datasets") {
            for d in trace::run::eval_set_names(list) {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// One eval series per dataset: `key(dataset)` of each eval dump, labelled with the set's
/// name after the user's names (`names`: [`trace::run::renamed_set`]).
fn eval_series(
    dumps: &[DumpRef],
    sums: &Sums,
    names: &[String],
    label: impl Fn(&str) -> String,
    key: impl Fn(&str) -> String,
) -> Vec<Series> {
    datasets(sums)
        .iter()
        .enumerate()
        .map(|(i, ds)| {
            let k = key(ds);
            series(
                label(&trace::run::renamed_set(ds, names)),
                EVAL_COLORS[i % EVAL_COLORS.len()],
                DumpKind::Eval,
                dumps,
                sums,
                move |s| metric(s, &k),
            )
        })
        .filter(|s| s.points.iter().any(|p| p.2.is_some()))
        .collect()
}

/// Every chart of the run; `names`: the user's eval set names, in slime's config order.
pub fn charts(dumps: &[DumpRef], sums: &Sums, names: &[String]) -> Vec<Chart> {
    let mut out = vec![
        reward_chart(dumps, sums, names),
        pass_chart(dumps, sums, names),
        length_chart(dumps, sums, names),
        truncated_chart(dumps, sums, names),
        time_chart(dumps, sums),
        zero_std_chart(dumps, sums),
    ];
    out.extend(super::trends_train::charts(dumps, sums));
    out
}

/// The reward: its mean with the min–max band, and each eval set's.
fn reward_chart(dumps: &[DumpRef], sums: &Sums, names: &[String]) -> Chart {
    let mut reward = series("reward mean", TRAIN_COLORS[0], Train, dumps, sums, |s| {
        metric(s, "reward/mean")
    });
    reward.band = Some(
        reward
            .points
            .iter()
            .map(|&(i, _, _)| {
                let s = sums[i].as_ref()?;
                Some((metric(s, "reward/min")?, metric(s, "reward/max")?))
            })
            .collect(),
    );
    let mut rs = vec![reward];
    rs.extend(eval_series(
        dumps,
        sums,
        names,
        |d| format!("eval/{d}"),
        |d| format!("eval/{d}"),
    ));
    Chart {
        id: "reward",
        title: "Reward (mean, min–max band)",
        unit_range: false,
        series: rs,
        outliers: vec![],
    }
}

/// Pass rates: pass@1 and the train side's largest pass@k, and each eval set's pass@1.
fn pass_chart(dumps: &[DumpRef], sums: &Sums, names: &[String]) -> Chart {
    // The train series' largest k (evals have their own series below).
    let k = dumps
        .iter()
        .zip(sums.iter())
        .filter(|(d, _)| d.kind == Train)
        .filter_map(|(_, s)| s.as_ref()?.max_pass_k())
        .max()
        .unwrap_or(1);
    let mut ps = vec![series("pass@1", TRAIN_COLORS[0], Train, dumps, sums, |s| {
        s.pass_at(1)
    })];
    if k > 1 {
        ps.push(series(
            format!("pass@{k}"),
            TRAIN_COLORS[1],
            Train,
            dumps,
            sums,
            move |s| s.pass_at(k),
        ));
    }
    ps.extend(eval_series(
        dumps,
        sums,
        names,
        |d| format!("eval/{d} pass@1"),
        |d| format!("eval/{d}-pass@1"),
    ));
    Chart {
        id: "pass",
        title: "Pass rate (pass@k)",
        unit_range: true,
        series: ps,
        outliers: vec![],
    }
}

/// Response length: mean and max, and each eval set's mean.
fn length_chart(dumps: &[DumpRef], sums: &Sums, names: &[String]) -> Chart {
    let mut ls = vec![
        series("mean", TRAIN_COLORS[0], Train, dumps, sums, |s| {
            metric(s, "rollout/response_len/mean")
        }),
        series("max", TRAIN_COLORS[1], Train, dumps, sums, |s| {
            metric(s, "rollout/response_len/max")
        }),
    ];
    ls.extend(eval_series(
        dumps,
        sums,
        names,
        |d| format!("eval/{d} mean"),
        |d| format!("eval/{d}/response_len/mean"),
    ));
    Chart {
        id: "response-len",
        title: "Response length (tokens)",
        unit_range: false,
        series: ls,
        outliers: vec![],
    }
}

/// The truncated ratio, train and each eval set.
fn truncated_chart(dumps: &[DumpRef], sums: &Sums, names: &[String]) -> Chart {
    let mut ts = vec![series(
        "truncated",
        TRAIN_COLORS[0],
        Train,
        dumps,
        sums,
        |s| metric(s, "rollout/truncated_ratio"),
    )];
    ts.extend(eval_series(
        dumps,
        sums,
        names,
        |d| format!("eval/{d}"),
        |d| format!("eval/{d}/truncated_ratio"),
    ));
    Chart {
        id: "truncated",
        title: "Truncated ratio",
        unit_range: true,
        series: ts,
        outliers: vec![],
    }
}

/// Rollout time and e2e p99; rollouts far above the median time ringed.
fn time_chart(dumps: &[DumpRef], sums: &Sums) -> Chart {
    let time = series("rollout time", TRAIN_COLORS[0], Train, dumps, sums, |s| {
        metric(s, "perf/rollout_time")
    });
    let p99 = series("e2e p99", TRAIN_COLORS[2], Train, dumps, sums, |s| {
        s.e2e_p99
    });
    let mut outliers = Vec::new();
    if let Some(m) = median(time.points.iter().filter_map(|p| p.2)).filter(|m| *m > 0.0) {
        for (j, p) in time.points.iter().enumerate() {
            if let Some(v) = p.2.filter(|v| *v > OUTLIER_FACTOR * m) {
                outliers.push((0, j, format!("{:.0}× the run's median rollout time", v / m)));
            }
        }
    }
    Chart {
        id: "time",
        title: "Rollout time and e2e p99 (s)",
        unit_range: false,
        series: vec![time, p99],
        outliers,
    }
}

/// Groups whose rewards all agree (no signal).
fn zero_std_chart(dumps: &[DumpRef], sums: &Sums) -> Chart {
    let zs = series(
        "zero-std groups",
        TRAIN_COLORS[0],
        Train,
        dumps,
        sums,
        |s| Some(s.flags.zero_std_groups as f64),
    );
    Chart {
        id: "zero-std",
        title: "Zero-std groups",
        unit_range: false,
        series: vec![zs],
        outliers: vec![],
    }
}

/// A point's hover text: its dump and every series' value there.
pub fn hover_text(c: &Chart, dump: usize, dumps: &[DumpRef]) -> String {
    let mut parts = vec![format!(
        "rollout {}",
        dumps.get(dump).map(dump_label).unwrap_or_default()
    )];
    for s in &c.series {
        for (j, p) in s.points.iter().enumerate() {
            if p.0 != dump {
                continue;
            }
            let Some(v) = p.2 else { continue };
            let band = s.band.as_ref().and_then(|b| b.get(j).copied().flatten());
            parts.push(match band {
                Some((lo, hi)) => format!(
                    "{} {} ({} – {})",
                    s.name,
                    fmt_num(v),
                    fmt_num(lo),
                    fmt_num(hi)
                ),
                None => format!("{} {}", s.name, fmt_num(v)),
            });
        }
    }
    for (si, pj, why) in &c.outliers {
        if c.series[*si].points[*pj].0 == dump {
            parts.push(format!("outlier: {why}"));
        }
    }
    parts.join(" · ")
}

/// A chart's value ranges: rollout ids `x0..x1` and values `lo..hi` (0 included; a ratio
/// chart 0..1 at least; 5% headroom above otherwise), and whether it has no value at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    pub x0: f64,
    pub x1: f64,
    pub lo: f64,
    pub hi: f64,
    pub empty: bool,
}

pub fn extent(c: &Chart) -> Extent {
    let all = || c.series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 1.0, x0 + 1.0)
    };
    let mut hi = all().filter_map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
    let mut lo = all()
        .filter_map(|p| p.2)
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    for s in &c.series {
        for b in s.band.iter().flatten().flatten() {
            hi = hi.max(b.1);
            lo = lo.min(b.0);
        }
    }
    if c.unit_range {
        lo = lo.min(0.0);
        hi = hi.max(1.0);
    }
    let empty = !hi.is_finite();
    if empty || hi <= lo {
        hi = lo + 1.0;
    }
    let hi = if c.unit_range {
        hi
    } else {
        hi + (hi - lo) * 0.05
    };
    Extent {
        x0,
        x1,
        lo,
        hi,
        empty,
    }
}

/// The x axis's ticks: every rollout id when there are at most 16, else round ticks.
pub fn x_ticks(c: &Chart, x0: f64, x1: f64) -> Vec<f64> {
    let mut ids: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    ids.sort_by(f64::total_cmp);
    ids.dedup();
    if ids.len() <= 16 {
        ids
    } else {
        super::math::ticks(x0, x1, 8)
    }
}

/// Runs of consecutive points with values (indices into `s.points`): a missing value breaks
/// the line and the band there.
pub fn value_runs(s: &Series) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = vec![vec![]];
    for (j, p) in s.points.iter().enumerate() {
        if p.2.is_some() {
            if let Some(r) = runs.last_mut() {
                r.push(j);
            }
        } else {
            runs.push(vec![]);
        }
    }
    runs
}

#[cfg(test)]
mod tests;

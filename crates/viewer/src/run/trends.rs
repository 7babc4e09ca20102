//! Trends over rollout id, one SVG chart per quantity: reward (mean with its min–max band),
//! pass@k, response length, truncated ratio, rollout time and e2e p99, zero-std groups. Evals
//! are their own series (per dataset, dashed, hollow points), never mixed into train lines;
//! the train side's charts follow (`trends_train`). A
//! point shows its values on hover and opens its rollout on click; a rollout time more than
//! [`OUTLIER_FACTOR`]× the run's median is ringed.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{DumpKind, DumpRef, RolloutSummary};

use super::client::RunClient;
use super::math::{dump_label, fmt_num, max_k, median, metric, pass_at, ticks};

/// How far above the run's median a rollout time is an outlier.
pub const OUTLIER_FACTOR: f64 = 3.0;

const W: f64 = 400.0;
const H: f64 = 170.0;
const ML: f64 = 46.0;
const MR: f64 = 10.0;
const MT: f64 = 10.0;
const MB: f64 = 22.0;
/// Inner horizontal padding: the first and last points clear the y tick labels and the edge.
const PX: f64 = 10.0;

pub(super) const TRAIN_COLORS: [&str; 3] = ["#0969da", "#8250df", "#1a7f37"];
const EVAL_COLORS: [&str; 4] = ["#bf3989", "#bc4c00", "#1b7c83", "#6e7781"];

/// One line of a chart: a value per dump of its kind (`None`: the dump has none, the line
/// breaks there), and an optional band (min, max) per point.
pub(super) struct Series {
    name: String,
    color: &'static str,
    eval: bool,
    /// (dump index, rollout id, value)
    pub(super) points: Vec<(usize, f64, Option<f64>)>,
    band: Option<Vec<Option<(f64, f64)>>>,
}

pub(super) struct Chart {
    pub(super) id: &'static str,
    pub(super) title: &'static str,
    /// A ratio chart is drawn on 0..1 whatever its values.
    pub(super) unit_range: bool,
    pub(super) series: Vec<Series>,
    /// (series index, point index) ringed as outliers, with why.
    pub(super) outliers: Vec<(usize, usize, String)>,
}

pub(super) type Sums = [Option<Arc<RolloutSummary>>];

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

/// One eval series per dataset: `key(dataset)` of each eval dump.
fn eval_series(
    dumps: &[DumpRef],
    sums: &Sums,
    label: impl Fn(&str) -> String,
    key: impl Fn(&str) -> String,
) -> Vec<Series> {
    datasets(sums)
        .iter()
        .enumerate()
        .map(|(i, ds)| {
            let k = key(ds);
            series(
                label(ds),
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

fn charts(dumps: &[DumpRef], sums: &Sums) -> Vec<Chart> {
    use DumpKind::Train;
    let mut out = Vec::new();

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
        |d| format!("eval/{d}"),
        |d| format!("eval/{d}"),
    ));
    out.push(Chart {
        id: "reward",
        title: "Reward (mean, min–max band)",
        unit_range: false,
        series: rs,
        outliers: vec![],
    });

    let k = sums
        .iter()
        .flatten()
        .filter_map(|s| max_k(s))
        .max()
        .unwrap_or(1);
    let mut ps = vec![series("pass@1", TRAIN_COLORS[0], Train, dumps, sums, |s| {
        pass_at(s, 1)
    })];
    if k > 1 {
        ps.push(series(
            format!("pass@{k}"),
            TRAIN_COLORS[1],
            Train,
            dumps,
            sums,
            move |s| pass_at(s, k),
        ));
    }
    ps.extend(eval_series(
        dumps,
        sums,
        |d| format!("eval/{d} pass@1"),
        |d| format!("eval/{d}-pass@1"),
    ));
    out.push(Chart {
        id: "pass",
        title: "Pass rate (pass@k)",
        unit_range: true,
        series: ps,
        outliers: vec![],
    });

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
        |d| format!("eval/{d} mean"),
        |d| format!("eval/{d}/response_len/mean"),
    ));
    out.push(Chart {
        id: "response-len",
        title: "Response length (tokens)",
        unit_range: false,
        series: ls,
        outliers: vec![],
    });

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
        |d| format!("eval/{d}"),
        |d| format!("eval/{d}/truncated_ratio"),
    ));
    out.push(Chart {
        id: "truncated",
        title: "Truncated ratio",
        unit_range: true,
        series: ts,
        outliers: vec![],
    });

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
    out.push(Chart {
        id: "time",
        title: "Rollout time and e2e p99 (s)",
        unit_range: false,
        series: vec![time, p99],
        outliers,
    });

    let zs = series(
        "zero-std groups",
        TRAIN_COLORS[0],
        Train,
        dumps,
        sums,
        |s| Some(s.flags.zero_std_groups as f64),
    );
    out.push(Chart {
        id: "zero-std",
        title: "Zero-std groups",
        unit_range: false,
        series: vec![zs],
        outliers: vec![],
    });
    out.extend(super::trends_train::charts(dumps, sums));
    out
}

/// A point's hover text: its dump and every series' value there.
fn hover_text(c: &Chart, dump: usize, dumps: &[DumpRef]) -> String {
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

fn chart_view(run: RunClient, c: Chart, dumps: Arc<Vec<DumpRef>>) -> impl IntoView {
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
    let sx = move |x: f64| ML + PX + (x - x0) / (x1 - x0) * (W - ML - MR - 2.0 * PX);
    let sy = move |y: f64| MT + (1.0 - (y - lo) / (hi - lo)) * (H - MT - MB);
    let hover: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);

    let grid = ticks(lo, hi, 4)
        .into_iter()
        .map(|t| {
            let y = sy(t);
            view! {
                <line x1=ML x2=W - MR y1=y y2=y class="grid"></line>
                <text x=ML - 4.0 y=y + 3.0 class="tick" text-anchor="end">{fmt_num(t)}</text>
            }
        })
        .collect_view();
    let ids: Vec<f64> = {
        let mut v: Vec<f64> = all().map(|p| p.1).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let xt: Vec<f64> = if ids.len() <= 16 {
        ids
    } else {
        ticks(x0, x1, 8)
    };
    let xticks = xt
        .into_iter()
        .map(|t| view! { <text x=sx(t) y=H - 6.0 class="tick" text-anchor="middle">{fmt_num(t)}</text> })
        .collect_view();

    let mut bands = Vec::new();
    let mut lines = Vec::new();
    for s in &c.series {
        // Runs of consecutive points with values: a missing value breaks line and band.
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
        let mut d = String::new();
        for r in &runs {
            for (n, &j) in r.iter().enumerate() {
                let p = s.points[j];
                let (x, y) = (sx(p.1), sy(p.2.unwrap_or(0.0)));
                d.push_str(&format!("{}{x:.1},{y:.1}", if n == 0 { "M" } else { "L" }));
            }
            if let Some(b) = &s.band {
                let up: Vec<(f64, f64)> = r
                    .iter()
                    .filter_map(|&j| b.get(j).copied().flatten().map(|(_, h)| (s.points[j].1, h)))
                    .collect();
                let down: Vec<(f64, f64)> = r
                    .iter()
                    .rev()
                    .filter_map(|&j| b.get(j).copied().flatten().map(|(l, _)| (s.points[j].1, l)))
                    .collect();
                if up.len() > 1 {
                    let pts: Vec<String> = up
                        .iter()
                        .chain(down.iter())
                        .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
                        .collect();
                    bands.push(view! { <polygon points=pts.join(" ") class="band" fill=s.color data-testid="trend-band"></polygon> });
                }
            }
        }
        lines.push(view! {
            <path d=d class="line" class:eval=s.eval stroke=s.color data-testid="trend-line" data-series=s.name.clone()></path>
        });
    }
    let mut points = Vec::new();
    for s in &c.series {
        for p in s.points.iter().filter(|p| p.2.is_some()) {
            let (i, x, y) = (p.0, sx(p.1), sy(p.2.unwrap_or(0.0)));
            let d = dumps.get(i).cloned();
            let text = hover_text(&c, i, &dumps);
            points.push(view! {
                <circle cx=x cy=y r="4" class="pt" class:eval=s.eval stroke=s.color fill=if s.eval { "var(--bg)" } else { s.color }
                    data-testid="trend-point" data-series=s.name.clone()
                    data-rollout-id=d.as_ref().map(|d| d.rollout_id.to_string()).unwrap_or_default()
                    data-kind=d.as_ref().map(|d| d.kind.as_str()).unwrap_or_default()
                    on:mouseenter=move |_| hover.set(Some((x, y, text.clone())))
                    on:mouseleave=move |_| hover.set(None)
                    on:click=move |_| super::open_step(run, i)></circle>
            });
        }
    }
    let rings = c
        .outliers
        .iter()
        .map(|(si, pj, why)| {
            let s = &c.series[*si];
            let p = s.points[*pj];
            let rid = dumps.get(p.0).map(|d| d.rollout_id.to_string()).unwrap_or_default();
            view! {
                <circle cx=sx(p.1) cy=sy(p.2.unwrap_or(0.0)) r="9" class="outlier" data-testid="trend-outlier" data-rollout-id=rid>
                    <title>{why.clone()}</title></circle>
            }
        })
        .collect_view();
    let legend = c
        .series
        .iter()
        .map(|s| view! { <span class="legend-item" class:eval=s.eval><i style=format!("border-color:{}", s.color)></i>{s.name.clone()}</span> })
        .collect_view();
    let vb = format!("0 0 {W} {H}");
    view! {
        <figure class="trend" data-testid="run-chart" data-chart=c.id>
            <figcaption><b>{c.title}</b>" "{legend}</figcaption>
            <div class="trend-plot">
                <svg viewBox=vb>
                    {grid}{xticks}{bands}{lines}{rings}{points}
                    {empty.then(|| view! { <text x=W / 2.0 y=H / 2.0 class="tick" text-anchor="middle">"no values in this run"</text> })}
                </svg>
                {move || hover.get().map(|(x, y, t)| view! {
                    <div class="trend-tip" data-testid="trend-tip"
                        style=tip_style(x, y)>{t}</div>
                })}
            </div>
        </figure>
    }
}

/// Where a tooltip sits: above the point, kept inside the chart near its edges.
fn tip_style(x: f64, y: f64) -> String {
    let shift = if x < W * 0.3 {
        "0%"
    } else if x > W * 0.7 {
        "-100%"
    } else {
        "-50%"
    };
    format!(
        "left:{:.2}%;top:{:.2}%;transform:translate({shift}, calc(-100% - 10px))",
        x / W * 100.0,
        y / H * 100.0
    )
}

/// Every chart, redrawn as summaries arrive.
pub fn trends(run: RunClient) -> impl IntoView {
    let rs = run.state();
    view! {
        <section class="run-trends" data-testid="run-trends">
            {move || {
                let dumps = rs.dumps.get();
                let sums = rs.summaries.get();
                charts(&dumps, &sums)
                    .into_iter()
                    .map(|c| chart_view(run, c, dumps.clone()))
                    .collect_view()
            }}
        </section>
    }
}

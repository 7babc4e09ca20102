//! Trends over rollout id, one SVG chart per quantity: reward (mean with its min–max band),
//! pass@k, response length, truncated ratio, rollout time and e2e p99, zero-std groups. Evals
//! are their own series (per dataset, dashed, hollow points), never mixed into train lines;
//! the train side's charts follow (`trends_train`). A
//! point shows its values on hover and opens its rollout on click; a rollout time more than
//! [`super::chart_data::OUTLIER_FACTOR`]× the run's median is ringed.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{DumpKind, DumpRef};

use super::chart_data::{charts, extent, hover_text, value_runs, x_ticks, Chart, Extent};
use super::client::RunClient;
use super::math::ticks;
use crate::numbers::compact as fmt_num;

const W: f64 = 400.0;
const H: f64 = 170.0;
const ML: f64 = 46.0;
const MR: f64 = 10.0;
const MT: f64 = 10.0;
const MB: f64 = 22.0;
/// Inner horizontal padding: the first and last points clear the y tick labels and the edge.
const PX: f64 = 10.0;

/// `a_len`: how many of `dumps` are the run's own (the rest are run B's, see `pair_chart`).
fn chart_view(run: RunClient, c: Chart, dumps: Arc<Vec<DumpRef>>, a_len: usize) -> impl IntoView {
    let Extent {
        x0,
        x1,
        lo,
        hi,
        empty,
    } = extent(&c);
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
    let xt = x_ticks(&c, x0, x1);
    let xticks = xt
        .into_iter()
        .map(|t| view! { <text x=sx(t) y=H - 6.0 class="tick" text-anchor="middle">{fmt_num(t)}</text> })
        .collect_view();

    let mut bands = Vec::new();
    let mut lines = Vec::new();
    for s in &c.series {
        let runs = value_runs(s);
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
                    on:click={
                        let dumps = dumps.clone();
                        move |_| if let Some(i) = super::pair_chart::a_dump_for(&dumps, a_len, i) { super::open_step(run, i) }
                    }></circle>
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

/// The box where a user names the eval sets a dump does not name (`eval set 1`, …), in
/// slime's config order, as `rollscope run --eval-names` does; shown when the run has evals.
fn eval_names_box(run: RunClient) -> impl IntoView {
    let rs = run.state();
    move || {
        let has_evals = rs
            .dumps
            .with(|d| d.iter().any(|d| d.kind == DumpKind::Eval));
        has_evals.then(|| {
            view! {
                <label class="run-eval-names" title="names for the eval sets the dumps do not name (eval set 1, eval set 2, …), in your eval config's order; kept in the link">
                    "eval set names "
                    <input type="text" data-testid="eval-names" placeholder="e.g. math500,aime24" spellcheck="false"
                        prop:value=move || rs.eval_names.get().join(",")
                        on:change=move |ev| rs.eval_names.set(trace::run::parse_eval_names(&event_target_value(&ev))) />
                </label>
            }
        })
    }
}

/// Every chart, redrawn as summaries arrive.
pub fn trends(run: RunClient) -> impl IntoView {
    let rs = run.state();
    view! {
        {eval_names_box(run)}
        <section class="run-trends" data-testid="run-trends">
            {move || {
                let dumps = rs.dumps.get();
                let sums = rs.summaries.get();
                let names = rs.eval_names.get();
                let (all, dumps) = match super::runs_pair::pair() {
                    Some(p) => super::runs_pair::trend_charts(p, &dumps, &sums, &names),
                    None => (charts(&dumps, &sums, &names), dumps.clone()),
                };
                let a_len = rs.dumps.with(|d| d.len());
                all.into_iter()
                    .map(|c| chart_view(run, c, dumps.clone(), a_len))
                    .collect_view()
            }}
        </section>
    }
}

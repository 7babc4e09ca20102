//! Distributions of a run (`RolloutSummary::dists`) as histograms: the per-rollout small
//! multiples (reward and response length over training, so a sharpening or a collapse shows)
//! and the shared binning the compare panel overlays. Drawn as SVG; dump text never appears.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{Dist, DumpKind, DumpRef, RolloutSummary};

use super::client::RunClient;
use super::math::{dump_label, outline, range, shares};
use crate::numbers::compact as fmt_num;

/// Most rollouts drawn as small multiples (evenly chosen past this).
const MAX_COLUMNS: usize = 40;

/// Which dumps get a column: at most [`MAX_COLUMNS`], evenly spread, always the last.
fn columns(idx: Vec<usize>) -> Vec<usize> {
    if idx.len() <= MAX_COLUMNS {
        return idx;
    }
    let n = idx.len();
    (0..MAX_COLUMNS)
        .map(|i| idx[i * (n - 1) / (MAX_COLUMNS - 1)])
        .collect()
}

type Pick = fn(&RolloutSummary) -> &Dist;

/// One row of small multiples: `what` of each train rollout (then each eval), bins shared
/// across the row so the shapes compare.
fn row(
    run: RunClient,
    title: &'static str,
    testid: &'static str,
    pick: Pick,
    dumps: &[DumpRef],
    sums: &[Option<Arc<RolloutSummary>>],
) -> impl IntoView {
    let mut idx: Vec<usize> = (0..dumps.len())
        .filter(|&i| {
            sums.get(i)
                .is_some_and(|s| s.as_ref().is_some_and(|s| s.error.is_none()))
        })
        .collect();
    // Train rollouts first, in order; evals after (a separate population).
    idx.sort_by_key(|&i| (dumps[i].kind == DumpKind::Eval, i));
    let idx = columns(idx);
    let all: Vec<&Dist> = idx
        .iter()
        .filter_map(|&i| sums[i].as_ref().map(|s| pick(s)))
        .collect();
    let Some((lo, hi)) = range(all.iter().copied()) else {
        return view! { <div class="dist-row"><b>{title}</b><span class="muted">" no values"</span></div> }
            .into_any();
    };
    let cells: Vec<_> = idx
        .iter()
        .filter_map(|&i| {
            let s = sums[i].as_ref()?;
            let d = pick(s);
            let sh = shares(d, lo, hi);
            let top = sh.iter().cloned().fold(0.0, f64::max);
            let path = outline(&sh, top, 1.0, 1.0, 58.0, 34.0);
            let dump = &dumps[i];
            let eval = dump.kind == DumpKind::Eval;
            let tip = format!(
                "{}: {} values, {} … {}",
                dump_label(dump),
                d.count,
                d.points.first().map(|x| fmt_num(*x)).unwrap_or_default(),
                d.points.last().map(|x| fmt_num(*x)).unwrap_or_default()
            );
            Some(view! {
                <figure class="dist-cell" class:eval=eval data-testid=testid
                    data-rollout-id=dump.rollout_id.to_string() data-kind=dump.kind.as_str()
                    on:click=move |_| super::open_step(run, i)>
                    <svg viewBox="0 0 60 36" width="60" height="36"><title>{tip}</title>
                        <path d=path class="dist-fill"></path></svg>
                    <figcaption>{dump_label(dump)}</figcaption>
                </figure>
            })
        })
        .collect();
    view! {
        <div class="dist-row">
            <div class="dist-title"><b>{title}</b>
                <span class="muted">{format!(" {} … {} (shared bins)", fmt_num(lo), fmt_num(hi))}</span></div>
            <div class="dist-cells">{cells}</div>
        </div>
    }
    .into_any()
}

/// Reward and response-length histograms per rollout.
pub fn small_multiples(run: RunClient) -> impl IntoView {
    let rs = run.state();
    view! {
        <section class="run-dists" data-testid="run-dists">
            <h3>"Distributions per rollout"</h3>
            {move || {
                let dumps = rs.dumps.get();
                let sums = rs.summaries.get();
                view! {
                    {row(run, "reward", "dist-reward", |s| &s.dists.reward, &dumps, &sums)}
                    {row(run, "response length", "dist-response-len", |s| &s.dists.response_len, &dumps, &sums)}
                }
            }}
        </section>
    }
}

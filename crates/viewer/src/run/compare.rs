//! Compare two rollouts: key metrics side by side with B − A, and their distributions
//! (response length, e2e latency, reward) overlaid on shared bins.

use leptos::prelude::*;
use trace::run::{Dist, DumpKind, RolloutSummary};

use super::client::RunClient;
use super::math::{dump_label, metric, outline, range, shares};
use super::state::RunState;
use crate::numbers::{compact as fmt_num, compact_opt as fmt_opt};

/// The first and the last train rollout that were read, once the run is read (unless the
/// user or the link chose already).
pub fn default_pair(rs: RunState) {
    if rs.compare.get_untracked() != (None, None) {
        return;
    }
    let ok: Vec<usize> = rs.dumps.with_untracked(|d| {
        rs.summaries.with_untracked(|s| {
            (0..d.len())
                .filter(|&i| d[i].kind == DumpKind::Train)
                .filter(|&i| {
                    s.get(i)
                        .is_some_and(|x| x.as_ref().is_some_and(|x| x.error.is_none()))
                })
                .collect()
        })
    });
    if let (Some(&a), Some(&b)) = (ok.first(), ok.last()) {
        if a != b {
            rs.compare.set((Some(a), Some(b)));
        }
    }
}

type MetricFn = fn(&RolloutSummary) -> Option<f64>;

const METRICS: [(&str, MetricFn); 9] = [
    ("samples", |s| metric(s, "sample_count")),
    ("reward mean", |s| metric(s, "reward/mean")),
    ("pass@1", |s| s.pass_at(1)),
    ("response length mean", |s| {
        metric(s, "rollout/response_len/mean")
    }),
    ("response length max", |s| {
        metric(s, "rollout/response_len/max")
    }),
    ("truncated ratio", |s| metric(s, "rollout/truncated_ratio")),
    ("rollout time (s)", |s| metric(s, "perf/rollout_time")),
    ("e2e p99 (s)", |s| s.e2e_p99),
    ("zero-std groups", |s| Some(s.flags.zero_std_groups as f64)),
];

type Pick = fn(&RolloutSummary) -> &Dist;

const DISTS: [(&str, &str, Pick); 3] = [
    ("response length", "response-len", |s| &s.dists.response_len),
    ("e2e latency (s)", "e2e", |s| &s.dists.e2e_latency),
    ("reward", "reward", |s| &s.dists.reward),
];

fn overlay(title: &'static str, id: &'static str, a: &Dist, b: &Dist) -> impl IntoView {
    let body = match range([a, b]) {
        None => view! { <text x="150" y="50" class="tick" text-anchor="middle">"no values in either"</text> }.into_any(),
        Some((lo, hi)) => {
            let (sa, sb) = (shares(a, lo, hi), shares(b, lo, hi));
            let top = sa.iter().chain(sb.iter()).cloned().fold(0.0, f64::max);
            // A rollout without values draws nothing (not a flat line that reads as zeros).
            let pa = (!a.points.is_empty()).then(|| outline(&sa, top, 4.0, 4.0, 292.0, 80.0));
            let pb = (!b.points.is_empty()).then(|| outline(&sb, top, 4.0, 4.0, 292.0, 80.0));
            view! {
                {pa.map(|d| view! { <path d=d class="cmp-a" data-testid="compare-dist-a"></path> })}
                {pb.map(|d| view! { <path d=d class="cmp-b" data-testid="compare-dist-b"></path> })}
                <text x="4" y="98" class="tick">{fmt_num(lo)}</text>
                <text x="296" y="98" class="tick" text-anchor="end">{fmt_num(hi)}</text>
            }
            .into_any()
        }
    };
    view! {
        <figure class="cmp-dist" data-testid="compare-dist" data-dist=id>
            <figcaption>{title}<span class="muted">{format!(" (A: {} values, B: {})", a.count, b.count)}</span></figcaption>
            <svg viewBox="0 0 300 102">{body}</svg>
        </figure>
    }
}

fn picker(rs: RunState, which: usize) -> impl IntoView {
    let current = move || {
        let (a, b) = rs.compare.get();
        if which == 0 {
            a
        } else {
            b
        }
    };
    view! {
        <label class=if which == 0 { "cmp-pick a" } else { "cmp-pick b" }>{if which == 0 { "A " } else { "B " }}
            <select data-testid=if which == 0 { "compare-a" } else { "compare-b" }
                on:change=move |ev| {
                    let v: Option<usize> = event_target_value(&ev).parse().ok();
                    rs.compare.update(|c| if which == 0 { c.0 = v } else { c.1 = v });
                }>
                <option value="" selected=move || current().is_none()>"—"</option>
                {move || rs.dumps.get().iter().enumerate().map(|(i, d)| {
                    view! { <option value=i.to_string() selected=move || current() == Some(i)>{format!("rollout {}", dump_label(d))}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

pub fn panel(run: RunClient) -> impl IntoView {
    let rs = run.state();
    let body = move || {
        let (Some(a), Some(b)) = rs.compare.get() else {
            return view! { <p class="muted">"Pick two rollouts."</p> }.into_any();
        };
        let sums = rs.summaries.get();
        let (Some(sa), Some(sb)) = (
            sums.get(a).cloned().flatten(),
            sums.get(b).cloned().flatten(),
        ) else {
            return view! { <p class="muted">"Waiting for both rollouts to be read…"</p> }
                .into_any();
        };
        let rows = METRICS
            .iter()
            .map(|(name, get)| {
                let (va, vb) = (get(&sa), get(&sb));
                let delta = match (va, vb) {
                    (Some(x), Some(y)) => {
                        let d = y - x;
                        format!("{}{}", if d > 0.0 { "+" } else { "" }, fmt_num(d))
                    }
                    _ => "—".into(),
                };
                view! {
                    <tr data-testid="compare-row" data-metric=*name>
                        <th>{*name}</th><td class="num">{fmt_opt(va)}</td><td class="num">{fmt_opt(vb)}</td>
                        <td class="num delta" data-testid="compare-delta">{delta}</td>
                    </tr>
                }
            })
            .collect_view();
        let dists = DISTS
            .iter()
            .map(|(title, id, pick)| overlay(title, id, pick(&sa), pick(&sb)))
            .collect_view();
        let (la, lb) = rs.dumps.with(|d| {
            (
                d.get(a).map(dump_label).unwrap_or_default(),
                d.get(b).map(dump_label).unwrap_or_default(),
            )
        });
        view! {
            <div class="cmp-body">
                <table class="cmp-table">
                    <thead><tr><th></th><th class="a">{format!("A: {la}")}</th><th class="b">{format!("B: {lb}")}</th><th>"B − A"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <div class="cmp-dists">{dists}</div>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="run-compare" data-testid="run-compare">
            <h3>"Compare"</h3>
            <div class="cmp-picks">{picker(rs, 0)}{picker(rs, 1)}
                <span class="legend-item"><i class="sw-a"></i>"A"</span><span class="legend-item"><i class="sw-b"></i>"B"</span></div>
            {body}
        </section>
    }
}

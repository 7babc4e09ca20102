//! The rollout table: one row per dump (`data-testid="run-step"`), its key metrics and
//! flags, sortable by any column (click a header; `aria-sort` says how), a click opens the
//! dump as the step. A dump still being read says so, and so does one still being written (a
//! live run); one that failed shows its error.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{DumpKind, DumpRef, RolloutSummary};

use super::client::RunClient;
use super::math::{dump_label, metric};
use crate::numbers::compact_opt as fmt_opt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Col {
    Id,
    Kind,
    Samples,
    Traced,
    Reward,
    Pass1,
    LenMean,
    LenMax,
    Truncated,
    Time,
    P99,
    ZeroStd,
    Flags,
}

pub const COLS: [(Col, &str, &str); 13] = [
    (Col::Id, "id", "rollout id"),
    (Col::Kind, "kind", "train or eval dump"),
    (Col::Samples, "samples", "samples in the dump"),
    (Col::Traced, "traced", "samples with trace events"),
    (Col::Reward, "reward", "reward/mean"),
    (Col::Pass1, "pass@1", "pass_rate pass@1"),
    (Col::LenMean, "len mean", "response length mean (tokens)"),
    (Col::LenMax, "len max", "response length max (tokens)"),
    (Col::Truncated, "truncated", "rollout/truncated_ratio"),
    (Col::Time, "rollout time", "perf/rollout_time (s)"),
    (Col::P99, "e2e p99", "p99 of the requests' e2e latency (s)"),
    (
        Col::ZeroStd,
        "zero-std",
        "groups whose rewards are all equal",
    ),
    (Col::Flags, "flags", "what stands out; errors"),
];

/// A response-length figure: slime's metric for a train dump, else from the distribution
/// (an eval's lengths are per dataset in its metrics).
fn len_of(s: &RolloutSummary, key: &str, max: bool) -> Option<f64> {
    metric(s, key).or_else(|| {
        let p = &s.dists.response_len.points;
        if max {
            p.last().copied()
        } else {
            (!p.is_empty()).then(|| p.iter().sum::<f64>() / p.len() as f64)
        }
    })
}

/// The number a cell shows (and sorts by).
fn num(c: Col, d: &DumpRef, s: &RolloutSummary) -> Option<f64> {
    match c {
        Col::Id => Some(d.rollout_id as f64),
        Col::Kind | Col::Flags => None,
        Col::Samples => metric(s, "sample_count"),
        Col::Traced => metric(s, "traced_sample_count"),
        Col::Reward => metric(s, "reward/mean"),
        Col::Pass1 => s.pass_at(1),
        Col::LenMean => len_of(s, "rollout/response_len/mean", false),
        Col::LenMax => len_of(s, "rollout/response_len/max", true),
        Col::Truncated => metric(s, "rollout/truncated_ratio"),
        Col::Time => metric(s, "perf/rollout_time"),
        Col::P99 => s.e2e_p99,
        Col::ZeroStd => (d.kind == DumpKind::Train).then_some(s.flags.zero_std_groups as f64),
    }
}

fn sort_key(c: Col, d: &DumpRef, s: Option<&RolloutSummary>) -> (Option<f64>, String) {
    let text = match c {
        Col::Kind => d.kind.as_str().to_string(),
        Col::Flags => s
            .map(|s| {
                let mut b: Vec<&str> = s.flags.raised().iter().map(|f| f.label).collect();
                if s.error.is_some() {
                    b.insert(0, "error");
                }
                b.join(",")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    (s.and_then(|s| num(c, d, s)), text)
}

/// Dump indices in the order of `(col, descending)`; ties and missing values keep run order,
/// missing values last whichever the direction.
fn order(
    dumps: &[DumpRef],
    sums: &[Option<Arc<RolloutSummary>>],
    col: Col,
    desc: bool,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..dumps.len()).collect();
    let keys: Vec<(Option<f64>, String)> = idx
        .iter()
        .map(|&i| sort_key(col, &dumps[i], sums.get(i).and_then(|s| s.as_deref())))
        .collect();
    idx.sort_by(|&a, &b| {
        let (ka, kb) = (&keys[a], &keys[b]);
        let o = match (ka.0, kb.0) {
            (Some(x), Some(y)) => {
                let o = x.total_cmp(&y);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => {
                let o = ka.1.cmp(&kb.1);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        o.then(a.cmp(&b))
    });
    idx
}

fn row_view(run: RunClient, i: usize, d: &DumpRef, s: Option<&RolloutSummary>) -> impl IntoView {
    let rs = run.state();
    let writing = s.is_none() && rs.writing.with(|w| w.contains(&d.file));
    let state = match s {
        None if writing => "writing",
        None => "pending",
        Some(s) if s.error.is_some() => "error",
        Some(_) => "ready",
    };
    let cells = COLS
        .iter()
        .filter(|c| !matches!(c.0, Col::Id | Col::Kind | Col::Flags))
        .map(|c| {
            let v = s.and_then(|s| num(c.0, d, s));
            let text = match (c.0, s) {
                (_, None) => String::new(),
                (Col::Samples | Col::Traced | Col::LenMax | Col::ZeroStd, _) => {
                    v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".into())
                }
                _ => fmt_opt(v),
            };
            view! { <td class="num">{text}</td> }
        })
        .collect_view();
    let flags = match s {
        None if writing => {
            view! { <span class="muted" data-testid="run-step-writing">"being written"</span> }
                .into_any()
        }
        None => view! { <span class="muted">"reading…"</span> }.into_any(),
        Some(s) => {
            let b = s
                .flags
                .raised()
                .into_iter()
                .map(|f| view! { <span class="badge" data-testid=f.id title=f.explanation>{f.label}</span> })
                .collect_view();
            let err = s
                .error
                .clone()
                .map(|e| view! { <span class="run-err" data-testid="run-step-error">{e}</span> });
            let notes = (!s.notes.is_empty()).then(|| {
                let all = s.notes.join("\n");
                view! { <span class="badge note" title=all>{format!("{} notes", s.notes.len())}</span> }
            });
            view! { {b}{notes}{err} }.into_any()
        }
    };
    view! {
        <tr data-testid="run-step" data-rollout-id=d.rollout_id.to_string() data-kind=d.kind.as_str()
            data-state=state data-file=d.file.clone()
            class:open=move || rs.open_step.get() == Some(i)
            on:click=move |_| super::open_step(run, i)>
            <td class="num">{d.rollout_id.to_string()}</td>
            <td><span class="kind" class:eval=d.kind == DumpKind::Eval>{d.kind.as_str()}</span></td>
            {cells}
            <td class="flags">{flags}</td>
            {super::runs_pair::pair().filter(|p| super::runs_pair::b_open(*p)).map(|p| super::runs_pair::delta_cells(p, rs, i))}
        </tr>
    }
}

pub fn table(run: RunClient) -> impl IntoView {
    let rs = run.state();
    let sort: RwSignal<(Col, bool)> = RwSignal::new((Col::Id, false));
    let head = COLS
        .iter()
        .map(|&(c, name, why)| {
            let aria = move || match sort.get() {
                (s, false) if s == c => "ascending",
                (s, true) if s == c => "descending",
                _ => "none",
            };
            view! {
                <th aria-sort=aria title=why data-col=name>
                    <button class="th" on:click=move |_| sort.update(|s| *s = if s.0 == c { (c, !s.1) } else { (c, false) })>
                        {name}{move || match aria() { "ascending" => " ▲", "descending" => " ▼", _ => "" }}
                    </button>
                </th>
            }
        })
        .collect_view();
    view! {
        <section class="run-rollouts">
            <h3>"Rollouts"<span class="muted">" — click a row to open its step"</span></h3>
            <div class="table-wrap">
            <table class="run-table" data-testid="run-table">
                <thead><tr>{head}{super::runs_pair::delta_heads}</tr></thead>
                <tbody>
                    {move || {
                        let dumps = rs.dumps.get();
                        let sums = rs.summaries.get();
                        let (col, desc) = sort.get();
                        order(&dumps, &sums, col, desc)
                            .into_iter()
                            .map(|i| row_view(run, i, &dumps[i], sums.get(i).and_then(|s| s.as_deref())))
                            .collect_view()
                    }}
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// The label of dump `i` (for other panels).
pub fn label_of(rs: super::state::RunState, i: usize) -> String {
    rs.dumps
        .with(|d| d.get(i).map(dump_label))
        .unwrap_or_default()
}

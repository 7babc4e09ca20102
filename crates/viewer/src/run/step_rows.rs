//! The step table's rows: a header cell per column (click to sort), one row per sample and,
//! in the group view, a heading row per group. Dump text (labels, statuses, reward fields)
//! reaches the page as text nodes and attributes only.

use leptos::prelude::*;
use trace::run::{SampleRow, StepData};

use super::step_table::{self as st, Column, Group};
use crate::numbers;

/// Longest label shown in a cell (the whole label is in the inspector and the cell's title).
const LABEL_CHARS: usize = 60;

/// A class name part from dump text: letters, digits, `-` and `_` only.
fn class_part(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn status_badge(status: Option<&str>) -> AnyView {
    match status {
        Some(s) => {
            let class = format!("step-badge step-status-{}", class_part(s));
            view! { <span class=class>{s.to_string()}</span> }.into_any()
        }
        None => view! { <span class="step-muted">"—"</span> }.into_any(),
    }
}

fn cell(r: &SampleRow, c: &Column) -> AnyView {
    let t = r.train.as_ref();
    let text = |s: String| view! { <td class="step-num">{s}</td> }.into_any();
    match c {
        Column::Position => text(r.position.to_string()),
        Column::Index => text(st::json_text(&r.index)),
        Column::Status => view! { <td>{status_badge(r.status.as_deref())}</td> }.into_any(),
        Column::Reward => text(numbers::precise_opt(r.reward)),
        Column::RewardField(k) => {
            let v = r
                .reward_fields
                .iter()
                .find(|(key, _)| key == k)
                .map_or_else(
                    || "—".to_string(),
                    |(_, v)| match v.as_f64() {
                        Some(x) => numbers::precise(x),
                        None => st::json_text(v),
                    },
                );
            text(v)
        }
        Column::ResponseLength => text(numbers::precise_opt(r.response_length)),
        Column::EffectiveLength => text(numbers::precise_opt(r.effective_response_length)),
        Column::Label => {
            let full = st::json_text(&r.label);
            let short: String = if full.chars().count() > LABEL_CHARS {
                full.chars().take(LABEL_CHARS).chain(['…']).collect()
            } else {
                full.clone()
            };
            view! { <td class="step-label" title=full>{short}</td> }.into_any()
        }
        Column::Group => {
            view! { <td class="step-num">{st::json_text(&r.group_index)}</td> }.into_any()
        }
        Column::AdvantageMean => text(numbers::precise_opt(t.and_then(|t| t.advantage_mean))),
        Column::KlMean => text(numbers::precise_opt(t.and_then(|t| t.kl_mean))),
        Column::LogprobGap => text(numbers::precise_opt(t.and_then(|t| t.logprob_gap_mean))),
        Column::NormalizedReward => text(numbers::precise_opt(t.and_then(|t| t.normalized_reward))),
        Column::E2eLatency => text(numbers::precise_opt(r.e2e_latency)),
        Column::Flags => {
            let f = st::flags(r);
            view! { <td>{f.into_iter().map(|f| view! { <span class=format!("step-badge step-flag-{f}")>{f}</span> }).collect_view()}</td> }
                .into_any()
        }
    }
}

/// The header row's cells: click sorts by the column (again: the other way).
pub(super) fn header(
    columns: Vec<Column>,
    sort: RwSignal<Option<(Column, bool)>>,
) -> impl IntoView {
    columns
        .into_iter()
        .map(|c| {
            let title = c.title();
            let key = c.key();
            let numeric = c.numeric();
            let c2 = c.clone();
            let c3 = c.clone();
            let aria = move || match sort.get() {
                Some((s, false)) if s == c2 => "ascending",
                Some((s, true)) if s == c2 => "descending",
                _ => "none",
            };
            let mark = aria.clone();
            let click = move |_| {
                sort.update(|s| {
                    *s = match s.take() {
                        Some((cur, desc)) if cur == c3 => Some((cur, !desc)),
                        _ => Some((c3.clone(), false)),
                    }
                })
            };
            view! {
                <th data-col=key aria-sort=aria class=("step-num", numeric) on:click=click title="sort">
                    {title}
                    <span class="step-sort-mark">{move || match mark() { "ascending" => " ▲", "descending" => " ▼", _ => "" }}</span>
                </th>
            }
        })
        .collect_view()
}

/// One sample's row.
pub(super) fn sample_row(
    r: &SampleRow,
    cols: &[Column],
    selected: Signal<Option<usize>>,
    on_select: Callback<usize>,
) -> AnyView {
    let pos = r.position;
    let cells = cols.iter().map(|c| cell(r, c)).collect_view();
    let is_sel = move || selected.get() == Some(pos);
    view! {
        <tr data-testid="sample-row" data-position=pos.to_string()
            class=("step-selected", is_sel)
            aria-selected=move || if is_sel() { "true" } else { "false" }
            on:click=move |_| on_select.run(pos)>
            {cells}
        </tr>
    }
    .into_any()
}

/// The group view's rows: each group's heading, then its shown members, at most `limit` rows.
pub(super) fn grouped_rows(
    s: &StepData,
    groups: Vec<Group>,
    cols: &[Column],
    limit: usize,
    selected: Signal<Option<usize>>,
    on_select: Callback<usize>,
) -> AnyView {
    let n = cols.len();
    let mut budget = limit;
    let mut out = Vec::new();
    for g in groups {
        if budget == 0 {
            break;
        }
        let take = g.members.len().min(budget);
        budget -= take;
        let head = st::group_head(&g);
        let rows = g.members[..take]
            .iter()
            .filter_map(|&i| s.rows.get(i))
            .map(|r| sample_row(r, cols, selected, on_select))
            .collect_view();
        out.push(view! {
            <tr class="step-group" class=("step-zero-std", g.zero_std)
                data-testid="step-group" data-group=g.key.clone()
                data-zero-std=g.zero_std.to_string()>
                <td colspan=n.to_string()>
                    {head}
                    {g.zero_std.then(|| view! { <span class="step-badge step-flag-zero-std" title="all rewards of the group are equal: no learning signal">"zero std"</span> })}
                </td>
            </tr>
            {rows}
        });
    }
    out.collect_view().into_any()
}

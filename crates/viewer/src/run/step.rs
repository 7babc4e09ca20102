//! The step view: one dump's samples as a table (sort by any column, filter by status,
//! reward, group and text in the responses), or grouped by `group_index` with each group's
//! reward mean/std and zero-std groups marked. Clicking a row (or ↑/↓, Enter) selects it.
//!
//! At most `limit` rows are in the DOM (500 at first, "show more" adds 500): a 10 000-sample
//! step stays responsive, and the count line always says how many are shown of how many.
//! Sorting and filtering are `step_table` (plain Rust, tested natively). Dump text (labels,
//! statuses, reward fields) reaches the page as text nodes and attributes only.

use leptos::prelude::*;
use std::sync::Arc;
use trace::run::{SampleRow, StepData};
use wasm_bindgen::JsCast;

use super::step_table::{self as st, Column, Filter, RewardFilter, SearchIndex};
use crate::numbers;

/// Rows added to the DOM at a time.
const PAGE: usize = 500;
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

/// Scrolls the row of `position` into view (nearest edge), e.g. after ↑/↓.
fn reveal(position: usize) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let sel = format!("[data-testid=sample-row][data-position=\"{position}\"]");
    let Ok(Some(el)) = doc.query_selector(&sel) else {
        return;
    };
    // `scrollIntoView({block: "nearest"})` without pulling in another web-sys feature.
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"block".into(), &"nearest".into());
    if let Ok(f) = js_sys::Reflect::get(&el, &"scrollIntoView".into()) {
        if let Ok(f) = f.dyn_into::<js_sys::Function>() {
            let _ = f.call1(&el, &opts);
        }
    }
}

#[component]
pub fn StepView(
    step: Signal<Option<StepData>>,
    selected: Signal<Option<usize>>,
    on_select: Callback<usize>,
) -> impl IntoView {
    let sort = RwSignal::new(None::<(Column, bool)>);
    let status = RwSignal::new(None::<String>);
    let reward_text = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let grouped = RwSignal::new(false);
    let limit = RwSignal::new(PAGE);

    // The lowercased responses, rebuilt only when the step changes (never compared: a new
    // step always counts as changed).
    let index = Memo::new_with_compare(
        move |_| Arc::new(step.with(|s| s.as_ref().map(SearchIndex::new).unwrap_or_default())),
        |_, _| true,
    );
    let columns = Memo::new(move |_| {
        step.with(|s| s.as_ref().map(|s| st::columns(&s.rows)).unwrap_or_default())
    });
    let statuses = Memo::new(move |_| {
        step.with(|s| {
            s.as_ref()
                .map(|s| st::statuses(&s.rows))
                .unwrap_or_default()
        })
    });
    let reward = Memo::new(move |_| RewardFilter::parse(&reward_text.get()));
    let table = Memo::new(move |_| {
        let filter = Filter {
            status: status.get(),
            reward: reward.get().unwrap_or_default(),
            group: group.get(),
            text: text.get(),
        };
        let sort = sort.get();
        let ix = index.get();
        step.with(|s| {
            s.as_ref()
                .map(|s| st::view(s, &ix, &filter, sort.as_ref().map(|(c, d)| (c, *d))))
                .unwrap_or_default()
        })
    });
    let groups = Memo::new(move |_| {
        if !grouped.get() {
            return Vec::new();
        }
        table.with(|t| {
            step.with(|s| {
                s.as_ref()
                    .map(|s| st::groups(&s.rows, &t.order))
                    .unwrap_or_default()
            })
        })
    });
    // Row indices in display order (grouped: group by group).
    let display = Memo::new(move |_| {
        if grouped.get() {
            groups.with(|g| g.iter().flat_map(|g| g.members.iter().copied()).collect())
        } else {
            table.with(|t| t.order.clone())
        }
    });
    // A new step starts with the first page again.
    Effect::new(move |_| {
        step.track();
        limit.set(PAGE);
    });

    let total = move || step.with(|s| s.as_ref().map_or(0, |s| s.rows.len()));
    let position_of =
        move |i: usize| step.with(|s| s.as_ref().and_then(|s| s.rows.get(i)).map(|r| r.position));

    let on_key = move |ev: web_sys::KeyboardEvent| {
        let key = ev.key();
        let delta: isize = match key.as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            "Enter" => 0,
            _ => return,
        };
        // Keys typed in the filters are theirs.
        let tag = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.tag_name())
            .unwrap_or_default();
        if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON") {
            return;
        }
        // The table's keys, not the timeline's (its listener is on the window).
        ev.prevent_default();
        ev.stop_propagation();
        let order = display.get_untracked();
        if order.is_empty() {
            return;
        }
        let positions: Vec<usize> = order.iter().filter_map(|&i| position_of(i)).collect();
        let cur = selected
            .get_untracked()
            .and_then(|p| positions.iter().position(|&q| q == p));
        let next = match (cur, delta) {
            (Some(c), 0) => c,
            (None, 0) => return,
            (None, _) => 0,
            (Some(c), d) => c.saturating_add_signed(d).min(positions.len() - 1),
        };
        if next >= limit.get_untracked() {
            limit.update(|l| *l += PAGE);
        }
        on_select.run(positions[next]);
        request_animation_frame(move || reveal(positions[next]));
    };

    let header = move || {
        columns
            .get()
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
    };

    let sample_row = move |r: &SampleRow, cols: &[Column]| {
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
    };

    let body = move || {
        let cols = columns.get();
        let n = cols.len();
        let lim = limit.get();
        step.with(|s| {
            let Some(s) = s else {
                return ().into_any();
            };
            if grouped.get() {
                let mut budget = lim;
                let mut out = Vec::new();
                for g in groups.get() {
                    if budget == 0 {
                        break;
                    }
                    let take = g.members.len().min(budget);
                    budget -= take;
                    let head = format!(
                        "group {} · {} samples · reward mean {} · std {}{}",
                        g.key,
                        g.size,
                        numbers::precise_opt(g.mean),
                        numbers::precise_opt(g.std),
                        if g.members.len() < g.size {
                            format!(" · {} shown by the filter", g.members.len())
                        } else {
                            String::new()
                        }
                    );
                    let rows = g.members[..take]
                        .iter()
                        .filter_map(|&i| s.rows.get(i))
                        .map(|r| sample_row(r, &cols))
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
                out
                    .collect_view()
                    .into_any()
            } else {
                table.with(|t| {
                    t.order
                        .iter()
                        .take(lim)
                        .filter_map(|&i| s.rows.get(i))
                        .map(|r| sample_row(r, &cols))
                        .collect_view()
                        .into_any()
                })
            }
        })
    };

    let shown_count = move || display.with(Vec::len).min(limit.get());
    let counts = move || {
        let matched = display.with(Vec::len);
        let all = total();
        let mut s = format!("showing {} of {}", shown_count(), matched);
        if matched != all {
            s.push_str(&format!(" (filtered from {all})"));
        }
        s.push_str(" samples");
        s
    };
    let text_counts = move || {
        if text.with(String::is_empty) {
            return String::new();
        }
        table.with(|t| {
            format!(
                "{} of {} responses contain it · {} {} in the shown samples",
                t.text_rows,
                total(),
                t.text_hits,
                if t.text_hits == 1 { "match" } else { "matches" }
            )
        })
    };

    view! {
        <section class="step-view" data-testid="step-view" tabindex="0" on:keydown=on_key>
            {move || step.with(|s| s.as_ref().filter(|s| !s.notes.is_empty()).map(|s| view! {
                <ul class="step-notes" data-testid="step-notes">
                    {s.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            }))}
            <div class="step-controls">
                <label>"status "
                    <select data-testid="step-status" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        status.set(if v == "*" { None } else { Some(v) });
                    }>
                        <option value="*">"any"</option>
                        {move || statuses.get().into_iter().map(|s| {
                            let label = if s.is_empty() { "(none)".to_string() } else { s.clone() };
                            view! { <option value=s>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"reward "
                    <input type="text" data-testid="step-reward" size="10" placeholder="= 1, 0..0.5, >= 0.5"
                        class=("step-invalid", move || reward.with(Result::is_err))
                        prop:value=move || reward_text.get()
                        on:input=move |ev| reward_text.set(event_target_value(&ev)) />
                </label>
                <label>"group "
                    <input type="text" data-testid="step-group-filter" size="6" placeholder="any"
                        prop:value=move || group.get()
                        on:input=move |ev| group.set(event_target_value(&ev)) />
                </label>
                <input type="search" data-testid="step-search" placeholder="search responses"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev)) />
                <span class="step-muted" data-testid="step-search-count">{text_counts}</span>
                <label>
                    <input type="checkbox" data-testid="group-view"
                        prop:checked=move || grouped.get()
                        on:change=move |_| grouped.update(|g| *g = !*g) />
                    "group view"
                </label>
                <span class="step-count" data-testid="step-count">{counts}</span>
            </div>
            {move || reward.get().err().map(|e| view! { <div class="step-error">{e}" (not applied)"</div> })}
            <div class="step-scroll">
                <table class="step-table">
                    <thead><tr>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            {move || {
                let rest = display.with(Vec::len).saturating_sub(limit.get());
                (rest > 0).then(|| view! {
                    <button class="step-more" data-testid="step-more" on:click=move |_| limit.update(|l| *l += PAGE)>
                        {format!("show {} more ({} not shown)", rest.min(PAGE), rest)}
                    </button>
                })
            }}
        </section>
    }
}

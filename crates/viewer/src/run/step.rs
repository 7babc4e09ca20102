//! The step view: one dump's samples as a table (sort by any column, filter by status,
//! reward, group and text in the responses), or grouped by `group_index` with each group's
//! reward mean/std and zero-std groups marked. Clicking a row (or ↑/↓, Enter) selects it.
//!
//! At most `limit` rows are in the DOM (500 at first, "show more" adds 500): a 10 000-sample
//! step stays responsive, and the count line always says how many are shown of how many.
//! Sorting, filtering, keys and the count lines are `step_table` (plain Rust, tested
//! natively); the rows are `step_rows.rs`.

use leptos::prelude::*;
use std::sync::Arc;
use trace::run::StepData;
use wasm_bindgen::JsCast;

use super::step_rows;
use super::step_table::{self as st, Column, Filter, RewardFilter, SearchIndex};

/// Rows added to the DOM at a time.
const PAGE: usize = 500;
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

/// What the controls above the table set.
#[derive(Clone, Copy)]
struct Filters {
    status: RwSignal<Option<String>>,
    reward_text: RwSignal<String>,
    group: RwSignal<String>,
    text: RwSignal<String>,
    grouped: RwSignal<bool>,
}

impl Filters {
    fn new() -> Filters {
        Filters {
            status: RwSignal::new(None),
            reward_text: RwSignal::new(String::new()),
            group: RwSignal::new(String::new()),
            text: RwSignal::new(String::new()),
            grouped: RwSignal::new(false),
        }
    }
}

/// The controls: status, reward and group filters, the response search, the group view
/// switch, and the count lines.
fn controls(
    filters: Filters,
    statuses: Memo<Vec<String>>,
    reward: Memo<Result<RewardFilter, String>>,
    text_counts: impl Fn() -> String + Send + Sync + 'static,
    counts: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    let Filters {
        status,
        reward_text,
        group,
        text,
        grouped,
    } = filters;
    view! {
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
    }
}

/// What the table shows, derived from the step, the filters and the sort.
struct Derived {
    columns: Memo<Vec<Column>>,
    statuses: Memo<Vec<String>>,
    reward: Memo<Result<RewardFilter, String>>,
    table: Memo<st::View>,
    groups: Memo<Vec<st::Group>>,
    /// Row indices in display order (grouped: group by group).
    display: Memo<Vec<usize>>,
}

fn derive(
    step: Signal<Option<StepData>>,
    filters: Filters,
    sort: RwSignal<Option<(Column, bool)>>,
) -> Derived {
    let Filters {
        status,
        reward_text,
        group,
        text,
        grouped,
    } = filters;
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
    let display = Memo::new(move |_| {
        if grouped.get() {
            groups.with(|g| g.iter().flat_map(|g| g.members.iter().copied()).collect())
        } else {
            table.with(|t| t.order.clone())
        }
    });
    Derived {
        columns,
        statuses,
        reward,
        table,
        groups,
        display,
    }
}

#[component]
pub fn StepView(
    step: Signal<Option<StepData>>,
    selected: Signal<Option<usize>>,
    on_select: Callback<usize>,
) -> impl IntoView {
    let sort = RwSignal::new(None::<(Column, bool)>);
    let filters = Filters::new();
    let Filters { text, grouped, .. } = filters;
    let limit = RwSignal::new(PAGE);

    let Derived {
        columns,
        statuses,
        reward,
        table,
        groups,
        display,
    } = derive(step, filters, sort);
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
        let Some(next) = st::next_selection(positions.len(), cur, delta) else {
            return;
        };
        if next >= limit.get_untracked() {
            limit.update(|l| *l += PAGE);
        }
        on_select.run(positions[next]);
        request_animation_frame(move || reveal(positions[next]));
    };

    let header = move || step_rows::header(columns.get(), sort);

    let body = move || {
        let cols = columns.get();
        let lim = limit.get();
        step.with(|s| {
            let Some(s) = s else {
                return ().into_any();
            };
            if grouped.get() {
                step_rows::grouped_rows(s, groups.get(), &cols, lim, selected, on_select)
            } else {
                table.with(|t| {
                    t.order
                        .iter()
                        .take(lim)
                        .filter_map(|&i| s.rows.get(i))
                        .map(|r| step_rows::sample_row(r, &cols, selected, on_select))
                        .collect_view()
                        .into_any()
                })
            }
        })
    };

    let shown_count = move || display.with(Vec::len).min(limit.get());
    let counts = move || st::count_line(shown_count(), display.with(Vec::len), total());
    let text_counts = move || {
        if text.with(String::is_empty) {
            return String::new();
        }
        table.with(|t| st::search_line(t, total()))
    };

    view! {
        <section class="step-view" data-testid="step-view" tabindex="0" on:keydown=on_key>
            {move || step.with(|s| s.as_ref().filter(|s| !s.notes.is_empty()).map(|s| view! {
                <ul class="step-notes" data-testid="step-notes">
                    {s.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            }))}
            {controls(filters, statuses, reward, text_counts, counts)}
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

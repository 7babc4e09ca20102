//! The toolbar: open, filter, sort, attempts, fit, display switches, link and exports, counts.

use leptos::prelude::*;

use crate::dom::window;
use crate::input::Input;
use crate::run::handoff;
use crate::state::{SortKey, State};
use crate::worker_client::Client;

/// Every format the viewer opens: rollout dumps (`.pt`, `.pth`), JSON (slime's timeline
/// cache, OTLP/JSON, Prometheus `query_range`) and Prometheus text exposition.
pub const ACCEPT: &str = ".pt,.pth,.json,application/json,.txt,.prom,text/plain";

fn copy_link(st: State) {
    let href = window().location().href().unwrap_or_default();
    let clipboard = window().navigator().clipboard();
    leptos::task::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&href))
            .await
            .is_ok();
        st.notice.set(Some(if ok {
            "link copied".into()
        } else {
            format!("copy this link: {href}")
        }));
    });
}

pub fn toolbar(st: State, input: Input, client: Client) -> impl IntoView {
    let State {
        data,
        filter,
        sort,
        descending,
        attempt,
        attempt_filter,
        attempts,
        expanded,
        overview,
        show_events,
        show_open,
        show_orphans,
        lane_h,
        show_counters,
        compact,
        notice,
        shown,
        span_count,
        ..
    } = st;
    view! {
        <header class="toolbar">
            <span class="brand">"rollscope"</span>
            <label class="button">
                "Open…"
                <input type="file" data-testid="file-input" accept=ACCEPT on:change=move |ev| input.pick_file(ev) />
            </label>
            {handoff::run_button(st)}
            <Show when=move || st.run_shown.get() == Some(false)>
                <button data-testid="back-to-run" on:click=move |_| handoff::show_run(st)>"Back to run"</button>
            </Show>
            <span class="file-name">{move || data.with(|d| d.as_ref().map(|d| d.name.clone()).unwrap_or_default())}</span>
            <input type="search" data-testid="filter" placeholder="filter: sample, source, status, label, trace id"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev)) />
            <label>"sort "
                <select on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                    "duration" => SortKey::Duration, "reward" => SortKey::Reward,
                    "lanes" => SortKey::Lanes, "open" => SortKey::Open, _ => SortKey::Start })>
                    <option value="start">"start"</option>
                    <option value="duration">"duration"</option>
                    <option value="reward">"reward"</option>
                    <option value="lanes">"lane count"</option>
                    <option value="open">"open spans"</option>
                </select>
            </label>
            <label><input type="checkbox" prop:checked=move || descending.get() on:change=move |_| descending.update(|d| *d = !*d) />"desc"</label>
            <label>"attempt "
                <select on:change=move |ev| attempt.set(event_target_value(&ev).parse().ok())>
                    <option value="">"all"</option>
                    {move || attempts.get().into_iter().map(|a| view! { <option value=a.to_string()>{a.to_string()}</option> }).collect_view()}
                </select>
                <select on:change=move |ev| attempt_filter.set(event_target_value(&ev) == "filter")>
                    <option value="highlight">"highlight"</option>
                    <option value="filter">"filter"</option>
                </select>
            </label>
            <button on:click=move |_| input.fit(false) title="Fit every row">"Fit all"</button>
            <button on:click=move |_| input.fit(true) title="Fit the rows the filter shows">"Fit filtered"</button>
            <button on:click=move |_| { st.overview.set(None); expanded.update(|e| *e = !*e) }>{move || if expanded.get() && overview.get().is_none() { "Collapse" } else { "Expand" }}</button>
            <button data-testid="overview-toggle" title="Every row as a thin strip: the whole rollout on one screen"
                on:click=move |_| overview.set(match overview.get_untracked() { Some(_) => None, None => Some(st.overview_fit(shown.with_untracked(|s| s.len()))) })>
                {move || if overview.get().is_some() { "Rows" } else { "Overview" }}</button>
            <label><input type="checkbox" prop:checked=move || show_events.get() on:change=move |_| show_events.update(|v| *v = !*v) />"events"</label>
            <label><input type="checkbox" prop:checked=move || show_open.get() on:change=move |_| show_open.update(|v| *v = !*v) />"open spans"</label>
            <label><input type="checkbox" prop:checked=move || show_orphans.get() on:change=move |_| show_orphans.update(|v| *v = !*v) />"orphan ends"</label>
            <label>"lane "
                <input type="range" min="8" max="32" prop:value=move || lane_h.get().to_string()
                    on:input=move |ev| lane_h.set(event_target_value(&ev).parse().unwrap_or(16.0)) />
            </label>
            <label><input type="checkbox" prop:checked=move || show_counters.get() on:change=move |_| show_counters.update(|c| *c = !*c) />"counters"</label>
            <label><input type="checkbox" prop:checked=move || compact.get() on:change=move |_| compact.update(|c| *c = !*c) />"compact"</label>
            <button on:click=move |_| copy_link(st) title="Copy a link that reopens this view">"Copy link"</button>
            <button data-testid="export-chrome" on:click=move |_| client.export("chrome") title="Chrome Trace Event JSON, for Perfetto or chrome://tracing">"Export Chrome"</button>
            <button data-testid="export-otlp" on:click=move |_| client.export("otlp") title="OTLP/JSON, for an OpenTelemetry collector, Tempo or Jaeger">"Export OTLP"</button>
            <button data-testid="export-cache" on:click=move |_| client.export("cache") title="slime's timeline cache JSON (what `rollscope cache` writes)">"Export cache"</button>
            {move || notice.get().map(|n| view! { <span class="notice">{n}</span> })}
            <span class="counts">
                <span data-testid="row-count">{move || shown.get().len().to_string()}</span>" rows · "
                <span data-testid="span-count">{move || span_count.get().to_string()}</span>" spans"
            </span>
        </header>
    }
}

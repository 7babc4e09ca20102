//! The app: creates the state and the parts, and lays out the page. Behaviour lives in the
//! parts: `state` (signals, derived rows), `worker_client` (loading), `url_state` (the link),
//! `embed` (a parent page), `input` (gestures), `canvas` (drawing), `panels` (the rest).

use leptos::prelude::*;

use crate::canvas::{self, timeline_view};
use crate::dom::{prefers_dark, set_body_state};
use crate::embed;
use crate::input::Input;
use crate::panels::details::{cursor_stats, details_panel};
use crate::panels::legend::{counters_legend, span_legend};
use crate::panels::metrics::metrics_view;
use crate::panels::status::status_banners;
use crate::panels::toolbar::toolbar;
use crate::run::handoff;
use crate::state::{SideTab, State};
use crate::url_state::{has_search_param, search_param, Link};
use crate::worker_client::Client;

#[component]
pub fn App() -> impl IntoView {
    let st = State::new(prefers_dark());
    let link = Link::new(st);
    let client = Client::new(st, link);
    let input = Input::new(st, client);
    // The run explorer (its own lazily loaded app, in `#run-root`) replaces the timeline
    // while a run is open, until a dump is opened from it here ("Back to run" returns).
    let run_shown = move || st.run_shown.get() == Some(true);

    Effect::new(move |_| set_body_state(st.phase.get()));

    // The link's view state (#url=…&q=…&sort=…&t0=…&t1=…&sel=row:item); then ?url=…; with
    // nothing given, the bundled demo dump.
    let url = link.restore();
    let embedded = has_search_param("embed");
    let run_url = search_param("run").filter(|r| !r.is_empty());
    handoff::listen(st, client, input);
    if run_url.is_none() {
        handoff::folder_link_notice(st);
    }
    let is_run = run_url.is_some();
    if let Some(r) = run_url {
        // `?run=<index URL>` (from `rollscope DIR`): the run (the run app), not a dump.
        handoff::open_url(st, r);
    } else if client.open_embedded_report() {
        // A one-file report: its file's bytes are in the page, opened like any file.
    } else if let Some(url) = url {
        client.open_url(url);
    } else if !embedded {
        client.open_url("./demo.pt".into());
    }
    // Nothing opened yet (an embedding page that sends its file later, or the user's pick):
    // the loader starts now, not when the file comes. (A run opens in the run app.)
    if !is_run {
        client.prestart();
    }
    embed::listen(st, client);
    canvas::install(st);
    input.listen_keys();
    link.keep_in_link();
    client.install_watchdog();
    client.follow_selection();
    client.install_test_hook();

    let side_tab = st.side_tab;
    view! {
        <div class="app" class:dragging=move || st.dragging_file.get() class:compact=move || st.compact.get() class:run-shown=run_shown
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); st.dragging_file.set(true); }
            on:dragleave=move |_| st.dragging_file.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                // A folder (or several dumps) is a run; one file opens in the timeline.
                if handoff::drop(st, &ev) { st.dragging_file.set(false) } else { input.drop_file(ev) }
            }>
            {toolbar(st, input, client)}
            {status_banners(st, client)}
            <div id="run-root" class="run-wrap" class:hidden=move || !run_shown()></div>
            <main class="body" class:hidden=run_shown>
                {timeline_view(st, input)}
                <aside class="side">
                    <nav class="tabs">
                        <button class:active=move || side_tab.get() == SideTab::Details on:click=move |_| side_tab.set(SideTab::Details)>"Details"</button>
                        <button class:active=move || side_tab.get() == SideTab::Metrics data-testid="metrics-tab" on:click=move |_| side_tab.set(SideTab::Metrics)>"Metrics"</button>
                    </nav>
                    <Show when=move || side_tab.get() == SideTab::Metrics>
                        <section class="metrics" data-testid="metrics">
                            {move || st.data.get().map(|d| metrics_view(&d, move |ri| input.reveal(ri)))}
                        </section>
                    </Show>
                    <section class="details" data-testid="details" class:hidden=move || side_tab.get() != SideTab::Details>
                        <h3>"Details"</h3>
                        {details_panel(st)}
                    </section>
                    <section>{cursor_stats(st)}</section>
                    {counters_legend(st)}
                    {span_legend(st)}
                </aside>
            </main>
            <footer class="footer" class:hidden=run_shown>
                {move || st.view.get().map(|v| {
                    let origin = st.data.with(|d| d.as_ref().map_or(0.0, |d| d.origin()));
                    format!("visible: {} → {} ({})",
                        timeline::format_duration(v.t0 - origin, v.span() / 100.0),
                        timeline::format_duration(v.t1 - origin, v.span() / 100.0),
                        timeline::format_duration(v.span(), v.span() / 100.0))
                }).unwrap_or_else(|| "Drop a rollout dump (.pt), a slime cache or OTLP/JSON (.json), or Prometheus data (.json, .txt) anywhere.".into())}
                <span class="muted">" · wheel: zoom · shift+wheel: scroll · drag: pan · W/S/A/D · ↑/↓ · Esc"</span>
            </footer>
        </div>
    }
}

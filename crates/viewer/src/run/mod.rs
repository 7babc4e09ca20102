//! The run explorer: a whole `--dump-details` run opened as a folder, a drop, or
//! `?run=<index URL>`. It is its own lazily loaded wasm app (`bin/runapp`, with its worker
//! `bin/runworker`): the timeline page links only `handoff.rs` (takes the run, starts the app,
//! window events), so a plain page load fetches none of it. The run app keeps one summary per
//! dump and the open step only; the run worker reads the dumps one at a time.
//!
//! Files: `handoff.rs` (the page's side), `app.rs` (the run app's root), `open.rs` (opening what
//! the page handed over: files, or a `?run=` index), `client.rs` (the run worker's messages),
//! `state.rs` (signals), `math.rs` (names, bins, ticks; tested natively), `trends.rs` (charts over
//! rollout id; their data in `chart_data.rs` and `trends_train.rs`, tested natively), `dists.rs` (histograms per rollout), `rollouts.rs` (the table), `compare.rs` (two
//! rollouts), `runs_pair.rs` and `pair_chart.rs` (a second run, B, beside this one), `crash.rs`
//! (the banner when the run app traps), `link.rs` (`#step=…&sample=…`), `live.rs` and
//! `client/follow.rs` (a run still being written: polled, re-read, merged), this
//! file (the layout and opening a step); the step view and the sample inspector are `step.rs`,
//! `step_rows.rs`, `step_table.rs`, `inspector.rs`, `images.rs`, `tokens.rs` and `token_view.rs`.

// ---- the page's hand-off (linked into the timeline page) ----
#[cfg(target_arch = "wasm32")]
pub mod handoff;
// ---- the run app (`bin/runapp`): the shell ----
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod app;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod chart_data;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod client;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod compare;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod crash;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod dists;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod link;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod live;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod math;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod open;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod pair_chart;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod rollouts;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod runs_pair;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod state;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod trends;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod trends_train;
// ---- the run app: the step view and the sample inspector ----
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod images;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod inspector;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod step;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
mod step_rows;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod step_table;
#[cfg(any(not(target_arch = "wasm32"), feature = "run-app"))]
pub mod token_view;
#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub mod tokens;

#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
pub use shell::*;

#[cfg(all(target_arch = "wasm32", feature = "run-app"))]
mod shell {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::client::RunClient;
    use super::inspector::SampleInspector;
    use super::math::dump_label;
    use super::step::StepView;
    use crate::dom::window;

    /// Opens dump `index` as the step and brings the step view into sight.
    pub fn open_step(run: RunClient, index: usize) {
        run.open_step(index);
        let cb = Closure::once_into_js(move || {
            if let Some(el) = window()
                .document()
                .and_then(|d| d.get_element_by_id("run-step-view"))
            {
                el.scroll_into_view();
            }
        });
        let _ =
            window().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 30);
    }

    /// Hands the open step's dump to the timeline page (`rollscope-open-timeline`), which
    /// opens it and selects sample `position`'s row; this view is hidden meanwhile.
    fn open_trace(run: RunClient, position: usize) {
        let rs = run.state();
        let Some(file) = rs.open_step.get_untracked().and_then(|i| {
            rs.dumps
                .with_untracked(|d| d.get(i).map(|d| d.file.clone()))
        }) else {
            return;
        };
        let Some(src) = run.source(&file) else {
            rs.step_error
                .set(Some(format!("{file}: the file is no longer available")));
            return;
        };
        let name = file.rsplit('/').next().unwrap_or(&file).to_string();
        let (f, url) = match src.as_string() {
            Some(u) => (JsValue::NULL, JsValue::from(u)),
            None => (src, JsValue::NULL),
        };
        show_timeline(f, url, name.into(), JsValue::from(position as u32));
    }

    /// `rollscope-open-timeline`: `{file, url, name, rowId}` (all null: just show it).
    fn show_timeline(file: JsValue, url: JsValue, name: JsValue, row: JsValue) {
        let detail = js_sys::Object::new();
        for (k, v) in [("file", file), ("url", url), ("name", name), ("rowId", row)] {
            let _ = js_sys::Reflect::set(&detail, &k.into(), &v);
        }
        super::handoff::dispatch(super::handoff::EV_OPEN_TIMELINE, &detail);
    }

    fn step_section(run: RunClient) -> impl IntoView {
        let rs = run.state();
        let title = move || {
            rs.open_step.get().and_then(|i| {
                rs.dumps.with(|d| {
                    d.get(i)
                        .map(|d| format!("Step: rollout {} · {}", dump_label(d), d.file))
                })
            })
        };
        let step = Signal::derive(move || rs.step.get());
        let selected = Signal::derive(move || rs.sample.get());
        let detail = Signal::derive(move || rs.detail.get());
        let has_tok = Signal::derive(move || rs.has_tokenizer.get());
        let on_select = Callback::new(move |p: usize| run.select_sample(Some(p)));
        let on_open_trace = Callback::new(move |p: usize| open_trace(run, p));
        let on_close = Callback::new(move |_: ()| run.select_sample(None));
        view! {
            <section class="run-step-section" id="run-step-view" data-testid="run-step-view"
                class:hidden=move || rs.open_step.get().is_none()
                data-state=move || if rs.step_error.get().is_some() { "error" } else if rs.step.with(|s| s.is_some()) { "ready" } else { "loading" }>
                <h3>{title}
                    {move || (rs.open_step.get().is_some() && rs.step.with(|s| s.is_none()) && rs.step_error.get().is_none())
                        .then(|| view! { <span class="muted">" reading…"</span> })}</h3>
                {move || rs.step_error.get().map(|e| view! { <div class="run-error" data-testid="step-error" role="alert">{e}</div> })}
                {move || rs.detail_error.get().map(|e| view! { <div class="run-error" role="alert">{e}</div> })}
                <div class="run-step-body">
                    <div class="run-step-table"><StepView step=step selected=selected on_select=on_select /></div>
                    <div class="run-step-inspector"><SampleInspector detail=detail has_tokenizer=has_tok on_open_trace=on_open_trace on_close=on_close /></div>
                </div>
                {super::runs_pair::pair().map(|p| super::runs_pair::replay_panel(run, p))}
            </section>
        }
    }

    /// The explorer: head (name, progress, notes, errors), trends, distributions, the rollout
    /// table, compare, the open step.
    pub fn run_explorer(run: RunClient) -> impl IntoView {
        let rs = run.state();
        let total = move || rs.dumps.with(|d| d.len());
        let state = move || {
            if rs.error.get().is_some() {
                "error"
            } else if rs.done.get() {
                "ready"
            } else {
                "loading"
            }
        };
        view! {
            <div class="run" data-testid="run" data-state=state
                data-done=move || rs.received().to_string() data-total=move || total().to_string()>
                <header class="run-head">
                    <h2>"Run "<span class="run-name">{move || rs.name.get().unwrap_or_default()}</span></h2>
                    <span data-testid="run-progress" class="run-progress">
                        {move || format!("{} / {} dumps", rs.received(), total())}
                        {move || (!rs.done.get() && total() > 0).then(|| view! { <progress max=total().to_string() value=rs.received().to_string()></progress> })}
                    </span>
                    <span class="muted">{move || if rs.has_tokenizer.get() { "tokenizer: yes" } else { "tokenizer: none" }}</span>
                    {super::client::live_head(run)}
                    <button data-testid="show-timeline" on:click=move |_| show_timeline(JsValue::NULL, JsValue::NULL, JsValue::NULL, JsValue::NULL)
                        title="The timeline of the last dump opened there">"Timeline"</button>
                    {super::runs_pair::pair().map(|p| super::runs_pair::head(run, p))}
                </header>
                {move || rs.error.get().map(|e| view! { <div class="run-error" data-testid="run-error" role="alert">{e}</div> })}
                {move || {
                    let n = rs.notes.get();
                    (!n.is_empty()).then(|| view! {
                        <details class="run-notes" data-testid="run-notes"><summary>{format!("{} notes", n.len())}</summary>
                            <ul>{n.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul></details>
                    })
                }}
                {super::trends::trends(run)}
                {super::dists::small_multiples(run)}
                <div class="run-mid">
                    {super::rollouts::table(run)}
                    {super::compare::panel(run)}
                </div>
                {super::runs_pair::pair().map(|p| super::runs_pair::logprob_tables(run, p))}
                {step_section(run)}
            </div>
        }
    }
}

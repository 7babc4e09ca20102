//! A second run beside the open one (run B; the open run is A): opened with *Add run…* (a
//! folder) or a second `?run=<index URL>` (`rollscope A B`; kept in the link). B has its own
//! worker and state (a second [`RunClient`]); A's step and sample are followed in B (the same
//! rollout id, the same position: a replay's samples). Its trends are laid over A's
//! (`pair_chart`), the rollout table shows B − A, and the step section the per-token
//! difference of the selected sample's train log probs (A − B, `trace::run::per_token_diff`).
//! Not to be confused with `compare.rs`, which compares two rollouts of one run.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{
    logprob_diff, most_different, per_token_diff, DumpKind, DumpRef, RolloutSummary, SampleDetail,
    TrainPair, MOST_DIFFERENT,
};
use wasm_bindgen::prelude::*;

use super::chart_data::{charts, Chart, Sums};
use super::client::RunClient;
use super::math::{dump_label, metric};
use super::pair_chart::{overlay, remap_x, same_dump, samples_seen_x};
use super::state::RunState;
use crate::dom::window;
use crate::numbers::compact_opt as fmt_opt;

/// Run B and how the trends are aligned, shared through Leptos context.
#[derive(Clone, Copy)]
pub struct Pair {
    pub b: RunClient,
    /// Trends over samples seen instead of rollout id.
    pub by_samples: RwSignal<bool>,
    /// The train dumps of A compared with B's (`RunState::pair_train`, same order): A's dump
    /// index and rollout id.
    asked: StoredValue<Vec<(usize, i64)>>,
}

/// The pair, when the run app has one (always, once [`install`]ed).
pub fn pair() -> Option<Pair> {
    use_context::<Pair>()
}

/// Whether run B is open.
pub fn b_open(p: Pair) -> bool {
    p.b.state().name.with(Option::is_some)
}

/// Makes run B's client, opens a second `?run=` in it, and keeps B's step and sample on A's.
pub fn install(a: RunClient) -> Pair {
    let p = Pair {
        b: RunClient::new(RunState::new()),
        by_samples: RwSignal::new(false),
        asked: StoredValue::new(Vec::new()),
    };
    provide_context(p);
    if let Some(url) = second_run_param() {
        super::open::open_index(p.b, url);
    }
    let (ra, rb) = (a.state(), p.b.state());
    // A's step, in B: the dump of the same rollout id and kind (once B's dumps are known).
    Effect::new(move |_| {
        let step = ra.open_step.get();
        let bd = rb.dumps.get();
        let Some(d) = step.and_then(|i| ra.dumps.with_untracked(|d| d.get(i).cloned())) else {
            return;
        };
        if let Some(j) = same_dump(&bd, &d) {
            p.b.open_step(j);
        }
    });
    // Once both runs are read: A's train dumps compared with B's of the same rollout id.
    Effect::new(move |_| {
        if !(ra.done.get() && rb.done.get() && b_open(p)) {
            return;
        }
        let (da, db) = (ra.dumps.get(), rb.dumps.get());
        let (mut asked, mut pa, mut pb) = (Vec::new(), Vec::new(), Vec::new());
        for (i, d) in da.iter().enumerate() {
            let Some(j) = same_dump(&db, d).filter(|_| d.kind == DumpKind::Train) else {
                continue;
            };
            let (Some(ta), Some(tb)) = (&d.train_file, &db[j].train_file) else {
                continue;
            };
            let Some(src) = p.b.source(tb) else { continue };
            asked.push((i, d.rollout_id));
            pa.push(ta.clone());
            pb.push(src);
        }
        p.asked.set_value(asked);
        if !pa.is_empty() {
            a.compare_train(&pa, &pb);
        }
    });
    // A's sample, in B: the same position (a replay's samples are in the same order).
    Effect::new(move |_| {
        let s = ra.sample.get();
        let ready = rb.step.with(Option::is_some);
        if ready && rb.sample.get_untracked() != s {
            p.b.select_sample(s);
        }
    });
    p
}

/// The second `run` of the page's query (`?run=A&run=B`).
fn second_run_param() -> Option<String> {
    let search = window().location().search().ok()?;
    let q = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let all: js_sys::Array = q.get_all("run");
    all.get(1).as_string().filter(|s| !s.is_empty())
}

/// The folder input's `change`: B is every file with its `webkitRelativePath`.
fn add_folder(p: Pair, ev: leptos::ev::Event) {
    let input: web_sys::HtmlInputElement = event_target(&ev);
    let mut files = Vec::new();
    if let Some(list) = input.files() {
        for i in 0..list.length().min(trace::run::MAX_RUN_FILES as u32) {
            let Some(f) = list.get(i) else { continue };
            let rel = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| f.name());
            files.push((rel, JsValue::from(f)));
        }
    }
    input.set_value("");
    let name = files
        .first()
        .and_then(|(p, _)| p.split_once('/').map(|(top, _)| top.to_string()))
        .unwrap_or_else(|| "run B".into());
    if files.is_empty() {
        p.b.state()
            .error
            .set(Some("the chosen folder has no files".into()));
        return;
    }
    p.b.open(name, files);
}

/// The head's part: *Add run…*, and with B open its name, progress and the alignment toggle.
pub fn head(a: RunClient, p: Pair) -> impl IntoView {
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = folder.get() {
            let _ = el.set_attribute("webkitdirectory", "");
        }
    });
    let rb = p.b.state();
    let ra = a.state();
    view! {
        <span class="run-pair" data-testid="run-pair" data-state=move || {
            if rb.error.get().is_some() { "error" } else if rb.done.get() { "ready" } else if b_open(p) { "loading" } else { "none" }
        }>
            <label class="button" title="A second run folder, compared with this one (B − A)">
                "Add run…"
                <input type="file" data-testid="run-add-input" node_ref=folder multiple on:change=move |ev| add_folder(p, ev) />
            </label>
            {move || b_open(p).then(|| view! {
                <span class="muted" data-testid="run-pair-names">
                    {format!("A = {} · B = {} ({} / {} dumps)",
                        ra.name.get().unwrap_or_default(), rb.name.get().unwrap_or_default(),
                        rb.received(), rb.dumps.with(|d| d.len()))}
                </span>
                <label title="Trends over the samples trained on, for runs whose rollouts differ in size">
                    <input type="checkbox" data-testid="run-pair-samples-seen"
                        prop:checked=move || p.by_samples.get()
                        on:change=move |ev| p.by_samples.set(event_target_checked(&ev)) />
                    " align by samples seen"
                </label>
            })}
            {move || rb.error.get().map(|e| view! { <span class="run-err" data-testid="run-pair-error">{format!("run B: {e}")}</span> })}
        </span>
    }
}

/// B − A of a rollout-table row's reward, mean response length and train log prob (`—` when
/// B has no such dump or value). Read while the table renders its rows, so a row is redrawn
/// as B's summaries arrive.
pub fn delta_cells(p: Pair, ra: RunState, i: usize) -> impl IntoView {
    let rb = p.b.state();
    let (x, y) = (
        ra.summaries.with(|s| s.get(i).cloned().flatten()),
        ra.dumps
            .with(|d| d.get(i).cloned())
            .and_then(|d| rb.dumps.with(|b| same_dump(b, &d)))
            .and_then(|j| rb.summaries.with(|s| s.get(j).cloned().flatten())),
    );
    // pass@1 as `rollscope run` shows it (an eval's is the mean over its sets).
    let get = |s: &RolloutSummary, key: &str| match key {
        "pass@1" => s.pass_at(1),
        _ => metric(s, key),
    };
    ["reward/mean", "pass@1", "rollout/response_len/mean", "rollout/log_probs"]
        .into_iter()
        .map(|key| {
            let v = x
                .as_ref()
                .zip(y.as_ref())
                .and_then(|(x, y)| Some(get(y, key)? - get(x, key)?));
            let text = v.map_or("—".into(), |v| format!("{}{}", if v >= 0.0 { "+" } else { "" }, fmt_opt(Some(v))));
            view! { <td class="num delta" data-key=key data-value=v.map(|v| v.to_string()).unwrap_or_default()>{text}</td> }
        })
        .collect_view()
}

/// The rollout table's headers of [`delta_cells`], while B is open.
pub fn delta_heads() -> impl IntoView {
    move || {
        pair().filter(|p| b_open(*p)).map(|_| view! {
            <th title="B − A of reward/mean (run B's dump of the same rollout id)" data-col="Δ reward">"Δ reward"</th>
            <th title="B − A of pass@1 (an eval's: the mean over its sets)" data-col="Δ pass@1">"Δ pass@1"</th>
            <th title="B − A of the mean response length" data-col="Δ len">"Δ len"</th>
            <th title="B − A of the train side's mean log prob (rollout/log_probs)" data-col="Δ log probs">"Δ log probs"</th>
        })
    }
}

/// The trend charts of A, with B's laid over them while B is open (tracked), and the dumps
/// the charts' points refer to (A's, then B's).
pub fn trend_charts(
    p: Pair,
    dumps: &Arc<Vec<DumpRef>>,
    sums: &Sums,
    names: &[String],
) -> (Vec<Chart>, Arc<Vec<DumpRef>>) {
    let mut ca = charts(dumps, sums, names);
    if !b_open(p) {
        return (ca, dumps.clone());
    }
    let rb = p.b.state();
    let (db, sb) = (rb.dumps.get(), rb.summaries.get());
    let mut cb = charts(&db, &sb, &rb.eval_names.get());
    if p.by_samples.get() {
        remap_x(&mut ca, &samples_seen_x(dumps, sums));
        remap_x(&mut cb, &samples_seen_x(&db, &sb));
    }
    let both: Vec<DumpRef> = dumps.iter().chain(db.iter()).cloned().collect();
    (overlay(ca, cb, dumps.len()), Arc::new(both))
}

/// The per-token difference A − B of the selected sample's train log probs.
pub fn replay_panel(a: RunClient, p: Pair) -> impl IntoView {
    let (ra, rb) = (a.state(), p.b.state());
    move || {
        if !b_open(p) || ra.sample.get().is_none() {
            return None;
        }
        let step_b = rb
            .open_step
            .get()
            .and_then(|j| rb.dumps.with(|d| d.get(j).map(dump_label)));
        let (da, db) = (ra.detail.get(), rb.detail.get());
        let body = match (&da, &db, step_b) {
            (_, _, None) => {
                view! { <p class="muted">"run B has no dump of this rollout"</p> }.into_any()
            }
            (Some(x), Some(y), Some(_)) => diff_view(x, y).into_any(),
            _ => view! { <p class="muted">"reading the sample in both runs…"</p> }.into_any(),
        };
        Some(view! {
            <section class="run-replay" data-testid="run-replay">
                <h4>"Train log probs, A − B"</h4>
                {body}
            </section>
        })
    }
}

fn diff_view(a: &SampleDetail, b: &SampleDetail) -> impl IntoView {
    let lp = |d: &SampleDetail| {
        d.train
            .as_ref()
            .map(|t| t.log_probs.clone())
            .unwrap_or_default()
    };
    let (la, lb) = (lp(a), lp(b));
    let Some(sum) = logprob_diff(&la, &lb) else {
        return view! { <p class="muted" data-testid="run-replay-none">"no train log probs on both sides for this sample"</p> }.into_any();
    };
    let diff = per_token_diff(&la, &lb);
    let scale = if sum.max_abs > 0.0 { sum.max_abs } else { 1.0 };
    let text_of = |j: usize| -> String {
        a.pieces
            .as_ref()
            .and_then(|p| p.get(j).map(|p| p.text.clone()))
            .or_else(|| a.tokens.get(j).map(|t| format!("[{t}]")))
            .unwrap_or_else(|| "·".into())
    };
    let tokens = diff
        .iter()
        .enumerate()
        .map(|(j, &d)| {
            let t = (f64::from(d) / scale).clamp(-1.0, 1.0);
            let (r, g, bl) = if t >= 0.0 { (209, 36, 47) } else { (9, 105, 218) };
            let style = format!("background:rgba({r},{g},{bl},{:.2})", 0.85 * t.abs());
            let title = format!("token {j}: A − B = {d:.5}");
            view! { <span class="tok" style=style title=title data-testid="run-replay-token" data-diff=format!("{d:.6}")>{text_of(j)}</span> }
        })
        .collect_view();
    view! {
        <p data-testid="run-replay-summary" data-mean-abs=format!("{:.6}", sum.mean_abs) data-max-abs=format!("{:.6}", sum.max_abs)>
            {format!("{} tokens{}{} · mean |A − B| {:.5} · max {:.5} (token {})",
                sum.tokens, if sum.length_differs { " (lengths differ)" } else { "" },
                if sum.non_finite > 0 { format!(" ({} not a number: NaN or ∞, left out)", sum.non_finite) } else { String::new() },
                sum.mean_abs, sum.max_abs, sum.max_at)}
            " "<span class="legend-item"><i style="border-color:#0969da"></i>"A < B"</span>
            <span class="legend-item"><i style="border-color:#d1242f"></i>"A > B"</span>
        </p>
        <div class="run-replay-tokens">{tokens}</div>
    }
    .into_any()
}

/// Per rollout, how far apart A's and B's train log probs are, and the samples that differ
/// most (a click opens one in A and B), once A's worker has compared them.
pub fn logprob_tables(a: RunClient, p: Pair) -> impl IntoView {
    let ra = a.state();
    move || {
        let pairs = ra.pair_train.get()?;
        let asked = p.asked.get_value();
        let done: Vec<(usize, i64, TrainPair)> = asked
            .iter()
            .zip(pairs)
            .filter_map(|(&(i, id), t)| Some((i, id, t?)))
            .collect();
        let f = |x: Option<f64>| x.map_or("—".into(), |v| format!("{v:.5}"));
        let rollouts = done
            .iter()
            .map(|(_, id, t)| {
                view! {
                    <tr data-testid="run-pair-rollout" data-rollout-id=id.to_string()
                        data-mean-abs=t.mean_abs.map(|v| v.to_string()).unwrap_or_default()
                        data-max-abs=t.max_abs.map(|v| v.to_string()).unwrap_or_default()>
                        <td class="num">{id.to_string()}</td>
                        <td class="num">{t.samples.len().to_string()}</td>
                        <td class="num">{format!("{} / {}", t.only_a, t.only_b)}</td>
                        <td class="num">{f(t.mean_abs)}</td>
                        <td class="num">{f(t.max_abs)}</td>
                    </tr>
                }
            })
            .collect_view();
        let refs: Vec<(i64, &TrainPair)> = done.iter().map(|(_, id, t)| (*id, t)).collect();
        let index_of = |id: i64| done.iter().find(|d| d.1 == id).map(|d| d.0);
        let samples = most_different(&refs, MOST_DIFFERENT)
            .into_iter()
            .map(|(id, x, _, d)| {
                let i = index_of(id);
                view! {
                    <tr data-testid="run-pair-sample" data-rollout-id=id.to_string() data-position=x.to_string()
                        data-mean-abs=d.mean_abs.to_string()
                        on:click=move |_| {
                            if let Some(i) = i {
                                super::open_step(a, i);
                                a.select_sample(Some(x));
                            }
                        }>
                        <td class="num">{id.to_string()}</td>
                        <td class="num">{x.to_string()}</td>
                        <td class="num">{d.tokens.to_string()}</td>
                        <td class="num">{format!("{:.5}", d.mean_abs)}</td>
                        <td class="num">{format!("{:.5}", d.max_abs)}</td>
                        <td class="num">{d.max_at.to_string()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <section class="run-pair-logprobs" data-testid="run-pair-logprobs">
                <h3>"Train log probs, A vs B"<span class="muted">" — samples matched by index; |A − B| per token"</span></h3>
                <div class="run-mid">
                    <div class="table-wrap"><table class="run-table">
                        <thead><tr><th>"rollout"</th><th>"matched"</th><th>"only A / B"</th><th>"mean |Δ|"</th><th>"max |Δ|"</th></tr></thead>
                        <tbody>{rollouts}</tbody>
                    </table></div>
                    <div class="table-wrap"><table class="run-table" data-testid="run-pair-most">
                        <thead><tr><th>"rollout"</th><th>"sample"</th><th>"tokens"</th><th>"mean |Δ|"</th><th>"max |Δ|"</th><th>"at token"</th></tr></thead>
                        <tbody>{samples}</tbody>
                    </table></div>
                </div>
            </section>
        })
    }
}

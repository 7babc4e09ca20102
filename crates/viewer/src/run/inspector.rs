//! The sample inspector: one sample in full — prompt (text, or chat messages as a
//! conversation), its images (`images.rs`), the whole response (tool output marked where the tokenizer's pieces and the
//! loss mask say which characters it is), label, reward (a dict as a table), status,
//! metadata, the train-side fields, the token view, and a link to its row in the timeline.
//!
//! Dump text is text: everything here is a text node (`<script>` in a response shows as
//! characters). The response is one `<pre>` that wraps anywhere, so a 20 000-character line
//! is whole and visible, never cut.

use leptos::prelude::*;
use serde_json::Value as J;
use trace::run::{Prompt, SampleDetail, SampleRow};

use super::step_table as st;
use super::token_view::{response_shown, token_count, tool_segments, RESPONSE_PAGE};
use super::tokens::TokenView;
use crate::numbers;

/// JSON as readable text: strings as they are, the rest pretty-printed.
fn json_block(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

fn prompt_view(p: &Prompt) -> AnyView {
    match p {
        Prompt::Text(s) => {
            view! { <pre class="insp-text" data-testid="sample-prompt">{s.clone()}</pre> }
                .into_any()
        }
        Prompt::Messages(ms) => {
            let items = ms
                .iter()
                .map(|m| {
                    let role = m.role.clone();
                    let class = format!(
                        "insp-msg insp-role-{}",
                        role.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .take(16)
                            .collect::<String>()
                            .to_ascii_lowercase()
                    );
                    let body = content_view(&m.content);
                    let shown = role.clone();
                    view! {
                        <div class=class data-role=role>
                            <div class="insp-role">{shown}</div>
                            {body}
                        </div>
                    }
                })
                .collect_view();
            view! { <div class="insp-chat" data-testid="sample-prompt">{items}</div> }.into_any()
        }
        Prompt::Other(v) => {
            view! { <pre class="insp-text" data-testid="sample-prompt">{json_block(v)}</pre> }
                .into_any()
        }
    }
}

/// A message's content: a string, or a list of content blocks (`{"type": "text", "text": …}`
/// and others, shown as their JSON).
fn content_view(c: &J) -> AnyView {
    match c {
        J::String(s) => view! { <pre class="insp-text">{s.clone()}</pre> }.into_any(),
        J::Array(blocks) => blocks
            .iter()
            .map(|b| {
                let text = b
                    .get("text")
                    .and_then(J::as_str)
                    .filter(|_| b.get("type").and_then(J::as_str) == Some("text"));
                match text {
                    Some(t) => view! { <pre class="insp-text">{t.to_string()}</pre> }.into_any(),
                    None => {
                        let kind = b
                            .get("type")
                            .and_then(J::as_str)
                            .unwrap_or("block")
                            .to_string();
                        view! { <div class="insp-block"><span class="insp-muted">{kind}</span><pre class="insp-text">{json_block(b)}</pre></div> }
                            .into_any()
                    }
                }
            })
            .collect_view()
            .into_any(),
        other => view! { <pre class="insp-text">{json_block(other)}</pre> }.into_any(),
    }
}

/// The response: with pieces and a loss mask, runs of tool output in `tok-tool` spans;
/// otherwise the plain text. Either way the `<pre>`'s text is exactly the response's first
/// pages ([`RESPONSE_PAGE`] characters each), and a button adds the next.
fn response_view(d: &SampleDetail) -> AnyView {
    let parts = tool_segments(d).filter(|s| s.iter().any(|&(_, _, tool)| tool));
    let total = d.response.chars().count();
    let text = StoredValue::new((d.response.clone(), parts));
    let pages = RwSignal::new(1usize);
    let body = move || {
        text.with_value(|(response, parts)| {
            let (cut, _) = response_shown(response, pages.get());
            match parts {
                Some(parts) => parts
                    .iter()
                    .filter(|&&(a, _, _)| a < cut)
                    .map(|&(a, b, tool)| {
                        let text = response.get(a..b.min(cut)).unwrap_or_default().to_string();
                        if tool {
                            view! { <span class="tok-tool" title="tool output (loss_mask 0: not trained on)">{text}</span> }.into_any()
                        } else {
                            view! { <span>{text}</span> }.into_any()
                        }
                    })
                    .collect_view()
                    .into_any(),
                None => response.get(..cut).unwrap_or_default().to_string().into_any(),
            }
        })
    };
    let more = move || {
        let pages_now = pages.get();
        let all = text.with_value(|(r, _)| response_shown(r, pages_now).1);
        let shown = (pages_now * RESPONSE_PAGE).min(total);
        (!all).then(|| {
            let next = (total - shown).min(RESPONSE_PAGE);
            view! {
                <button class="tok-more" data-testid="response-more" on:click=move |_| pages.update(|p| *p += 1)>
                    {format!("show {next} more characters ({shown} of {total} shown)")}
                </button>
            }
        })
    };
    view! { <pre class="insp-response" data-testid="sample-response">{body}</pre>{more} }.into_any()
}

fn fact(k: &'static str, v: String) -> AnyView {
    view! { <tr><th>{k}</th><td>{v}</td></tr> }.into_any()
}

fn facts(r: &SampleRow) -> AnyView {
    let opt = numbers::precise_opt;
    let mut rows = vec![
        fact("position", r.position.to_string()),
        fact("index", st::json_text(&r.index)),
        fact("group", st::json_text(&r.group_index)),
        fact("status", r.status.clone().unwrap_or_else(|| "—".into())),
        fact(
            "response length",
            format!(
                "{} tokens ({} trained) · {} chars · longest line {}",
                opt(r.response_length),
                opt(r.effective_response_length),
                r.response_chars,
                r.response_max_line_chars
            ),
        ),
        fact(
            "prompt",
            format!(
                "{} chars{}",
                r.prompt_chars,
                if r.prompt_is_messages {
                    " (messages)"
                } else {
                    ""
                }
            ),
        ),
    ];
    if r.requests > 0 || r.e2e_latency.is_some() {
        rows.push(fact(
            "requests",
            format!("{} · e2e latency {} s", r.requests, opt(r.e2e_latency)),
        ));
    }
    if r.cached_tokens.is_some() || r.total_prompt_tokens.is_some() {
        rows.push(fact(
            "prefix cache",
            format!(
                "{} of {} prompt tokens",
                opt(r.cached_tokens),
                opt(r.total_prompt_tokens)
            ),
        ));
    }
    if let Some(t) = r.non_generation_time {
        rows.push(fact(
            "non-generation time",
            format!("{} s", numbers::precise(t)),
        ));
    }
    if let Some(ds) = &r.eval_dataset {
        rows.push(fact("eval dataset", ds.clone()));
    }
    rows.extend(state_facts(r));
    let flags = st::flags(r);
    if !flags.is_empty() {
        rows.push(fact("flags", flags.join(", ")));
    }
    view! { <table class="insp-facts" data-testid="sample-facts">{rows}</table> }.into_any()
}

/// What slime's `Sample` says about its state: removed from training, how stale, the weight
/// versions that generated it, speculative decoding.
fn state_facts(r: &SampleRow) -> Vec<AnyView> {
    let s = &r.state;
    let mut rows = Vec::new();
    if s.remove_sample {
        rows.push(fact(
            "remove_sample",
            "yes: left out of training".to_string(),
        ));
    }
    if let Some(x) = r.staleness {
        rows.push(fact("staleness", format!("{x} rollouts")));
    }
    if !s.weight_versions.is_empty() {
        rows.push(fact("weight versions", s.weight_versions.join(", ")));
    }
    if let Some(v) = s.spec_verify_ct.filter(|v| *v > 0.0) {
        rows.push(fact(
            "speculative decoding",
            format!(
                "accept rate {} · accept length {} · {} verify steps",
                crate::numbers::precise_opt(s.spec_accept_rate),
                crate::numbers::precise_opt(s.spec_accept_length),
                crate::numbers::precise(v)
            ),
        ));
    }
    rows
}

fn train_facts(r: &SampleRow) -> AnyView {
    let Some(t) = &r.train else {
        return view! { <p class="insp-muted">"no train-side data for this sample"</p> }.into_any();
    };
    let opt = numbers::precise_opt;
    let int = |x: Option<i64>| x.map_or_else(|| "—".to_string(), |x| x.to_string());
    view! {
        <table class="insp-facts" data-testid="sample-train">
            {fact("raw reward", opt(t.raw_reward))}
            {fact("normalised reward", opt(t.normalized_reward))}
            {fact("advantage (mean)", opt(t.advantage_mean))}
            {fact("advantage (loss-masked, slime)", opt(t.advantage_masked_mean))}
            {fact("return (mean)", opt(t.return_mean))}
            {fact("KL (mean)", opt(t.kl_mean))}
            {fact("KL (loss-masked, slime)", opt(t.kl_masked_mean))}
            {fact("train − rollout log prob (mean)", opt(t.logprob_gap_mean))}
            {fact("|train − rollout log prob| (slime)", opt(t.logprob_abs_diff))}
            {fact("response length", opt(t.response_length))}
            {fact("rollout position", int(t.rollout_position))}
            {fact("sample index", int(t.sample_index))}
            {fact("data-parallel rank", int(t.data_parallel_rank))}
        </table>
    }
    .into_any()
}

fn reward_view(v: &J) -> AnyView {
    match v {
        J::Object(m) => {
            let rows = m
                .iter()
                .map(|(k, v)| view! { <tr><th>{k.clone()}</th><td>{st::json_text(v)}</td></tr> })
                .collect_view();
            view! { <table class="insp-facts" data-testid="sample-reward">{rows}</table> }.into_any()
        }
        other => view! { <div class="insp-value" data-testid="sample-reward">{st::json_text(other)}</div> }.into_any(),
    }
}

#[component]
pub fn SampleInspector(
    detail: Signal<Option<SampleDetail>>,
    has_tokenizer: Signal<bool>,
    on_open_trace: Callback<usize>,
    on_close: Callback<()>,
) -> impl IntoView {
    move || {
        detail.with(|d| {
            let Some(d) = d else {
                return view! { <aside class="insp" data-testid="sample-inspector"><p class="insp-muted">"Select a sample."</p></aside> }.into_any();
            };
            let pos = d.row.position;
            let traced = d.row.traced;
            let has_tokens = token_count(d) > 0;
            let tok_note = (!has_tokenizer.get() && has_tokens).then_some(
                "no tokenizer/tokenizer.json in this run: per-token values shown as a strip, one cell per token",
            );
            let tok_mismatch = (has_tokenizer.get() && has_tokens && d.pieces.is_some() && tool_segments(d).is_none())
                .then_some("the decoded tokens do not spell the response: tool output is not marked in the response");
            view! {
                <aside class="insp" data-testid="sample-inspector" data-position=pos.to_string()>
                    <header class="insp-head">
                        <b>{format!("sample {pos}")}</b>
                        <span class="insp-muted">{format!(" index {} · group {}", st::json_text(&d.row.index), st::json_text(&d.row.group_index))}</span>
                        {traced.then(|| view! {
                            <button class="insp-trace" data-testid="open-trace" on:click=move |_| on_open_trace.run(pos)>"Open in timeline"</button>
                        })}
                        {(!traced).then(|| view! { <span class="insp-muted">" (no trace events)"</span> })}
                        <button class="insp-close" data-testid="inspector-close" title="close" on:click=move |_| on_close.run(())>"✕"</button>
                    </header>
                    {facts(&d.row)}
                    <h4>"reward"</h4>
                    {reward_view(&d.reward)}
                    <h4>"label"</h4>
                    <pre class="insp-text" data-testid="sample-label">{json_block(&d.label)}</pre>
                    <h4>"prompt"</h4>
                    {prompt_view(&d.prompt)}
                    {super::images::images_view(&d.images)}
                    <h4>"response"</h4>
                    {tok_mismatch.map(|m| view! { <p class="insp-muted">{m}</p> })}
                    {response_view(d)}
                    {has_tokens.then(|| view! {
                        <h4>"tokens"</h4>
                        {tok_note.map(|m| view! { <p class="insp-muted">{m}</p> })}
                        <TokenView detail=d.clone() />
                    })}
                    <h4>"train side"</h4>
                    {train_facts(&d.row)}
                    <h4>"metadata"</h4>
                    <pre class="insp-text" data-testid="sample-metadata">{json_block(&d.metadata)}</pre>
                </aside>
            }
            .into_any()
        })
    }
}

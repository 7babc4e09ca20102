//! The Metrics panel: health badges, percentile table, key figures, request size buckets,
//! time in spans, slowest samples and groups.

use leptos::prelude::*;
use trace::json::py_str;

use crate::numbers::{precise as fmt_num, precise_opt};
use crate::state::Loaded;

/// The Metrics panel: health badges, percentile table, key figures, request size buckets,
/// time in spans, slowest samples and groups (clicking those selects them on the timeline).
pub fn metrics_view(d: &Loaded, reveal: impl Fn(usize) + Copy + 'static) -> AnyView {
    let a = &d.analysis;
    let health = a
        .health
        .iter()
        .map(|h| {
            view! {
                <li class=if h.ok { "badge ok" } else { "badge warn" } title=format!("{} (threshold {})", h.metric, h.threshold)>
                    {if h.ok { "✓ " } else { "⚠ " }}{h.message.clone()}
                </li>
            }
        })
        .collect_view();
    let short = |n: &str| {
        n.trim_start_matches("perf/")
            .trim_start_matches("rollout/")
            .to_string()
    };
    let table = a
        .distributions
        .iter()
        .map(|(name, st)| {
            let id = match name.as_str() {
                "perf/request/e2e_latency" => "metric-e2e",
                "perf/request/queue_time" => "metric-queue",
                "perf/decode/throughput" => "metric-decode",
                _ => "",
            };
            view! {
                <tr data-testid=id title=name.clone()>
                    <th>{short(name)}</th>
                    <td>{st.count.to_string()}</td>
                    <td>{fmt_num(st.p50)}</td>
                    <td>{fmt_num(st.p90)}</td>
                    <td class="p99">{fmt_num(st.p99)}</td>
                    <td>{fmt_num(st.max)}</td>
                </tr>
            }
        })
        .collect_view();
    let mut figures: Vec<(String, String)> = Vec::new();
    figures.push((
        "samples / traced / requests".into(),
        format!("{} / {} / {}", a.samples, d.rows.len(), a.requests),
    ));
    if let Some(t) = a.tokens_per_sec {
        figures.push(("completion tokens/s (step)".into(), fmt_num(t)));
    }
    if let Some(h) = a.prefix_cache_hit_rate {
        figures.push(("prefix cache hit rate".into(), format!("{:.1}%", h * 100.0)));
    }
    if let (Some(t), Some(sh)) = (a.tail_seconds, a.tail_share) {
        figures.push((
            "wait for the last 10%".into(),
            format!(
                "{} ({:.0}% of wall)",
                timeline::format_duration(t, 0.01),
                sh * 100.0
            ),
        ));
    }
    for (k, v) in a
        .slime
        .iter()
        .filter(|(k, _)| k == "rollout/truncated_ratio" || k.starts_with("rollout/zero_std"))
    {
        figures.push((short(k), fmt_num(*v)));
    }
    let figures = figures
        .into_iter()
        .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
        .collect_view();
    let bars = |title: &'static str, items: &[(String, usize)]| {
        let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
        let rows = items
            .iter()
            .map(|(k, n)| {
                let w = *n as f64 / max as f64 * 100.0;
                view! { <li><span class="bar-label">{k.clone()}</span><span class="bar" style=format!("width:{w:.0}%")></span><span class="muted">{n.to_string()}</span></li> }
            })
            .collect_view();
        view! { <h4>{title}</h4><ul class="bars">{rows}</ul> }
    };
    let spans = a
        .time_by_span
        .iter()
        .take(8)
        .map(|(n, secs, share)| view! { <tr><th>{n.clone()}</th><td>{timeline::format_duration(*secs, 0.01)}</td><td>{format!("{:.1}%", share * 100.0)}</td></tr> })
        .collect_view();
    let slow = a
        .slowest
        .iter()
        .take(8)
        .map(|s| {
            let row = s.row;
            view! {
                <li><button class="link" on:click=move |_| reveal(row)>{format!("sample {}", py_str(&s.sample_index))}</button>
                    " "{timeline::format_duration(s.duration, 0.01)}</li>
            }
        })
        .collect_view();
    let groups = a
        .groups
        .iter()
        .take(12)
        .map(|g| {
            let first = g.rows.first().copied();
            view! {
                <tr>
                    <th><button class="link" disabled=first.is_none() on:click=move |_| { if let Some(r) = first { reveal(r) } }>{g.group.clone()}</button></th>
                    <td>{g.samples.to_string()}</td>
                    <td>{timeline::format_duration(g.completion, 0.01)}</td>
                    <td>{precise_opt(g.reward_mean)}</td>
                    <td>{precise_opt(g.reward_std)}</td>
                    <td>{if g.zero_std { "zero std" } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ul class="badges">{health}</ul>
        <table class="dist">
            <tr><th>"metric"</th><th>"n"</th><th>"p50"</th><th>"p90"</th><th>"p99"</th><th>"max"</th></tr>
            {table}
        </table>
        <table class="facts">{figures}</table>
        {bars("prompt tokens / request", &a.prompt_tokens_hist)}
        {bars("output tokens / request", &a.output_tokens_hist)}
        {bars("finish reason", &a.finish_reasons)}
        {bars("status", &a.statuses)}
        <h4>"time in spans (share of sample time)"</h4>
        <table class="facts">{spans}</table>
        <h4>"slowest samples"</h4>
        <ul class="plain">{slow}</ul>
        <h4>"groups (slowest first)"</h4>
        <table class="facts groups"><tr><th>"group"</th><th>"n"</th><th>"done in"</th><th>"reward"</th><th>"std"</th><th></th></tr>{groups}</table>
    }
    .into_any()
}

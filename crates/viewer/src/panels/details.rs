//! The Details panel (the selected span or event, all its attributes), the cursor summary
//! and the hover tooltip. Dump text goes into text nodes only.

use leptos::prelude::*;
use trace::json::py_str;
use trace::{Item, Row, State};

use crate::draw::name_text;
use crate::state::State as AppState;

/// Attribute values longer than this are cut, with a button to show all.
const ATTR_SHOW: usize = 300;

fn attrs_table(title: &'static str, attrs: &serde_json::Value) -> AnyView {
    let Some(map) = attrs.as_object().filter(|m| !m.is_empty()) else {
        return ().into_any();
    };
    let rows = map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let long = text.chars().count() > ATTR_SHOW;
            let full = RwSignal::new(false);
            let short: String = text.chars().take(ATTR_SHOW).collect();
            let k = k.clone();
            view! {
                <tr><th>{k}</th><td>
                    {move || if full.get() || !long { text.clone() } else { format!("{short}…") }}
                    {long.then(|| view! { <button class="link" on:click=move |_| full.update(|f| *f = !*f)>{move || if full.get() { "less" } else { "more" }}</button> })}
                </td></tr>
            }
        })
        .collect_view();
    view! { <h4>{title}</h4><table class="attrs">{rows}</table> }.into_any()
}

pub fn details_view(row: &Row, item: &Item, origin: f64) -> AnyView {
    let name = name_text(item);
    let sample = py_str(&row.sample_index);
    let fmt = |t: f64| timeline::format_duration(t - origin, 0.000_001);
    match item {
        Item::Span(s) => {
            let clip = s.attrs.end_attrs.get("clipped_by").map(py_str);
            view! {
                <div class="detail">
                    <div class="detail-name">{name}</div>
                    <table class="facts">
                        <tr><th>"sample"</th><td>{sample}</td></tr>
                        <tr><th>"state"</th><td>{if s.state == State::OpenSpan { "open (never ended)" } else { "closed" }}</td></tr>
                        <tr><th>"start"</th><td>{fmt(s.start_ts)}</td></tr>
                        <tr><th>"end"</th><td>{match s.end_ts { Some(e) => fmt(e), None => format!("— (drawn to {})", fmt(s.display_end_ts)) }}</td></tr>
                        <tr><th>"duration"</th><td>{timeline::format_duration(s.display_end_ts - s.start_ts, 0.000_001)}</td></tr>
                        <tr><th>"parent"</th><td>{py_str(&s.parent_span_name)}</td></tr>
                        <tr><th>"span id"</th><td>{py_str(&s.span_id)}</td></tr>
                        <tr><th>"attempt"</th><td>{s.attempt.to_string()}</td></tr>
                        {clip.map(|c| view! { <tr><th>"clipped by"</th><td>{c}</td></tr> })}
                    </table>
                    {attrs_table("start attrs", &s.attrs.start_attrs)}
                    {attrs_table("end attrs", &s.attrs.end_attrs)}
                </div>
            }
            .into_any()
        }
        Item::Event(p) | Item::OrphanEnd(p) => view! {
            <div class="detail">
                <div class="detail-name">{name}</div>
                <table class="facts">
                    <tr><th>"sample"</th><td>{sample}</td></tr>
                    <tr><th>"kind"</th><td>{if matches!(item, Item::OrphanEnd(_)) { "end without a start" } else { "event" }}</td></tr>
                    <tr><th>"at"</th><td>{fmt(p.ts)}</td></tr>
                    <tr><th>"parent"</th><td>{py_str(&p.parent_span_name)}</td></tr>
                    <tr><th>"attempt"</th><td>{p.attempt.to_string()}</td></tr>
                </table>
                {attrs_table("attrs", &p.attrs)}
            </div>
        }
        .into_any(),
    }
}

pub fn tooltip(item: &Item, origin: f64) -> String {
    let name = name_text(item);
    match item {
        Item::Span(s) => format!(
            "{name} · {} · {}{}",
            timeline::format_duration(s.start_ts - origin, 0.001),
            timeline::format_duration(s.display_end_ts - s.start_ts, 0.001),
            if s.state == State::OpenSpan {
                " (open)"
            } else {
                ""
            }
        ),
        Item::Event(p) => format!(
            "{name} · event at {}",
            timeline::format_duration(p.ts - origin, 0.001)
        ),
        Item::OrphanEnd(p) => format!(
            "{name} · end without start at {}",
            timeline::format_duration(p.ts - origin, 0.001)
        ),
    }
}

/// The Details section: the selected item, or a hint.
pub fn details_panel(st: AppState) -> impl IntoView {
    let details = move || {
        let (ri, ii) = st.selected.get()?;
        let d = st.data.get()?;
        let row = d.cache.rows.get(ri)?;
        let item = row.items.get(ii)?;
        Some(details_view(row, item, d.cache.global_start.unwrap_or(0.0)))
    };
    move || {
        details()
            .unwrap_or_else(|| view! { <p class="muted">"Click a span or event."</p> }.into_any())
    }
}

/// At the clicked time: how many shown rows had not started, were running or had ended, and
/// the spans most often open then.
pub fn cursor_stats(st: AppState) -> impl IntoView {
    move || {
        let t = st.cursor.get()?;
        let d = st.data.get()?;
        let (mut not_started, mut running, mut ended) = (0, 0, 0);
        let mut names: std::collections::HashMap<String, usize> = Default::default();
        let idx = st.shown.get();
        for &i in &idx {
            let r = &d.cache.rows[i];
            if t < r.start {
                not_started += 1;
            } else if t > r.end {
                ended += 1;
            } else {
                running += 1;
            }
            for it in &r.items {
                if let Item::Span(s) = it {
                    if s.start_ts <= t && t <= s.display_end_ts && !name_text(it).ends_with(']') {
                        *names.entry(name_text(it)).or_default() += 1;
                    }
                }
            }
        }
        let mut top: Vec<(String, usize)> = names.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(6);
        let origin = d.cache.global_start.unwrap_or(0.0);
        Some(view! {
            <div class="cursor-stats" data-testid="cursor-stats">
                <b>{format!("at {}", timeline::format_duration(t - origin, 0.001))}</b>
                {format!(" · {} rows: {} not started, {} running, {} ended", idx.len(), not_started, running, ended)}
                <ul>{top.into_iter().map(|(n, c)| view! { <li>{n}" × "{c}</li> }).collect_view()}</ul>
            </div>
        })
    }
}

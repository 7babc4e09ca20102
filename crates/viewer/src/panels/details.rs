//! The Details panel (the selected span or event, all its attributes), the cursor summary
//! and the hover tooltip. Dump text goes into text nodes only.

use leptos::prelude::*;
use timeline::{KIND_CLOSED, KIND_EVENT, KIND_OPEN};

use crate::protocol::ItemDetails;
use crate::rows::Loaded;
use crate::state::State as AppState;

/// Attribute values longer than this are cut, with a button to show all.
const ATTR_SHOW: usize = 300;

fn attrs_table(title: String, attrs: &serde_json::Value) -> AnyView {
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

/// The details of one item, as the worker sent them.
pub fn details_view(d: &ItemDetails, origin: f64) -> AnyView {
    let fmt = |t: f64| timeline::format_duration(t - origin, 0.000_001);
    let span = d.state == "closed_span" || d.state == "open_span";
    let facts = if span {
        view! {
            <tr><th>"state"</th><td>{if d.state == "open_span" { "open (never ended)" } else { "closed" }}</td></tr>
            <tr><th>"start"</th><td>{fmt(d.start)}</td></tr>
            <tr><th>"end"</th><td>{match d.end { Some(e) => fmt(e), None => format!("— (drawn to {})", fmt(d.display_end)) }}</td></tr>
            <tr><th>"duration"</th><td>{timeline::format_duration(d.display_end - d.start, 0.000_001)}</td></tr>
            <tr><th>"parent"</th><td>{d.parent.clone()}</td></tr>
            <tr><th>"span id"</th><td>{d.span_id.clone()}</td></tr>
            <tr><th>"attempt"</th><td>{d.attempt.to_string()}</td></tr>
            {d.clipped_by.clone().map(|c| view! { <tr><th>"clipped by"</th><td>{c}</td></tr> })}
        }
        .into_any()
    } else {
        view! {
            <tr><th>"kind"</th><td>{if d.state == "orphan_end" { "end without a start" } else { "event" }}</td></tr>
            <tr><th>"at"</th><td>{fmt(d.start)}</td></tr>
            <tr><th>"parent"</th><td>{d.parent.clone()}</td></tr>
            <tr><th>"attempt"</th><td>{d.attempt.to_string()}</td></tr>
        }
        .into_any()
    };
    let sample_no = d.sample.first().map(|s| s.1.clone()).unwrap_or_default();
    let attrs = d
        .attrs
        .iter()
        .map(|(title, a)| attrs_table(title.clone(), a))
        .collect_view();
    let sample = d
        .sample
        .iter()
        .skip(1)
        .map(|(k, v)| view! { <tr><th>{k.clone()}</th><td>{v.clone()}</td></tr> })
        .collect_view();
    view! {
        <div class="detail">
            <div class="detail-name">{d.name.clone()}</div>
            <table class="facts">
                <tr><th>"sample"</th><td>{sample_no}</td></tr>
                {facts}
            </table>
            {attrs}
            <h4>"sample"</h4>
            <table class="facts">{sample}</table>
        </div>
    }
    .into_any()
}

/// The hover text of item `ii` of row `ri`, from the page's columns.
pub fn tooltip(d: &Loaded, ri: usize, ii: usize) -> Option<String> {
    let t = &d.rows.get(ri)?.data.track;
    let (start, end) = (*t.start.get(ii)?, *t.end.get(ii)?);
    let name = d.name_of(*t.name.get(ii)?);
    let origin = d.origin();
    Some(match t.state(ii) {
        KIND_CLOSED | KIND_OPEN => format!(
            "{name} · {} · {}{}",
            timeline::format_duration(start - origin, 0.001),
            timeline::format_duration(end - start, 0.001),
            if t.state(ii) == KIND_OPEN {
                " (open)"
            } else {
                ""
            }
        ),
        KIND_EVENT => format!(
            "{name} · event at {}",
            timeline::format_duration(start - origin, 0.001)
        ),
        _ => format!(
            "{name} · end without start at {}",
            timeline::format_duration(start - origin, 0.001)
        ),
    })
}

/// The Details section: the selected item (once the worker answers), or a hint.
pub fn details_panel(st: AppState) -> impl IntoView {
    move || {
        let origin = st.data.with(|d| d.as_ref().map_or(0.0, |d| d.origin()));
        match st.details.get().map(|d| d.answer) {
            None => view! { <p class="muted">"Click a span or event."</p> }.into_any(),
            Some(None) => view! { <p class="muted">"loading details…"</p> }.into_any(),
            Some(Some(Ok(d))) => details_view(&d, origin),
            Some(Some(Err(e))) => view! { <p class="muted">{e}</p> }.into_any(),
        }
    }
}

/// At the clicked time: how many shown rows had not started, were running or had ended, and
/// the spans most often open then (from the page's columns: one pass over the shown rows).
pub fn cursor_stats(st: AppState) -> impl IntoView {
    move || {
        let t = st.cursor.get()?;
        let d = st.data.get()?;
        let (mut not_started, mut running, mut ended) = (0, 0, 0);
        let mut counts = vec![0usize; d.tables.names.len()];
        let idx = st.shown.get();
        for &i in idx.iter() {
            let h = &d.heads[i];
            if t < h.start {
                not_started += 1;
            } else if t > h.end {
                ended += 1;
            } else {
                running += 1;
            }
            let tr = &d.rows[i].data.track;
            for k in 0..tr.len() {
                if tr.is_span(k) && tr.start[k] <= t && t <= tr.end[k] {
                    if let Some(c) = counts.get_mut(tr.name[k] as usize) {
                        *c += 1;
                    }
                }
            }
        }
        let mut top: Vec<(String, usize)> = counts
            .into_iter()
            .enumerate()
            .filter(|&(n, c)| c > 0 && !d.name_of(n as u32).ends_with(']'))
            .map(|(n, c)| (d.name_of(n as u32).to_string(), c))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(6);
        let origin = d.origin();
        Some(view! {
            <div class="cursor-stats" data-testid="cursor-stats">
                <b>{format!("at {}", timeline::format_duration(t - origin, 0.001))}</b>
                {format!(" · {} rows: {} not started, {} running, {} ended", idx.len(), not_started, running, ended)}
                <ul>{top.into_iter().map(|(n, c)| view! { <li>{n}" × "{c}</li> }).collect_view()}</ul>
            </div>
        })
    }
}

//! The side legends: counter tracks (with their maxima) and span colours (with counts).

use leptos::prelude::*;

use crate::panels::metrics::fmt_num;
use crate::state::State;

pub fn counters_legend(st: State) -> impl IntoView {
    view! {
        <Show when=move || st.data.get().is_some_and(|d| !d.tracks.is_empty())>
            <section class="legend">
                <h3>"Counters"</h3>
                <ul data-testid="track-list">
                    {move || st.data.get().map(|d| d.tracks.iter().map(|t| {
                        let max = t.points.iter().map(|p| p.1).fold(0.0f64, f64::max);
                        view! { <li title=t.name.clone()><span class="chip" style=format!("background:{}", t.color)></span>
                            <span class="track-name">{t.name.clone()}</span><span class="muted">{format!(" max {}", fmt_num(max))}</span></li> }
                    }).collect_view())}
                </ul>
            </section>
        </Show>
    }
}

pub fn span_legend(st: State) -> impl IntoView {
    view! {
        <section class="legend">
            <h3>"Legend"</h3>
            <ul>
                {move || st.legend.get().into_iter().map(|(n, c)| {
                    let color = timeline::pd_color(&n).map(str::to_string).unwrap_or_else(|| timeline::color_for(&n, st.dark.get()));
                    view! { <li><span class="chip" style=format!("background:{color}")></span>{n}<span class="muted">{format!(" {c}")}</span></li> }
                }).collect_view()}
                {move || st.pd_legend.get().into_iter().map(|(_, label, color)| view! {
                    <li><span class="chip" style=format!("background:{color}")></span>{label}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

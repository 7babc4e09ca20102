//! The side legends: counter tracks (with their maxima) and span colours (with counts).

use leptos::prelude::*;

use crate::draw::span_color;
use crate::numbers::precise as fmt_num;
use crate::state::State;

pub fn counters_legend(st: State) -> impl IntoView {
    view! {
        <Show when=move || st.counters.with(|c| !c.is_empty())>
            <section class="legend">
                <h3>"Counters"</h3>
                <ul data-testid="track-list">
                    {move || st.counters.get().iter().map(|t| {
                        let max = t.max;
                        view! { <li title=t.name.clone()><span class="chip" style=format!("background:{}", t.color)></span>
                            <span class="track-name">{t.name.clone()}</span><span class="muted">{format!(" max {}", fmt_num(max))}</span></li> }
                    }).collect_view()}
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
                {move || st.data.get().map(|d| d.legend.iter().map(|&(id, c)| {
                    let n = d.name_of(id).to_string();
                    let color = span_color(&n, st.dark.get());
                    view! { <li><span class="chip" style=format!("background:{color}")></span>{n}<span class="muted">{format!(" {c}")}</span></li> }
                }).collect_view())}
                {move || st.data.get().map(|d| d.pd_phases.iter().filter_map(|&i| timeline::PD_PHASES.get(i)).map(|(_, label, color)| view! {
                    <li><span class="chip" style=format!("background:{color}")></span>{*label}</li>
                }).collect_view())}
            </ul>
        </section>
    }
}

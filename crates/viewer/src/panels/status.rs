//! The banners under the toolbar: progress (with Cancel), the load error, sample warnings.
//! Messages may quote the dump: they go into text nodes only.

use leptos::prelude::*;

use crate::state::State;
use crate::worker_client::health::WORKER_STOPPED;
use crate::worker_client::Client;

pub fn status_banners(st: State, client: Client) -> impl IntoView {
    view! {
        <Show when=move || st.progress.get().is_some()>
            <div class="progress" data-testid="progress">
                <span>{move || st.progress.get().map(|(n, d, _)| format!("{n}: {d}")).unwrap_or_default()}</span>
                {move || match st.progress.get().and_then(|p| p.2) {
                    Some((done, total)) => view! { <progress max=total.to_string() value=done.to_string()></progress> }.into_any(),
                    None => view! { <progress></progress> }.into_any(),
                }}
                <button on:click=move |_| client.cancel()>"Cancel"</button>
            </div>
        </Show>
        <Show when=move || st.error.get().is_some()>
            <div class="load-error" data-testid="load-error" role="alert">
                <b>{move || if st.error.get().is_some_and(|e| e.starts_with(WORKER_STOPPED)) {
                    "Parsing: "
                } else {
                    "Could not open: "
                }}</b>{move || st.error.get().unwrap_or_default()}
                <button on:click=move |_| st.error.set(None)>"Dismiss"</button>
            </div>
        </Show>
        <Show when=move || st.warnings_open.get() && st.data.get().is_some_and(|d| !d.warnings.is_empty())>
            <details class="warnings" data-testid="warnings">
                <summary>{move || {
                    let n = st.data.get().map(|d| d.warnings.len()).unwrap_or(0);
                    format!("{n} warning{} (the rest is shown)", if n == 1 { "" } else { "s" })
                }}
                    <button on:click=move |_| st.warnings_open.set(false)>"Dismiss"</button></summary>
                <ul>{move || st.data.get().map(|d| d.warnings.iter().take(500).map(|w| {
                    let text = match w.sample { Some(i) => format!("sample {i}: {}", w.message), None => w.message.clone() };
                    view! { <li>{text}</li> }
                }).collect_view())}</ul>
            </details>
        </Show>
    }
}

//! The run app's root (`bin/runapp` mounts it into the page's `#run-root`): the explorer, fed
//! by what the page hands over. It opens `window.__rollscope_run_source` at start and again on
//! each `rollscope-run-open`; the page shows and hides `#run-root` (see `handoff`).

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::client::RunClient;
use super::handoff::EV_RUN_OPEN;
use super::state::RunState;
use crate::dom::window;

#[component]
pub fn RunApp() -> impl IntoView {
    let run = RunClient::new(RunState::new());
    super::link::install(run);
    super::runs_pair::install(run);
    super::open::open_from_window(run);
    let cb = Closure::<dyn FnMut()>::new(move || super::open::open_from_window(run));
    let _ = window().add_event_listener_with_callback(EV_RUN_OPEN, cb.as_ref().unchecked_ref());
    cb.forget();
    super::run_explorer(run)
}

//! `viewer`: the browser app (Leptos, client-side rendering) and its parsing worker.
//!
//! **Owns:** everything the user sees and touches: opening files (drop, picker, `?url=`),
//! the worker round trip, the canvas timeline, panels and controls.
//!
//! **Architecture invariant:** no trace semantics here. Rows are built by `trace` inside the
//! worker (`bin/worker/model.rs` holds them); the page gets columns (`protocol`), geometry and hit testing from `timeline`; this crate wires them to the DOM. Text
//! from a dump reaches the page only as text nodes or canvas `fillText`, never as HTML.

/// Every wasm module's allocator: Talc, not Rust's default dlmalloc (the worker's reading and
/// row building make and drop millions of small values), behind small-block free lists, fed
/// by growing the memory a share at a time (`grow.rs`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: alloc::Slab<talc::cell::TalcSyncCell<grow::Grow, talc::wasm::WasmBinning>> =
    alloc::Slab::new(talc::cell::TalcSyncCell::new_wasm(grow::Grow::new()));

#[cfg(any(test, all(target_arch = "wasm32", not(target_feature = "atomics"))))]
mod alloc;
#[cfg(any(test, all(target_arch = "wasm32", not(target_feature = "atomics"))))]
mod grow;

#[cfg(target_arch = "wasm32")]
pub mod fetch;
pub mod numbers;
pub mod origins;
pub mod protocol;
pub mod rows;
#[cfg(target_arch = "wasm32")]
pub mod worker_boot;
// The run explorer: the page links only `run::handoff`; the rest is compiled for wasm only
// with the `run-app` feature (its own builds), and its plain logic (`run::math`,
// `run::step_table`, `run::token_view`) natively too, to test it like `protocol`.
pub mod run;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod canvas;
#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
pub mod draw;
#[cfg(target_arch = "wasm32")]
mod embed;
#[cfg(target_arch = "wasm32")]
mod input;
#[cfg(target_arch = "wasm32")]
mod minimap;
#[cfg(target_arch = "wasm32")]
mod panels;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
mod strips;
#[cfg(target_arch = "wasm32")]
mod url_state;
#[cfg(target_arch = "wasm32")]
mod worker_client;
#[cfg(target_arch = "wasm32")]
pub mod worker_handle;

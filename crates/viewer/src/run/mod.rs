//! TEMPORARY (branch `step`): declares only the step view's modules so that they compile
//! before the run shell's `run/mod.rs` exists; the lead replaces it with the shell's at merge
//! (keeping `step_table` compiled natively, the components wasm-only).

#[cfg(target_arch = "wasm32")]
pub mod inspector;
#[cfg(target_arch = "wasm32")]
pub mod step;
pub mod step_table;
#[cfg(target_arch = "wasm32")]
pub mod tokens;

//! Where a run folder's verl step logs may be: its subfolders (verl's
//! `trainer.rollout_data_dir` and `trainer.validation_data_dir` side by side), each holding
//! `{step}.jsonl` files. Only those files are listed from them; which is training and which is
//! validation is `trace::run::verl::verl_role` (by the subfolder's name).

use trace::run::verl::verl_role;

use crate::listing::{Entry, Kind};

/// Most subfolders of one run folder searched for step logs (a run has two).
pub const MAX_VERL_FOLDERS: usize = 64;

/// The subfolders of a run folder (its `entries`) that may hold verl step logs: every folder
/// but the ones slime's layout lists already (`taken`) and dot folders, sorted, at most
/// [`MAX_VERL_FOLDERS`].
pub fn subfolders(entries: &[Entry], taken: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == Kind::Dir && !e.name.starts_with('.'))
        .filter(|e| !taken.contains(&e.name.as_str()) && !e.name.contains('/'))
        .map(|e| e.name.clone())
        .collect();
    out.sort();
    out.truncate(MAX_VERL_FOLDERS);
    out
}

/// The entries of subfolder `sub` that are verl step logs.
pub fn step_logs(sub: &str, entries: Vec<Entry>) -> Vec<Entry> {
    entries
        .into_iter()
        .filter(|e| verl_role(sub, &e.name).is_some())
        .collect()
}

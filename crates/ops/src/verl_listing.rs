//! Where a run folder's verl step logs may be: its subfolders (verl's
//! `trainer.rollout_data_dir` and `trainer.validation_data_dir` side by side), each holding
//! `{step}.jsonl` files. Only those files are listed from them; which is training and which is
//! validation is `trace::run::verl::verl_role` (by the subfolder's name). A step-log folder
//! opened alone is listed from its parent ([`rebase_lone`]), so its own name counts too.

use trace::run::verl::verl_role;
use trace::run::Templates;

use crate::listing::{finish, Entry, Kind, Listing, LocalRun};

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

/// A folder of verl step logs opened alone (every listed file a step log directly in it, no
/// slime dump) is listed from its parent, `validation/0.jsonl` rather than `0.jsonl`: its own
/// name then tells training from validation, as a browser's folder pick of it does.
pub fn rebase_lone(run: LocalRun, name: &str, shown: &str, templates: &Templates) -> LocalRun {
    let l = &run.listing;
    let lone = !l.root_is_parent
        && !name.is_empty()
        && !l.layout.dumps.is_empty()
        && l.layout.dumps.iter().all(|d| d.is_verl())
        && l.files.iter().all(|(p, _)| !p.contains('/'));
    let Some(parent) = run.root.parent().filter(|_| lone) else {
        return run;
    };
    let files = l
        .files
        .iter()
        .map(|(p, size)| (format!("{name}/{p}"), *size))
        .collect();
    // What the first listing skipped (links, FIFOs) is still said.
    match finish(files, shown, templates, Default::default()) {
        Ok((files, mut layout)) => {
            for n in &l.layout.notes {
                if !layout.notes.contains(n) {
                    layout.notes.push(n.clone());
                }
            }
            LocalRun {
                root: parent.to_path_buf(),
                listing: Listing {
                    root_is_parent: true,
                    files,
                    layout,
                },
            }
        }
        Err(_) => run,
    }
}

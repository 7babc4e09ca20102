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
/// but the ones slime's layout lists already (`taken`), dot folders and empty names, each
/// once, at most [`MAX_VERL_FOLDERS`]: first those named as verl's log folders are
/// (`rollout*`, `val*`, `eval*`, `test*`, `gen*`), then the rest, each sorted. The second
/// value is a note when the cap left folders unread (70 `global_step_N/` checkpoints beside
/// `rollout/`: `rollout/` is read, and the note says how many were not).
pub fn subfolders(entries: &[Entry], taken: &[&str]) -> (Vec<String>, Option<String>) {
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == Kind::Dir && !e.name.is_empty() && !e.name.starts_with('.'))
        .filter(|e| !taken.contains(&e.name.as_str()) && !e.name.contains('/'))
        .map(|e| e.name.clone())
        .collect();
    let likely = |n: &str| {
        let n = n.to_ascii_lowercase();
        ["rollout", "val", "eval", "test", "gen"]
            .iter()
            .any(|p| n.starts_with(p))
    };
    out.sort_by(|a, b| likely(b).cmp(&likely(a)).then_with(|| a.cmp(b)));
    out.dedup();
    let left = out.len().saturating_sub(MAX_VERL_FOLDERS);
    out.truncate(MAX_VERL_FOLDERS);
    let note = (left > 0).then(|| {
        format!(
            "{left} more subfolders not searched for verl step logs (the first \
             {MAX_VERL_FOLDERS} searched: those named rollout*, val*, eval*, test*, gen*, then \
             the rest by name)"
        )
    });
    (out, note)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: Kind::Dir,
            size: 0,
        }
    }

    #[test]
    fn step_log_folders_come_first_and_the_cap_is_said() {
        let mut entries: Vec<Entry> = (0..70).map(|i| dir(&format!("global_step_{i}"))).collect();
        entries.extend([
            dir("validation"),
            dir("rollout"),
            dir(".git"),
            dir("train_data"),
        ]);
        let (got, note) = subfolders(&entries, &["train_data"]);
        assert_eq!(got.len(), MAX_VERL_FOLDERS);
        assert_eq!(got[..3], ["rollout", "validation", "global_step_0"]);
        assert!(
            note.as_deref()
                .is_some_and(|n| n.starts_with("8 more subfolders not searched")),
            "{note:?}"
        );
        let (got, note) = subfolders(&entries[60..], &[]);
        assert_eq!(got.len(), 13);
        assert_eq!(note, None);
    }

    /// A lister that names a folder twice, or hands over an empty name (the root itself),
    /// does not make a folder read twice or the root read as a step-log folder.
    #[test]
    fn a_folder_named_twice_or_unnamed_is_searched_at_most_once() {
        let entries = [dir("val"), dir(""), dir("val"), dir("rollout")];
        assert_eq!(subfolders(&entries, &[]).0, ["rollout", "val"]);
    }
}

//! A run that grows while it is open (issue #21, a live run): what changes on the page when
//! the run's file list is read again. The dumps are laid out again from all paths
//! (`trace::run::layout`, so a new dump may land between old ones), and everything the page
//! holds by dump index (summaries, the open step, the compare pair) moves with its file, so
//! the open step and sample stay as they are and nothing read is read again. No DOM here:
//! tested natively; the polling and the worker's side are `client/follow.rs` and the run
//! worker.

use trace::run::DumpRef;

/// How often the run app asks a served run's index again (with its validator), or reads a
/// folder's directory handle again, in ms.
pub const POLL_MS: i32 = 2000;

/// Where the open run's files come from, which says how it is kept current.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    /// No run, or one that cannot change (files dropped).
    #[default]
    Fixed,
    /// `rollscope DIR`'s index (`?run=`): polled every [`POLL_MS`].
    Served,
    /// A folder chosen with the folder input: *Reload* picks it again.
    Picked,
    /// A folder chosen through a directory handle (`showDirectoryPicker`): read again every
    /// [`POLL_MS`]; *Reload* reads it at once.
    Handle,
}

/// For each old dump index, its index in `new` (by file), or `None` when it is gone.
pub fn remap(old: &[DumpRef], new: &[DumpRef]) -> Vec<Option<usize>> {
    let at: std::collections::HashMap<&str, usize> = new
        .iter()
        .enumerate()
        .map(|(i, d)| (d.file.as_str(), i))
        .collect();
    old.iter()
        .map(|d| at.get(d.file.as_str()).copied())
        .collect()
}

/// Whether `new` differs from `old` in anything the worker reads (a dump, its kind or id,
/// or its train file).
pub fn changed(old: &[DumpRef], new: &[DumpRef]) -> bool {
    old != new
}

/// `slots` (one per old dump) moved to their new places: `n` slots, `None` where a dump is
/// new.
pub fn move_slots<T: Clone>(
    slots: &[Option<T>],
    map: &[Option<usize>],
    n: usize,
) -> Vec<Option<T>> {
    let mut out: Vec<Option<T>> = vec![None; n];
    for (slot, to) in slots.iter().zip(map) {
        if let (Some(v), Some(&to)) = (slot, to.as_ref()) {
            if let Some(o) = out.get_mut(to) {
                *o = Some(v.clone());
            }
        }
    }
    out
}

/// An index held by the page (the open step, one side of the compare pair), moved.
pub fn move_index(i: Option<usize>, map: &[Option<usize>]) -> Option<usize> {
    i.and_then(|i| map.get(i).copied().flatten())
}

/// Files being written that are laid out no more (gone, or read since) dropped from the
/// list the page shows.
pub fn still_writing(writing: &[String], dumps: &[DumpRef]) -> Vec<String> {
    writing
        .iter()
        .filter(|f| dumps.iter().any(|d| &d.file == *f))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace::run::layout;

    #[test]
    fn a_dump_landing_between_old_ones_moves_what_the_page_holds_with_its_file() {
        let old = layout(&["run/rollout_data/0.pt", "run/rollout_data/2.pt"]).dumps;
        let new = layout(&[
            "run/rollout_data/0.pt",
            "run/rollout_data/eval_0.pt",
            "run/rollout_data/1.pt",
            "run/rollout_data/2.pt",
        ])
        .dumps;
        assert!(changed(&old, &new));
        let map = remap(&old, &new);
        let files: Vec<&str> = new.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files[map[1].unwrap()], "run/rollout_data/2.pt");
        let slots = move_slots(&[Some("s0"), Some("s2")], &map, new.len());
        assert_eq!(slots.iter().filter(|s| s.is_some()).count(), 2);
        assert_eq!(slots[map[1].unwrap()], Some("s2"));
        // The open step was rollout 2: it still is.
        assert_eq!(
            move_index(Some(1), &map).map(|i| new[i].file.as_str()),
            Some("run/rollout_data/2.pt")
        );
        assert_eq!(move_index(Some(7), &map), None);
        // The same list again: nothing to do.
        assert!(!changed(&new, &new));
    }

    #[test]
    fn train_data_arriving_later_is_a_change_and_a_gone_dump_leaves() {
        let old = layout(&["r/rollout_data/3.pt", "r/rollout_data/4.pt"]).dumps;
        let new = layout(&["r/rollout_data/3.pt", "r/train_data/3.pt"]).dumps;
        assert!(changed(&old, &new));
        assert_eq!(remap(&old, &new), [Some(0), None]);
        assert_eq!(new[0].train_file.as_deref(), Some("r/train_data/3.pt"));
        let w = still_writing(
            &["r/rollout_data/4.pt".into(), "r/rollout_data/3.pt".into()],
            &new,
        );
        assert_eq!(w, ["r/rollout_data/3.pt"]);
    }
}

//! Following a run that is still being written (`rollscope run DIR --follow`): which of its
//! dumps can be read now, each once.
//!
//! A file is **being written** while `torch.save` has not finished it
//! (`trace::run::being_written`: empty, or a torch ZIP without its end record) or while its
//! size differs from the last look; such a dump is waited for, never read and never an
//! error. A rollout dump whose run has train data waits for its own train file (complete)
//! or for a later rollout to land, whichever comes first (slime writes `train_data/{id}.pt`
//! after `rollout_data/{id}.pt`), so its line carries its train-side numbers when slime
//! wrote them. Each dump is handed out once ([`Follow::ready`]), except a rollout handed out
//! without train data whose train file lands later (rollout 0: slime's first train file comes
//! after it): it is handed out once more, and its later line replaces the earlier. What the
//! caller reads of a dump is its own business.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use trace::run::{
    being_written, DumpKind, DumpRef, RunOptions, Templates, HEAD_WINDOW, TAIL_WINDOW,
};

use crate::input::open_regular;
use crate::listing::LocalRun;
use crate::table::{read_dump, DumpResult, Train};
use crate::Src;

/// A run followed as it is written, for the CLI (`run --follow`) and Python
/// (`rollscope.follow`) alike: each [`look`](Follower::look) lists the run again by the
/// listing's rule and gives the dumps that became readable; [`read`](Follower::read) reads one
/// with its train file.
pub struct Follower {
    inputs: Vec<PathBuf>,
    templates: Templates,
    follow: Follow,
    /// The run as listed at the last look that could list it.
    run: Option<LocalRun>,
    looked: bool,
}

impl Follower {
    /// A follower of the run in `inputs`; loose `--save-debug-*` templates are refused here
    /// (a run folder is otherwise waited for, and would be forever).
    pub fn new(inputs: &[PathBuf], templates: &Templates) -> Result<Follower, String> {
        templates.check()?;
        Ok(Follower {
            inputs: inputs.to_vec(),
            templates: templates.clone(),
            follow: Follow::new(),
            run: None,
            looked: false,
        })
    }

    /// The dumps readable now and not handed out before, in the run's order. A run folder
    /// that cannot be listed yet (no dumps so far) is waited for: no dumps, no error; dump
    /// files given that cannot be listed at the first look are an error.
    pub fn look(&mut self) -> Result<Vec<DumpRef>, String> {
        let first = !self.looked;
        self.looked = true;
        let waiting_is_fine = matches!(self.inputs.as_slice(), [d] if d.is_dir());
        match crate::listing::list_local_with(&self.inputs, true, &self.templates) {
            Ok(run) => {
                let ready = self.follow.ready(&run);
                self.run = Some(run);
                Ok(ready)
            }
            Err(e) if first && !waiting_is_fine => Err(e),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// Reads `d` (from the last [`look`](Follower::look)) with its train file, as
    /// `rollscope run` reads a dump.
    pub fn read(&self, d: &DumpRef, opts: &RunOptions) -> Option<DumpResult> {
        let run = self.run.as_ref()?;
        let train = match &d.train_file {
            Some(t) => Train::Src(Src::Path(run.root.join(t))),
            None => Train::None,
        };
        let has_train = !run.listing.layout.train.is_empty();
        Some(read_dump(
            &Src::Path(run.root.join(&d.file)),
            train,
            d,
            has_train,
            opts,
        ))
    }
}

/// Why the file at `path` is still being written (see the module doc), or `None` when it
/// looks complete. Reads at most its first and last [`TAIL_WINDOW`] bytes.
pub fn file_being_written(path: &Path) -> Result<Option<&'static str>, String> {
    let shown = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = open_regular(path)?;
    let len = f.metadata().map_err(shown)?.len();
    let mut head = Vec::new();
    (&mut f)
        .take(HEAD_WINDOW)
        .read_to_end(&mut head)
        .map_err(shown)?;
    let from = len.saturating_sub(TAIL_WINDOW);
    f.seek(SeekFrom::Start(from)).map_err(shown)?;
    let mut tail = Vec::new();
    f.take(TAIL_WINDOW).read_to_end(&mut tail).map_err(shown)?;
    // Bytes that arrived between the length and the read: still being written.
    if from + tail.len() as u64 != len {
        return Ok(Some("still growing: being written"));
    }
    Ok(being_written(&head, &tail, len))
}

/// What [`Follow`] knows of a run between looks. Files are known by their path on disk (the
/// root joined with the listed name), so a folder whose listing root moves between looks (a
/// verl step folder listed from its parent until a dump lands in it) hands nothing out twice.
#[derive(Default)]
pub struct Follow {
    /// Dumps handed out.
    done: HashSet<PathBuf>,
    /// Rollouts handed out before any train file was theirs: handed out again, once, when one
    /// lands (slime writes `train_data/0.pt` after rollout 0 has been printed).
    without_train: HashSet<PathBuf>,
    /// Each file's size at the last look.
    sizes: HashMap<PathBuf, u64>,
}

/// A file of the run at this look: complete (and as large as at the last look), or not.
fn settled(run: &LocalRun, file: &str, last: Option<u64>, size: u64) -> bool {
    last == Some(size) && matches!(file_being_written(&run.root.join(file)), Ok(None))
}

impl Follow {
    pub fn new() -> Follow {
        Follow::default()
    }

    /// The dumps of `run` (listed now) that can be read now and were not handed out before,
    /// in the run's order; each is handed out once, and a rollout handed out without train
    /// data once more when its train file lands complete. A file is read only once its size
    /// is the same at two looks and it is complete.
    pub fn ready(&mut self, run: &LocalRun) -> Vec<DumpRef> {
        let at = |f: &str| run.root.join(f);
        let sizes: HashMap<PathBuf, u64> = run
            .listing
            .files
            .iter()
            .map(|(f, size)| (at(f), *size))
            .collect();
        let complete = |f: &str| {
            let size = sizes.get(&at(f)).copied().unwrap_or(0);
            settled(run, f, self.sizes.get(&at(f)).copied(), size)
        };
        let layout = &run.listing.layout;
        let has_train = !layout.train.is_empty();
        let todo: Vec<&DumpRef> = layout
            .dumps
            .iter()
            .filter(|d| !self.done.contains(&at(&d.file)))
            .collect();
        let landed: Vec<(&DumpRef, bool)> = todo.iter().map(|d| (*d, complete(&d.file))).collect();
        // The latest rollout id whose dump is complete (handed out or landed now).
        let latest = layout
            .dumps
            .iter()
            .filter(|d| d.kind == DumpKind::Train)
            .filter(|d| {
                self.done.contains(&at(&d.file))
                    || landed.iter().any(|(l, ok)| *ok && l.file == d.file)
            })
            .map(|d| d.rollout_id)
            .max();
        let mut out = Vec::new();
        for d in &layout.dumps {
            let again = self.without_train.contains(&at(&d.file))
                && d.train_file.as_deref().is_some_and(complete);
            let fresh = landed.iter().any(|(l, ok)| *ok && l.file == d.file);
            let ready = again
                || fresh
                    && match (&d.kind, &d.train_file) {
                        (DumpKind::Eval, _) => true,
                        (_, Some(t)) => complete(t),
                        (_, None) => !has_train || latest.is_some_and(|l| l > d.rollout_id),
                    };
            if ready {
                out.push(d.clone());
            }
        }
        for d in &out {
            let file = at(&d.file);
            if d.kind == DumpKind::Train && d.train_file.is_none() {
                self.without_train.insert(file.clone());
            } else {
                self.without_train.remove(&file);
            }
            self.done.insert(file);
        }
        self.sizes = sizes;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::list_local;
    use std::path::PathBuf;

    fn fixture(f: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run");
        std::fs::read(p.join(f)).unwrap()
    }

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ops-follow-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("rollout_data")).unwrap();
        d
    }

    fn files(ds: &[DumpRef]) -> Vec<&str> {
        ds.iter().map(|d| d.file.as_str()).collect()
    }

    #[test]
    fn a_truncated_dump_is_being_written_until_it_is_whole() {
        let dir = tmp("detect");
        let bytes = fixture("rollout_data/1.pt");
        let p = dir.join("rollout_data/1.pt");
        for cut in [0, 3, 1000, bytes.len() - 10] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(
                file_being_written(&p).unwrap().is_some(),
                "cut at {cut} of {}",
                bytes.len()
            );
        }
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(file_being_written(&p).unwrap(), None);
        // Not a file at all: an error, not "being written".
        assert!(file_being_written(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_dump_is_handed_out_once_after_it_is_complete_and_its_size_stands() {
        let dir = tmp("ready");
        std::fs::create_dir_all(dir.join("train_data")).unwrap();
        let write = |f: &str, cut: Option<usize>| {
            let b = fixture(f);
            std::fs::write(dir.join(f), &b[..cut.unwrap_or(b.len())]).unwrap();
        };
        let look = |f: &mut Follow| f.ready(&list_local(std::slice::from_ref(&dir), true).unwrap());
        let mut follow = Follow::new();
        write("rollout_data/0.pt", None);
        write("train_data/0.pt", None);
        write("rollout_data/1.pt", Some(5000));
        // First look: sizes not yet seen twice.
        assert!(look(&mut follow).is_empty());
        // Rollout 0 and its train data are whole; rollout 1 is cut.
        assert_eq!(files(&look(&mut follow)), ["rollout_data/0.pt"]);
        write("rollout_data/1.pt", None);
        write("rollout_data/eval_0.pt", None);
        assert!(
            look(&mut follow).is_empty(),
            "sizes changed since the last look"
        );
        // Eval 0 is read; rollout 1 waits for its train data (the run has some).
        assert_eq!(files(&look(&mut follow)), ["rollout_data/eval_0.pt"]);
        write("rollout_data/2.pt", None);
        look(&mut follow);
        // Rollout 2 landed: rollout 1 goes without train data; 2 waits for its own.
        assert_eq!(files(&look(&mut follow)), ["rollout_data/1.pt"]);
        write("train_data/2.pt", None);
        look(&mut follow);
        assert_eq!(files(&look(&mut follow)), ["rollout_data/2.pt"]);
        assert!(look(&mut follow).is_empty(), "nothing is handed out twice");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_rollout_handed_out_before_its_train_file_is_handed_out_again_with_it() {
        // slime writes rollout_data/0.pt, trains, then writes train_data/0.pt: at the look
        // where rollout 0 lands, the run has no train data yet.
        let dir = tmp("again");
        let write = |f: &str| std::fs::write(dir.join(f), fixture(f)).unwrap();
        let look = |f: &mut Follow| f.ready(&list_local(std::slice::from_ref(&dir), true).unwrap());
        let mut follow = Follow::new();
        write("rollout_data/0.pt");
        look(&mut follow);
        let first = look(&mut follow);
        assert_eq!(files(&first), ["rollout_data/0.pt"]);
        assert_eq!(first[0].train_file, None);
        std::fs::create_dir_all(dir.join("train_data")).unwrap();
        write("train_data/0.pt");
        look(&mut follow);
        let again = look(&mut follow);
        assert_eq!(files(&again), ["rollout_data/0.pt"]);
        assert_eq!(again[0].train_file.as_deref(), Some("train_data/0.pt"));
        assert!(look(&mut follow).is_empty(), "handed out again once only");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_folder_whose_listing_root_moves_hands_nothing_out_twice() {
        // A verl step folder is listed from its parent (`validation/0.jsonl`) until a dump
        // lands in it; then from itself (`0.jsonl`).
        let base = tmp("moves");
        let dir = base.join("validation");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0.jsonl"), "{\"score\": 1}\n").unwrap();
        let look = |f: &mut Follow| f.ready(&list_local(std::slice::from_ref(&dir), true).unwrap());
        let mut follow = Follow::new();
        look(&mut follow);
        assert_eq!(files(&look(&mut follow)), ["validation/0.jsonl"]);
        std::fs::write(dir.join("1.pt"), fixture("rollout_data/1.pt")).unwrap();
        look(&mut follow);
        let later = look(&mut follow);
        assert_eq!(
            files(&later),
            ["1.pt"],
            "the step log is not handed out again"
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}

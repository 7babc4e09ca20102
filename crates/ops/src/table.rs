//! The run table: every dump of a run read (its summary and its samples' records), `jobs` at
//! a time, each dump streamed in chunks through `trace::run::DumpScan`, under slime's
//! arguments (`trace::run::RunOptions`), its train data paired with the rollouts by payload.
//!
//! **Memory is bounded per run, not per job.** A train file is read whole (its tensor
//! storages sit after the pickle), at most [`MAX_TRAIN_BYTES`] of it, and what reading it may
//! hold is bounded by its size ([`train_cost`]); every train read first takes that much from
//! one budget of [`RUN_MEMORY_BUDGET`] bytes shared by all jobs of the process (a read that
//! alone needs more takes the whole budget), waiting while other jobs hold it. So eight jobs
//! on a run of hostile train files hold about what one does. A verl step log is charged the
//! same way, by its line count ([`VERL_LINE_COST`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use std::collections::HashMap;

use serde_json::{Map, Value as J};
use trace::run::{
    pair_train, sample_record, summarize_with, Allowance, DumpRef, RolloutSummary, RunLayout,
    RunOptions, TrainData, MAX_TRAIN_BYTES,
};

use crate::listing::LocalRun;
use crate::Src;

/// What the train reads of one process may hold at once.
pub const RUN_MEMORY_BUDGET: u64 = 768 << 20;

/// Bytes a train read of a file of `size` bytes may hold at most: the file, and 8 bytes (one
/// value) per unit of the work its size allows (`Allowance::for_input`).
pub fn train_cost(size: u64) -> u64 {
    size.saturating_add(Allowance::for_input(size).saturating_mul(8))
}

/// One dump read: its summary and its samples' records.
pub struct DumpResult {
    pub summary: RolloutSummary,
    pub samples: Vec<Map<String, J>>,
}

/// The train data given for a dump.
pub enum Train<'a> {
    None,
    Src(Src<'a>),
    /// Why its bytes could not be had (a pyarrow filesystem's read failed).
    Error(String),
    /// Already read (the run table reads train data first, to pair it by its payload).
    Read(Box<TrainData>),
}

/// Jobs for `requested` (`None` or 0: one per core).
pub fn jobs(requested: Option<usize>) -> usize {
    match requested {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
    }
}

/// `f` over `items`, `jobs` at a time, results in order.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                lock(&results)[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Reads every dump of `run`, `jobs` at a time, in the layout's order, under slime's `opts`.
/// The train data is read first and paired with the rollouts by its payload's `rollout_id`
/// (`trace::run::pair_train`: a `train_3_4.pt` holds rollout 3 because its payload says so).
///
/// A file taken for a rollout dump by its name that is slime's train payload by its keys
/// (`t2.pt`) is then read as train data, paired by its payload, and the run read again.
pub fn read_run(run: &mut LocalRun, jobs: usize, opts: &RunOptions) -> Vec<DumpResult> {
    read_run_with(run, jobs, opts, true)
}

/// [`read_run`]; `records`: with the samples' records (`--json`), else `samples` is empty and
/// no dump's records are held (the plain table: a step of a million lines is then its rows
/// while it is read, not a million records kept to the end).
pub fn read_run_with(
    run: &mut LocalRun,
    jobs: usize,
    opts: &RunOptions,
    records: bool,
) -> Vec<DumpResult> {
    let results = read_all(run, jobs, opts, records);
    let read: Vec<(String, Option<String>)> = results
        .iter()
        .filter_map(|r| {
            Some((
                r.summary.dump.as_ref()?.file.clone(),
                r.summary.error.clone(),
            ))
        })
        .collect();
    if !retake_train(&mut run.listing.layout, &read) {
        return results;
    }
    read_all(run, jobs, opts, records)
}

/// The one rule for a file taken for a rollout dump by its name that is slime's train payload
/// by its keys: `read` gives each dump's file and its read's error; a dump whose error says it
/// is a train payload ([`trace::run::NOT_A_ROLLOUT_DUMP`]) leaves the dumps for the train data,
/// with a note. True when any did: the caller pairs the train data again and reads the run
/// again (the CLI and Python here, Ray in `rollscope.ray`).
pub fn retake_train(layout: &mut RunLayout, read: &[(String, Option<String>)]) -> bool {
    let misnamed: Vec<&String> = read
        .iter()
        .filter(|(_, e)| {
            e.as_deref()
                .is_some_and(|e| e.starts_with(trace::run::NOT_A_ROLLOUT_DUMP))
        })
        .map(|(f, _)| f)
        .filter(|f| layout.dumps.iter().any(|d| &d.file == *f))
        .collect();
    if misnamed.is_empty() {
        return false;
    }
    layout.dumps.retain(|d| !misnamed.contains(&&d.file));
    // What the listing said of them as dumps (a second dump for a rollout) no longer holds.
    layout
        .notes
        .retain(|n| !misnamed.iter().any(|f| n.starts_with(&format!("{f}: "))));
    for f in misnamed {
        layout.notes.push(format!(
            "{f}: slime's train payload by its keys; read as train data"
        ));
        layout.train.push((None, f.clone()));
    }
    true
}

fn read_all(run: &mut LocalRun, jobs: usize, opts: &RunOptions, records: bool) -> Vec<DumpResult> {
    let root = run.root.clone();
    let layout = &mut run.listing.layout;
    let train_files: Vec<String> = layout.train.iter().map(|(_, f)| f.clone()).collect();
    let read = par_map(&train_files, jobs, |t| read_train(&Src::Path(root.join(t))));
    let ids: Vec<(String, Option<i64>)> = layout
        .train
        .iter()
        .zip(&read)
        .map(|((name_id, f), r)| {
            let payload = r.as_ref().ok().and_then(|t| t.rollout_id);
            (f.clone(), payload.or(*name_id))
        })
        .collect();
    pair_train(layout, &ids);
    let mut train: HashMap<String, Result<TrainData, String>> =
        train_files.into_iter().zip(read).collect();
    let has_train = !layout.train.is_empty();
    let work: Vec<Mutex<Option<(&DumpRef, Train)>>> = layout
        .dumps
        .iter()
        .map(|d| {
            let t = match d.train_file.as_ref().and_then(|t| train.remove(t)) {
                Some(Ok(t)) => Train::Read(Box::new(t)),
                Some(Err(e)) => Train::Error(e),
                None => Train::None,
            };
            Mutex::new(Some((d, t)))
        })
        .collect();
    par_map(&work, jobs, |w| {
        let (d, t) = lock(w).take()?;
        Some(read_dump_with(
            &Src::Path(root.join(&d.file)),
            (t, d),
            has_train,
            opts,
            records,
        ))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// One dump of a run: its summary and its samples' records. A dump that cannot be read is a
/// summary with `error` (the run goes on); train data that cannot be read is said in it.
pub fn read_dump(
    src: &Src,
    train: Train,
    dump: &DumpRef,
    run_has_train: bool,
    opts: &RunOptions,
) -> DumpResult {
    read_dump_with(src, (train, dump), run_has_train, opts, true)
}

/// [`read_dump`]; `records`: with its samples' records (else `samples` is empty).
fn read_dump_with(
    src: &Src,
    (train, dump): (Train, &DumpRef),
    run_has_train: bool,
    opts: &RunOptions,
    records: bool,
) -> DumpResult {
    let mut samples = Vec::new();
    let mut keep = |r: Map<String, J>| samples.push(r);
    let sink: Option<&mut dyn FnMut(Map<String, J>)> = records.then_some(&mut keep);
    let summary = read_dump_into(src, (train, dump), run_has_train, opts, sink);
    DumpResult { summary, samples }
}

/// Every sample record of the run's dumps, in the run's order, handed to `sink` one at a time
/// as each dump is read (one dump at a time, each with its train file as paired in the
/// listing): `rollscope run --json` writes them as they come, holding no dump's records.
pub fn each_record(run: &LocalRun, opts: &RunOptions, sink: &mut dyn FnMut(Map<String, J>)) {
    let layout = &run.listing.layout;
    let has_train = !layout.train.is_empty();
    for d in &layout.dumps {
        let train = match &d.train_file {
            Some(t) => Train::Src(Src::Path(run.root.join(t))),
            None => Train::None,
        };
        let src = Src::Path(run.root.join(&d.file));
        read_dump_into(&src, (train, d), has_train, opts, Some(&mut *sink));
    }
}

/// One dump read: its summary, and each sample's record handed to `sink` (if any) as it is
/// made, its row dropped then.
fn read_dump_into(
    src: &Src,
    (train, dump): (Train, &DumpRef),
    run_has_train: bool,
    opts: &RunOptions,
    sink: Option<&mut dyn FnMut(Map<String, J>)>,
) -> RolloutSummary {
    // A verl step log's rows are its lines: what reading it holds is charged to the budget
    // shared by the jobs (a step of a million short lines runs alone). Held to the end: its
    // rows live until the summary and the records are made.
    let _held = dump.is_verl().then(|| BUDGET.take(verl_cost(src)));
    let mut scan = trace::run::DumpScan::of(dump, false);
    let scanned = src
        .chunks(&mut |c| {
            scan.push(c)?;
            Ok(scan.is_done())
        })
        .and_then(|()| scan.finish());
    let scanned = match scanned {
        Ok(s) => s,
        Err(e) => return RolloutSummary::failed(dump, e),
    };
    let train = match train {
        Train::None => None,
        Train::Error(e) => Some(Err(e)),
        Train::Src(t) => Some(read_train(&t)),
        Train::Read(t) => Some(Ok(*t)),
    };
    let (summary, scanned) = summarize_with(dump, scanned, train, run_has_train, opts);
    if let Some(sink) = sink {
        // Each row is dropped once its record is made (a million-line step is not held twice).
        for r in scanned.rows {
            sink(sample_record(dump, &r));
        }
    }
    summary
}

/// The `rollout_id` a train file's payload names (slime's `train_{rollout_id}_{rank}.pt`),
/// read under the shared budget: `None` when it names none or cannot be read.
pub fn train_rollout_id(src: &Src) -> Option<i64> {
    read_train(src).ok().and_then(|t| t.rollout_id)
}

/// A train file read whole (its means only), under the shared budget.
fn read_train(src: &Src) -> Result<TrainData, String> {
    read_train_with(src, false)
}

/// A train file read whole under the shared budget; `tokens`: with its per-token values.
pub fn read_train_with(src: &Src, tokens: bool) -> Result<TrainData, String> {
    let size = match src {
        Src::Bytes(b) => b.len() as u64,
        // A FIFO or device says 0 here and is then refused by type.
        Src::Path(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
    };
    let size = size.min(MAX_TRAIN_BYTES);
    let _held = BUDGET.take(train_cost(size));
    src.with_all(MAX_TRAIN_BYTES, "train data", |b| {
        TrainData::read(b, tokens)
    })
}

/// Bytes a row of a verl step log (one line) may hold while the step is read, its record
/// for `--json` included.
pub const VERL_LINE_COST: u64 = 2 << 10;

/// What reading the verl step log `src` may hold: its lines (counted by a pass over its
/// newlines, at most `trace::run::verl::MAX_LINES`) times [`VERL_LINE_COST`]. A file that
/// cannot be read costs nothing here (its read says why).
fn verl_cost(src: &Src) -> u64 {
    let mut lines = 1u64;
    let _ = src.chunks(&mut |c| {
        lines += c.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(lines > trace::run::verl::MAX_LINES)
    });
    lines.min(trace::run::verl::MAX_LINES) * VERL_LINE_COST
}

/// Bytes free of [`RUN_MEMORY_BUDGET`], and the jobs waiting for some.
struct Budget {
    free: Mutex<u64>,
    freed: Condvar,
}

static BUDGET: Budget = Budget {
    free: Mutex::new(RUN_MEMORY_BUDGET),
    freed: Condvar::new(),
};

/// Bytes taken from the budget, given back when dropped.
struct Held {
    bytes: u64,
}

impl Budget {
    /// Waits until `want` bytes (at most the whole budget) are free, and takes them.
    fn take(&'static self, want: u64) -> Held {
        let want = want.min(RUN_MEMORY_BUDGET);
        let mut free = lock(&self.free);
        while *free < want {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= want;
        Held { bytes: want }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        *lock(&BUDGET.free) += self.bytes;
        BUDGET.freed.notify_all();
    }
}

/// A lock whatever a panicking holder left (the data is counts and results, each whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_dump_is_a_summary_with_its_error() {
        let d = DumpRef {
            rollout_id: 3,
            kind: trace::run::DumpKind::Train,
            file: "rollout_data/3.pt".into(),
            train_file: None,
        };
        let r = read_dump(
            &Src::Bytes(b"\x80\x02garbage"),
            Train::None,
            &d,
            false,
            &RunOptions::default(),
        );
        assert!(r.samples.is_empty());
        let rec = trace::run::rollout_record(&r.summary);
        assert_eq!(rec["rollout_id"], 3);
        assert_eq!(rec["file"], "rollout_data/3.pt");
        assert!(
            rec["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{rec:?}"
        );
    }

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let a = BUDGET.take(RUN_MEMORY_BUDGET / 2);
        assert_eq!(*lock(&BUDGET.free), RUN_MEMORY_BUDGET / 2);
        drop(a);
        // More than the whole budget takes the whole budget (and runs alone).
        let b = BUDGET.take(u64::MAX / 2);
        assert_eq!(b.bytes, RUN_MEMORY_BUDGET);
        assert_eq!(*lock(&BUDGET.free), 0);
        drop(b);
        assert_eq!(*lock(&BUDGET.free), RUN_MEMORY_BUDGET);
    }
}

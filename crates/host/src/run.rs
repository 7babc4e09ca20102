//! `rollscope run`: a whole `--dump-details` run, read with `trace::run`, dumps in parallel.
//!
//! Files: which files make the run ([`run_files`]: a dump-details folder, a `rollout_data/`
//! folder, or a list of dumps), reading them ([`read_run`]: one thread per core, each dump
//! streamed in 1 MiB chunks and its train data read whole, so memory is about one dump per
//! core), and the table ([`render_table`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{Map, Value as J};
use trace::run::{
    layout_with, pair_train, sample_record, summarize_with, DumpRef, RolloutSummary, RunLayout,
    RunOptions, Templates, TrainData,
};

use crate::term::escape;

/// Most files listed in a run folder (slime writes three per rollout step).
pub const MAX_FILES: usize = 300_000;

/// A run on disk: its layout (paths relative to `root`) and the root.
pub struct RunFiles {
    pub root: PathBuf,
    pub layout: RunLayout,
    /// Every file of the run, relative path → size (what the host serves).
    pub files: Vec<(String, u64)>,
}

/// The run in `inputs`: one folder (a dump-details folder, or its `rollout_data/`, whose
/// sibling `train_data/` is then used too when `siblings`), or dump files.
pub fn run_files(inputs: &[PathBuf], siblings: bool) -> Result<RunFiles, String> {
    run_files_with(inputs, siblings, &Templates::default())
}

/// [`run_files`], or with no `inputs` the files slime's templates name
/// (`--save-debug-rollout-data DIR/rollout_{rollout_id}.pt --save-debug-train-data …`): the
/// templates' folders, read from the nearest folder holding both.
pub fn run_files_with(
    inputs: &[PathBuf],
    siblings: bool,
    templates: &Templates,
) -> Result<RunFiles, String> {
    let mut files = Vec::new();
    let root;
    let folders: Vec<PathBuf> = [&templates.rollout, &templates.train]
        .into_iter()
        .flatten()
        .map(|t| {
            Path::new(t)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        })
        .collect();
    match inputs {
        [] if !folders.is_empty() => {
            root = common_folder(&folders);
            for f in &folders {
                let sub = f
                    .strip_prefix(&root)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned();
                if !files
                    .iter()
                    .any(|(p, _): &(String, u64)| sub.is_empty() || p.starts_with(&sub))
                {
                    list(&root, &sub, &mut files)?;
                }
            }
            if root.join("tokenizer").is_dir() {
                list(&root, "tokenizer", &mut files)?;
            }
        }
        [] => {
            return Err(
                "no run: give a run folder, dump files, or --save-debug-rollout-data".into(),
            )
        }
        [dir] if dir.is_dir() => {
            let is_rollout_data = dir.file_name().is_some_and(|n| n == "rollout_data");
            if is_rollout_data && siblings {
                root = dir.parent().map(Path::to_path_buf).unwrap_or_default();
                list(&root, "rollout_data", &mut files)?;
                for sub in ["train_data", "tokenizer"] {
                    if root.join(sub).is_dir() {
                        list(&root, sub, &mut files)?;
                    }
                }
            } else {
                root = dir.clone();
                list(&root, "", &mut files)?;
                for sub in ["rollout_data", "train_data", "tokenizer"] {
                    if root.join(sub).is_dir() {
                        list(&root, sub, &mut files)?;
                    }
                }
            }
        }
        _ => {
            root = PathBuf::new();
            for f in inputs {
                let meta = std::fs::metadata(f).map_err(|e| format!("{}: {e}", f.display()))?;
                if !meta.is_file() {
                    return Err(format!(
                        "{}: not a file (give one run folder, or dump files)",
                        f.display()
                    ));
                }
                files.push((f.to_string_lossy().into_owned(), meta.len()));
            }
        }
    }
    files.sort();
    files.dedup();
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let layout = layout_with(&paths, templates);
    if layout.dumps.is_empty() {
        return Err(format!(
            "{}: no rollout dumps (expected rollout_data/{{id}}.pt as slime's --dump-details writes)",
            inputs
                .first()
                .map_or_else(String::new, |p| p.display().to_string())
        ));
    }
    Ok(RunFiles {
        root,
        layout,
        files,
    })
}

/// The deepest folder that holds every one of `dirs`.
fn common_folder(dirs: &[PathBuf]) -> PathBuf {
    let mut out = dirs.first().cloned().unwrap_or_default();
    for d in dirs {
        while !d.starts_with(&out) {
            if !out.pop() {
                return PathBuf::new();
            }
        }
    }
    out
}

/// The regular files directly in `root/sub` (no symlinks followed: a run's files are its own).
fn list(root: &Path, sub: &str, out: &mut Vec<(String, u64)>) -> Result<(), String> {
    let dir = root.join(sub);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
        let meta = e
            .metadata()
            .map_err(|er| format!("{}: {er}", e.path().display()))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !meta.is_file() || name.starts_with('.') {
            continue;
        }
        if out.len() >= MAX_FILES {
            return Err(format!("{}: more than {MAX_FILES} files", root.display()));
        }
        let rel = if sub.is_empty() {
            name.to_string()
        } else {
            format!("{sub}/{name}")
        };
        out.push((rel, meta.len()));
    }
    Ok(())
}

/// One dump read: its summary and its samples' records.
pub struct DumpResult {
    pub summary: RolloutSummary,
    pub samples: Vec<Map<String, J>>,
}

/// `f` over `items`, `threads` at a time, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Reads every dump of `run`, `threads` at a time, in the layout's order. The train data is
/// read first and paired with the rollouts by its payload's `rollout_id` (the layout's pairing
/// by name is replaced: a `train_3_4.pt` holds rollout 3 because its payload says so).
///
/// A file taken for a rollout dump by its name that is slime's train payload by its keys
/// (`t2.pt`) is then read as train data, paired by its payload, and the run read again.
pub fn read_run(run: &mut RunFiles, threads: usize, opts: &RunOptions) -> Vec<DumpResult> {
    let results = read_all(run, threads, opts);
    let misnamed: Vec<String> = results
        .iter()
        .filter(|r| {
            r.summary
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with(trace::run::NOT_A_ROLLOUT_DUMP))
        })
        .filter_map(|r| r.summary.dump.as_ref().map(|d| d.file.clone()))
        .collect();
    if misnamed.is_empty() {
        return results;
    }
    run.layout.dumps.retain(|d| !misnamed.contains(&d.file));
    for f in misnamed {
        run.layout.notes.push(format!(
            "{f}: slime's train payload by its keys; read as train data"
        ));
        run.layout.train.push((None, f));
    }
    read_all(run, threads, opts)
}

fn read_all(run: &mut RunFiles, threads: usize, opts: &RunOptions) -> Vec<DumpResult> {
    let train_files: Vec<String> = run.layout.train.iter().map(|(_, f)| f.clone()).collect();
    let root = run.root.clone();
    let read = par_map(&train_files, threads, |t| {
        std::fs::read(root.join(t))
            .map_err(|e| e.to_string())
            .and_then(|b| TrainData::read(&b, false))
    });
    let ids: Vec<(String, Option<i64>)> = run
        .layout
        .train
        .iter()
        .zip(&read)
        .map(|((name_id, f), r)| {
            let payload = r.as_ref().ok().and_then(|t| t.rollout_id);
            (f.clone(), payload.or(*name_id))
        })
        .collect();
    pair_train(&mut run.layout, &ids);
    let mut train: std::collections::HashMap<String, Result<TrainData, String>> =
        train_files.into_iter().zip(read).collect();
    let dumps = &run.layout.dumps;
    let has_train = !run.layout.train.is_empty();
    let jobs: Vec<(&DumpRef, Option<Result<TrainData, String>>)> = dumps
        .iter()
        .map(|d| (d, d.train_file.as_ref().and_then(|t| train.remove(t))))
        .collect();
    let jobs: Vec<Mutex<Option<_>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    par_map(&jobs, threads, |j| {
        let (d, t) = j.lock().ok().and_then(|mut j| j.take())?;
        Some(read_dump(&run.root, d, t, has_train, opts))
    })
    .into_iter()
    .flatten()
    .collect()
}

fn read_dump(
    root: &Path,
    d: &DumpRef,
    train: Option<Result<TrainData, String>>,
    has_train: bool,
    opts: &RunOptions,
) -> DumpResult {
    let path = root.join(&d.file);
    let scan = match scan_file(&path) {
        Ok(s) => s,
        Err(e) => {
            return DumpResult {
                summary: RolloutSummary::failed(d, e),
                samples: Vec::new(),
            }
        }
    };
    let (summary, scan) = summarize_with(d, scan, train, has_train, opts);
    let samples = scan.rows.iter().map(|r| sample_record(d, r)).collect();
    DumpResult { summary, samples }
}

/// A dump streamed through `DumpScan` in 1 MiB chunks.
fn scan_file(path: &Path) -> Result<trace::run::Scanned, String> {
    let mut scan = trace::run::DumpScan::summary();
    crate::read_in_chunks(path, |chunk| {
        scan.push(chunk)?;
        Ok(scan.is_done())
    })?;
    scan.finish()
}

/// One line per dump, with its flags; then the run's notes.
pub fn render_table(run: &RunFiles, results: &[DumpResult]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  flags",
        "id",
        "kind",
        "samples",
        "traced",
        "reward",
        "pass@1",
        "resp len",
        "trunc",
        "time s",
        "e2e p99"
    );
    for r in results {
        let s = &r.summary;
        let Some(d) = &s.dump else { continue };
        let m = &s.metrics;
        let g = |k: &str| m.get(k).and_then(J::as_f64);
        let f = |x: Option<f64>, p: usize| x.map_or("-".to_string(), |v| format!("{v:.p$}"));
        let pass1 = m
            .get("pass_rate")
            .and_then(|p| p.get("pass@1"))
            .and_then(J::as_f64)
            .or_else(|| {
                // An eval: the mean of its datasets' pass@1.
                let v: Vec<f64> = m
                    .iter()
                    .filter(|(k, _)| k.starts_with("eval/") && k.ends_with("-pass@1"))
                    .filter_map(|(_, v)| v.as_f64())
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            });
        let resp = g("rollout/response_len/mean");
        let trunc = g("rollout/truncated_ratio");
        let mut flags = Vec::new();
        if let Some(e) = &s.error {
            flags.push(format!("ERROR: {e}"));
        }
        let fl = &s.flags;
        for (on, name) in [
            (fl.straggler, "straggler"),
            (fl.truncation_burst, "truncation burst"),
            (fl.untraced, "untraced"),
            (fl.missing_train, "missing train data"),
            (fl.partial_train, "partial train data"),
        ] {
            if on {
                flags.push(name.to_string());
            }
        }
        if fl.zero_std_groups > 0 {
            flags.push(format!("{} zero-std groups", fl.zero_std_groups));
        }
        let _ = writeln!(
            o,
            "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  {}",
            d.rollout_id,
            d.kind.as_str(),
            m.get("sample_count")
                .and_then(J::as_u64)
                .map_or("-".into(), |n| n.to_string()),
            m.get("traced_sample_count")
                .and_then(J::as_u64)
                .map_or("-".into(), |n| n.to_string()),
            f(g("reward/mean"), 3),
            f(pass1, 3),
            f(resp, 1),
            f(trunc, 3),
            f(g("perf/rollout_time"), 1),
            f(s.e2e_p99, 2),
            escape(&flags.join(", "))
        );
    }
    for n in &run.layout.notes {
        let _ = writeln!(o, "note: {}", escape(n));
    }
    for r in results {
        let file = r.summary.dump.as_ref().map_or("", |d| d.file.as_str());
        for n in &r.summary.notes {
            let _ = writeln!(o, "note: {}", escape(&format!("{file}: {n}")));
        }
    }
    o
}

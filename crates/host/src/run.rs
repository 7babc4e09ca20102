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
use trace::run::{layout, sample_record, summarize, DumpRef, RolloutSummary, RunLayout};

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
    let mut files = Vec::new();
    let root;
    match inputs {
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
    let layout = layout(&files.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>());
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

/// Reads every dump of `run`, `threads` at a time, in the layout's order.
pub fn read_run(run: &RunFiles, threads: usize) -> Vec<DumpResult> {
    let dumps = &run.layout.dumps;
    let has_train = dumps.iter().any(|d| d.train_file.is_some());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<DumpResult>>> =
        Mutex::new((0..dumps.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, dumps.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = dumps.get(i) else { break };
                let r = read_dump(&run.root, d, has_train);
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

fn read_dump(root: &Path, d: &DumpRef, has_train: bool) -> DumpResult {
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
    let train = d.train_file.as_ref().map(|t| {
        let p = root.join(t);
        std::fs::read(&p)
            .map_err(|e| e.to_string())
            .and_then(|b| trace::run::TrainData::read(&b, false))
    });
    let (summary, scan) = summarize(d, scan, train, has_train);
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
        let pass1 = s.pass_at(1);
        let resp = g("rollout/response_len/mean");
        let trunc = g("rollout/truncated_ratio");
        let mut flags = Vec::new();
        if let Some(e) = &s.error {
            flags.push(format!("ERROR: {e}"));
        }
        flags.extend(s.flags.labels());
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

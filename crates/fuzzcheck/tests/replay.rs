//! Replays every committed fuzz input through its target's check: `fuzz/regressions/<target>/*`
//! for every target in `fuzzcheck::TARGETS`. CI replays; it does not fuzz.
//!
//! Each folder must exist and hold at least one file (a folder that went missing or empty
//! would make this test pass while checking nothing). Each file runs on its own thread with a
//! 2 MiB stack (less than libFuzzer's main thread, about what a wasm worker has) and a time
//! bound, so a regression shows as "file X: panicked / took more than N s", not a hung CI.
//! A stack overflow still aborts the whole process: the file name is printed before each run
//! so the abort names it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Per-file bound. The inputs are small (fuzzer-sized, ≤ 1 MiB); a fixed reader takes
/// milliseconds on each, so 60 s only catches hangs and quadratic blowups, even in debug.
const PER_FILE: Duration = Duration::from_secs(60);

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

fn files_of(target: &str) -> Result<Vec<PathBuf>, String> {
    files_in(&regressions().join(target))
}

/// The files of `dir`, sorted; an error if it is missing or holds none.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no inputs to replay", dir.display()));
    }
    Ok(files)
}

/// Runs one file; `Err` says how it failed.
fn replay(target: &'static str, path: &Path) -> Result<Duration, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    // Straight to stderr, not through `eprintln!` (which the test harness captures and loses
    // if the process aborts): a stack overflow must still say which file it was.
    let _ = writeln!(std::io::stderr(), "replaying {target}/{}", file_name(path));
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| fuzzcheck::check(target, &data));
            let _ = tx.send(outcome.map_err(|p| panic_text(&*p)));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    match rx.recv_timeout(PER_FILE) {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(message)) => Err(format!("panicked: {message}")),
        // The thread is left behind; the process ends with the test run.
        Err(_) => Err(format!("took more than {} s", PER_FILE.as_secs())),
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let text = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(not a string)".into());
    text.chars().take(600).collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_committed_fuzz_input_passes_its_check() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for &target in fuzzcheck::TARGETS {
        let files = match files_of(target) {
            Ok(f) => f,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for path in files {
            replayed += 1;
            match replay(target, &path) {
                Ok(took) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "  ok in {:.1} ms",
                        took.as_secs_f64() * 1e3
                    );
                }
                Err(e) => failures.push(format!("{target}/{}: {e}", file_name(&path))),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz inputs fail (replay one with `cargo fuzz run --sanitizer none \
         TARGET fuzz/regressions/TARGET/FILE` in fuzz/):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(replayed > 0, "no fuzz inputs were replayed");
}

#[test]
fn a_missing_or_empty_folder_is_an_error() {
    // The guard above, checked: a folder that is gone or empty cannot pass silently.
    let base = std::env::temp_dir().join(format!("fuzzcheck-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    assert!(files_in(&base.join("missing")).is_err());
    let dir = base.join("target");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(files_in(&dir).unwrap_err().contains("no inputs"));
    std::fs::write(dir.join("one"), b"x").unwrap();
    assert_eq!(files_in(&dir).unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&base);
}

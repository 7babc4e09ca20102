//! Every case of the hostile catalog (`picklegen::hostile::catalog()`), through the real
//! `rollscope cache FILE -o -`, each within stated bounds:
//! - wall time ≤ [`WALL`] (the child is killed past it: a hang fails, it does not hang CI);
//! - peak RSS ≤ [`RSS`] (wait4's `ru_maxrss`, the child's own high-water mark), with an
//!   address-space limit of [`AS_LIMIT`] as a safety net for the machine. Linux carries the
//!   forking parent's high-water mark into the child's `ru_maxrss`, so this test keeps itself
//!   small: the child writes its JSON to a file, which is checked by streaming it (no value
//!   tree of a 50 000-row output in the test process);
//! - the catalog's expectation: `Error(s)` → exit 1 and one `error:` line containing `s`;
//!   `Rows { rows, warning }` → exit 0, a strict JSON cache with exactly `rows` rows, and
//!   a `warning:` line containing `warning` when it is not empty.
//!
//! The bounds are generous (a debug build, two shared cores): each case should take
//! milliseconds; the bounds catch hangs, quadratic blowups and runaway allocation.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use picklegen::hostile::{catalog, Case, Expect};

/// Wall time per case.
const WALL: Duration = Duration::from_secs(10);
/// Peak resident memory per case, in KiB (1 GiB).
const RSS: u64 = 1024 * 1024;
/// Address space per child, in bytes (4 GiB): past this, allocations fail in the child
/// instead of the machine swapping.
const AS_LIMIT: u64 = 4 << 30;
/// The classes of issue #12 the CLI must cover (9 is wasm-only, 10 is `tests/terminal.rs`).
const CLASSES: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

struct Run {
    /// `None` when killed for running past [`WALL`] or by a signal.
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    secs: f64,
    /// KiB.
    max_rss: u64,
    stderr: String,
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rollscope-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `rollscope cache FILE -o -`, polling wait4 so the child can be killed at [`WALL`]
/// and its peak RSS read from the same call that reaps it.
fn run_cache(file: &Path, out: &Path) -> Run {
    let _ = std::fs::remove_file(out);
    run_rollscope(&[
        "cache".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        file.as_os_str(),
    ])
}

#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
/// [`run_cache`] with any arguments.
fn run_rollscope(args: &[&std::ffi::OsStr]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let lim = libc::rlimit {
                rlim_cur: AS_LIMIT as libc::rlim_t,
                rlim_max: AS_LIMIT as libc::rlim_t,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn rollscope");
    // Drain both pipes on their own threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let _ = std::io::copy(&mut out_pipe, &mut std::io::sink());
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: wait4 on our own child with valid out-pointers; WNOHANG never blocks.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if start.elapsed() > WALL && !timed_out {
            timed_out = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = out_thread.join();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        timed_out,
        secs,
        max_rss: usage.ru_maxrss as u64,
        stderr,
    }
}

/// What is wrong with one case's run, if anything.
fn check(case: &Case, run: &Run, out: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    if run.timed_out {
        bad.push(format!("still running after {} s (killed)", WALL.as_secs()));
        return bad;
    }
    if let Some(sig) = run.signal {
        bad.push(format!("killed by signal {sig} (a crash or abort)"));
    }
    if run.max_rss > RSS {
        bad.push(format!(
            "peak RSS {} MiB > {} MiB",
            run.max_rss / 1024,
            RSS / 1024
        ));
    }
    if run.stderr.contains("panicked") {
        bad.push("panicked".into());
    }
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    match &case.expect {
        Expect::Error(s) => {
            if run.code != Some(1) {
                bad.push(format!("exit code {:?}, expected 1", run.code));
            }
            match errors.as_slice() {
                [line] if line.contains(s) => {}
                [line] => bad.push(format!("error line without {s:?}: {line}")),
                lines => bad.push(format!("{} error lines, expected 1", lines.len())),
            }
            if std::fs::metadata(out).is_ok_and(|m| m.len() > 0) {
                bad.push("a cache file was written despite the error".into());
            }
        }
        Expect::Rows { rows, warning } => {
            if run.code != Some(0) {
                bad.push(format!("exit code {:?}, expected 0", run.code));
            }
            if !errors.is_empty() {
                bad.push(format!("error lines: {errors:?}"));
            }
            // serde_json is strict (no NaN, Infinity, trailing commas or raw control bytes)
            // and checks the syntax of what it ignores, so this validates the whole file
            // while holding only the row count.
            #[derive(serde::Deserialize)]
            struct Counted {
                rows: Vec<serde::de::IgnoredAny>,
            }
            let parsed = std::fs::File::open(out)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    serde_json::from_reader::<_, Counted>(std::io::BufReader::new(f))
                        .map_err(|e| e.to_string())
                });
            match parsed {
                Ok(c) if c.rows.len() == *rows => {}
                Ok(c) => bad.push(format!("{} rows, expected {rows}", c.rows.len())),
                Err(e) => bad.push(format!("the cache file is not strict JSON with rows: {e}")),
            }
            if !warning.is_empty()
                && !run
                    .stderr
                    .lines()
                    .any(|l| l.starts_with("warning:") && l.contains(warning))
            {
                bad.push(format!("no warning containing {warning:?}"));
            }
        }
    }
    bad
}

#[test]
fn every_hostile_case_is_bounded_and_gives_what_it_should() {
    let cases = catalog();
    // The catalog must not pass by being empty: every class the CLI reads has a case.
    let missing: Vec<u8> = CLASSES
        .iter()
        .copied()
        .filter(|c| !cases.iter().any(|k| k.class == *c))
        .collect();
    let dir = tmpdir("catalog");
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(names.insert(case.file), "two cases named {}", case.file);
        let file = dir.join(case.file);
        std::fs::write(&file, &case.bytes).unwrap();
        let out = dir.join(format!("{}.out.json", case.file));
        let run = run_cache(&file, &out);
        let bad = check(case, &run, &out);
        let _ = std::fs::remove_file(&out);
        eprintln!(
            "{:<40} class {:>2} {:>6.2} s {:>6} MiB  {}",
            case.file,
            case.class,
            run.secs,
            run.max_rss / 1024,
            if bad.is_empty() { "ok" } else { "FAILED" }
        );
        if !bad.is_empty() {
            failures.push(format!(
                "{} (class {}, {}): {}\n    stderr: {}",
                case.file,
                case.class,
                case.what,
                bad.join("; "),
                run.stderr.trim_end().replace('\n', "\n            ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !missing.is_empty() {
        failures.push(format!(
            "the hostile catalog has no case for class(es) {missing:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) with {} hostile cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The runner itself: a hang is killed at the wall-time bound and reported, and the peak
/// RSS it reads is the child's (a `sleep` uses a few MiB, not the test's own).
#[test]
fn the_bounds_are_enforced_on_a_real_child() {
    let start = Instant::now();
    let dir = tmpdir("runner");
    // Serving a dump never returns, like a reader that hangs (a FIFO no longer does: it is
    // refused before it is opened for reading).
    let dump =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime/basic_0.pt");
    let out = dir.join("out.json");
    let run = run_rollscope(&[
        "--no-open".as_ref(),
        "--port".as_ref(),
        "0".as_ref(),
        dump.as_os_str(),
    ]);
    assert!(run.timed_out, "exit {:?} after {} s", run.code, run.secs);
    assert!(run.secs < WALL.as_secs_f64() + 5.0, "{} s", run.secs);
    let case = Case {
        file: "hang.pt",
        class: 0,
        what: "a reader that never returns",
        bytes: Vec::new(),
        expect: Expect::Rows {
            rows: 0,
            warning: "",
        },
        browser: false,
    };
    assert!(check(&case, &run, &out)[0].contains("killed"));
    // A real file: the child's peak RSS is measured, and small.
    let junk = dir.join("junk.pt");
    std::fs::write(&junk, b"not a torch file").unwrap();
    let run = run_cache(&junk, &out);
    assert_eq!(run.code, Some(1));
    assert!(
        run.max_rss > 0 && run.max_rss < 200 * 1024,
        "{} KiB",
        run.max_rss
    );
    let case = Case {
        expect: Expect::Error("not a torch file"),
        ..case
    };
    assert!(
        check(&case, &run, &out).is_empty(),
        "{:?}",
        check(&case, &run, &out)
    );
    let wrong = Case {
        expect: Expect::Rows {
            rows: 1,
            warning: "",
        },
        ..case
    };
    assert!(!check(&wrong, &run, &out).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(start.elapsed() < Duration::from_secs(60));
}

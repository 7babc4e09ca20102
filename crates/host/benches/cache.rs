//! `cargo bench -p host --bench cache`: how fast and how lean the release `rollscope cache` is on
//! large dumps, beside CPython's C unpickler and (when torch imports and
//! `$ROLLSCOPE_SLIME_DIR` names a slime checkout) slime's own `tools/trace_timeline_viewer.py`,
//! all measured in the same run on the same machine.
//!
//! - `$ROLLSCOPE_BENCH_DUMP`: the dumps, separated like `PATH` (`a.pt:b.pt`). Without it,
//!   `target/bench/synth_large.pt` (made with `python3 tools/synth_large.py` if missing).
//! - `$ROLLSCOPE_BENCH_RUNS`: runs of each timed command (default 3; median time, largest RSS).
//! - `$ROLLSCOPE_BENCH_RESULTS`: a file to append `dump<TAB>key<TAB>value` lines to, which
//!   `cargo xtask bench` turns into one table per dump with the targets of issue 13.
//!
//! Everything measured is a child process: its wall time from spawn to exit and its peak RSS from
//! `wait4`'s `ru_maxrss`, so each figure is that process's own. The binary is black-box on
//! purpose (no `pt`/`trace` API here), so the bench survives rewrites of the library inside.
//! Prints figures; asserts none. A command that fails is reported and the rest still run.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// CPython's C unpickler on the dump's `data.pkl`, as slime's tool reads it but with no torch:
/// unknown classes become a stub, storages are `None` (the synthetic dumps have no tensors).
/// Prints the best of N loads in seconds; the ZIP read is outside the timing.
const UNPICKLE: &str = r#"
import sys, time, zipfile, pickle, io
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
data = z.read(name)
class Stub:
    def __init__(self, *a, **k): pass
    def __setstate__(self, s): pass
class U(pickle.Unpickler):
    def find_class(self, module, name):
        if module in ("builtins", "collections", "copyreg", "_codecs"):
            return super().find_class(module, name)
        return Stub
    def persistent_load(self, pid):
        return None
best = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); v = U(io.BytesIO(data)).load(); dt = time.perf_counter() - t
    del v
    best = dt if best is None else min(best, dt)
print(best)
"#;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("cache: bench");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dumps: Vec<PathBuf> = match std::env::var_os("ROLLSCOPE_BENCH_DUMP") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => vec![default_dump(&root)],
    };
    let runs: usize = std::env::var("ROLLSCOPE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(3);
    let mut results = Results::open();
    let torch = Command::new("python3")
        .args(["-c", "import torch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // slime's own tool runs only from a slime checkout the user names (no copy in this tree).
    let slime_tool = std::env::var_os("ROLLSCOPE_SLIME_DIR")
        .map(|d| PathBuf::from(d).join("tools/trace_timeline_viewer.py"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rollscope"));
    println!("machine: {} cores, {}", cores(), cpu_name());
    println!("rollscope: {}", bin.display());
    for dump in &dumps {
        let Ok(meta) = std::fs::metadata(dump) else {
            println!("{}: missing, skipped", dump.display());
            continue;
        };
        let size = meta.len() as f64;
        let tag = dump
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "\n{} ({:.1} MB), {runs} run(s) each",
            dump.display(),
            size / 1e6
        );
        println!(
            "{:<34} {:>9} {:>9} {:>12} {:>9}",
            "command", "median s", "MB/s", "peak RSS MB", "RSS/file"
        );
        results.put(&tag, "file_bytes", size);

        let out = std::env::temp_dir().join(format!("rollscope-bench-{}.json", std::process::id()));
        let cache = median_of(runs, || {
            timed(
                Command::new(&bin)
                    .arg("cache")
                    .arg(dump)
                    .arg("-o")
                    .arg(&out),
            )
        });
        let _ = std::fs::remove_file(&out);
        report("rollscope cache", &cache, size);
        results.measured(&tag, "cache", &cache);

        let py = timed_stdout(
            Command::new("python3")
                .arg("-c")
                .arg(UNPICKLE)
                .arg(dump)
                .arg(runs.to_string()),
        );
        match &py {
            Ok((secs, rss, stdout)) => match stdout.trim().parse::<f64>() {
                Ok(best) => {
                    // Wall time includes the ZIP read and every load; the figure is the best load.
                    report("CPython C unpickler (best load)", &Ok((best, *rss)), size);
                    println!("{:<34} {secs:>9.3} (whole process)", "");
                    results.measured(&tag, "unpickle", &Ok((best, *rss)));
                }
                Err(_) => {
                    let e = format!("python3 printed {:?}", stdout.trim());
                    println!("CPython C unpickler: {e}");
                    results.text(&tag, "unpickle_error", &e);
                }
            },
            Err(e) => {
                println!("CPython C unpickler: {e}");
                results.text(&tag, "unpickle_error", e);
            }
        }

        let slime_tool = match &slime_tool {
            None => Err("no slime checkout named: cargo xtask bench --slime DIR".to_string()),
            Some(_) if !torch => Err("torch not importable".to_string()),
            Some(t) if !t.exists() => Err(format!("{} is missing", t.display())),
            Some(t) => Ok(t),
        };
        if let Err(e) = &slime_tool {
            println!("slime tool: skipped ({e})");
            results.text(&tag, "slime_skipped", e);
        } else if let Ok(slime_tool) = slime_tool {
            // One run: it takes tens of seconds at these sizes. It writes its cache and HTML
            // beside the dump it is given (and resolves symlinks first), so it gets a hard link
            // (or a copy) in a directory of its own: a fixture's reference cache beside the
            // real dump is never overwritten. --rebuild so no earlier cache is simply re-read.
            let slime = slime_run(&root.join("target/bench/slime-run"), dump, |linked| {
                timed(
                    Command::new("python3")
                        .arg(slime_tool)
                        .arg(linked)
                        .args(["--rebuild", "--no-serve"]),
                )
            });
            report("slime trace_timeline_viewer.py", &slime, size);
            results.measured(&tag, "slime", &slime);
        }
    }
    if let Some(first) = dumps.iter().find(|d| d.exists()) {
        run_bench(&root, &bin, first, runs, &mut results);
    }
}

/// Dumps in the benchmark's run folder: issue 22's run of 20 dumps of ≈ 300 MB (6 GB, hard
/// links to one file, so no disk is spent).
const RUN_DUMPS: usize = 20;

/// `rollscope run` over a run folder of [`RUN_DUMPS`] hard links to (or copies of) `dump`,
/// with two jobs: wall time and peak RSS, beside one `rollscope run` of the dump alone.
/// Recorded as `run_folder`.
fn run_bench(root: &Path, bin: &Path, dump: &Path, runs: usize, results: &mut Results) {
    let work = root.join("target/bench/run_folder");
    let data = work.join("rollout_data");
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = std::fs::create_dir_all(&data) {
        results.text(
            "run_folder",
            "run_error",
            &format!("{}: {e}", data.display()),
        );
        return;
    }
    for i in 0..RUN_DUMPS {
        let linked = data.join(format!("{i}.pt"));
        if let Err(e) =
            std::fs::hard_link(dump, &linked).or_else(|_| std::fs::copy(dump, &linked).map(|_| ()))
        {
            results.text(
                "run_folder",
                "run_error",
                &format!("{}: {e}", linked.display()),
            );
            return;
        }
    }
    let size = std::fs::metadata(dump).map_or(0.0, |m| m.len() as f64);
    println!(
        "
rollscope run: a folder of {RUN_DUMPS} x {} ({:.1} MB each)",
        dump.display(),
        size / 1e6
    );
    let one = median_of(runs, || timed(Command::new(bin).arg("run").arg(dump)));
    report("rollscope run (the dump alone)", &one, size);
    results.measured("run_folder", "run1", &one);
    let all = median_of(runs, || {
        timed(
            Command::new(bin)
                .arg("run")
                .arg(&work)
                .args(["--jobs", "2"]),
        )
    });
    report(
        &format!("rollscope run ({RUN_DUMPS} dumps, --jobs 2)"),
        &all,
        RUN_DUMPS as f64 * size,
    );
    results.measured("run_folder", "run", &all);
    results.put("run_folder", "file_bytes", size);
    results.put("run_folder", "dumps", RUN_DUMPS as f64);
    let _ = std::fs::remove_dir_all(&work);
}

/// Runs `f` on a hard link to (or copy of) `dump` in the fresh directory `work`, which is
/// removed afterwards with whatever was written there.
fn slime_run(work: &Path, dump: &Path, f: impl FnOnce(&Path) -> Measured) -> Measured {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let linked = work.join(dump.file_name().unwrap_or_default());
    std::fs::hard_link(dump, &linked)
        .or_else(|_| std::fs::copy(dump, &linked).map(|_| ()))
        .map_err(|e| format!("{}: {e}", linked.display()))?;
    let m = f(&linked);
    let _ = std::fs::remove_dir_all(work);
    m
}

/// `target/bench/synth_large.pt`, made on first use (written aside, then renamed, so an
/// interrupted run never leaves a truncated dump to be reused).
fn default_dump(root: &Path) -> PathBuf {
    let p = root.join("target/bench/synth_large.pt");
    if !p.exists() {
        let tmp = p.with_extension("pt.tmp");
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        println!("making {} with synth_large.py …", p.display());
        let ok = Command::new("python3")
            .arg(root.join("tools/synth_large.py"))
            .arg(&tmp)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || std::fs::rename(&tmp, &p).is_err() {
            eprintln!(
                "could not make {} (python3 synth_large.py failed)",
                p.display()
            );
            std::process::exit(1);
        }
    }
    p
}

/// Seconds and peak RSS (KB) of one command, or why it failed.
type Measured = Result<(f64, u64), String>;

fn report(what: &str, m: &Measured, size: f64) {
    match m {
        Ok((secs, rss_kb)) => {
            let rss = *rss_kb as f64 * 1024.0;
            println!(
                "{what:<34} {secs:>9.3} {:>9.0} {:>12.1} {:>9.2}",
                size / 1e6 / secs,
                rss / 1e6,
                rss / size
            );
        }
        Err(e) => println!("{what:<34} failed: {e}"),
    }
}

/// Median time of `runs` runs and the largest peak RSS; the first failure if any run fails.
fn median_of(runs: usize, mut f: impl FnMut() -> Measured) -> Measured {
    let mut v = Vec::with_capacity(runs);
    for _ in 0..runs {
        v.push(f()?);
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rss = v.iter().map(|x| x.1).max().unwrap_or(0);
    Ok((v[v.len() / 2].0, rss))
}

fn timed(cmd: &mut Command) -> Measured {
    timed_stdout(cmd).map(|(secs, rss, _)| (secs, rss))
}

/// Wall time, peak RSS (KB) and standard output of one child process. Standard output and
/// error go to files, not pipes: nothing has to drain them while we sit in `wait4`.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
fn timed_stdout(cmd: &mut Command) -> Result<(f64, u64, String), String> {
    let shown = format!("{:?}", cmd.get_program());
    let base = std::env::temp_dir().join(format!("rollscope-bench-{}", std::process::id()));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let out = std::fs::File::create(&out_path).map_err(|e| format!("{shown}: {e}"))?;
    let err = std::fs::File::create(&err_path).map_err(|e| format!("{shown}: {e}"))?;
    let start = Instant::now();
    let child = cmd
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if pid <= 0 {
        return Err(format!("{shown}: wait4 failed"));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!(
            "{shown} failed (wait status {status}): {}",
            last.unwrap_or("no message")
        ));
    }
    Ok((secs, usage.ru_maxrss as u64, stdout))
}

/// The `$ROLLSCOPE_BENCH_RESULTS` file, when set: `dump<TAB>key<TAB>value` lines.
struct Results(Option<std::fs::File>);

impl Results {
    fn open() -> Results {
        let file = std::env::var_os("ROLLSCOPE_BENCH_RESULTS").and_then(|p| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| eprintln!("{}: {e}", Path::new(&p).display()))
                .ok()
        });
        Results(file)
    }

    fn text(&mut self, dump: &str, key: &str, value: &str) {
        if let Some(f) = &mut self.0 {
            // One line per figure: tabs and newlines in a message would split it.
            let value = value.replace(['\t', '\n'], " ");
            let _ = writeln!(f, "{dump}\t{key}\t{value}");
        }
    }

    fn put(&mut self, dump: &str, key: &str, value: f64) {
        self.text(dump, key, &value.to_string());
    }

    /// `<what>_s` and `<what>_rss_kb`, or `<what>_error`.
    fn measured(&mut self, dump: &str, what: &str, m: &Measured) {
        match m {
            Ok((secs, rss_kb)) => {
                self.put(dump, &format!("{what}_s"), *secs);
                self.put(dump, &format!("{what}_rss_kb"), *rss_kb as f64);
            }
            Err(e) => self.text(dump, &format!("{what}_error"), e),
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

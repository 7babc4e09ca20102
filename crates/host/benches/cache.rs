//! `cargo bench -p host`: how fast and how lean `rollscope cache` is on a large dump.
//!
//! Uses `$ROLLSCOPE_BENCH_DUMP`, or makes `target/bench/synth_large.pt` with
//! `python3 ../shared/tools/synth_large.py` (≈300 MB, 4096 samples). Each phase runs in its own
//! child process so its peak RSS is its own (wait4's ru_maxrss). Prints figures; asserts none:
//! targets are for people to compare (2-core machine: whole `rollscope cache` ≤ 0.7 s, peak RSS
//! ≤ 1.3× the file, ≥ 5× faster than CPython's C unpickler on the same data.pkl).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const RUNS: usize = 3;

fn main() {
    if let Ok(phase) = std::env::var("ROLLSCOPE_BENCH_PHASE") {
        let path = std::env::var("ROLLSCOPE_BENCH_DUMP").expect("dump path");
        child(&phase, Path::new(&path));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        println!("cache: bench");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dump = match std::env::var("ROLLSCOPE_BENCH_DUMP") {
        Ok(p) => PathBuf::from(p),
        Err(_) => {
            let p = root.join("target/bench/synth_large.pt");
            if !p.exists() {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                println!("making {} with synth_large.py …", p.display());
                let ok = Command::new("python3")
                    .arg(root.join("../shared/tools/synth_large.py"))
                    .arg(&p)
                    .status()
                    .expect("python3")
                    .success();
                assert!(ok, "synth_large.py failed");
            }
            p
        }
    };
    let size = std::fs::metadata(&dump).unwrap().len() as f64;
    let mb = size / 1e6;
    println!("dump: {} ({mb:.1} MB)", dump.display());
    println!("machine: {} cores, {}", cores(), cpu_name());
    println!(
        "{:<28} {:>9} {:>10} {:>12} {:>9}",
        "phase", "median s", "MB/s", "peak RSS MB", "RSS/file"
    );
    let mut parse_s = 0.0;
    for phase in ["read", "parse", "parse+rows"] {
        let (secs, rss) = median_of(|| run_child(phase, &dump));
        if phase == "parse" {
            parse_s = secs;
        }
        report(phase, secs, rss, mb, size);
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rollscope"));
    let out = std::env::temp_dir().join("rollscope-bench-cache.json");
    let (secs, rss) = median_of(|| {
        timed(
            Command::new(&bin)
                .arg("cache")
                .arg(&dump)
                .arg("-o")
                .arg(&out),
        )
    });
    report("rollscope cache (whole)", secs, rss, mb, size);
    let _ = std::fs::remove_file(&out);
    match python_unpickle(&dump) {
        Some(py) => println!(
            "CPython C unpickler (stub find_class/persistent_load): {py:.3} s; rollscope parse is {:.1}x faster",
            py / parse_s
        ),
        None => println!("CPython comparison skipped (python3 not available)"),
    }
}

fn report(phase: &str, secs: f64, rss_kb: u64, mb: f64, size: f64) {
    let rss_mb = rss_kb as f64 * 1024.0 / 1e6;
    println!(
        "{phase:<28} {secs:>9.3} {:>10.0} {rss_mb:>12.1} {:>9.2}",
        mb / secs,
        rss_kb as f64 * 1024.0 / size
    );
}

fn median_of(mut f: impl FnMut() -> (f64, u64)) -> (f64, u64) {
    let mut v: Vec<(f64, u64)> = (0..RUNS).map(|_| f()).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rss = v.iter().map(|x| x.1).max().unwrap_or(0);
    (v[RUNS / 2].0, rss)
}

fn run_child(phase: &str, dump: &Path) -> (f64, u64) {
    let exe = std::env::current_exe().unwrap();
    timed(
        Command::new(exe)
            .env("ROLLSCOPE_BENCH_PHASE", phase)
            .env("ROLLSCOPE_BENCH_DUMP", dump),
    )
}

/// Wall time and peak RSS (KB) of one child process.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
fn timed(cmd: &mut Command) -> (f64, u64) {
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain wait4 on our own child, with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
    (secs, usage.ru_maxrss as u64)
}

fn child(phase: &str, path: &Path) {
    let bytes = host::Bytes::open(path).unwrap();
    match phase {
        // Touch every page, as a parser would.
        "read" => {
            let sum: u64 = bytes.iter().step_by(4096).map(|&b| b as u64).sum();
            std::hint::black_box(sum);
        }
        "parse" => {
            let dump = pt::read(&bytes, &pt::Limits::for_timeline()).unwrap();
            assert!(!dump.tree.nodes.is_empty());
        }
        "parse+rows" => {
            let parsed = trace::parse(&bytes).unwrap();
            drop(bytes);
            let built = parsed.build("bench.pt", 0.0).unwrap();
            assert!(!built.cache.rows.is_empty());
        }
        other => panic!("unknown phase {other}"),
    }
}

fn python_unpickle(dump: &Path) -> Option<f64> {
    let script = r#"
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
for _ in range(3):
    t = time.perf_counter(); U(io.BytesIO(data)).load(); dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(best)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dump)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
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

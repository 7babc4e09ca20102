//! `cargo xtask bench`: issue 22's figures on three synthetic dumps, printed with the machine as
//! one table per dump, each figure beside its target and "met"/"not met". Figures, not
//! assertions: the command fails only when a step cannot run at all.
//!
//! The measuring is done by `crates/host/benches/cache.rs` (native: the release `rollscope
//! cache`, CPython's C unpickler and slime's own tool, each a child process timed with its
//! `wait4` peak RSS) and `tests/bench/browser.mjs` (headless Chromium). Both append
//! `dump<TAB>key<TAB>value` lines to `target/bench/results.tsv`; this module makes the dumps,
//! runs them and turns that file into the tables.

use std::collections::HashMap;
use std::path::Path;

use crate::dist::wasm_sizes;
use crate::{build_dist, cmd, run, setup, step, Result};
use rows::dump_table;

/// Issue 22's target for each wasm module, gzipped (KB); the dumps' are in [`rows`].
const WASM_EACH_KB: u64 = 600;

/// One dump's figures: key → value, as the measuring steps wrote them.
type Figures = HashMap<String, String>;

/// A benchmark dump: its file under target/bench/ and the synth_large.py arguments that make it.
struct Dump {
    file: &'static str,
    args: &'static [&'static str],
    role: Role,
}

#[derive(PartialEq)]
enum Role {
    /// ≈300 MB, 4 096 samples, ≈24 k spans: the no-regression dump.
    Default,
    Turns12,
    /// ≈430 MB, ≈1 M spans: the dump the main targets are about.
    Turns60,
}

const DUMPS: &[Dump] = &[
    Dump {
        file: "synth_large.pt",
        args: &[],
        role: Role::Default,
    },
    Dump {
        file: "synth_turns12.pt",
        args: &["--turns", "12"],
        role: Role::Turns12,
    },
    Dump {
        file: "synth_turns60.pt",
        args: &["--turns", "60"],
        role: Role::Turns60,
    },
];

/// `args`: `--slime DIR` names a slime checkout whose `tools/trace_timeline_viewer.py` is
/// measured too (or `$ROLLSCOPE_SLIME_DIR`); without one that row says how to enable it.
pub fn bench(root: &Path, args: &[String]) -> Result {
    let slime = match args {
        [] => std::env::var_os("ROLLSCOPE_SLIME_DIR").map(std::path::PathBuf::from),
        [flag, dir] if flag == "--slime" => Some(std::path::PathBuf::from(dir)),
        _ => return Err("usage: cargo xtask bench [--slime DIR]".into()),
    };
    let load_before = load_average();
    setup(root, true)?;
    build_dist(root)?;
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let synth = root.join("tools/synth_large.py");
    let mut paths = Vec::new();
    for d in DUMPS {
        let path = dir.join(d.file);
        if !path.exists() {
            step(&format!(
                "making {} with synth_large.py {} (reused on later runs)",
                path.display(),
                d.args.join(" ")
            ));
            // Written aside and renamed, so an interrupted run never leaves a truncated dump
            // that a later run would reuse.
            let tmp = path.with_extension("pt.tmp");
            run(cmd("python3").arg(&synth).arg(&tmp).args(d.args))?;
            std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        paths.push(path);
    }
    let results = dir.join("results.tsv");
    std::fs::write(&results, "").map_err(|e| format!("{}: {e}", results.display()))?;
    let joined = std::env::join_paths(&paths).map_err(|e| e.to_string())?;

    // A step that fails is reported and the others still run: the table shows what was measured.
    let mut failed = Vec::new();
    step("native: cargo bench -p host --bench cache (rollscope cache, CPython, slime's tool)");
    if let Err(e) = run(cmd("cargo")
        .args(["bench", "-p", "host", "--bench", "cache"])
        .envs(slime.iter().map(|d| ("ROLLSCOPE_SLIME_DIR", d)))
        .env("ROLLSCOPE_BENCH_DUMP", &joined)
        .env("ROLLSCOPE_BENCH_RESULTS", &results)
        .current_dir(root))
    {
        failed.push(e);
    }
    step("native: cargo bench -p trace --bench shapes (span shapes that were quadratic)");
    if let Err(e) = run(cmd("cargo")
        .args(["bench", "-p", "trace", "--bench", "shapes"])
        .current_dir(root))
    {
        failed.push(e);
    }
    step("browser: tests/bench/browser.mjs (headless Chromium, one fresh browser per dump)");
    if let Err(e) = run(cmd("node")
        .arg(root.join("tests/bench/browser.mjs"))
        .args(&paths)
        .env("ROLLSCOPE_BENCH_RESULTS", &results)
        .current_dir(root))
    {
        failed.push(e);
    }

    step("browser: tests/bench/report.mjs (rollscope html, then the report opened from file://)");
    let report = run(cmd("cargo")
        .args(["build", "--release", "-p", "host", "--bin", "rollscope"])
        .current_dir(root))
    .and_then(|()| {
        run(cmd("node")
            .arg(root.join("tests/bench/report.mjs"))
            .args(&paths)
            .env("ROLLSCOPE_BIN", root.join("target/release/rollscope"))
            .env("ROLLSCOPE_BENCH_RESULTS", &results)
            .current_dir(root))
    });
    if let Err(e) = report {
        failed.push(e);
    }
    step("browser: tests/bench/compare.mjs (two runs side by side, served by rollscope)");
    if let Err(e) = run(cmd("node")
        .arg(root.join("tests/bench/compare.mjs"))
        .env("ROLLSCOPE_BIN", root.join("target/release/rollscope"))
        .env("ROLLSCOPE_BENCH_RESULTS", &results)
        .current_dir(root))
    {
        failed.push(e);
    }

    // The Python package's figures (issue 15), on the first (300 MB) dump.
    if let Err(e) = crate::python::bench(root, &paths[..1]) {
        failed.push(e);
    }

    let text = std::fs::read_to_string(&results).unwrap_or_default();
    let figures = parse_results(&text);
    step("issue 22 figures (measured in this run; targets beside them)");
    print_machine(&load_before);
    for (d, path) in DUMPS.iter().zip(&paths) {
        let empty = HashMap::new();
        let f = figures.get(d.file).unwrap_or(&empty);
        print_dump(d, path, f);
    }
    print_run(figures.get("run_folder").unwrap_or(&HashMap::new()));
    print_compare(figures.get("compare").unwrap_or(&HashMap::new()));
    print_wasm(root);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("bench steps failed: {}", failed.join("; ")))
    }
}

/// `dump<TAB>key<TAB>value` lines → dump → key → value (the last line for a key wins).
fn parse_results(text: &str) -> HashMap<String, Figures> {
    let mut out: HashMap<String, Figures> = HashMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        if let (Some(dump), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next()) {
            out.entry(dump.to_string())
                .or_default()
                .insert(key.to_string(), value.to_string());
        }
    }
    out
}

fn print_machine(load_before: &str) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ram_kb: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    println!(
        "machine: {cores} cores, {cpu}, {:.1} GB RAM; {}; {}",
        ram_kb * 1024.0 / 1e9,
        version_line("chromium", "--version"),
        version_line("python3", "--version"),
    );
    println!(
        "load average (1/5/15 min) at start {load_before}, now {}: other work on the machine \
         slows every figure",
        load_average()
    );
}

fn version_line(program: &str, arg: &str) -> String {
    crate::version_of(program, arg).unwrap_or_else(|| format!("{program}: not found"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One printed row: figure, measured, target, verdict.
struct Table(Vec<[String; 4]>);

impl Table {
    fn row(&mut self, figure: &str, measured: String, target: &str, met: Option<bool>) {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "",
        };
        self.0.push([
            figure.to_string(),
            measured,
            target.to_string(),
            verdict.to_string(),
        ]);
    }

    fn print(&self) {
        let w = |i: usize| {
            self.0
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (w(0).max(6), w(1).max(8), w(2).max(6));
        println!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  ",
            "figure", "measured", "target"
        );
        for r in &self.0 {
            let line = format!("  {:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
            println!("{}", line.trim_end());
        }
    }
}

fn num(f: &Figures, key: &str) -> Option<f64> {
    f.get(key)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn mb(bytes: f64) -> String {
    format!("{:.0} MB", bytes / 1e6)
}

/// Why a figure is missing: the step's own error if it wrote one.
fn missing(f: &Figures, error_key: &str) -> String {
    match f.get(error_key) {
        Some(e) => format!("failed: {e}"),
        None => "not measured".into(),
    }
}

/// `rollscope run` over a run folder of copies of the default dump (issues 14 and 22: dumps
/// read in parallel, each streamed, memory about one dump per job).
fn print_run(f: &Figures) {
    let dumps = num(f, "dumps").unwrap_or(0.0);
    println!(
        "\nrollscope run: a run folder of {dumps:.0} x {} (--jobs 2)",
        DUMPS[0].file
    );
    let size = num(f, "file_bytes").unwrap_or(0.0);
    let mut t = Table(Vec::new());
    match (
        num(f, "run1_s"),
        num(f, "run1_rss_kb"),
        num(f, "run_s"),
        num(f, "run_rss_kb"),
    ) {
        (Some(s1), Some(kb1), Some(s_all), Some(kb_all)) => {
            t.row(
                "one dump: wall, peak RSS",
                format!("{s1:.2} s, {}", mb(kb1 * 1024.0)),
                "",
                None,
            );
            t.row(
                &format!("{dumps:.0} dumps: wall (time to the trends)"),
                format!("{s_all:.2} s ({:.0} MB/s)", dumps * size / 1e6 / s_all),
                "",
                None,
            );
            // Two jobs: about two dumps' worth of memory at once, plus the records of every
            // sample kept for the output (not every dump's worth).
            let x = kb_all / kb1;
            t.row(
                &format!("{dumps:.0} dumps: peak RSS"),
                format!("{} = {x:.2}x one dump", mb(kb_all * 1024.0)),
                "<= 3x one dump (2 jobs + records)",
                Some(x <= 3.0),
            );
        }
        _ => t.row("rollscope run", missing(f, "run_error"), "", None),
    }
    t.print();
}

/// Issue 21's target for two runs side by side: the run fixture and its replay open in the
/// browser within this many seconds (navigation to both ready, the median of a few opens).
const COMPARE_OPEN_S: f64 = 2.0;

/// `rollscope RUN RUN_REPLAY` opened in Chromium (`tests/bench/compare.mjs`).
fn print_compare(f: &Figures) {
    println!("\ntwo runs side by side: tests/fixtures/run and run_replay, served by rollscope");
    let mut t = Table(Vec::new());
    match num(f, "compare_open_s") {
        Some(s) => t.row(
            "navigation to both runs ready, median",
            format!(
                "{s:.2} s (runs: {})",
                f.get("compare_open_runs").map_or("?", |r| r.as_str())
            ),
            &format!("<= {COMPARE_OPEN_S} s"),
            Some(s <= COMPARE_OPEN_S),
        ),
        None => t.row(
            "two runs side by side",
            missing(f, "compare_error"),
            "",
            None,
        ),
    }
    t.print();
}

fn print_dump(d: &Dump, path: &Path, f: &Figures) {
    let size = num(f, "file_bytes")
        .or_else(|| std::fs::metadata(path).ok().map(|m| m.len() as f64))
        .unwrap_or(0.0);
    let spans = num(f, "spans").map_or("? spans".to_string(), |s| format!("{s:.0} spans"));
    let made = if d.args.is_empty() {
        "synth_large.py".to_string()
    } else {
        format!("synth_large.py {}", d.args.join(" "))
    };
    let role = match d.role {
        Role::Default => "the no-regression dump",
        Role::Turns12 => "many spans",
        Role::Turns60 => "the dump issue 22's targets are set on",
    };
    println!(
        "\n{}: {:.1} MB, {spans} ({made}; {role})",
        d.file,
        size / 1e6
    );
    dump_table(d, size, f).print();
}

fn print_wasm(root: &Path) {
    println!("\nwasm modules (release, gzip -9):");
    let mut t = Table(Vec::new());
    match wasm_sizes(root) {
        Ok(sizes) if !sizes.is_empty() => {
            for (name, raw, gz) in &sizes {
                let kb = gz / 1024;
                t.row(
                    &module_label(name),
                    format!("{kb} KB gzipped ({} KB raw)", raw / 1024),
                    &format!("<= {WASM_EACH_KB} KB"),
                    Some(kb <= WASM_EACH_KB),
                );
            }
            for (i, (app, budget)) in crate::dist::APPS.iter().enumerate() {
                let total: u64 = sizes
                    .iter()
                    .filter(|s| crate::dist::app_of(&s.0) == i)
                    .map(|s| s.2)
                    .sum();
                t.row(
                    app,
                    format!("{} KB gzipped", total / 1024),
                    &format!("<= {} KB (xtask build's budget)", budget / 1024),
                    Some(total <= *budget),
                );
            }
        }
        Ok(_) => t.row("wasm", "no .wasm in dist/".into(), "", None),
        Err(e) => t.row("wasm", format!("failed: {e}"), "", None),
    }
    t.print();
    println!(
        "\nHow: wall times run from spawn to exit. Native peak RSS is wait4's ru_maxrss of the\n\
         child (rollscope cache: median time of 3 runs, largest RSS; CPython: its best of 3\n\
         loads, the ZIP read excluded). Viewer ready: the median of three loads, each in a\n\
         fresh browser with nothing sampled; a fourth measures memory and frames. Chromium's\n\
         memory is the peak of the summed Pss of every process in the browser's tree (shared\n\
         pages counted once), sampled every 100 ms while loading (more often slows the browser\n\
         measured); the target is judged on its rise above the idle page.\n\
         Frame = from a frame's rAF timestamp to the end of its rendering, over ~6 s of wheel\n\
         zoom, drag pan and shift+wheel row scroll. Raw figures: target/bench/results.tsv."
    );
}

/// `viewer-<hash>_bg.wasm` is the page, `worker_bg.wasm` the parsing worker, `runapp_bg.wasm`
/// and `runworker_bg.wasm` the run explorer's app and worker.
fn module_label(file: &str) -> String {
    let what = if file.starts_with("worker") {
        "worker"
    } else if file.starts_with("runapp") {
        "run app"
    } else if file.starts_with("runworker") {
        "run worker"
    } else {
        "page"
    };
    format!("{what} ({file})")
}

mod report;
mod rows;
#[cfg(test)]
mod tests;

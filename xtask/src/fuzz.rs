//! `cargo xtask fuzz`: the fuzz targets in fuzz/, seeded and run for a share of the time each.

use std::path::Path;

use crate::{cmd, run, step, version_of, Result};

/// `cargo xtask fuzz [--minutes N] [--target T]`: seeds each target's (git-ignored) corpus in
/// `fuzz/corpus/<target>/` from `tests/fixtures`, the hostile catalog and the committed
/// regressions, then runs each target for its share of the time under libFuzzer's fork mode
/// (so one crash does not end the run), and prints executions and findings per target.
/// Findings land in `fuzz/artifacts/<target>/`: minimise one with `cargo fuzz tmin`, commit it
/// under `fuzz/regressions/<target>/` and the replay test keeps it fixed.
pub fn fuzz(root: &Path, args: &[String]) -> Result {
    const CARGO_FUZZ: &str = "0.13.2";
    // (target, -max_len, which seed files). The differential and JSON targets take whole
    // fixtures (up to ≈ 230 KB); pt_read and trace_load mutate faster on smaller inputs (their
    // seeds are cut at 64 KiB: the legacy fixture and bare pickles fit, ZIPs lose their end).
    const TARGETS: &[(&str, usize, &str)] = &[
        ("pt_read", 64 << 10, "pt"),
        ("trace_load", 64 << 10, "pt json"),
        ("trace_json", 256 << 10, "json"),
        ("stream_vs_whole", 256 << 10, "pt json chunked"),
        ("interop", 64 << 10, "json"),
        ("cache_json", 256 << 10, "json"),
        ("structured", 8 << 10, ""),
        ("tokenizer", 256 << 10, "json"),
        ("run_read", 256 << 10, "pt"),
        ("export_stream", 64 << 10, "pt json"),
        ("verl_read", 256 << 10, "jsonl"),
        // Seeded by its regressions: stores of fixtures (`fuzz/regressions/store_read/`).
        ("store_read", 256 << 10, ""),
        // Seeded by its regressions: virtual run folders (`fuzz/regressions/run_listing/`).
        ("run_listing", 64 << 10, ""),
    ];
    let mut minutes = 7.0f64;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => {
                minutes = it
                    .next()
                    .and_then(|m| m.parse().ok())
                    .filter(|m: &f64| *m > 0.0)
                    .ok_or("--minutes needs a positive number")?
            }
            "--target" => only = Some(it.next().cloned().ok_or("--target needs a name")?),
            other => return Err(format!("fuzz: unknown argument {other:?}")),
        }
    }
    let chosen: Vec<_> = TARGETS
        .iter()
        .filter(|(t, _, _)| only.as_deref().is_none_or(|o| o == *t))
        .collect();
    if chosen.is_empty() {
        let names: Vec<_> = TARGETS.iter().map(|t| t.0).collect();
        return Err(format!(
            "fuzz: no target {only:?} (known: {})",
            names.join(", ")
        ));
    }
    step("checking cargo-fuzz (installing only if missing)");
    if version_of("cargo-fuzz", "--version").as_deref() != Some(&format!("cargo-fuzz {CARGO_FUZZ}"))
    {
        println!("installing: cargo-fuzz {CARGO_FUZZ} (about 2 minutes)");
        run(cmd("cargo").args(["install", "cargo-fuzz", "--version", CARGO_FUZZ, "--locked"]))?;
    } else {
        println!("cargo-fuzz {CARGO_FUZZ} is installed");
    }
    let dir = root.join("fuzz");
    step("seeding the corpora (fixtures, hostile catalog, regressions)");
    let hostile = dir.join("corpus/.hostile");
    run(cmd("cargo")
        .args(["run", "-q", "-p", "picklegen", "--example", "hostile", "--"])
        .arg(&hostile)
        .current_dir(root))?;
    let mut seeds = Vec::new();
    let mut pending = vec![root.join("tests/fixtures"), hostile];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.metadata().is_ok_and(|m| m.len() <= 256 << 10) {
                seeds.push(path);
            }
        }
    }
    seeds.sort();
    let share = std::time::Duration::from_secs_f64(minutes * 60.0 / chosen.len() as f64);
    step("building the fuzz targets (release, no sanitizer; first build ≈ 2 minutes)");
    run(cmd("cargo")
        .args(["fuzz", "build", "--sanitizer", "none"])
        .current_dir(&dir))?;
    let mut report = Vec::new();
    for &&(target, max_len, kinds) in &chosen {
        let corpus = dir.join("corpus").join(target);
        let copied = seed_corpus(&dir, &corpus, target, kinds, &seeds)?;
        let (execs, found) = run_target(&dir, &corpus, target, max_len, copied, share)?;
        report.push((target, execs, found));
    }
    step("fuzzing summary");
    for (target, execs, found) in &report {
        println!("{target:>16}: {execs:>12} executions, {found} new findings");
    }
    let total: usize = report.iter().map(|r| r.2).sum();
    if total > 0 {
        println!(
            "minimise each with `cargo fuzz tmin --sanitizer none TARGET FILE` in fuzz/, commit it \
             under fuzz/regressions/TARGET/ and `cargo test -p fuzzcheck` replays it"
        );
    }
    Ok(())
}

/// Fills `corpus` with the seeds of `kinds` (file extensions; `chunked` prefixes chunk sizes)
/// and the target's committed regressions; how many it copied.
fn seed_corpus(
    dir: &Path,
    corpus: &Path,
    target: &str,
    kinds: &str,
    seeds: &[std::path::PathBuf],
) -> Result<usize> {
    std::fs::create_dir_all(corpus).map_err(|e| e.to_string())?;
    let mut copied = 0;
    for (i, seed) in seeds.iter().enumerate() {
        let ext = seed.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ext.is_empty() || !kinds.split(' ').any(|k| k == ext) {
            continue;
        }
        let Ok(mut bytes) = std::fs::read(seed) else {
            continue;
        };
        if kinds.contains("chunked") {
            // stream_vs_whole's first bytes are chunk sizes: vary them over the seeds.
            let prefix: &[u8] = [&[0][..], &[1, 0], &[2, 6, 63], &[1, 0xF0]][i % 4];
            bytes.splice(0..0, prefix.iter().copied());
        }
        let name = seed.file_name().unwrap_or_default().to_string_lossy();
        std::fs::write(corpus.join(format!("seed-{name}")), bytes).map_err(|e| e.to_string())?;
        copied += 1;
    }
    let regressions = dir.join("regressions").join(target);
    for entry in std::fs::read_dir(&regressions)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        std::fs::copy(entry.path(), corpus.join(format!("regression-{name}")))
            .map_err(|e| e.to_string())?;
        copied += 1;
    }
    Ok(copied)
}

/// Runs one target for `share` under libFuzzer's fork mode: its executions and how many new
/// findings landed in `fuzz/artifacts/<target>/`.
fn run_target(
    dir: &Path,
    corpus: &Path,
    target: &str,
    max_len: usize,
    copied: usize,
    share: std::time::Duration,
) -> Result<(u64, usize)> {
    let artifacts = dir.join("artifacts").join(target);
    std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
    let before: Vec<_> = std::fs::read_dir(&artifacts)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    step(&format!(
        "fuzzing {target} for {:.0} s ({copied} seeds, -max_len={max_len})",
        share.as_secs_f64()
    ));
    let log_path = artifacts.join("last-run.log");
    let log_file = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut child = {
        use std::os::unix::process::CommandExt;
        cmd("cargo")
            .args(["fuzz", "run", "--sanitizer", "none", target])
            .arg(corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", share.as_secs().max(1)))
            .args(["-timeout=10", "-rss_limit_mb=2048", "-fork=1"])
            .args(["-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"])
            .arg(format!("-max_len={max_len}"))
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(log_file)
            // Its own process group, so that a hung run is stopped with its jobs.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cargo fuzz run {target}: {e}"))?
    };
    // libFuzzer's timeout handler allocates inside a signal handler and can deadlock in
    // malloc, leaving its fork-mode parent waiting for ever: past its time and two minutes,
    // the run is stopped and said so.
    let deadline = std::time::Instant::now() + share + std::time::Duration::from_secs(120);
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            println!("{target}: still running two minutes past its time (a hung job): stopped");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let log =
        String::from_utf8_lossy(&std::fs::read(&log_path).map_err(|e| e.to_string())?).into_owned();
    // Fork mode's status lines: `#EXECS: cov: … oom/timeout/crash: O/T/C time: …`.
    let execs = log
        .lines()
        .rev()
        .find_map(|l| {
            let n = l.strip_prefix('#')?.split(':').next()?;
            n.parse::<u64>().ok()
        })
        .unwrap_or(0);
    let found: Vec<String> = std::fs::read_dir(&artifacts)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| !before.contains(&e.file_name()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "last-run.log")
        .collect();
    println!("{target}: {execs} executions, {} new findings", found.len());
    for f in &found {
        println!("  fuzz/artifacts/{target}/{f}");
    }
    Ok((execs, found.len()))
}

//! `cargo xtask`: the project's only entry point for set-up, serving and testing.
//!
//! - `cargo xtask serve [--port N]`: install what is missing, build the viewer, serve it on
//!   http://127.0.0.1:N/ with the demo dump preloaded.
//! - `cargo xtask test`: install what is missing, then fmt, clippy, native tests, the release
//!   wasm build, the Python package's tests (`python.rs`: a venv under `target/py-venv`, the
//!   wheel built by maturin, pytest) and the browser tests, stopping at the first failure.
//! - `cargo xtask py-test`: the Python step alone.
//! - `cargo xtask bench`: issue 13's figures on large synthetic dumps, one table per dump with
//!   the machine and each target (see `bench.rs`).
//!
//! Installs are idempotent: each tool is checked first (exact version) and only installed when
//! missing, with a line saying so. Nothing is downloaded from anywhere but the package
//! registries (crates.io, Debian, npm, PyPI).

mod bench;
mod python;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const TRUNK: &str = "0.21.14";
const WASM_OPT_CRATE: &str = "0.116.1";
const WASM_OPT_BINARYEN: &str = "version 116";
/// Release wasm budget of the timeline (the page and its parsing worker, gzipped): what every
/// page load fetches.
const WASM_BUDGET_GZ: u64 = 600 * 1024;
/// Release wasm budget of the run explorer (`runapp` and `runworker`, gzipped), fetched only
/// when a run is opened: measured at 533 KB (runapp 347 + runworker 186), plus about 10%.
const RUN_WASM_BUDGET_GZ: u64 = 590 * 1024;

/// The two wasm apps in dist/: the timeline (page + parsing worker) and the run explorer
/// (`runapp_bg.wasm` + `runworker_bg.wasm`, loaded lazily), each with its budget.
const APPS: [(&str, u64); 2] = [
    ("timeline (page + worker)", WASM_BUDGET_GZ),
    ("run explorer (runapp + runworker)", RUN_WASM_BUDGET_GZ),
];

/// Which of [`APPS`] a `.wasm` file of dist/ belongs to (its index).
fn app_of(file: &str) -> usize {
    usize::from(file.starts_with("runapp") || file.starts_with("runworker"))
}

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    let run = match args.first().map(String::as_str) {
        Some("serve") => serve(&root, &args[1..]),
        Some("test") => test(&root),
        Some("setup") => setup(&root, true),
        Some("build") => setup(&root, false).and_then(|()| build_dist(&root)),
        Some("bench") => bench::bench(&root, &args[1..]),
        // Only the Python package's step of `test` (needs target/debug/rollscope).
        Some("py-test") => python::test(&root),
        Some("fuzz") => fuzz(&root, &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [--port N] | test | setup | build | bench | \
                 fuzz [--minutes N] [--target T]>\n\
                 \n  serve  build the viewer and serve it on 127.0.0.1 (default port 8080)\
                 \n  test   fmt, clippy, native tests, release wasm build, browser tests\
                 \n  setup  only install what is missing\
                 \n  build  only build dist/\
                 \n  bench  native and browser benchmarks on large synthetic dumps\
                 \n         (--slime DIR: also slime's own tool from that checkout)\
                 \n  py-test  only the Python package's tests (venv, wheel, pytest)\
                 \n  fuzz   run the fuzz targets in fuzz/ for N minutes in all (default 7)"
            );
            return ExitCode::from(2);
        }
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found at run time (a checkout moved after building still works):
/// the nearest folder at or above the current directory whose `Cargo.toml` has `[workspace]`.
/// `cargo xtask` runs from inside the workspace, so one is always found there.
fn project_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
        .unwrap_or(cwd)
}

fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    home.join("bin")
}

/// PATH with ~/.cargo/bin first, so the tools we install win over any system copy (Debian's
/// binaryen 108 breaks Leptos output).
fn path_env() -> String {
    let old = std::env::var("PATH").unwrap_or_default();
    format!("{}:{old}", cargo_bin().display())
}

fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", path_env());
    c
}

fn step(title: &str) {
    println!("\n==> {title}");
}

/// Runs a command, failing with its name if it fails.
fn run(c: &mut Command) -> Result {
    let shown = std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let status = c.status().map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// First line of `program --version`, or None if it cannot run.
fn version_of(program: &str, arg: &str) -> Option<String> {
    let out = cmd(program).arg(arg).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen(root: &Path) -> Result<String> {
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

fn setup(root: &Path, browser: bool) -> Result {
    step("checking tools (installing only what is missing)");
    let targets = cmd("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e} (rustup is required)"))?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        println!("installing: rust target wasm32-unknown-unknown");
        run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let components = cmd("rustup")
        .args(["component", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    let have = String::from_utf8_lossy(&components.stdout).into_owned();
    for c in ["rustfmt", "clippy"] {
        if !have.lines().any(|l| l.starts_with(c)) {
            println!("installing: rustup component {c}");
            run(cmd("rustup").args(["component", "add", c]))?;
        }
    }
    if version_of("trunk", "--version").as_deref() != Some(&format!("trunk {TRUNK}")) {
        println!("installing: trunk {TRUNK} (about 10 minutes on 2 cores)");
        run(cmd("cargo").args(["install", "trunk", "--version", TRUNK, "--locked"]))?;
    }
    let wb = locked_wasm_bindgen(root)?;
    if version_of("wasm-bindgen", "--version").as_deref() != Some(&format!("wasm-bindgen {wb}")) {
        // Not --locked: the registry mirror lacks one of its locked dependencies.
        println!("installing: wasm-bindgen-cli {wb} (about 4 minutes)");
        run(cmd("cargo").args(["install", "wasm-bindgen-cli", "--version", &wb]))?;
    }
    let opt_ok = version_of("wasm-opt", "--version").is_some_and(|v| v.contains(WASM_OPT_BINARYEN))
        && cargo_bin().join("wasm-opt").exists();
    if !opt_ok {
        println!("installing: wasm-opt {WASM_OPT_CRATE} (binaryen 116, about 9 minutes)");
        run(cmd("cargo").args([
            "install",
            "wasm-opt",
            "--version",
            WASM_OPT_CRATE,
            "--locked",
        ]))?;
    }
    if browser {
        setup_browser(root)?;
    }
    println!("tools ready");
    Ok(())
}

fn setup_browser(root: &Path) -> Result {
    // Chromium (playwright-core) runs every browser test; Firefox ESR (puppeteer-core over
    // WebDriver BiDi) runs the cross-browser ones.
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let firefox = std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into());
    let missing: Vec<&str> = [(&chromium, "chromium"), (&firefox, "firefox-esr")]
        .into_iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| package)
        .collect();
    if !missing.is_empty() {
        println!(
            "installing: {} (Debian packages, for the browser tests)",
            missing.join(", ")
        );
        let apt = |args: &[&str]| {
            run(cmd("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"))
        };
        apt(&["update", "-q"])?;
        apt(&[&["install", "-y", "-q"][..], &missing].concat())?;
    }
    let have_otel = cmd("python3")
        .args(["-c", "import opentelemetry.proto, google.protobuf"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_otel {
        println!("installing: opentelemetry-proto (PyPI, to validate OTLP exports)");
        let has_pip = cmd("python3")
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_pip {
            println!("installing: python3-pip (Debian package)");
            run(cmd("apt-get")
                .args(["install", "-y", "-q", "python3-pip"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
        }
        let pip = |extra: &[&str]| {
            run(cmd("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(extra)
                .arg("opentelemetry-proto"))
        };
        // Debian's own Python refuses system-wide installs (PEP 668) unless told.
        pip(&[]).or_else(|_| pip(&["--break-system-packages"]))?;
    }
    let dir = root.join("tests/browser");
    let modules = ["playwright-core", "puppeteer-core"];
    if !modules.iter().all(|m| {
        dir.join("node_modules")
            .join(m)
            .join("package.json")
            .exists()
    }) {
        println!(
            "installing: npm packages for the browser tests ({}, no browser download)",
            modules.join(", ")
        );
        run(cmd("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .env("PUPPETEER_SKIP_DOWNLOAD", "1")
            .current_dir(&dir))?;
    }
    Ok(())
}

fn build_dist(root: &Path) -> Result {
    step("building the viewer (trunk build --release, offline)");
    run(cmd("trunk").args(["build", "--release"]).current_dir(root))?;
    pin_inline_scripts(&root.join("dist/index.html"))?;
    let sizes = wasm_sizes(root)?;
    for (name, raw, gz) in &sizes {
        println!("wasm: {name} {} KB ({} KB gzipped)", raw / 1024, gz / 1024);
    }
    let mut over = Vec::new();
    for (i, (app, budget)) in APPS.iter().enumerate() {
        let total: u64 = sizes
            .iter()
            .filter(|s| app_of(&s.0) == i)
            .map(|s| s.2)
            .sum();
        println!(
            "wasm {app}: {} KB gzipped (budget {} KB)",
            total / 1024,
            budget / 1024
        );
        if total > *budget {
            over.push(format!(
                "the {app} release wasm is {} KB gzipped, over its {} KB budget",
                total / 1024,
                budget / 1024
            ));
        }
    }
    if !over.is_empty() {
        return Err(over.join("; "));
    }
    Ok(())
}

/// Each `.wasm` in dist/: (file name, bytes, bytes gzipped with `gzip -9`), by name.
fn wasm_sizes(root: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(root.join("dist")).map_err(|e| format!("dist: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "wasm") {
            let out = cmd("gzip")
                .args(["-9", "-c"])
                .arg(&path)
                .output()
                .map_err(|e| format!("gzip: {e}"))?;
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            sizes.push((name.into_owned(), raw, out.stdout.len() as u64));
        }
    }
    sizes.sort();
    Ok(sizes)
}

/// Replaces `'unsafe-inline'` in the page's `script-src` with the SHA-256 of each inline
/// script (Trunk's loader), so no other inline script can run.
fn pin_inline_scripts(index: &Path) -> Result {
    use base64::Engine;
    use sha2::Digest;
    let html = std::fs::read_to_string(index).map_err(|e| format!("{}: {e}", index.display()))?;
    let mut hashes = Vec::new();
    let mut rest = html.as_str();
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..]
            .find('>')
            .map(|i| at + i + 1)
            .ok_or("unclosed <script")?;
        let close = rest[tag_end..]
            .find("</script>")
            .map(|i| tag_end + i)
            .ok_or("no </script>")?;
        if !rest[at..tag_end].contains("src=") {
            let digest = sha2::Sha256::digest(&rest.as_bytes()[tag_end..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[close..];
    }
    let needle = "script-src 'self' 'unsafe-inline'";
    if !html.contains(needle) {
        return Err(format!("{}: no `{needle}` to pin", index.display()));
    }
    let pinned = html.replace(needle, &format!("script-src 'self' {}", hashes.join(" ")));
    std::fs::write(index, pinned).map_err(|e| format!("{}: {e}", index.display()))?;
    println!("csp: pinned {} inline script(s) by SHA-256", hashes.len());
    Ok(())
}

fn serve(root: &Path, args: &[String]) -> Result {
    let mut port = "8080".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => port = it.next().cloned().ok_or("--port needs a number")?,
            other => return Err(format!("serve: unknown argument {other:?}")),
        }
    }
    setup(root, false)?;
    build_dist(root)?;
    step("building rollscope (it embeds the viewer just built)");
    run(cmd("cargo")
        .args(["build", "-p", "host", "--bin", "rollscope"])
        .current_dir(root))?;
    step(&format!(
        "serving the viewer at http://127.0.0.1:{port}/ (demo dump preloaded; Ctrl-C stops)"
    ));
    run(cmd(&root.join("target/debug/rollscope").to_string_lossy())
        .args(["--port", &port, "--no-open"])
        .current_dir(root))
}

fn test(root: &Path) -> Result {
    let started = Instant::now();
    setup(root, true)?;
    step("cargo fmt --check");
    run(cmd("cargo")
        .args(["fmt", "--all", "--check"])
        .current_dir(root))?;
    step("cargo clippy (native workspace, then the wasm viewer)");
    run(cmd("cargo")
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(root))?;
    run(cmd("cargo")
        .args([
            "clippy",
            "-p",
            "viewer",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(root))?;
    // The OTLP check needs Python's opentelemetry-proto, installed by setup_browser above.
    step("cargo test --workspace");
    run(cmd("cargo").args(["test", "--workspace"]).current_dir(root))?;
    build_dist(root)?;
    step("building rollscope with the viewer embedded (for the browser tests)");
    run(cmd("cargo")
        .args(["build", "-p", "host", "--bin", "rollscope"])
        .current_dir(root))?;
    step("cargo test -p host --test report (again, now with the viewer built in)");
    run(cmd("cargo")
        .args(["test", "-p", "host", "--test", "report"])
        .env("ROLLSCOPE_REQUIRE_VIEWER", "1")
        .current_dir(root))?;
    step("writing the hostile-file catalog for the browser tests (target/hostile)");
    run(cmd("cargo")
        .args(["run", "-q", "-p", "picklegen", "--example", "hostile", "--"])
        .arg(root.join("target/hostile"))
        .current_dir(root))?;
    // Needs target/debug/rollscope and target/hostile, both made just above.
    python::test(root)?;
    step(&format!(
        "browser tests (headless Chromium against dist/; {:.0} s so far)",
        started.elapsed().as_secs_f64()
    ));
    run(cmd("node")
        .args(["--test", "--test-concurrency=1"])
        .arg(root.join("tests/browser"))
        .env("ROLLSCOPE_BIN", root.join("target/debug/rollscope"))
        .current_dir(root))?;
    // Node's own summary (`# pass N`, `# fail 0`) is the last thing printed.
    Ok(())
}

/// `cargo xtask fuzz [--minutes N] [--target T]`: seeds each target's (git-ignored) corpus in
/// `fuzz/corpus/<target>/` from `tests/fixtures`, the hostile catalog and the committed
/// regressions, then runs each target for its share of the time under libFuzzer's fork mode
/// (so one crash does not end the run), and prints executions and findings per target.
/// Findings land in `fuzz/artifacts/<target>/`: minimise one with `cargo fuzz tmin`, commit it
/// under `fuzz/regressions/<target>/` and the replay test keeps it fixed.
fn fuzz(root: &Path, args: &[String]) -> Result {
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
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
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
            std::fs::write(corpus.join(format!("seed-{name}")), bytes)
                .map_err(|e| e.to_string())?;
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
        let out = cmd("cargo")
            .args(["fuzz", "run", "--sanitizer", "none", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", share.as_secs().max(1)))
            .args(["-timeout=10", "-rss_limit_mb=2048", "-fork=1"])
            .args(["-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"])
            .arg(format!("-max_len={max_len}"))
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        std::fs::write(artifacts.join("last-run.log"), &log).map_err(|e| e.to_string())?;
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
        report.push((target, execs, found.len()));
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

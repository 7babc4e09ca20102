//! `cargo xtask`: the project's only entry point for set-up, serving and testing.
//!
//! - `cargo xtask serve [--port N]`: install what is missing, build the viewer, serve it on
//!   http://127.0.0.1:N/ with the demo dump preloaded.
//! - `cargo xtask test`: install what is missing, then fmt, clippy, native tests, the release
//!   wasm build, the Python package's tests (`python.rs`: a venv under `target/py-venv`, the
//!   wheel built by maturin, pytest) and the browser tests, stopping at the first failure.
//! - `cargo xtask py-test`: the Python step alone.
//! - `cargo xtask bench`: issue 22's figures on large synthetic dumps, one table per dump with
//!   the machine and each target (see `bench.rs`).
//!
//! Installs are idempotent: each tool is checked first (exact version) and only installed when
//! missing, with a line saying so. Nothing is downloaded from anywhere but the package
//! registries (crates.io, Debian, npm, PyPI).

mod bench;
mod dist;
mod fuzz;
mod install;
mod python;
mod test;

use dist::build_dist;
use install::setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    let run = match args.first().map(String::as_str) {
        Some("serve") => serve(&root, &args[1..]),
        Some("test") => test::test(&root),
        Some("setup") => setup(&root, true),
        Some("build") => setup(&root, false).and_then(|()| build_dist(&root)),
        Some("bench") => bench::bench(&root, &args[1..]),
        // Only the Python package's step of `test` (needs target/debug/rollscope).
        Some("py-test") => python::test(&root),
        Some("fuzz") => fuzz::fuzz(&root, &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [--port N] | test | setup | build | bench | \
                 fuzz [--minutes N] [--target T]>\n\
                 \n  serve  build the viewer and serve it on 127.0.0.1 (default port 8080)\
                 \n  test   fmt, clippy, native tests, release wasm build, Python tests, browser tests\
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

/// `python -m pip install --quiet` (no version nag), for the caller's packages and flags.
fn pip_install(python: &str) -> Command {
    let mut c = cmd(python);
    c.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
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

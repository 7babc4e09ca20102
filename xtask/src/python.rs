//! The Python package (`crates/py`, issue 15): its venv, wheel, tests and benchmark.
//!
//! - [`test`]: a venv under `target/py-venv` (made once; `python3-venv` from Debian if
//!   `ensurepip` is missing), the packages the tests need installed only when missing (maturin
//!   1.16, pytest, pyarrow, pandas, `ray[data]`, duckdb; from PyPI), the wheel built by maturin
//!   and installed into the venv, then pytest (offline: Ray in local mode, no usage stats).
//! - [`bench`]: the same venv with a release wheel, then `crates/py/bench/bench_stats.py`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{cmd, pip_install, run, step, Result};

const MATURIN: &str = "1.16";

/// (module to import, pip requirement): installed when the import fails.
const PACKAGES: &[(&str, &str)] = &[
    ("pytest", "pytest"),
    ("pyarrow", "pyarrow"),
    ("pandas", "pandas"),
    ("ray.data", "ray[data]"),
    ("duckdb", "duckdb"),
];

fn venv(root: &Path) -> PathBuf {
    root.join("target/py-venv")
}

fn venv_python(root: &Path) -> PathBuf {
    venv(root).join("bin/python")
}

/// Makes the venv if missing and installs what is missing in it.
fn setup(root: &Path) -> Result {
    let python = venv_python(root);
    if !python.exists() {
        println!("creating: Python venv {}", venv(root).display());
        let make = || run(cmd("python3").arg("-m").arg("venv").arg(venv(root)));
        if make().is_err() {
            // Debian's python3 has no ensurepip without python3-venv.
            println!("installing: python3-venv (Debian package, for the venv)");
            let _ = std::fs::remove_dir_all(venv(root));
            let apt = |args: &[&str]| {
                run(cmd("apt-get")
                    .args(args)
                    .env("DEBIAN_FRONTEND", "noninteractive"))
            };
            apt(&["update", "-q"])?;
            apt(&["install", "-y", "-q", "python3-venv"])?;
            make()?;
        }
    }
    let imports = |module: &str| {
        cmd(&python.to_string_lossy())
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let maturin_ok = cmd(&venv(root).join("bin/maturin").to_string_lossy())
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).starts_with(&format!("maturin {MATURIN}."))
        });
    let mut missing: Vec<String> = Vec::new();
    if !maturin_ok {
        missing.push(format!("maturin=={MATURIN}.*"));
    }
    for (module, req) in PACKAGES {
        if !imports(module) {
            missing.push(req.to_string());
        }
    }
    if missing.is_empty() {
        println!(
            "python packages ready (maturin {MATURIN}, pytest, pyarrow, pandas, ray[data], duckdb)"
        );
    } else {
        println!(
            "installing: {} (PyPI, into target/py-venv; ray[data] takes about a minute)",
            missing.join(", ")
        );
        run(pip_install(&python.to_string_lossy()).args(&missing))?;
    }
    Ok(())
}

/// Builds the wheel (`release`: optimised, for the benchmark) and installs it in the venv.
fn install_wheel(root: &Path, release: bool) -> Result {
    let out = root.join("target/py-wheels");
    let _ = std::fs::remove_dir_all(&out);
    let mut c = cmd(&venv(root).join("bin/maturin").to_string_lossy());
    c.args(["build", "--quiet", "-m", "crates/py/Cargo.toml", "-o"])
        .arg(&out)
        .arg("--interpreter")
        .arg(venv_python(root))
        .current_dir(root);
    if release {
        c.arg("--release");
    }
    run(&mut c)?;
    let wheel = std::fs::read_dir(&out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin wrote no wheel into {}", out.display()))?;
    println!("wheel: {}", wheel.display());
    run(pip_install(&venv_python(root).to_string_lossy())
        .args(["--force-reinstall", "--no-deps"])
        .arg(&wheel))
}

/// `cargo xtask test`'s Python step. Needs `target/debug/rollscope` (the reference the package
/// is compared with) and `target/hostile` (the catalog), both made by earlier steps.
pub fn test(root: &Path) -> Result {
    let started = Instant::now();
    step("python package: venv, packages (only if missing), wheel (maturin), pytest");
    setup(root)?;
    // A debug wheel: the tests read small files, and it builds in seconds on top of the
    // workspace's debug build (the benchmark builds a release one).
    install_wheel(root, false)?;
    // The CLI the tests compare with, as this checkout builds it (never a stale one).
    run(cmd("cargo")
        .args(["build", "-q", "-p", "host", "--bin", "rollscope"])
        .current_dir(root))?;
    let result = run(cmd(&venv_python(root).to_string_lossy())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .env("RAY_USAGE_STATS_ENABLED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("ROLLSCOPE_REQUIRE_CLI", "1")
        .env("ROLLSCOPE_REQUIRE_RAY", "1")
        .env("ROLLSCOPE_BIN", root.join("target/debug/rollscope"))
        .current_dir(root.join("crates/py")));
    println!("python step: {:.0} s", started.elapsed().as_secs_f64());
    result
}

/// `cargo xtask bench`'s Python figures: `rollscope.stats` vs CPython's unpickler (and
/// `torch.load` when importable) on each dump.
pub fn bench(root: &Path, dumps: &[PathBuf]) -> Result {
    step("python: rollscope.stats vs CPython unpickle (and torch.load when importable)");
    setup(root)?;
    install_wheel(root, true)?;
    run(cmd(&venv_python(root).to_string_lossy())
        .arg(root.join("crates/py/bench/bench_stats.py"))
        .args(dumps)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(root))
}

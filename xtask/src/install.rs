//! Installs what the build and the tests need (exact versions), only when missing.

use std::path::Path;

use crate::{cargo_bin, cmd, pip_install, run, step, version_of, Result};

const TRUNK: &str = "0.21.14";
const WASM_OPT_CRATE: &str = "0.116.1";
const WASM_OPT_BINARYEN: &str = "version 116";

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

pub fn setup(root: &Path, browser: bool) -> Result {
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
            run(pip_install("python3")
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

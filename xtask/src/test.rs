//! `cargo xtask test`: the whole pipeline, stopping at the first failure.

use std::path::Path;
use std::time::Instant;

use crate::{build_dist, cmd, python, run, setup, step, Result};

pub fn test(root: &Path) -> Result {
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
    // Twice: as the timeline page builds the library, and as the run explorer's builds do.
    for features in ["", "run-app"] {
        run(cmd("cargo")
            .args([
                "clippy",
                "-p",
                "viewer",
                "--target",
                "wasm32-unknown-unknown",
                "--features",
                features,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root))?;
    }
    // The viewer first, so the host's tests run on a binary with it built in: with
    // ROLLSCOPE_REQUIRE_VIEWER set, a test that needs the viewer fails instead of skipping.
    build_dist(root)?;
    // The OTLP check needs Python's opentelemetry-proto, installed by setup_browser above.
    step("cargo test --workspace (rollscope with the viewer embedded)");
    run(cmd("cargo")
        .args(["test", "--workspace"])
        .env("ROLLSCOPE_REQUIRE_VIEWER", "1")
        .current_dir(root))?;
    step("building rollscope with the viewer embedded (for the browser tests)");
    run(cmd("cargo")
        .args(["build", "-p", "host", "--bin", "rollscope"])
        .current_dir(root))?;
    step("writing the hostile-file catalog for the browser tests (target/hostile)");
    run(cmd("cargo")
        .args(["run", "-q", "-p", "picklegen", "--example", "hostile", "--"])
        .arg(root.join("target/hostile"))
        .current_dir(root))?;
    // Needs target/debug/rollscope and target/hostile, both made just above.
    python::test(root)?;
    step(&format!(
        "browser tests (headless Chromium and Firefox ESR against dist/; {:.0} s so far)",
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

//! `rollscope cache` as a user runs it: real binary, real fixtures, real exit codes.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rollscope"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime")
        .join(name)
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rollscope-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn writes_the_cache_beside_the_input_by_default() {
    let dir = tmpdir("default");
    let input = dir.join("rollout_1.pt");
    std::fs::copy(fixture("pd_1.pt"), &input).unwrap();
    let out = bin().arg("cache").arg(&input).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = dir.join("rollout_1.trace_timeline_cache.json");
    let cache: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pd_1.trace_timeline_cache.json")).unwrap())
            .unwrap();
    assert_eq!(cache["sample_count"], reference["sample_count"]);
    assert_eq!(
        cache["rows"].as_array().unwrap().len(),
        reference["rows"].as_array().unwrap().len()
    );
    assert_eq!(cache["pt_path"], input.to_string_lossy().as_ref());
}

#[test]
fn dash_writes_to_stdout_and_warnings_go_to_stderr() {
    let out = bin()
        .args(["cache", "-o", "-"])
        .arg(fixture("edge_9.pt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let cache: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cache["sample_count"], 4);
    let err = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("edge_9.pt: sample 1: skipped 1 of 1 trace events")),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn failures_are_one_line_and_exit_1() {
    let dir = tmpdir("fail");
    let junk = dir.join("junk.pt");
    std::fs::write(&junk, b"not a torch file").unwrap();
    for (input, needle) in [
        (
            junk.clone(),
            "not a torch file or pickle: starts with bytes 6e 6f 74",
        ),
        (dir.join("missing.pt"), "No such file"),
    ] {
        let out = bin()
            .args(["cache", "-o", "-"])
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: {}: ", input.display())),
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
    // A truncated dump names the zip problem, never panics.
    let bytes = std::fs::read(fixture("basic_0.pt")).unwrap();
    let cut = dir.join("cut.pt");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = bin().args(["cache", "-o", "-"]).arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
}

//! `rollscope run`: the CLI on the shared `--dump-details` run equals slime's own numbers
//! (`run_reference.json`), flags the fixture's story, and treats missing or broken files as
//! things to report, not reasons to stop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as J;

fn run_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
}

fn rollscope(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn json_equals_slimes_reference() {
    let dir = run_dir();
    let o = rollscope(&[&dir, Path::new("--json")]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let ours: J = serde_json::from_str(&out).expect("one JSON document");
    let reference: J =
        serde_json::from_slice(&std::fs::read(dir.join("run_reference.json")).expect("reference"))
            .expect("reference JSON");
    let diff = trace::run::json_diff(
        &reference,
        &trace::run::as_older_reference(&ours),
        1e-6,
        1e-7,
    );
    assert!(
        diff.is_empty(),
        "{} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );
    assert_eq!(ours["samples"].as_array().map(Vec::len), Some(192));
}

#[test]
fn table_flags_the_runs_story() {
    let o = rollscope(&[&run_dir()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let line = |id: &str, kind: &str| {
        out.lines()
            .find(|l| {
                let mut w = l.split_whitespace();
                w.next() == Some(id) && w.next() == Some(kind)
            })
            .unwrap_or_else(|| panic!("no line for {id} {kind} in\n{out}"))
            .to_string()
    };
    assert!(line("1", "train").contains("untraced"));
    assert!(line("3", "train").contains("straggler"));
    assert!(line("4", "train").contains("truncation burst"));
    assert!(!line("5", "train").contains("straggler"));
    assert!(
        line("5", "eval").contains("0.708"),
        "eval reward mean: {}",
        line("5", "eval")
    );
    assert_eq!(out.lines().count(), 9, "a header and 8 dumps:\n{out}");
}

/// A copy of the run with `train_data/3.pt` gone and `rollout_data/2.pt` cut short.
fn damaged_copy() -> PathBuf {
    let src = run_dir();
    let dst = std::env::temp_dir().join(format!("rollscope-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    for sub in ["rollout_data", "train_data"] {
        std::fs::create_dir_all(dst.join(sub)).expect("mkdir");
        for e in std::fs::read_dir(src.join(sub)).expect("fixture") {
            let e = e.expect("entry");
            let to = dst.join(sub).join(e.file_name());
            let bytes = std::fs::read(e.path()).expect("read");
            match (sub, e.file_name().to_str()) {
                ("train_data", Some("3.pt")) => {}
                ("rollout_data", Some("2.pt")) => {
                    std::fs::write(&to, &bytes[..bytes.len() / 2]).expect("write")
                }
                _ => std::fs::write(&to, &bytes).expect("write"),
            }
        }
    }
    dst
}

#[test]
fn missing_train_data_and_a_broken_dump_are_reported() {
    let dir = damaged_copy();
    let o = rollscope(&[&dir]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let l3 = out
        .lines()
        .find(|l| l.trim_start().starts_with("3 train"))
        .unwrap_or("");
    assert!(l3.contains("missing train data"), "{out}");
    assert!(out.contains("no train_data/3.pt"), "{out}");
    let l2 = out
        .lines()
        .find(|l| l.trim_start().starts_with("2 train"))
        .unwrap_or("");
    assert!(l2.contains("ERROR"), "{out}");
    // The other dumps are whole: rollout 5's numbers as in the reference.
    let o = rollscope(&[&dir, Path::new("--json")]);
    let doc: J = serde_json::from_slice(&o.stdout).expect("JSON");
    let r5 = doc["rollouts"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["file"] == "rollout_data/5.pt"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(r5["reward/mean"].as_f64(), Some(0.8333333333333334));
    let r3 = doc["samples"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["rollout_id"] == 3))
        .cloned()
        .unwrap_or_default();
    assert!(r3["train/raw_reward"].is_null(), "{r3}");
    let rollout = |f: &str| {
        doc["rollouts"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["file"] == f))
            .cloned()
            .unwrap_or_default()
    };
    assert!(rollout("rollout_data/3.pt")["notes"][0]
        .as_str()
        .is_some_and(|n| n.contains("no train_data/3.pt")));
    assert!(rollout("rollout_data/2.pt")["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_folder_without_dumps_is_an_error() {
    let dir = std::env::temp_dir().join(format!("rollscope-empty-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let o = rollscope(&[&dir]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("no rollout dumps"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rollout_data_folder_and_a_list_of_dumps() {
    let dir = run_dir();
    let o = rollscope(&[&dir.join("rollout_data"), Path::new("--json")]);
    let doc: J = serde_json::from_slice(&o.stdout).expect("JSON");
    // The sibling train_data is found: the train-side fields are there.
    assert_eq!(doc["samples"][0]["train/raw_reward"].as_f64(), Some(1.0));
    let o = rollscope(&[
        &dir.join("rollout_data/4.pt"),
        &dir.join("rollout_data/eval_0.pt"),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
}

/// `rollscope run DIR [--json] | head -c 10`: a reader that stops reading ends the output
/// quietly (as `cat` or `grep` do), never a panic or an error line.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = run_dir();
    for json in [false, true] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rollscope"));
        c.arg("run").arg(&dir);
        if json {
            c.arg("--json");
        }
        let mut child = c
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        // Close the read end before the dumps are read: every write meets a closed pipe.
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("waits");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "json={json}: {:?} {err}", o.status);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("error"),
            "json={json}: {err}"
        );
    }
}

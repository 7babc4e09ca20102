//! `rollscope run` on the flat layout slime's documented flags write (`rollout_{id}.pt`,
//! `rollout_eval_{id}.pt`, `train_{id}_{rank}.pt`): the folder, and the same files named by
//! slime's own flags, equal `run_reference.json` on every key; unnamed eval sets come out in
//! order.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as J;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run_flat")
}

fn rollscope(args: &[String]) -> J {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .args(args)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("assumed: --reward-key"), "{err}");
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn reference() -> J {
    serde_json::from_slice(&std::fs::read(dir().join("run_reference.json")).expect("reference"))
        .expect("reference JSON")
}

fn assert_equal(ours: &J) {
    // 1e-7 absolute: slime sums train-side values in float32 (see trace's run_reference.rs).
    let diff = trace::run::json_diff(&reference(), ours, 1e-6, 1e-7);
    assert!(
        diff.is_empty(),
        "{} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );
}

const NAMES: &str = "--eval-names=math500,aime24";

#[test]
fn the_folder_equals_slimes_reference() {
    let ours = rollscope(&[dir().display().to_string(), "--json".into(), NAMES.into()]);
    assert_equal(&ours);
    assert_eq!(ours["samples"].as_array().map(Vec::len), Some(192));
}

#[test]
fn slimes_flags_name_the_same_run() {
    let d = dir().display().to_string();
    let ours = rollscope(&[
        "--json".into(),
        NAMES.into(),
        "--save-debug-rollout-data".into(),
        format!("{d}/rollout_{{rollout_id}}.pt"),
        "--save-debug-train-data".into(),
        format!("{d}/train_{{rollout_id}}_{{rank}}.pt"),
    ]);
    assert_equal(&ours);
}

#[test]
fn unnamed_eval_sets_come_in_order_with_their_pass_at_k() {
    let ours = rollscope(&[dir().display().to_string(), "--json".into()]);
    let rollouts = ours["rollouts"].as_array().cloned().unwrap_or_default();
    let evals: Vec<&J> = rollouts.iter().filter(|r| r["kind"] == "eval").collect();
    let trains = rollouts.iter().filter(|r| r["kind"] == "train").count();
    assert_eq!(
        (evals.len(), trains),
        (2, 6),
        "no eval dump read as a rollout"
    );
    let reference = reference();
    for e in evals {
        let names = trace::run::eval_set_names(&e["eval_datasets"]);
        assert_eq!(names, ["eval set 1", "eval set 2"]);
        let r = reference["rollouts"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["file"] == e["file"]))
            .unwrap_or_else(|| panic!("{} is not in the reference", e["file"]));
        for (ours, theirs) in [("eval set 1", "math500"), ("eval set 2", "aime24")] {
            for k in ["", "-pass@1", "-pass@2", "-pass@4"] {
                let want = &r[format!("eval/{theirs}{k}")];
                assert!(want.is_number(), "the reference has eval/{theirs}{k}");
                assert_eq!(
                    e[format!("eval/{ours}{k}")],
                    *want,
                    "{} {ours}{k}",
                    e["file"]
                );
            }
        }
    }
}

/// A copy of the flat run whose `train_3_4.pt` holds rollout 99 by its payload.
#[test]
fn a_train_dump_that_lies_about_its_rollout_is_left_out_and_the_rest_stays() {
    let src = dir();
    let dst = std::env::temp_dir().join(format!("rollscope-run-flat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).expect("mkdir");
    for e in std::fs::read_dir(&src).expect("fixture") {
        let e = e.expect("entry");
        if e.path().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).expect("copy");
        }
    }
    let lie = picklegen::hostile::catalog()
        .into_iter()
        .find(|c| c.file == "train_lying_rollout_id.pt")
        .map(|c| c.bytes)
        .expect("train_lying_rollout_id.pt is in the catalog");
    std::fs::write(dst.join("train_3_4.pt"), lie).expect("write");
    let ours = rollscope(&[dst.display().to_string(), "--json".into(), NAMES.into()]);
    let rollout = |f: &str| {
        ours["rollouts"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["file"] == f))
            .cloned()
            .unwrap_or_else(|| panic!("{f} is not in the output"))
    };
    assert!(rollout("rollout_3.pt")["train_file"].is_null());
    assert!(rollout("rollout_3.pt")["rollout/log_probs"].is_null());
    let reference = reference();
    let theirs = reference["rollouts"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["file"] == "rollout_5.pt"))
        .cloned()
        .expect("rollout_5.pt is in the reference");
    let diff = trace::run::json_diff(&theirs, &rollout("rollout_5.pt"), 1e-6, 1e-7);
    assert!(diff.is_empty(), "{diff:?}");
    let table = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .arg(&dst)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("train_3_4.pt: train data without its rollout dump"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("3 train") && l.contains("missing train data")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dst);
}

/// The flat run with `train_2_4.pt` saved as `t2.pt`: by its name a rollout dump, by its keys
/// slime's train payload for rollout 2. Read as such, the run equals the reference.
#[test]
fn a_train_payload_is_known_by_its_keys_not_its_name() {
    let dst = std::env::temp_dir().join(format!("rollscope-run-flat-t2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).expect("mkdir");
    for e in std::fs::read_dir(dir()).expect("fixture") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_file() {
            let to = if name == "train_2_4.pt" {
                "t2.pt".into()
            } else {
                name
            };
            std::fs::copy(e.path(), dst.join(to)).expect("copy");
        }
    }
    let mut ours = rollscope(&[dst.display().to_string(), "--json".into(), NAMES.into()]);
    let r2 = ours["rollouts"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["file"] == "rollout_2.pt"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(r2["train_file"], "t2.pt");
    // Said in the run's notes (which the reference has none of).
    let notes = ours.as_object_mut().and_then(|o| o.remove("notes"));
    assert_eq!(
        notes,
        Some(serde_json::json!([
            "t2.pt: slime's train payload by its keys; read as train data"
        ]))
    );
    // Only the file name differs from the reference.
    for r in ours["rollouts"].as_array_mut().into_iter().flatten() {
        if r["train_file"] == "t2.pt" {
            r["train_file"] = "train_2_4.pt".into();
        }
    }
    assert_equal(&ours);
    let _ = std::fs::remove_dir_all(&dst);
}

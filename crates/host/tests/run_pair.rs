//! `rollscope run A B`: two runs side by side on the replay pair (`tests/fixtures/run` and
//! `run_replay`). Deltas are checked against each run read alone (`rollscope run X --json`),
//! and log prob differences against the shift `run_replay/make_replay.py` wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as J;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn rollscope_json(args: &[&Path]) -> J {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .args(args)
        .arg("--json")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

/// `make_replay.py`'s B − A on token `j` of the sample at position `p` of rollout `r`.
fn shift(r: i64, p: i64, j: i64) -> f64 {
    let jitter = 0.001 * ((j * 7 + p * 3 + r) % 5 - 2) as f64;
    let drift = if p % 5 == 3 {
        0.05 * (1 + j % 3) as f64
    } else {
        0.0
    };
    jitter + drift
}

fn find<'a>(records: &'a J, id: i64, kind: &str, position: Option<i64>) -> &'a J {
    records
        .as_array()
        .and_then(|v| {
            v.iter().find(|r| {
                r["rollout_id"] == id
                    && r["kind"] == kind
                    && position.is_none_or(|p| r["position"] == p)
            })
        })
        .unwrap_or_else(|| panic!("no record {kind} {id} {position:?}"))
}

#[test]
fn deltas_are_b_minus_a_of_each_run_alone() {
    let (a, b) = (fixture("run"), fixture("run_replay"));
    let doc = rollscope_json(&[&a, &b]);
    let (alone_a, alone_b) = (rollscope_json(&[&a]), rollscope_json(&[&b]));
    assert_eq!(doc["align"], "rollout_id");
    assert_eq!(doc["a"]["rollouts"], alone_a["rollouts"]);
    assert_eq!(doc["b"]["samples"], alone_b["samples"]);
    let rollouts = doc["rollouts"].as_array().expect("rollouts");
    // A: 6 rollouts and 2 evals; B: rollouts 0-3. Four pairs, four of A alone.
    assert_eq!(rollouts.len(), 8);
    let paired: Vec<_> = rollouts.iter().filter(|r| !r["delta"].is_null()).collect();
    assert_eq!(paired.len(), 4);
    for r in &paired {
        let id = r["a_rollout_id"].as_i64().expect("id");
        assert_eq!(r["b_rollout_id"], id);
        let (ra, rb) = (
            find(&alone_a["rollouts"], id, "train", None),
            find(&alone_b["rollouts"], id, "train", None),
        );
        for key in [
            "reward/mean",
            "rollout/log_probs",
            "rollout/response_len/mean",
        ] {
            let want = rb[key].as_f64().expect(key) - ra[key].as_f64().expect(key);
            let got = r["delta"][key].as_f64().expect(key);
            assert!((got - want).abs() < 1e-12, "{id} {key}: {got} vs {want}");
        }
        // The replay trained on other log probs: the train-side mean moved, the rollout did not.
        assert_eq!(r["delta"]["reward/mean"], 0.0);
        assert_ne!(r["delta"]["rollout/log_probs"], 0.0);
        assert_eq!(r["logprob"]["matched"], 24);
    }
    let alone: Vec<_> = rollouts
        .iter()
        .filter(|r| r["b_rollout_id"].is_null())
        .collect();
    assert_eq!(alone.len(), 4);
    // Every sample of the four pairs, with B − A of its record.
    let samples = doc["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 96);
    for s in samples {
        let (id, p) = (
            s["a_rollout_id"].as_i64().expect("id"),
            s["a_position"].as_i64().expect("p"),
        );
        let key = "train/train_rollout_logprob_abs_diff";
        let want = find(&alone_b["samples"], id, "train", Some(p))[key]
            .as_f64()
            .expect(key)
            - find(&alone_a["samples"], id, "train", Some(p))[key]
                .as_f64()
                .expect(key);
        let got = s["delta"][key].as_f64().expect(key);
        assert!((got - want).abs() < 1e-12, "{id}/{p}: {got} vs {want}");
        let n = s["logprob_tokens"].as_i64().expect("tokens");
        let mean = (0..n).map(|j| shift(id, p, j).abs()).sum::<f64>() / n as f64;
        let got = s["logprob_mean_abs"].as_f64().expect("mean");
        assert!((got - mean).abs() < 1e-5, "{id}/{p}: {got} vs {mean}");
    }
    let most = doc["most_different"].as_array().expect("most_different");
    assert_eq!(most.len(), 20);
    assert!(
        most.iter()
            .all(|s| s["a_position"].as_i64().is_some_and(|p| p % 5 == 3)),
        "{most:?}"
    );
}

#[test]
fn the_table_has_a_line_per_pair_and_the_most_different_samples() {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["run", "--align", "samples-seen", "--match", "prompt"])
        .arg(fixture("run"))
        .arg(fixture("run_replay"))
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("aligned by samples_seen"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("train     3     3"))
        .unwrap_or_else(|| panic!("no line for rollout 3: {out}"));
    assert!(
        line.contains("+0.000") && line.ends_with("0.15200"),
        "{line}"
    );
    assert!(
        out.contains("samples whose train log probs differ most"),
        "{out}"
    );
}

#[test]
fn a_folder_and_a_file_are_not_two_runs() {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .arg(fixture("run"))
        .arg(fixture("run_replay/rollout_data/0.pt"))
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a file"));
}

#[test]
fn the_table_says_why_a_rollout_has_no_log_prob_difference() {
    // B's train file of rollout 1 is not a torch file: its line has no |Δ log prob|, and the
    // table says why under it, as `rollscope run` does.
    let dir = std::env::temp_dir().join(format!("rollscope-pair-note-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = fixture("run_replay");
    for sub in ["rollout_data", "train_data"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(sub).join(e.file_name())).unwrap();
        }
    }
    std::fs::write(dir.join("train_data/1.pt"), b"not a torch file").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["run".as_ref(), fixture("run").as_os_str(), dir.as_os_str()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.lines().any(|l| l
            .trim_start()
            .starts_with("note: B train 1: train_data/1.pt: not a torch file")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn align_and_match_are_refused_without_two_runs() {
    for flag in ["--align=samples-seen", "--match=prompt"] {
        let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
            .args(["run".as_ref(), flag.as_ref(), fixture("run").as_os_str()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{flag}: {err}");
        assert!(
            err.contains("--align and --match compare two run folders"),
            "{flag}: {err}"
        );
    }
}

#[test]
fn pass_at_1_changes_for_train_and_eval_rows_and_verl_steps() {
    // A verl run against a copy whose step 2 passes everywhere: Δ pass@1 in the JSON and the
    // table, as `rollscope run` computes each side's pass@1.
    let dir = std::env::temp_dir().join(format!("rollscope-pair-pass-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = fixture("verl/run");
    for e in walk(&src) {
        let to = dir.join(e.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&e).unwrap();
        let text = if e.ends_with("rollout/2.jsonl") {
            text.lines()
                .map(|l| {
                    let mut v: J = serde_json::from_str(l).unwrap();
                    v["score"] = J::from(1.0);
                    v.to_string() + "\n"
                })
                .collect()
        } else {
            text
        };
        std::fs::write(&to, text).unwrap();
    }
    let doc = rollscope_json(&[&src, &dir]);
    let alone = rollscope_json(&[&src]);
    let row = doc["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "train" && r["a_rollout_id"] == 2)
        .expect("train step 2");
    let a = alone["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "train" && r["rollout_id"] == 2)
        .unwrap()["pass_rate"]["pass@1"]
        .as_f64()
        .unwrap();
    assert!(a < 1.0);
    let d = row["delta"]["pass@1"].as_f64().expect("Δ pass@1");
    assert!((d - (1.0 - a)).abs() < 1e-9, "{d} vs 1 − {a}");
    assert_eq!(row["delta"]["pass_rate/pass@1"], row["delta"]["pass@1"]);
    // Eval rows have a Δ pass@1 too (the mean over the eval's sets).
    let eval = doc["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "eval" && r["delta"].is_object())
        .expect("an eval row in both runs");
    assert_eq!(eval["delta"]["pass@1"], J::from(0.0), "{eval}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

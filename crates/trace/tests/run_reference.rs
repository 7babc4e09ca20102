//! The run explorer's numbers equal slime's: every dump of `tests/fixtures/run` summarised
//! and every sample recorded, compared with `run_reference.json` (written by slime's own
//! metric functions) key by key, numbers within 1e-6 relative.

use std::path::{Path, PathBuf};

use serde_json::Value as J;
use trace::run::{
    as_older_reference, eval_set_names, json_diff, layout, run_json, sample_record, scan_bytes,
    summarize_with, RolloutSummary, RunOptions, TrainData,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Numbers equal within 1e-6 relative, or 1e-7 absolute: slime sums train-side values in
/// float32, so a mean that cancels to ≈ 0 (a GRPO rollout's advantages: −1.2e-8) is float32
/// rounding, not a value to match digit by digit.
const REL: f64 = 1e-6;
const ABS: f64 = 1e-7;

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["", "rollout_data", "train_data", "tokenizer"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let e = e.expect("entry");
            if e.path().is_dir() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            out.push(if sub.is_empty() {
                name
            } else {
                format!("{sub}/{name}")
            });
        }
    }
    out
}

/// Every dump of the run at `dir` summarised and recorded: (summaries, `--json` document).
fn read_run(dir: &Path, opts: &RunOptions) -> (Vec<RolloutSummary>, J) {
    let l = layout(&files(dir));
    assert_eq!(l.tokenizer.as_deref(), Some("tokenizer/tokenizer.json"));
    let mut summaries = Vec::new();
    let mut samples = Vec::new();
    for d in &l.dumps {
        let bytes = std::fs::read(dir.join(&d.file)).expect("dump");
        let scan = scan_bytes(&bytes, false).unwrap_or_else(|e| panic!("{}: {e}", d.file));
        let train = d
            .train_file
            .as_ref()
            .map(|t| TrainData::read(&std::fs::read(dir.join(t)).expect("train"), false));
        let (s, scan) = summarize_with(d, scan, train, true, opts);
        assert!(s.notes.is_empty(), "{}: {:?}", d.file, s.notes);
        samples.extend(scan.rows.iter().map(|r| sample_record(d, r)));
        summaries.push(s);
    }
    (summaries.clone(), run_json(&summaries, samples, &[]))
}

fn reference(dir: &Path) -> J {
    serde_json::from_slice(&std::fs::read(dir.join("run_reference.json")).expect("reference"))
        .expect("reference JSON")
}

#[test]
fn run_flat_equals_slimes_reference_on_every_key() {
    let dir = fixtures().join("run_flat");
    let opts = RunOptions {
        eval_names: vec!["math500".into(), "aime24".into()],
        ..RunOptions::default()
    };
    let (summaries, ours) = read_run(&dir, &opts);
    let out = json_diff(&reference(&dir), &ours, REL, ABS);
    assert!(
        out.is_empty(),
        "{} differences:\n{}",
        out.len(),
        out.join("\n")
    );
    // Without names, the sets come by order: `eval set 1` (12 samples), then `eval set 2`.
    let (summaries2, _) = read_run(&dir, &RunOptions::default());
    let evals: Vec<_> = summaries2
        .iter()
        .filter(|s| s.metrics.contains_key("eval/step"))
        .collect();
    assert_eq!(evals.len(), 2);
    for e in evals {
        assert_eq!(
            eval_set_names(&e.metrics["eval_datasets"]),
            ["eval set 1", "eval set 2"]
        );
    }
    let kinds: Vec<_> = summaries
        .iter()
        .filter_map(|s| s.dump.as_ref().map(|d| (d.rollout_id, d.kind.as_str())))
        .collect();
    assert_eq!(
        kinds.iter().filter(|(_, k)| *k == "train").count(),
        6,
        "{kinds:?}"
    );
}

#[test]
fn run_equals_slimes_reference() {
    let dir = fixtures().join("run");
    let (summaries, ours) = read_run(&dir, &RunOptions::default());
    let out = json_diff(&reference(&dir), &as_older_reference(&ours), REL, ABS);
    assert!(
        out.is_empty(),
        "{} differences:\n{}",
        out.len(),
        out.join("\n")
    );
    // The story the fixture tells shows in the flags.
    let flag = |i: usize| &summaries[i].flags;
    let by_file = |f: &str| {
        summaries
            .iter()
            .position(|s| s.dump.as_ref().is_some_and(|d| d.file == f))
            .expect(f)
    };
    assert!(flag(by_file("rollout_data/1.pt")).untraced);
    assert!(flag(by_file("rollout_data/3.pt")).straggler);
    assert!(flag(by_file("rollout_data/4.pt")).truncation_burst);
    let stragglers = summaries.iter().filter(|s| s.flags.straggler).count();
    let bursts = summaries
        .iter()
        .filter(|s| s.flags.truncation_burst)
        .count();
    assert_eq!((stragglers, bursts), (1, 1));
    assert!(summaries
        .iter()
        .all(|s| !s.flags.missing_train && !s.flags.partial_train));
}

#[test]
fn the_comparison_can_fail() {
    let a = serde_json::json!({"x": 1.0, "y": [1, 2], "z": "s"});
    let mut out = Vec::new();
    for b in [
        serde_json::json!({"x": 1.00001, "y": [1, 2], "z": "s"}),
        serde_json::json!({"x": 1.0, "y": [1], "z": "s"}),
        serde_json::json!({"x": 1.0, "y": [1, 2], "z": "t", "w": 0}),
        serde_json::json!({"x": 1.0000000001, "y": [1, 2], "z": "s"}),
    ] {
        out.extend(json_diff(&a, &b, 1e-6, 0.0));
    }
    // 1e-5 off; an array short; a string changed and a key of ours only; 1e-10 is equal.
    assert_eq!(out.len(), 4, "{out:?}");
}

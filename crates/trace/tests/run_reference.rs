//! The run explorer's numbers equal slime's: every dump of `tests/fixtures/run` summarised
//! and every sample recorded, compared with `run_reference.json` (written by slime's own
//! metric functions) key by key, numbers within 1e-6 relative.

use std::path::{Path, PathBuf};

use serde_json::Value as J;
use trace::run::{json_diff, layout, run_json, sample_record, scan_bytes, summarize, TrainData};

fn run_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["rollout_data", "train_data", "tokenizer"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("fixture folder") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            out.push(format!("{sub}/{name}"));
        }
    }
    out
}

#[test]
fn run_equals_slimes_reference() {
    let dir = run_dir();
    let reference: J = serde_json::from_slice(
        &std::fs::read(dir.join("run_reference.json")).expect("run_reference.json"),
    )
    .expect("reference JSON");
    let l = layout(&files(&dir));
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
        let (s, scan) = summarize(d, scan, train, true);
        assert!(s.notes.is_empty(), "{}: {:?}", d.file, s.notes);
        samples.extend(scan.rows.iter().map(|r| sample_record(d, r)));
        summaries.push(s);
    }
    let ours = run_json(&summaries, samples);
    let out = json_diff(&reference, &ours, 1e-6);
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
        out.extend(json_diff(&a, &b, 1e-6));
    }
    // 1e-5 off; an array short; a string changed and a key of ours only; 1e-10 is equal.
    assert_eq!(out.len(), 4, "{out:?}");
}

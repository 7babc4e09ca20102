//! verl step logs: the fixture run (`tests/fixtures/verl`, written by verl's own
//! `_dump_generations`) against what its generator computed, and the hostile JSONL cases.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use picklegen::hostile::jsonl::{cases, JsonlExpect};
use serde_json::Value as J;
use trace::run::{layout, summarize, DumpKind, DumpRef, DumpScan, Step};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/verl")
}

fn paths() -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["rollout", "validation"] {
        for e in std::fs::read_dir(fixture().join("run").join(sub)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            out.push(format!("{sub}/{name}"));
        }
    }
    out
}

fn scan(dump: &DumpRef, bytes: &[u8], step: bool) -> Result<trace::run::Scanned, String> {
    let mut s = DumpScan::of(dump, step);
    for c in bytes.chunks(7) {
        s.push(c)?;
    }
    s.finish()
}

#[test]
fn the_fixture_run_matches_what_its_generator_computed() {
    let l = layout(&paths());
    let want: J =
        serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    let want = want["files"].as_array().unwrap();
    assert_eq!(l.dumps.len(), want.len(), "{:?}", l.dumps);
    for (d, w) in l.dumps.iter().zip(want) {
        assert_eq!(d.file, w["file"].as_str().unwrap());
        assert_eq!(d.rollout_id, w["step"].as_i64().unwrap());
        assert_eq!(d.kind.as_str(), w["kind"].as_str().unwrap());
        let bytes = std::fs::read(fixture().join("run").join(&d.file)).unwrap();
        let (s, _) = summarize(d, scan(d, &bytes, false).unwrap(), None, false);
        let m = &s.metrics;
        let close = |k: &str, v: &J| {
            let (a, b) = (m[k].as_f64().unwrap(), v.as_f64().unwrap());
            assert!((a - b).abs() < 1e-12, "{}: {k} {a} vs {b}", d.file);
        };
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(m["sample_count"], w["sample_count"]);
        assert_eq!(m["group_size"], w["group_size"]);
        close("reward/mean", &w["score_mean"]);
        close("reward/min", &w["score_min"]);
        close("reward/max", &w["score_max"]);
        close("reward_extra/acc/mean", &w["acc_mean"]);
        assert!((s.pass_at(1).unwrap() - w["pass_at_1"].as_f64().unwrap()).abs() < 1e-12);
        // What verl does not record is absent, not zero.
        for k in [
            "rollout/response_len/mean",
            "perf/rollout_time",
            "traced_sample_count",
        ] {
            assert!(!m.contains_key(k), "{}: {k}", d.file);
        }
        if d.kind == DumpKind::Eval {
            close("eval/validation", &w["score_mean"]);
        } else {
            assert_eq!(
                Some(s.flags.zero_std_groups as u64),
                w["zero_std_groups"].as_u64()
            );
        }
    }
}

#[test]
fn a_step_has_every_extra_key_and_the_texts() {
    let l = layout(&paths());
    let d = l.dumps.iter().find(|d| d.kind == DumpKind::Train).unwrap();
    let bytes = std::fs::read(fixture().join("run").join(&d.file)).unwrap();
    let step = Step::new(d.clone(), scan(d, &bytes, true).unwrap(), None);
    assert_eq!(step.len(), 16);
    let data = step.data();
    let keys: Vec<&str> = data.rows[0]
        .reward_fields
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    // serde_json keeps keys sorted.
    assert_eq!(keys, ["acc", "pred", "request_id", "uid"]);
    let first: J =
        serde_json::from_str(std::str::from_utf8(&bytes).unwrap().lines().next().unwrap()).unwrap();
    let detail = step.detail(0, None).unwrap();
    assert_eq!(detail.response, first["output"].as_str().unwrap());
    assert_eq!(detail.label, first["gts"]);
    assert_eq!(detail.metadata["pred"], first["pred"]);
    assert_eq!(data.rows[0].group_index, first["uid"]);
    assert!(detail.tokens.is_empty() && data.rows[0].response_length.is_none());
}

#[test]
fn every_hostile_jsonl_case_is_bounded_and_keeps_the_good_lines() {
    let dump = DumpRef {
        rollout_id: 2,
        kind: DumpKind::Train,
        file: "rollout/2.jsonl".into(),
        train_file: None,
    };
    for case in cases() {
        let t = Instant::now();
        let mut s = DumpScan::of(&dump, true);
        let mut err = None;
        case.chunks(&mut |c| {
            if err.is_none() && !s.is_done() {
                err = s.push(c).err();
            }
        });
        let got = s.finish();
        let secs = t.elapsed();
        eprintln!("{:<24} {:>6.2} s", case.name, secs.as_secs_f64());
        assert!(secs < Duration::from_secs(60), "{}: {secs:?}", case.name);
        match (&case.expect, got) {
            (JsonlExpect::Rows { rows, note }, Ok(scanned)) => {
                assert_eq!(
                    scanned.rows.len(),
                    *rows,
                    "{}: {:?}",
                    case.name,
                    scanned.notes
                );
                assert!(
                    scanned.notes.iter().any(|n| n.contains(note)),
                    "{}: {:?}",
                    case.name,
                    scanned.notes
                );
            }
            (JsonlExpect::Error(text), Err(e)) => assert!(e.contains(text), "{}: {e}", case.name),
            (want, got) => panic!(
                "{}: want {want:?}, got {:?}",
                case.name,
                got.map(|s| s.notes)
            ),
        }
    }
}

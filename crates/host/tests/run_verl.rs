//! verl's rollout logs through the real binary: `rollscope run` (table and `--json`) on the
//! fixture run (`tests/fixtures/verl`, written by verl's own `_dump_generations`) against what
//! its generator computed, `rollscope DIR`'s run index, and every hostile JSONL case as one step
//! of an otherwise good run, within time and without hiding the good step.

mod bounded;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use picklegen::hostile::jsonl::{big_cases, cases, good_line, JsonlExpect};
use serde_json::Value as J;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/verl")
}

/// `rollscope run ARGS…`, killed past `wall`: (exit code, stdout, stderr, seconds).
fn run(args: &[&str], wall: Duration) -> (Option<i32>, String, String, f64) {
    // One folder per call: the tests run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rollscope-verl-out-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .arg("run")
        .args(args)
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .expect("runs");
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if t.elapsed() > wall {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let got = (code, read(&out), read(&err), t.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    got
}

fn run_json(dir: &Path) -> J {
    let (code, out, err, _) = run(&[dir.to_str().unwrap(), "--json"], Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).expect("one JSON document")
}

#[test]
fn the_fixture_run_matches_its_generator() {
    let doc = run_json(&fixture().join("run"));
    let want: J =
        serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    let want = want["files"].as_array().unwrap();
    let got = doc["rollouts"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g["file"], w["file"]);
        assert_eq!(g["rollout_id"], w["step"]);
        assert_eq!(g["kind"], w["kind"]);
        assert_eq!(g["sample_count"], w["sample_count"]);
        for (ours, theirs) in [
            ("reward/mean", "score_mean"),
            ("reward_extra/acc/mean", "acc_mean"),
        ] {
            let (a, b) = (g[ours].as_f64().unwrap(), w[theirs].as_f64().unwrap());
            assert!((a - b).abs() < 1e-12, "{}: {ours} {a} vs {b}", w["file"]);
        }
        let pass1 = if g["kind"] == "train" {
            &g["pass_rate"]["pass@1"]
        } else {
            &g["eval/validation-pass@1"]
        };
        assert!((pass1.as_f64().unwrap() - w["pass_at_1"].as_f64().unwrap()).abs() < 1e-12);
        // Not recorded by verl: absent, not 0.
        for k in [
            "rollout/response_len/mean",
            "perf/rollout_time",
            "traced_sample_count",
        ] {
            assert!(g.get(k).is_none(), "{}: {k}", w["file"]);
        }
        assert!(g.get("notes").is_none(), "{g}");
    }
    let samples = doc["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 4 * 16 + 3 * 6);
    let s = &samples[0];
    assert_eq!(s["kind"], "eval");
    assert!(
        s.get("extra/acc").is_some() && s.get("extra/pred").is_some(),
        "{s}"
    );
    assert!(s.get("response_length").is_none() && s.get("train/raw_reward").is_none());
}

#[test]
fn a_step_folder_opened_alone_is_named_by_its_own_name() {
    let doc = run_json(&fixture().join("run/validation"));
    let got: Vec<(String, String)> = doc["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().into(),
                r["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        "validation/0.jsonl",
        "validation/2.jsonl",
        "validation/4.jsonl",
    ];
    assert_eq!(got, want.map(|f| (f.to_string(), "eval".to_string())));
    let doc = run_json(&fixture().join("run/rollout"));
    assert!(doc["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["kind"] == "train"));
}

#[test]
fn the_table_has_a_line_per_step() {
    let dir = fixture().join("run");
    let (code, out, err, _) = run(&[dir.to_str().unwrap()], Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 7, "{out}");
    // Step 1, training: 16 samples, mean score 0.369, pass@1 0.312; no traced count.
    let one: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        one[..6],
        ["1", "train", "16", "-", "0.369", "0.312"],
        "{out}"
    );
    assert!(lines[0].contains("eval"), "{out}");
}

#[test]
fn rollscope_dir_lists_both_folders_in_its_run_index() {
    let dir = fixture().join("run");
    let srv = common::start(&[dir.to_str().unwrap()]);
    let index_path = srv
        .url
        .split("?run=")
        .nth(1)
        .map(|p| format!("/{p}"))
        .unwrap();
    let r = common::raw(&srv.addr, "GET", &index_path, &[]);
    assert_eq!(r.status, 200);
    let index: J = serde_json::from_slice(&r.body).unwrap();
    let mut files: Vec<&str> = index["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "rollout/1.jsonl",
            "rollout/2.jsonl",
            "rollout/3.jsonl",
            "rollout/4.jsonl",
            "validation/0.jsonl",
            "validation/2.jsonl",
            "validation/4.jsonl"
        ]
    );
}

#[test]
fn every_hostile_jsonl_case_is_bounded_and_the_good_step_stays() {
    let base = std::env::temp_dir().join(format!("rollscope-verl-hostile-{}", std::process::id()));
    let mut failures = Vec::new();
    for case in cases() {
        let run_dir = base.join(case.name);
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(run_dir.join("rollout")).unwrap();
        std::fs::write(run_dir.join("rollout/1.jsonl"), good_line(1, 1.0)).unwrap();
        case.write_file(&run_dir.join("rollout/2.jsonl")).unwrap();
        let (code, out, err, secs) = run(
            &[run_dir.to_str().unwrap(), "--json", "--jobs", "1"],
            // The 2 GiB case is read to its end (the good line after it): seconds of kernel
            // time on a quiet machine, more on two shared cores.
            Duration::from_secs(120),
        );
        let _ = std::fs::remove_dir_all(&run_dir);
        eprintln!("{:<24} {secs:>6.2} s", case.name);
        let doc: J = match (code, serde_json::from_str(&out)) {
            (Some(0), Ok(d)) => d,
            _ => {
                failures.push(format!(
                    "{}: exit {code:?} after {secs:.1} s: {err}",
                    case.name
                ));
                continue;
            }
        };
        let r = &doc["rollouts"];
        if r[0]["sample_count"] != 1 || r[0]["reward/mean"] != 1.0 {
            failures.push(format!(
                "{}: the good step is not whole: {}",
                case.name, r[0]
            ));
        }
        let text = r[1].to_string();
        let ok = match &case.expect {
            JsonlExpect::Rows { rows, note } => {
                r[1]["sample_count"] == *rows && text.contains(note)
            }
            JsonlExpect::Error(e) => r[1]["error"].as_str().is_some_and(|x| x.contains(e)),
        };
        if !ok {
            failures.push(format!("{}: want {:?}, got {text}", case.name, case.expect));
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_wide_line_and_a_million_lines_are_read_in_bounded_memory_and_time() {
    // Peak RSS of the plain table (1 GiB, in KiB), and CPU seconds (a debug build).
    const RSS: u64 = 1024 * 1024;
    const CPU: Duration = Duration::from_secs(60);
    let base = std::env::temp_dir().join(format!("rollscope-verl-big-{}", std::process::id()));
    let mut failures = Vec::new();
    for case in big_cases() {
        let run_dir = base.join(case.name);
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(run_dir.join("rollout")).unwrap();
        std::fs::write(run_dir.join("rollout/1.jsonl"), good_line(1, 1.0)).unwrap();
        case.write_file(&run_dir.join("rollout/2.jsonl")).unwrap();
        let args = [
            "run".as_ref(),
            run_dir.as_os_str(),
            "--jobs".as_ref(),
            "2".as_ref(),
        ];
        let r = bounded::run_args(&args, CPU);
        let _ = std::fs::remove_dir_all(&run_dir);
        eprintln!(
            "{:<18} {:>6.2} s, {} MiB peak",
            case.name,
            r.secs,
            r.max_rss >> 10
        );
        let JsonlExpect::Rows { rows, .. } = case.expect else {
            continue;
        };
        if r.code != Some(0) || r.timed_out || r.max_rss > RSS {
            failures.push(format!(
                "{}: exit {:?}, timed out {}, {} KiB peak: {}",
                case.name, r.code, r.timed_out, r.max_rss, r.stderr
            ));
        } else if !r.stdout.contains(&format!(" {rows} ")) {
            failures.push(format!(
                "{}: no step of {rows} samples: {}",
                case.name, r.stdout
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! `rollscope stats --json` gives slime's metrics exactly as slime's own functions compute them
//! (`<stem>.perf_reference.json`), and for the newer PD shape the `perf/prefill/*` and PD
//! `perf/decode/*` values slime misses, checked against the dump's `sglang_pd_*` events.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as J;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime")
}

fn stats_json(pt: &PathBuf) -> serde_json::Map<String, J> {
    let out = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["stats", "--json"])
        .arg(pt)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        J::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn every_fixture_matches_slimes_metrics() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for reference in entries
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".perf_reference.json"))
    {
        let stem = reference
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".perf_reference.json", "");
        let expected: BTreeMap<String, f64> =
            serde_json::from_slice(&std::fs::read(reference).unwrap()).unwrap();
        let ours = stats_json(&dir().join(format!("{stem}.pt")));
        for (k, v) in &expected {
            match ours.get(k).and_then(J::as_f64) {
                Some(x) if close(x, *v) => checked += 1,
                got => failures.push(format!("{stem}: {k}: ours {got:?}, slime {v}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100, "only {checked} values checked");
}

/// The PD values of the newer shape, computed here straight from the dump's events.
#[test]
fn newer_pd_shape_gives_the_pd_metrics_slime_misses() {
    let pt = dir().join("pd_1.pt");
    let bytes = std::fs::read(&pt).unwrap();
    let dump = pt::read(&bytes, &pt::Limits::default()).unwrap();
    let t = &dump.tree;
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for sample in t.as_seq(t.get(&t.root, "samples").unwrap()).unwrap() {
        let trace = t.get(sample, "trace").unwrap();
        for ev in t.as_seq(t.get(trace, "events").unwrap()).unwrap() {
            let name = t.get(ev, "name").and_then(|v| v.as_str()).unwrap_or("");
            let kind = t.get(ev, "type").and_then(|v| v.as_str()).unwrap_or("");
            let wanted = (kind == "span_end" && name.starts_with("sglang_pd_"))
                || (kind == "event" && name == "sglang_pd_summary");
            if !wanted {
                continue;
            }
            let Some(attrs) = t.get(ev, "attrs").and_then(|a| t.as_dict(a)) else {
                continue;
            };
            for (k, v) in &attrs.entries {
                let (Some(k), Some(x)) = (
                    k.as_str(),
                    match v {
                        pt::Value::Float(f) => Some(*f),
                        pt::Value::Int(i) => Some(*i as f64),
                        _ => None,
                    },
                ) else {
                    continue;
                };
                if k.starts_with("pd_") {
                    values.entry(k.to_string()).or_default().push(x);
                }
            }
        }
    }
    let metric_of = |key: &str| -> String {
        match key {
            "pd_transfer_speed_gb_s" => "perf/prefill/transfer_speed_gb_s".into(),
            "pd_transfer_total_mb" => "perf/prefill/transfer_total_mb".into(),
            "pd_prefill_retry_count" => "perf/prefill/retry_count".into(),
            k => {
                let rest = k.strip_prefix("pd_").unwrap();
                let (role, phase) = rest.split_once('_').unwrap();
                format!("perf/{role}/{phase}")
            }
        }
    };
    let ours = stats_json(&pt);
    let reference: BTreeMap<String, f64> =
        serde_json::from_slice(&std::fs::read(dir().join("pd_1.perf_reference.json")).unwrap())
            .unwrap();
    assert!(values.len() >= 10, "PD keys found: {:?}", values.keys());
    for (key, mut v) in values {
        let metric = metric_of(&key);
        assert!(
            !reference.contains_key(&format!("{metric}/mean")),
            "slime has {metric} already?"
        );
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        let mean = v.iter().sum::<f64>() / n as f64;
        for (suffix, want) in [
            ("mean", mean),
            ("median", median),
            ("max", v[n - 1]),
            ("min", v[0]),
        ] {
            let k = format!("{metric}/{suffix}");
            let got = ours
                .get(&k)
                .and_then(J::as_f64)
                .unwrap_or_else(|| panic!("missing {k}"));
            assert!(close(got, want), "{k}: ours {got}, from events {want}");
        }
    }
}

#[test]
fn the_table_is_readable_and_names_health() {
    let out = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["stats"])
        .arg(dir().join("pd_1.pt"))
        .args(["--queue-p99", "5"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("perf/request/e2e_latency"), "{text}");
    assert!(
        text.contains("ok   queue time p99"),
        "threshold from the flag: {text}"
    );
}

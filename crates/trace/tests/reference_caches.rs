//! Our cache equals slime's reference cache for every fixture dump (spec §3).
//!
//! New `*.pt` files in tests/fixtures/slime are picked up without code changes.

use std::path::{Path, PathBuf};

use serde_json::Value as J;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime")
}

fn dumps() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pt"))
        .collect();
    v.sort();
    assert!(v.len() >= 10);
    v
}

fn reference_for(pt: &Path) -> J {
    let stem = pt.file_stem().unwrap().to_str().unwrap();
    let path = pt.with_file_name(format!("{stem}.trace_timeline_cache.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Equal except `pt_path` and `generated_at`; numbers within 1e-6 absolute; key order ignored.
fn diff(path: &str, ours: &J, theirs: &J, out: &mut Vec<String>) {
    if out.len() > 20 {
        return;
    }
    match (ours, theirs) {
        (J::Object(a), J::Object(b)) => {
            for (k, vb) in b {
                if path.is_empty() && (k == "pt_path" || k == "generated_at") {
                    continue;
                }
                match a.get(k) {
                    Some(va) => diff(&format!("{path}.{k}"), va, vb, out),
                    None => out.push(format!("{path}.{k}: missing in ours")),
                }
            }
            for k in a.keys() {
                if !b.contains_key(k) {
                    out.push(format!("{path}.{k}: extra in ours"));
                }
            }
        }
        (J::Array(a), J::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: length {} vs {}", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-6 {
                out.push(format!("{path}: {x} vs {y}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn every_fixture_matches_slimes_cache() {
    let mut failures = Vec::new();
    for pt in dumps() {
        let bytes = std::fs::read(&pt).unwrap();
        let name = pt.file_name().unwrap().to_str().unwrap();
        let built = trace::load(&bytes, &trace::LoadOptions::new(name, 0.0))
            .map(trace::Loaded::materialize)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = serde_json::to_value(&built.cache).unwrap();
        let mut out = Vec::new();
        diff("", &ours, &reference_for(&pt), &mut out);
        if !out.is_empty() {
            failures.push(format!("{name}:\n  {}", out.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reference_cache_json_loads_as_input() {
    for pt in dumps() {
        let stem = pt.file_stem().unwrap().to_str().unwrap();
        let path = pt.with_file_name(format!("{stem}.trace_timeline_cache.json"));
        let built = trace::load(
            &std::fs::read(&path).unwrap(),
            &trace::LoadOptions::new("x", 0.0),
        )
        .map(trace::Loaded::materialize)
        .unwrap();
        let reference = reference_for(&pt);
        assert_eq!(
            built.cache.rows.len(),
            reference["rows"].as_array().unwrap().len()
        );
        let mut out = Vec::new();
        diff(
            "",
            &serde_json::to_value(&built.cache).unwrap(),
            &reference,
            &mut out,
        );
        assert!(out.is_empty(), "{stem}: {out:?}");
    }
}

#[test]
fn edge_fixture_warns_about_each_bad_sample() {
    let bytes = std::fs::read(fixture_dir().join("edge_9.pt")).unwrap();
    let built = trace::load(&bytes, &trace::LoadOptions::new("edge_9.pt", 0.0))
        .map(trace::Loaded::materialize)
        .unwrap();
    let text: Vec<String> = built.warnings.iter().map(|w| w.to_string()).collect();
    let has = |needle: &str| text.iter().any(|w| w.contains(needle));
    assert!(
        has("sample 1: skipped 1 of 1 trace events (1 no ts); no usable events"),
        "{text:#?}"
    );
    assert!(
        has("sample 3: skipped 3 of 9 trace events (2 not a dict, 1 ts not a number)"),
        "{text:#?}"
    );
    assert!(
        has("sample 3: span id \"s1\" started again while open"),
        "{text:#?}"
    );
    assert!(has("sample 5: span parent ids form a cycle"), "{text:#?}");
}

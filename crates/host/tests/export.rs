//! `rollscope export`: OTLP/JSON checked by the real OpenTelemetry protobuf definitions
//! (Python `opentelemetry-proto`, installed by `cargo xtask test`), Chrome JSON by its fields.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/slime").join(name)
}

fn export(input: &PathBuf, format: &str, out: &PathBuf) {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["export", "--format", format, "-o"])
        .arg(out)
        .arg(input)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn otlp_export_parses_as_an_opentelemetry_export_request() {
    let dir = std::env::temp_dir().join(format!("rollscope-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["pd_1.pt", "agent_2.pt", "edge_9.pt", "objects_3.pt"] {
        let out = dir.join(format!("{name}.otlp.json"));
        export(&fixture(name), "otlp", &out);
        let check = Command::new("python3")
            .arg(root().join("tests/interop/otlp_check.py"))
            .arg(&out)
            .output()
            .expect("python3");
        let said = String::from_utf8_lossy(&check.stdout).into_owned()
            + &String::from_utf8_lossy(&check.stderr);
        assert!(
            check.status.success() && said.starts_with("ok: "),
            "{name}: {said}"
        );
        // And our own reader takes it back: `cache` on the OTLP file gives the same row count.
        let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
            .args(["cache", "-o", "-"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let back: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let reference: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixture(&name.replace(".pt", ".trace_timeline_cache.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(back["sample_count"], reference["sample_count"], "{name}");
    }
}

#[test]
fn chrome_export_is_a_trace_event_document() {
    let out = std::env::temp_dir().join(format!("rollscope-chrome-{}.json", std::process::id()));
    export(&fixture("agent_2.pt"), "chrome", &out);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["ph"] == "X" && e["name"] == "sglang_generate"));
    assert!(events
        .iter()
        .any(|e| e["ph"] == "M" && e["name"] == "thread_name"));
    assert!(events
        .iter()
        .filter(|e| e["ph"] == "X")
        .all(|e| e["args"].is_object()));
}

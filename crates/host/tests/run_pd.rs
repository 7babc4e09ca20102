//! `stats` and `run` read PD timings alike: current producers put the `pd_*` durations on
//! `sglang_pd_*` child spans (`pd_1.pt`), older ones flat on the request's end
//! (`pdflat_5.pt`); both commands give the same `perf/prefill/*` and `perf/decode/*`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as J;

fn rollscope(args: &[&str], file: &PathBuf) -> J {
    let o = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .arg(file)
        .arg("--json")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn stats_and_run_give_the_same_pd_numbers() {
    for name in ["pd_1.pt", "pdflat_5.pt"] {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/slime")
            .join(name);
        let stats = rollscope(&["stats"], &file);
        let run = rollscope(&["run"], &file);
        let run = &run["rollouts"][0];
        let mut compared = 0;
        for (k, v) in stats.as_object().into_iter().flatten() {
            let pd = k.starts_with("perf/prefill/") || k.starts_with("perf/decode/");
            let stat = ["/mean", "/median", "/max", "/min"]
                .iter()
                .any(|s| k.ends_with(s));
            if !(pd && stat) {
                continue;
            }
            let (a, b) = (v.as_f64(), run[k].as_f64());
            assert!(
                a.zip(b)
                    .is_some_and(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(1.0)),
                "{name} {k}: stats {v}, run {}",
                run[k]
            );
            compared += 1;
        }
        // 13 PD keys (and decode throughput) × 4 statistics.
        assert_eq!(compared, 14 * 4, "{name}");
    }
}

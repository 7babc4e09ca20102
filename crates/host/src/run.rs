//! `rollscope run`'s table for the terminal. The run itself (listing, reading, the memory
//! budget) is `ops::listing` and `ops::table`.

use std::fmt::Write as _;

use ops::listing::LocalRun;
use ops::table::DumpResult;
use serde_json::Value as J;

use crate::term::escape;

/// One line per dump, with its flags; then the run's notes.
pub fn render_table(run: &LocalRun, results: &[DumpResult]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  flags",
        "id",
        "kind",
        "samples",
        "traced",
        "reward",
        "pass@1",
        "resp len",
        "trunc",
        "time s",
        "e2e p99"
    );
    for r in results {
        let s = &r.summary;
        let Some(d) = &s.dump else { continue };
        let m = &s.metrics;
        let g = |k: &str| m.get(k).and_then(J::as_f64);
        let f = |x: Option<f64>, p: usize| x.map_or("-".to_string(), |v| format!("{v:.p$}"));
        let pass1 = m
            .get("pass_rate")
            .and_then(|p| p.get("pass@1"))
            .and_then(J::as_f64)
            .or_else(|| {
                // An eval: the mean of its datasets' pass@1.
                let v: Vec<f64> = m
                    .iter()
                    .filter(|(k, _)| k.starts_with("eval/") && k.ends_with("-pass@1"))
                    .filter_map(|(_, v)| v.as_f64())
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            });
        let resp = g("rollout/response_len/mean");
        let trunc = g("rollout/truncated_ratio");
        let mut flags = Vec::new();
        if let Some(e) = &s.error {
            flags.push(format!("ERROR: {e}"));
        }
        let fl = &s.flags;
        for (on, name) in [
            (fl.straggler, "straggler"),
            (fl.truncation_burst, "truncation burst"),
            (fl.untraced, "untraced"),
            (fl.missing_train, "missing train data"),
            (fl.partial_train, "partial train data"),
        ] {
            if on {
                flags.push(name.to_string());
            }
        }
        if fl.zero_std_groups > 0 {
            flags.push(format!("{} zero-std groups", fl.zero_std_groups));
        }
        let _ = writeln!(
            o,
            "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  {}",
            d.rollout_id,
            d.kind.as_str(),
            m.get("sample_count")
                .and_then(J::as_u64)
                .map_or("-".into(), |n| n.to_string()),
            m.get("traced_sample_count")
                .and_then(J::as_u64)
                .map_or("-".into(), |n| n.to_string()),
            f(g("reward/mean"), 3),
            f(pass1, 3),
            f(resp, 1),
            f(trunc, 3),
            f(g("perf/rollout_time"), 1),
            f(s.e2e_p99, 2),
            escape(&flags.join(", "))
        );
    }
    for n in &run.listing.layout.notes {
        let _ = writeln!(o, "note: {}", escape(n));
    }
    for r in results {
        let file = r.summary.dump.as_ref().map_or("", |d| d.file.as_str());
        for n in &r.summary.notes {
            let _ = writeln!(o, "note: {}", escape(&format!("{file}: {n}")));
        }
    }
    o
}

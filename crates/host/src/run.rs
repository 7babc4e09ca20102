//! `rollscope run`'s table for the terminal (whole, or line by line for `--follow`). The run itself (listing, reading, the memory
//! budget) is `ops::listing` and `ops::table`.

use std::fmt::Write as _;

use ops::listing::LocalRun;
use ops::table::DumpResult;
use serde_json::Value as J;

use crate::term::escape;

/// One line per dump, with its flags; then the run's notes.
pub fn render_table(run: &LocalRun, results: &[DumpResult]) -> String {
    let mut o = header();
    for r in results {
        o.push_str(&line(r));
    }
    for n in &run.listing.layout.notes {
        let _ = writeln!(o, "note: {}", escape(n));
    }
    for r in results {
        o.push_str(&notes(r));
    }
    o
}

/// The table's header line.
pub fn header() -> String {
    format!(
        "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  flags\n",
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
    )
}

/// One dump's line (empty for a summary that names no dump).
pub fn line(r: &DumpResult) -> String {
    let s = &r.summary;
    let Some(d) = &s.dump else {
        return String::new();
    };
    let m = &s.metrics;
    let g = |k: &str| m.get(k).and_then(J::as_f64);
    let f = |x: Option<f64>, p: usize| x.map_or("-".to_string(), |v| format!("{v:.p$}"));
    let pass1 = s.pass_at(1);
    let resp = g("rollout/response_len/mean");
    let trunc = g("rollout/truncated_ratio");
    let mut flags = Vec::new();
    if let Some(e) = &s.error {
        flags.push(format!("ERROR: {e}"));
    }
    flags.extend(s.flags.labels());
    format!(
        "{:>5} {:<5} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8}  {}\n",
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
    )
}

/// One dump's notes, a line each.
pub fn notes(r: &DumpResult) -> String {
    let file = r.summary.dump.as_ref().map_or("", |d| d.file.as_str());
    let mut o = String::new();
    for n in &r.summary.notes {
        let _ = writeln!(o, "note: {}", escape(&format!("{file}: {n}")));
    }
    o
}

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

/// `rollscope run --json`: `trace::run::run_json`'s document, written as the samples' records
/// are made (`ops::table::each_record`: one dump at a time, none held), so a run of millions
/// of samples costs one dump's rows, not every record. The same bytes as the document whole.
pub fn write_run_json(
    w: &mut dyn std::io::Write,
    run: &LocalRun,
    results: &[DumpResult],
    opts: &trace::run::RunOptions,
) -> std::io::Result<()> {
    use crate::term::write_json_safe;
    let notes = &run.listing.layout.notes;
    w.write_all(b"{")?;
    if !notes.is_empty() {
        w.write_all(b"\"notes\":")?;
        write_json_safe(&mut *w, notes)?;
        w.write_all(b",")?;
    }
    w.write_all(b"\"rollouts\":[")?;
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_json_safe(&mut *w, &trace::run::rollout_record(&r.summary))?;
    }
    w.write_all(b"],\"samples\":[")?;
    let (mut first, mut failed) = (true, None);
    ops::table::each_record(run, opts, &mut |rec| {
        if failed.is_some() {
            return;
        }
        let wrote = (if first { Ok(()) } else { w.write_all(b",") })
            .and_then(|()| write_json_safe(&mut *w, &rec).map_err(std::io::Error::from));
        first = false;
        failed = wrote.err();
    });
    if let Some(e) = failed {
        return Err(e);
    }
    w.write_all(b"]}\n")
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

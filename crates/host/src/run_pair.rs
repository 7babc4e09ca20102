//! `rollscope run A B`'s table for the terminal: one line per pair of dumps (A, B and B − A
//! of the numbers one reads first), then the samples whose train log probs differ most. The
//! comparison itself is `ops::pair` and `trace::run::pair`.

use std::fmt::Write as _;

use serde_json::Value as J;

use crate::term::escape;

/// Samples of `most_different` printed.
const MOST_SHOWN: usize = 10;

/// The table of a comparison document (`trace::run::pair_json`).
pub fn render_pair(doc: &J) -> String {
    let mut o = String::new();
    let name = |s: &str| escape(doc[s]["name"].as_str().unwrap_or(s)).into_owned();
    let _ = writeln!(
        o,
        "A = {}, B = {} (aligned by {}; Δ = B − A)",
        name("a"),
        name("b"),
        doc["align"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        o,
        "{:<5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
        "kind",
        "A id",
        "B id",
        "reward A",
        "reward B",
        "Δ reward",
        "Δ pass@1",
        "Δ resp len",
        "Δ time s",
        "mean|Δlp|",
        "max|Δlp|"
    );
    let rollouts = doc["rollouts"].as_array().map_or(&[][..], Vec::as_slice);
    let (a, b) = (records(doc, "a"), records(doc, "b"));
    // A's or B's own value of `key` for the line's dump.
    let own = |side: &[J], r: &J, id_key: &str, key: &str| {
        let id = r[id_key].as_i64()?;
        side.iter()
            .find(|x| x["rollout_id"].as_i64() == Some(id) && x["kind"] == r["kind"])
            .and_then(|x| x[key].as_f64())
    };
    for r in rollouts {
        let id = |k: &str| r[k].as_i64();
        let d = |k: &str| r["delta"].get(k).and_then(J::as_f64);
        let lp = |k: &str| r["logprob"].get(k).and_then(J::as_f64);
        let _ = writeln!(
            o,
            "{:<5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
            escape(r["kind"].as_str().unwrap_or("")),
            id("a_rollout_id").map_or("-".into(), |v| v.to_string()),
            id("b_rollout_id").map_or("-".into(), |v| v.to_string()),
            num(own(a, r, "a_rollout_id", "reward/mean"), 3, false),
            num(own(b, r, "b_rollout_id", "reward/mean"), 3, false),
            num(d("reward/mean"), 3, true),
            num(d("pass@1"), 3, true),
            num(d("rollout/response_len/mean"), 1, true),
            num(d("perf/rollout_time"), 1, true),
            num(lp("mean_abs"), 5, false),
            num(lp("max_abs"), 5, false),
        );
    }
    // Why a line lacks a number: each run's dump errors and notes (a train file that cannot
    // be read, a missing one), as `rollscope run` prints them under its table.
    for (side, recs) in [("A", a), ("B", b)] {
        for r in recs {
            let what = format!(
                "{side} {} {}",
                r["kind"].as_str().unwrap_or("?"),
                r["rollout_id"]
                    .as_i64()
                    .map_or("?".into(), |v| v.to_string())
            );
            if let Some(e) = r["error"].as_str() {
                let _ = writeln!(o, "  error: {}: {}", escape(&what), escape(e));
            }
            for n in r["notes"].as_array().map_or(&[][..], Vec::as_slice) {
                if let Some(n) = n.as_str() {
                    let _ = writeln!(o, "  note: {}: {}", escape(&what), escape(n));
                }
            }
        }
    }
    let most = doc["most_different"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if !most.is_empty() {
        let _ = writeln!(
            o,
            "\nsamples whose train log probs differ most (|A − B| per token):"
        );
        let _ = writeln!(
            o,
            "{:>5} {:>6} {:>6} {:>7} {:>10} {:>10} {:>7} {:>6}",
            "id", "A pos", "B pos", "tokens", "mean|Δlp|", "max|Δlp|", "at tok", "NaN/∞"
        );
        for s in most.iter().take(MOST_SHOWN) {
            let i = |k: &str| s[k].as_i64().map_or("-".into(), |v| v.to_string());
            let _ = writeln!(
                o,
                "{:>5} {:>6} {:>6} {:>7} {:>10} {:>10} {:>7} {:>6}",
                i("a_rollout_id"),
                i("a_position"),
                i("b_position"),
                i("logprob_tokens"),
                num(s["logprob_mean_abs"].as_f64(), 5, false),
                num(s["logprob_max_abs"].as_f64(), 5, false),
                i("logprob_max_at"),
                i("logprob_non_finite"),
            );
        }
    }
    o
}

/// The rollout records of run `side` ("a" or "b").
fn records<'a>(doc: &'a J, side: &str) -> &'a [J] {
    doc[side]["rollouts"].as_array().map_or(&[], Vec::as_slice)
}

/// A number with `p` decimals (`+` shown for a delta), or `-`.
fn num(x: Option<f64>, p: usize, signed: bool) -> String {
    match x {
        Some(v) if signed => format!("{v:+.p$}"),
        Some(v) => format!("{v:.p$}"),
        None => "-".into(),
    }
}

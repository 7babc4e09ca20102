//! `rollscope stats` as a readable table. Every field that comes from the dump (file name,
//! statuses, span and metric names, sample and group ids) goes through [`escape`].

use std::fmt::Write;

use trace::json::py_str;
use trace::metrics::Analysis;

use crate::term::escape;

/// `traced`: the rows (traced samples) of the build.
pub fn render(name: &str, traced: usize, a: &Analysis) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {} samples, {} traced, {} requests, wall time {}",
        escape(name),
        a.samples,
        traced,
        a.requests,
        secs(a.wall_time)
    );
    if !a.health.is_empty() {
        let _ = writeln!(o, "\nhealth");
        for h in &a.health {
            let _ = writeln!(
                o,
                "  {} {}",
                if h.ok { "ok  " } else { "WARN" },
                escape(&h.message)
            );
        }
    }
    if !a.distributions.is_empty() {
        let _ = writeln!(
            o,
            "\n{:<40} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "metric", "count", "mean", "p50", "p90", "p99", "max", "min"
        );
        for (name, s) in &a.distributions {
            let _ = writeln!(
                o,
                "{:<40} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                escape(name),
                s.count,
                num(s.mean),
                num(s.p50),
                num(s.p90),
                num(s.p99),
                num(s.max),
                num(s.min)
            );
        }
    }
    let _ = writeln!(o);
    for (k, v) in a.slime.iter().filter(|(k, _)| !is_stat_key(k)) {
        let _ = writeln!(o, "{:<40} {}", escape(k), num(*v));
    }
    if let Some(t) = a.tokens_per_sec {
        let _ = writeln!(o, "{:<40} {}", "completion tokens / s (whole step)", num(t));
    }
    if let Some(h) = a.prefix_cache_hit_rate {
        let _ = writeln!(o, "{:<40} {:.1}%", "prefix cache hit rate", h * 100.0);
    }
    if let (Some(t), Some(s)) = (a.tail_seconds, a.tail_share) {
        let _ = writeln!(
            o,
            "{:<40} {} ({:.0}% of wall time)",
            "waiting for the last 10% of samples",
            secs(t),
            s * 100.0
        );
    }
    let list = |o: &mut String, title: &str, items: &[(String, usize)]| {
        if !items.is_empty() {
            let parts: Vec<String> = items
                .iter()
                .map(|(k, n)| format!("{} {n}", escape(k)))
                .collect();
            let _ = writeln!(o, "{title:<40} {}", parts.join(" · "));
        }
    };
    list(&mut o, "finish reasons", &a.finish_reasons);
    list(&mut o, "status", &a.statuses);
    list(&mut o, "prompt tokens per request", &a.prompt_tokens_hist);
    list(&mut o, "output tokens per request", &a.output_tokens_hist);
    if !a.time_by_span.is_empty() {
        let _ = writeln!(o, "\ntime in spans (share of all sample time)");
        for (name, total, share) in a.time_by_span.iter().take(10) {
            let _ = writeln!(
                o,
                "  {:<38} {:>10} {:>6.1}%",
                escape(name),
                secs(*total),
                share * 100.0
            );
        }
    }
    if !a.slowest.is_empty() {
        let _ = writeln!(o, "\nslowest samples");
        for s in a.slowest.iter().take(5) {
            let _ = writeln!(
                o,
                "  sample {:<10} {}",
                escape(&py_str(&s.sample_index)),
                secs(s.duration)
            );
        }
    }
    if !a.groups.is_empty() {
        let _ = writeln!(
            o,
            "\ngroups (slowest first)      samples  completion  reward mean  reward std  zero std"
        );
        for g in a.groups.iter().take(8) {
            let _ = writeln!(
                o,
                "  {:<26} {:>7} {:>11} {:>12} {:>11} {:>9}",
                escape(&g.group),
                g.samples,
                secs(g.completion),
                g.reward_mean.map(num).unwrap_or_else(|| "-".into()),
                g.reward_std.map(num).unwrap_or_else(|| "-".into()),
                if g.zero_std { "yes" } else { "" }
            );
        }
    }
    o
}

fn is_stat_key(k: &str) -> bool {
    ["/mean", "/median", "/max", "/min"]
        .iter()
        .any(|s| k.ends_with(s))
}

fn num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e9 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

fn secs(x: f64) -> String {
    if x < 1.0 {
        format!("{:.0} ms", x * 1e3)
    } else {
        format!("{x:.2} s")
    }
}

//! The rows of a dump's table beside issue 22's targets: the native figures (`rollscope
//! cache`, CPython's unpickler, slime's tool) and the browser's (ready, memory, frames); the
//! one-file report's rows are `report.rs`'s.

use super::{mb, missing, num, Dump, Figures, Role, Table};

/// Issue 22's targets.
const CACHE_SPEEDUP: f64 = 5.0; // rollscope cache vs CPython's unpickle of the same data.pkl
const CACHE_RSS_X: f64 = 1.5; // peak RSS / file size
const READY_SPEEDUP: f64 = 3.0; // viewer ready vs that unpickle
const CHROMIUM_PSS_X: f64 = 1.5; // the rise of the browser's summed Pss / file size
const FRAME_P95_MS: f64 = 16.0;
const DEFAULT_READY_S: f64 = 1.1; // no regression on the default dump
/// `--turns 60`'s stretch targets.
const STRETCH_CACHE_SPEEDUP: f64 = 10.0;
const STRETCH_CACHE_RSS_X: f64 = 1.0;
const STRETCH_READY_S: f64 = 2.0;

/// The rows of one dump's table: each figure, its target and whether it is met.
pub fn dump_table(d: &Dump, size: f64, f: &Figures) -> Table {
    let mut t = Table(Vec::new());
    let ratio_to_file = |rss: f64| if size > 0.0 { rss / size } else { f64::NAN };

    // Native.
    let cache_s = num(f, "cache_s");
    let unpickle_s = num(f, "unpickle_s");
    match (cache_s, num(f, "cache_rss_kb")) {
        (Some(s), Some(kb)) => {
            let rss = kb * 1024.0;
            t.row(
                "rollscope cache: wall",
                format!("{s:.2} s ({:.0} MB/s)", size / 1e6 / s),
                "",
                None,
            );
            let x = ratio_to_file(rss);
            t.row(
                "rollscope cache: peak RSS",
                format!("{} = {x:.2}x file", mb(rss)),
                &format!("<= {CACHE_RSS_X}x file"),
                Some(x <= CACHE_RSS_X),
            );
            if d.role == Role::Turns60 {
                t.row(
                    "",
                    String::new(),
                    &format!("<= {STRETCH_CACHE_RSS_X}x (stretch)"),
                    Some(x <= STRETCH_CACHE_RSS_X),
                );
            }
        }
        _ => t.row(
            "rollscope cache",
            missing(f, "cache_error"),
            &format!("<= {CACHE_RSS_X}x file"),
            None,
        ),
    }
    match unpickle_s {
        Some(u) => t.row(
            "CPython C unpickler, data.pkl",
            format!(
                "{u:.2} s best load (process peak RSS {})",
                num(f, "unpickle_rss_kb").map_or("?".into(), |kb| mb(kb * 1024.0))
            ),
            "",
            None,
        ),
        None => t.row(
            "CPython C unpickler, data.pkl",
            missing(f, "unpickle_error"),
            "",
            None,
        ),
    }
    let speedup = |s: Option<f64>| match (unpickle_s, s) {
        (Some(u), Some(s)) if s > 0.0 => Some(u / s),
        _ => None,
    };
    let target = format!(">= {CACHE_SPEEDUP}x");
    match speedup(cache_s) {
        Some(x) => {
            t.row(
                "cache vs unpickle: faster by",
                format!("{x:.2}x"),
                &target,
                Some(x >= CACHE_SPEEDUP),
            );
            if d.role == Role::Turns60 {
                t.row(
                    "",
                    String::new(),
                    &format!(">= {STRETCH_CACHE_SPEEDUP}x (stretch)"),
                    Some(x >= STRETCH_CACHE_SPEEDUP),
                );
            }
        }
        None => t.row("cache vs unpickle: faster by", "-".into(), &target, None),
    }
    match (num(f, "slime_s"), num(f, "slime_rss_kb")) {
        (Some(s), Some(kb)) => {
            let by = cache_s.map_or(String::new(), |c| {
                format!("; rollscope cache {:.1}x faster", s / c)
            });
            t.row(
                "slime trace_timeline_viewer.py",
                format!(
                    "{s:.2} s, peak RSS {} = {:.2}x file{by}",
                    mb(kb * 1024.0),
                    ratio_to_file(kb * 1024.0)
                ),
                "beat by a wide margin",
                None,
            );
        }
        _ => {
            let why = match f.get("slime_skipped") {
                Some(s) => format!("skipped ({s})"),
                None => missing(f, "slime_error"),
            };
            t.row("slime tool", why, "", None);
        }
    }
    browser_rows(&mut t, d, size, f);
    super::report::report_rows(&mut t, d, size, f);
    t
}

/// The browser's rows of a dump's table: ready time, memory and frames (or why not measured).
fn browser_rows(t: &mut Table, d: &Dump, size: f64, f: &Figures) {
    let ratio_to_file = |rss: f64| if size > 0.0 { rss / size } else { f64::NAN };
    let unpickle_s = num(f, "unpickle_s");
    let speedup = |s: Option<f64>| match (unpickle_s, s) {
        (Some(u), Some(s)) if s > 0.0 => Some(u / s),
        _ => None,
    };
    if let Some(e) = f.get("browser_error") {
        t.row(
            "viewer (headless Chromium)",
            format!("failed: {e}"),
            "",
            None,
        );
    } else if let Some(ready) = num(f, "ready_s") {
        let (target, met) = match d.role {
            Role::Default => (
                format!("<= {DEFAULT_READY_S} s (no regression)"),
                Some(ready <= DEFAULT_READY_S),
            ),
            Role::Turns60 => (
                format!("<= {STRETCH_READY_S} s (stretch)"),
                Some(ready <= STRETCH_READY_S),
            ),
            Role::Turns12 => (String::new(), None),
        };
        // The median of loads with nothing sampled (`browser.mjs`), and the load that
        // sampled memory.
        let runs = f
            .get("ready_runs")
            .map_or(String::new(), |r| format!(" (runs: {r})"));
        t.row(
            "viewer: ready (rows drawn), median",
            format!("{ready:.2} s{runs}"),
            &target,
            met,
        );
        if let Some(sampled) = num(f, "ready_sampled_s") {
            t.row(
                "  ready while sampling memory",
                format!("{sampled:.2} s"),
                "",
                None,
            );
        }
        let target = format!(">= {READY_SPEEDUP}x");
        match speedup(Some(ready)) {
            Some(x) => t.row(
                "viewer ready vs unpickle: faster by",
                format!("{x:.2}x"),
                &target,
                Some(x >= READY_SPEEDUP),
            ),
            None => t.row("viewer ready vs unpickle", "-".into(), &target, None),
        }
        if let (Some(peak), Some(idle)) =
            (num(f, "chromium_peak_bytes"), num(f, "chromium_idle_bytes"))
        {
            let above = (peak - idle).max(0.0);
            let x = ratio_to_file(above);
            t.row(
                "Chromium peak Pss above idle",
                format!("{} = {x:.2}x file", mb(above)),
                &format!("<= {CHROMIUM_PSS_X}x file"),
                Some(x <= CHROMIUM_PSS_X),
            );
            let rss_rise = match (
                num(f, "chromium_peak_rss_bytes"),
                num(f, "chromium_idle_rss_bytes"),
            ) {
                (Some(p), Some(i)) => format!("; summed VmRSS rose {}", mb((p - i).max(0.0))),
                _ => String::new(),
            };
            t.row(
                "Chromium peak Pss, whole tree",
                format!(
                    "{} (idle {}, {} processes{rss_rise})",
                    mb(peak),
                    mb(idle),
                    num(f, "chromium_processes").map_or("?".into(), |n| format!("{n:.0}"))
                ),
                "",
                None,
            );
        }
        let target = format!("p95 <= {FRAME_P95_MS} ms");
        match (
            num(f, "frame_p50_ms"),
            num(f, "frame_p95_ms"),
            num(f, "frame_max_ms"),
        ) {
            (Some(p50), Some(p95), Some(max)) => t.row(
                "frame, pan+zoom: p50/p95/max",
                format!(
                    "{p50:.1} / {p95:.1} / {max:.1} ms ({} frames)",
                    num(f, "frames").map_or("?".into(), |n| format!("{n:.0}"))
                ),
                &target,
                Some(p95 <= FRAME_P95_MS),
            ),
            _ => t.row("frame, pan+zoom", "not measured".into(), &target, None),
        }
        let loaf = num(f, "long_frames").map_or("n/a".into(), |n| format!("{n:.0}"));
        let draw = num(f, "draw_p95_ms").map_or("n/a".into(), |v| format!("{v:.1} ms"));
        t.row(
            "  long frames (>= 50 ms); own draw p95",
            format!("{loaf}; {draw}"),
            "",
            None,
        );
    } else {
        t.row(
            "viewer (headless Chromium)",
            "not measured".into(),
            "",
            None,
        );
    }
}

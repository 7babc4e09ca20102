//! The one-file report's rows of a dump's table (issue 22): its size beside the dump's and
//! the time from opening it from `file://` to the first frame after ready, measured by
//! `tests/bench/report.mjs` (the median of a few opens).

use super::{mb, missing, num, Dump, Figures, Role, Table};

/// The report of the ≈1 M-span dump: at most this many times the dump's size …
pub const REPORT_SIZE_X: f64 = 1.2;
/// … and ready this soon after opening; the `--turns 12` one sooner.
pub const REPORT_READY_S: f64 = 5.0;
pub const REPORT_READY_TURNS12_S: f64 = 2.0;

pub fn report_rows(t: &mut Table, d: &Dump, size: f64, f: &Figures) {
    let Some(bytes) = num(f, "report_bytes") else {
        t.row(
            "report (rollscope html)",
            missing(f, "report_error"),
            "",
            None,
        );
        return;
    };
    let x = if size > 0.0 { bytes / size } else { f64::NAN };
    let (target, met) = match d.role {
        Role::Turns60 => (
            format!("<= {REPORT_SIZE_X}x file"),
            Some(x <= REPORT_SIZE_X),
        ),
        _ => (String::new(), None),
    };
    let write =
        num(f, "report_write_s").map_or(String::new(), |s| format!(", written in {s:.2} s"));
    t.row(
        "report: size",
        format!("{} = {x:.2}x file{write}", mb(bytes)),
        &target,
        met,
    );
    let (target, limit) = match d.role {
        Role::Turns60 => (format!("<= {REPORT_READY_S} s"), Some(REPORT_READY_S)),
        Role::Turns12 => (
            format!("<= {REPORT_READY_TURNS12_S} s"),
            Some(REPORT_READY_TURNS12_S),
        ),
        Role::Default => (String::new(), None),
    };
    match num(f, "report_ready_s") {
        Some(s) => {
            let runs = f
                .get("report_ready_runs")
                .map_or(String::new(), |r| format!(" (runs: {r})"));
            t.row(
                "report: file:// to ready, median",
                format!("{s:.2} s{runs}"),
                &target,
                limit.map(|l| s <= l),
            );
        }
        None => t.row(
            "report: file:// to ready",
            missing(f, "report_error"),
            &target,
            None,
        ),
    }
}

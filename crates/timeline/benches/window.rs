//! Per-frame costs of the Track path on a synthetic agentic rollout of about a million items:
//! 4 096 rows (samples) of 80 turns (a `generate` and a `tool` span each, plus events) under a
//! root span, and one row of 1 000 000 back-to-back spans. Prints figures; asserts nothing
//! (speed targets live here, not in tests). Run: `cargo bench -p timeline --bench window`.

use std::hint::black_box;
use std::time::Instant;

use timeline::*;

fn push(t: &mut Track, s: f64, e: f64, name: u32, kind: u8, depth: u32) {
    t.start.push(s);
    t.end.push(e);
    t.name.push(name);
    t.kind.push(kind);
    t.lane.push(depth);
    t.depth.push(depth);
}

/// One sample: a root, then 80 turns of generate (0.5–2 s) and tool (0.1–1 s), an event each.
fn sample(r: u64) -> Track {
    let mut t = Track::default();
    let mut x = r.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut unit = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let t0 = 1.7e9 + unit() * 30.0;
    let mut now = t0;
    push(&mut t, t0, t0, 0, KIND_CLOSED, 0); // the root; its end is set below
    for _ in 0..80 {
        let g = 0.5 + unit() * 1.5;
        push(&mut t, now, now + g, 1, KIND_CLOSED, 1);
        push(&mut t, now + g, now + g, 3, KIND_EVENT, 2);
        let k = 0.1 + unit() * 0.9;
        push(&mut t, now + g, now + g + k, 2, KIND_CLOSED, 1);
        now += g + k;
    }
    t.end[0] = now;
    t
}

fn time<T>(what: &str, reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let clock = Instant::now();
    for _ in 0..reps {
        black_box(f());
    }
    let ms = clock.elapsed().as_secs_f64() * 1e3 / reps as f64;
    println!("{what:<64} {ms:>10.3} ms");
    ms
}

fn main() {
    let width = 1600.0;
    many_rows(width);
    one_big_row(width);
}

/// The 4 096-row rollout: lanes, indexes, frames of the expanded view and the overview, the
/// minimap.
fn many_rows(width: f64) {
    let clock = Instant::now();
    let tracks: Vec<Track> = (0..4096).map(sample).collect();
    let items: usize = tracks.iter().map(Track::len).sum();
    println!(
        "synthetic rollout: {} rows, {items} items (built in {:.0} ms)",
        tracks.len(),
        clock.elapsed().as_secs_f64() * 1e3
    );
    let (lo, hi) = tracks
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
            (lo.min(t.start[0]), hi.max(t.end[0]))
        });

    let mut lanes = Vec::new();
    time("track_lanes, all rows", 1, || {
        lanes = tracks.iter().map(track_lanes).collect::<Vec<_>>();
    });
    let mut expanded = Vec::new();
    let mut collapsed = Vec::new();
    time("LaneIndex::new, all rows, expanded", 1, || {
        expanded = tracks
            .iter()
            .zip(&lanes)
            .map(|(t, l)| LaneIndex::new(t, l, true))
            .collect::<Vec<_>>();
    });
    time("LaneIndex::new, all rows, collapsed", 1, || {
        collapsed = tracks
            .iter()
            .zip(&lanes)
            .map(|(t, l)| LaneIndex::new(t, l, false))
            .collect::<Vec<_>>();
    });

    // A frame of the expanded view: 40 rows on screen, every lane queried and reduced.
    let mut buf = Vec::new();
    for (label, span) in [("whole rollout", hi - lo), ("10 s", 10.0), ("100 ms", 0.1)] {
        let view = Viewport {
            t0: lo + (hi - lo) / 3.0,
            t1: lo + (hi - lo) / 3.0 + span,
            width,
        };
        time(
            &format!("expanded frame, 40 rows, {label}: window + lane_prims_track"),
            200,
            || {
                let mut prims = 0;
                for r in 1000..1040 {
                    for lane in 0..expanded[r].lanes() {
                        expanded[r].spans(
                            &tracks[r],
                            lane,
                            view.t(-1.0),
                            view.t(width + 1.0),
                            &mut buf,
                        );
                        prims += lane_prims_track(&tracks[r], &buf, &view, width).len();
                        expanded[r].points(
                            &tracks[r],
                            lane,
                            view.t(-5.0),
                            view.t(width + 5.0),
                            &mut buf,
                        );
                        prims += buf.len();
                    }
                }
                prims
            },
        );
    }
    // A frame of the overview at 2 px rows: 400 rows' cells.
    let whole = Viewport {
        t0: lo,
        t1: hi,
        width,
    };
    time(
        "overview frame, 400 rows × overview_cells, whole rollout",
        20,
        || {
            (0..400)
                .map(|r| overview_cells(&tracks[r], &collapsed[r], &whole, width).len())
                .sum::<usize>()
        },
    );
    time(
        "minimap, 4096 rows → 160 × 900 grid (once per resize)",
        3,
        || minimap(&tracks, lo, hi, 160, 900),
    );
    time(
        "minimap, 4096 rows → 1600 × 900 grid (the banded overview)",
        3,
        || minimap(&tracks, lo, hi, 1600, 900),
    );
}

/// One row of a million back-to-back spans under a root: index, frames, hit test.
fn one_big_row(width: f64) {
    let mut buf = Vec::new();
    let mut big = Track::default();
    push(&mut big, 0.0, 1e6, 0, KIND_CLOSED, 0);
    for i in 0..1_000_000 {
        push(
            &mut big,
            i as f64,
            i as f64 + 1.0,
            1 + (i % 3) as u32,
            KIND_CLOSED,
            1,
        );
    }
    let big_lanes = track_lanes(&big);
    let mut big_idx = LaneIndex::default();
    time(
        "1 M-item row: track_lanes + LaneIndex::new (collapsed)",
        1,
        || {
            big_idx = LaneIndex::new(&big, &big_lanes, false);
        },
    );
    for (label, view) in [
        (
            "whole row",
            Viewport {
                t0: 0.0,
                t1: 1e6,
                width,
            },
        ),
        (
            "last 1000 spans",
            Viewport {
                t0: 999_000.0,
                t1: 1e6,
                width,
            },
        ),
    ] {
        time(
            &format!("1 M-item row, {label}: window + lane_prims_track"),
            20,
            || {
                big_idx.spans(&big, 0, view.t(-1.0), view.t(width + 1.0), &mut buf);
                lane_prims_track(&big, &buf, &view, width).len()
            },
        );
        time(
            &format!("1 M-item row, {label}: overview_cells"),
            20,
            || overview_cells(&big, &big_idx, &view, width).len(),
        );
    }
    let view = Viewport {
        t0: 999_000.0,
        t1: 1e6,
        width,
    };
    let hits = time("1 M-item row: hit_track under the pointer", 10_000, || {
        hit_track(&big, &big_idx, &view, 800.0, 5.0, 14.0)
    });
    let scan = time(
        "1 M-item row: the same hit by a scan of the row (as `hit` does)",
        10,
        || {
            (0..big.len())
                .filter(|&i| {
                    view.x(big.start[i]) <= 800.0
                        && 800.0 <= view.x(big.end[i]).max(view.x(big.start[i]) + 1.0)
                })
                .min_by(|&a, &b| {
                    (big.end[a] - big.start[a]).total_cmp(&(big.end[b] - big.start[b]))
                })
        },
    );
    println!(
        "hit by index is {:.0}× faster than the scan",
        scan / hits.max(1e-9)
    );
}

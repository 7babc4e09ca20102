//! Overview cells and the minimap against a brute-force painter, their bounds, and the policy.
use super::*;
use crate::testutil::{random_row, row, span, Rng};
use crate::{minimap, track_lanes, Names, KIND_CLOSED, KIND_PD_DECODE, NO_NAME};

fn track_of(r: &trace::Row) -> Track {
    Track::from_row(r, &mut Names::default())
}

/// What a painter leaves on top at time `t`: the deepest span covering it, then the latest
/// start, then the last item. By a scan of every item.
fn top_at(t: &Track, time: f64) -> Option<usize> {
    (0..t.len())
        .filter(|&i| t.is_span(i) && t.start[i] <= time && time < t.end[i])
        .max_by(|&a, &b| {
            (t.depth[a], t.start[a], a)
                .partial_cmp(&(t.depth[b], t.start[b], b))
                .unwrap()
        })
}

/// Per column: the dominant name by brute force, with its lead over the runner-up (a column
/// where two names tie within rounding is not compared), and the covered fraction.
fn brute_columns(t: &Track, view: &Viewport, cols: usize) -> Vec<Option<(u32, f64, f64)>> {
    (0..cols)
        .map(|c| {
            let (a, b) = (view.t(c as f64), view.t(c as f64 + 1.0));
            let mut cuts: Vec<f64> = t
                .start
                .iter()
                .chain(&t.end)
                .copied()
                .filter(|&x| a < x && x < b)
                .chain([a, b])
                .collect();
            cuts.sort_by(f64::total_cmp);
            let mut by_name: Vec<(u32, f64)> = Vec::new();
            for w in cuts.windows(2) {
                if let Some(i) = top_at(t, (w[0] + w[1]) / 2.0) {
                    let cover = (w[1] - w[0]) / (b - a);
                    match by_name.iter_mut().find(|(n, _)| *n == t.name[i]) {
                        Some(e) => e.1 += cover,
                        None => by_name.push((t.name[i], cover)),
                    }
                }
            }
            let total: f64 = by_name.iter().map(|e| e.1).sum();
            by_name.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let lead = by_name.get(1).map_or(f64::INFINITY, |r| by_name[0].1 - r.1);
            by_name.first().map(|&(n, _)| (n, lead, total))
        })
        .collect()
}

/// The cells' answer per column: `(name, busy)` or nothing.
fn per_column(cells: &[Cell], cols: usize) -> Vec<Option<(u32, f32)>> {
    let mut out = vec![None; cols];
    for c in cells {
        assert!(c.x0 < c.x1 && (c.x1 as usize) <= cols, "{c:?}");
        for slot in &mut out[c.x0 as usize..c.x1 as usize] {
            assert!(slot.is_none(), "cells overlap: {c:?}");
            *slot = Some((c.name, c.busy));
        }
    }
    out
}

#[test]
fn cells_equal_a_brute_force_painter_on_random_rows() {
    let mut rng = Rng(0x0dd_b1a5_e5ca_1ab1);
    let (mut compared, mut named) = (0, 0);
    for round in 0..80 {
        // Every tenth row is long enough for the painter's heap to be purged (64 entries).
        let n = if round % 10 == 0 {
            250
        } else {
            rng.below(80) as usize
        };
        let r = random_row(&mut rng, n, 0.0);
        let t = track_of(&r);
        let rl = track_lanes(&t);
        let mut view = Viewport::fit(r.start, r.end, 60.0);
        view.zoom_at(rng.unit() * 60.0, [1.0, 3.0, 40.0][rng.below(3) as usize]);
        let want = brute_columns(&t, &view, 60);
        for expanded in [false, true] {
            let idx = LaneIndex::new(&t, &rl, expanded);
            let cells = overview_cells(&t, &idx, &view, 60.0);
            let got = per_column(&cells, 60);
            for (c, (g, w)) in got.iter().zip(&want).enumerate() {
                match (g, w) {
                    (None, None) => {}
                    (Some((name, _)), Some((want_name, lead, _))) if *lead > 1e-6 => {
                        assert_eq!(name, want_name, "round {round} column {c}");
                        named += 1;
                    }
                    (Some(_), Some(_)) => {}
                    _ => panic!("round {round} column {c}: got {g:?}, want {w:?}"),
                }
                compared += 1;
            }
            // Neighbouring cells differ (runs are merged).
            assert!(cells
                .windows(2)
                .all(|w| w[0].x1 < w[1].x0 || (w[0].name, w[0].kind) != (w[1].name, w[1].kind)));
        }
    }
    assert!(
        named * 2 > compared,
        "{named} of {compared} columns had a name"
    );
}

#[test]
fn many_small_calls_outweigh_one_longer_one_and_pd_is_on_top() {
    let mut names = Names::default();
    // Column 0 (0..1 s): a hundred 5 ms `tool` calls (0.5 s) and one 0.2 s `generate`, under a
    // root. Column 1 (1..2 s): a generate call with its [D] virtual span (deepest of all).
    let mut items = vec![span("root", 0.0, 2.0, 0, None)];
    items.extend(
        (0..100).map(|k| span("tool", k as f64 * 0.005, k as f64 * 0.005 + 0.005, 1, None)),
    );
    items.push(span("generate", 0.7, 0.9, 1, None));
    items.push(span("generate", 1.0, 2.0, 1, None));
    items.push(span("generate [D]", 1.0, 2.0, 2, Some("decode")));
    let r = row(items);
    let t = Track::from_row(&r, &mut names);
    let idx = LaneIndex::new(&t, &track_lanes(&t), false);
    let view = Viewport {
        t0: 0.0,
        t1: 2.0,
        width: 2.0,
    };
    let cells = overview_cells(&t, &idx, &view, 2.0);
    let got: Vec<(&str, f32)> = cells.iter().map(|c| (names.text(c.name), c.busy)).collect();
    assert_eq!(got, vec![("tool", 1.0), ("generate [D]", 1.0)]);
    assert_eq!(t.pd_role(cells[1].item as usize), Some(false));
    assert_eq!(cells[1].kind & KIND_PD_DECODE, KIND_PD_DECODE);
    // Without the root, column 0 is busy 0.7 s of 1.
    let mut names = Names::default();
    let t = Track::from_row(&row(r.items[1..102].to_vec()), &mut names);
    let idx = LaneIndex::new(&t, &track_lanes(&t), true);
    let cells = overview_cells(
        &t,
        &idx,
        &Viewport {
            t0: 0.0,
            t1: 1.0,
            width: 1.0,
        },
        1.0,
    );
    assert_eq!(cells.len(), 1);
    assert!((cells[0].busy - 0.7).abs() < 1e-6, "{}", cells[0].busy);
}

#[test]
fn cells_of_a_huge_row_are_bounded_by_pixels() {
    // 1 000 000 back-to-back spans of two names under a root, 1000 px: at most a cell per
    // column, found through the index (bound: generous for a debug build).
    let n = 1_000_000;
    let mut t = Track::default();
    let mut push = |s: f64, e: f64, name: u32, depth: u32| {
        t.start.push(s);
        t.end.push(e);
        t.name.push(name);
        t.kind.push(KIND_CLOSED);
        t.lane.push(depth);
        t.depth.push(depth);
    };
    push(0.0, n as f64, 0, 0);
    for i in 0..n {
        push(i as f64, i as f64 + 1.0, 1 + (i / 500 % 2) as u32, 1);
    }
    let idx = LaneIndex::new(&t, &track_lanes(&t), false);
    let clock = std::time::Instant::now();
    let view = Viewport {
        t0: 0.0,
        t1: n as f64,
        width: 1000.0,
    };
    let cells = overview_cells(&t, &idx, &view, 1000.0);
    assert!(clock.elapsed().as_secs_f64() < 10.0);
    // Names alternate every 500 spans = every half column: each column is split evenly, so
    // ties go to the smaller id... except where rounding tips it; never the root (covered).
    assert!(cells.len() <= 1000 && !cells.is_empty(), "{}", cells.len());
    assert!(cells.iter().all(|c| c.name != 0 && c.busy > 0.999));
    // Zoomed to 2000 spans: a run per 500 spans, exactly.
    let near = Viewport {
        t0: 10_000.0,
        t1: 12_000.0,
        width: 1000.0,
    };
    let cells = overview_cells(&t, &idx, &near, 1000.0);
    let runs: Vec<(u32, u32, u32)> = cells.iter().map(|c| (c.x0, c.x1, c.name)).collect();
    assert_eq!(
        runs,
        vec![(0, 250, 1), (250, 500, 2), (500, 750, 1), (750, 1000, 2)]
    );
    // Degenerate inputs draw nothing, without panicking.
    assert!(overview_cells(&t, &idx, &near, 0.0).is_empty());
    assert!(overview_cells(&t, &idx, &near, f64::NAN).is_empty());
    let flat = Viewport {
        t0: 5.0,
        t1: 5.0,
        width: 10.0,
    };
    assert!(overview_cells(&t, &idx, &flat, 10.0).is_empty());
    let mut short = t.clone();
    short.depth.pop();
    assert!(overview_cells(&short, &idx, &near, 1000.0).is_empty());
}

#[test]
fn minimap_rows_equal_overview_cells_and_bands_average() {
    let mut rng = Rng(0x5eed_0fa1_1ce1_1a5e);
    let rows: Vec<trace::Row> = (0..12)
        .map(|_| {
            let n = rng.below(60) as usize;
            random_row(&mut rng, n, 0.0)
        })
        .collect();
    let tracks: Vec<Track> = rows.iter().map(track_of).collect();
    let (t0, t1) = (-5.0, 105.0);
    // One grid row per track: each row is that track's overview cells, column by column.
    let m = minimap(&tracks, t0, t1, 40, tracks.len());
    assert_eq!(
        (m.cols, m.rows, m.busy.len(), m.name.len()),
        (40, 12, 480, 480)
    );
    let view = Viewport {
        t0,
        t1,
        width: 40.0,
    };
    let mut compared = 0;
    for (r, t) in tracks.iter().enumerate() {
        let idx = LaneIndex::new(t, &track_lanes(t), false);
        let want = per_column(&overview_cells(t, &idx, &view, 40.0), 40);
        let brute = brute_columns(t, &view, 40);
        for c in 0..40 {
            let (name, busy) = (m.name[r * 40 + c], m.busy[r * 40 + c]);
            match want[c] {
                None => assert_eq!((name, busy), (NO_NAME, 0), "row {r} col {c}"),
                Some((n, _)) => {
                    let (_, lead, total) = brute[c].unwrap();
                    if lead > 1e-6 {
                        assert_eq!(name, n, "row {r} col {c}");
                    }
                    assert!(
                        (busy as f64 - total * 255.0).abs() <= 1.0,
                        "row {r} col {c}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 100, "{compared}");
    // Bands: 12 tracks on 4 grid rows average three rows each; 12 on 24 repeat each twice.
    let banded = minimap(&tracks, t0, t1, 40, 4);
    for c in 0..40 {
        let mean: f64 = (0..3).map(|k| m.busy[k * 40 + c] as f64).sum::<f64>() / 3.0;
        assert!((banded.busy[c] as f64 - mean).abs() <= 2.0, "col {c}");
    }
    let tall = minimap(&tracks, t0, t1, 40, 24);
    for r in 0..24 {
        assert_eq!(
            tall.name[r * 40..(r + 1) * 40],
            m.name[r / 2 * 40..(r / 2 + 1) * 40]
        );
    }
    // Works on references too, and degenerate sizes give empty grids.
    let refs: Vec<&Track> = tracks.iter().collect();
    assert_eq!(minimap(&refs, t0, t1, 40, 12), m);
    assert!(minimap(&tracks, t0, t1, 0, 12).busy.is_empty());
    assert!(minimap(&tracks, t1, t0, 40, 12)
        .busy
        .iter()
        .all(|&b| b == 0));
}

#[test]
fn minimap_of_a_million_spans_is_the_grid_size() {
    // 4096 rows of 250 spans (1 024 000 in all) into a 200 × 100 grid: 20 000 cells whatever
    // the span count (bound: generous for a debug build).
    let tracks: Vec<Track> = (0..4096)
        .map(|r| {
            let mut t = Track::default();
            for i in 0..250 {
                let s = r as f64 * 0.01 + i as f64;
                t.start.push(s);
                t.end.push(s + 0.5);
                t.name.push((i % 3) as u32);
                t.kind.push(KIND_CLOSED);
                t.lane.push(0);
                t.depth.push(0);
            }
            t
        })
        .collect();
    let clock = std::time::Instant::now();
    let m = minimap(&tracks, 0.0, 400.0, 200, 100);
    assert!(clock.elapsed().as_secs_f64() < 20.0);
    assert_eq!((m.busy.len(), m.name.len()), (20_000, 20_000));
    // Spans cover half of each second from the row's offset (≤ 41 s) to 250 s: a 2 s column
    // there is half busy in every row, whatever the offset; idle past 291 s.
    let early = m.busy[50 * 200 + 20] as i32;
    assert!((early - 128).abs() <= 3, "{early}");
    assert_eq!(m.busy[50 * 200 + 190], 0);
    assert!(
        m.name[..200 * 100]
            .iter()
            .filter(|&&n| n == NO_NAME)
            .count()
            >= 100 * 30
    );
}

#[test]
fn overview_policy() {
    // Small dumps stay expanded; 200 rows or more open on the overview; a short embed sooner.
    assert!(!overview_first(10, 800.0));
    assert!(!overview_first(199, 800.0));
    assert!(overview_first(200, 800.0));
    assert!(overview_first(4096, 800.0));
    assert!(
        overview_first(60, 200.0),
        "60 rows × 16 px is over four 200 px viewports"
    );
    assert!(!overview_first(0, 0.0));
    // Row height: shared viewport, between 2 px and a lane.
    assert_eq!(overview_row_height(10, 800.0, 14.0), 14.0);
    assert_eq!(overview_row_height(200, 800.0, 14.0), 4.0);
    assert_eq!(overview_row_height(4096, 800.0, 14.0), MIN_ROW_PX);
    assert_eq!(overview_row_height(0, 800.0, 14.0), 14.0);
    assert_eq!(overview_row_height(5, f64::NAN, 14.0), MIN_ROW_PX);
    assert_eq!(overview_row_height(5, 800.0, f64::INFINITY), MIN_ROW_PX);
    // Past 400 rows on 800 px, rows share pixel rows: the minimap grid is the overview.
    assert!(!overview_bands(400, 800.0));
    assert!(overview_bands(401, 800.0));
    assert!(overview_bands(4096, 800.0));
}

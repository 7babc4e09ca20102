//! Track-based lanes, windows, level of detail and hit testing against the Row-based ones and
//! against brute force.
use super::*;
use crate::testutil::{random_row, span, Rng};
use crate::{hit, lane_prims, lane_prims_track, row_lanes, track_lanes, Names};
use trace::Row;

/// Every row of every fixture dump (`tests/fixtures/slime/*.pt`), through `trace::load`.
fn fixture_rows() -> Vec<(String, Row)> {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pt"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let Ok(built) = trace::load(
            &std::fs::read(&p).unwrap(),
            &trace::LoadOptions::new(&name, 0.0),
        )
        .map(trace::Loaded::materialize) else {
            continue; // a fixture that is an error case has no rows to compare
        };
        for row in built.cache.rows {
            out.push((format!("{name} row {}", row.row_id), row));
        }
    }
    out
}

fn track_of(row: &Row) -> Track {
    Track::from_row(row, &mut Names::default())
}

#[test]
fn track_lanes_equal_row_lanes_on_fixtures_and_random_rows() {
    let rows = fixture_rows();
    assert!(rows.len() >= 20, "only {} fixture rows", rows.len());
    let mut with_pd = 0;
    for (what, row) in &rows {
        let t = track_of(row);
        assert_eq!(track_lanes(&t), row_lanes(row), "{what}");
        with_pd += (0..t.len()).any(|i| t.pd_role(i).is_some()) as usize;
    }
    assert!(with_pd > 0, "no fixture row has [P]/[D] spans");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let row = {
            let n = rng.below(60) as usize;
            random_row(&mut rng, n, 0.0)
        };
        assert_eq!(
            track_lanes(&track_of(&row)),
            row_lanes(&row),
            "round {round}"
        );
    }
}

/// The brute-force answer: items of `lane` of class `spans` overlapping `[t0, t1]`.
fn brute(
    t: &Track,
    rl: &RowLanes,
    expanded: bool,
    spans: bool,
    lane: u32,
    t0: f64,
    t1: f64,
) -> Vec<u32> {
    let mut v: Vec<u32> = (0..t.len())
        .filter(|&i| t.is_span(i) == spans && rl.of(i, expanded) == lane)
        .filter(|&i| t.start[i] <= t1 && t.end[i] >= t0)
        .map(|i| i as u32)
        .collect();
    v.sort_by(|&a, &b| {
        t.start[a as usize]
            .total_cmp(&t.start[b as usize])
            .then(a.cmp(&b))
    });
    v
}

#[test]
fn windows_equal_brute_force_on_random_tracks() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut buf = Vec::new();
    let mut nonempty = 0;
    for round in 0..200 {
        let origin = if round % 2 == 0 { 0.0 } else { 1.7e9 };
        let row = {
            let n = rng.below(400) as usize;
            random_row(&mut rng, n, origin)
        };
        let t = track_of(&row);
        let rl = track_lanes(&t);
        for expanded in [true, false] {
            let idx = LaneIndex::new(&t, &rl, expanded);
            assert_eq!(idx.lanes(), if expanded { rl.count } else { 1 });
            for _ in 0..20 {
                let a = origin - 10.0 + rng.unit() * 120.0;
                let b = a + rng.unit() * [0.001, 1.0, 30.0, 200.0][rng.below(4) as usize];
                let lane = rng.below(idx.lanes() as u64 + 1) as u32; // one past the end too
                idx.spans(&t, lane, a, b, &mut buf);
                assert_eq!(
                    buf,
                    brute(&t, &rl, expanded, true, lane, a, b),
                    "round {round} spans"
                );
                nonempty += !buf.is_empty() as usize;
                idx.points(&t, lane, a, b, &mut buf);
                assert_eq!(
                    buf,
                    brute(&t, &rl, expanded, false, lane, a, b),
                    "round {round} points"
                );
            }
        }
    }
    assert!(nonempty > 1000, "only {nonempty} windows found anything");
    // Inverted or NaN windows find nothing; another track finds nothing.
    let row = random_row(&mut rng, 50, 0.0);
    let t = track_of(&row);
    let idx = LaneIndex::new(&t, &track_lanes(&t), false);
    idx.spans(&t, 0, 0.0, 100.0, &mut buf);
    assert!(!buf.is_empty());
    idx.spans(&t, 0, 50.0, 10.0, &mut buf);
    assert!(buf.is_empty());
    idx.spans(&t, 0, f64::NAN, 10.0, &mut buf);
    assert!(buf.is_empty());
    idx.spans(&Track::default(), 0, 0.0, 100.0, &mut buf);
    assert!(buf.is_empty());
}

#[test]
fn a_window_late_in_a_huge_collapsed_row_looks_only_near_it() {
    // 300 000 back-to-back 1 ms spans under one root that covers them all, collapsed into one
    // lane: the root starts 300 s before a window at the end, and must be found without
    // looking at the 299 990 spans between.
    let n = 300_000;
    let mut items = vec![span("root", 0.0, n as f64 * 1e-3, 0, None)];
    items.extend((0..n).map(|i| span("s", i as f64 * 1e-3, (i + 1) as f64 * 1e-3, 1, None)));
    let row = crate::testutil::row(items);
    let t = track_of(&row);
    let idx = LaneIndex::new(&t, &track_lanes(&t), false);
    let mut buf = Vec::new();
    let (a, b) = (299.990, 299.995);
    let looked = idx.spans_looked(&t, 0, a, b, &mut buf);
    assert_eq!(buf, brute(&t, &track_lanes(&t), false, true, 0, a, b));
    assert_eq!(buf[0], 0, "the root, found first (start order)");
    assert!(buf.len() >= 6 && buf.len() <= 8, "{}", buf.len());
    // The root's block and the block before the window, plus the window itself.
    assert!(
        looked <= buf.len() + 2 * BLOCK,
        "looked at {looked} positions for {} items",
        buf.len()
    );
    // And hit testing there finds the 1 ms span under the pointer, not the root.
    let view = Viewport {
        t0: a,
        t1: b,
        width: 1000.0,
    };
    let i = hit_track(&t, &idx, &view, 500.0, 3.0, 14.0).unwrap();
    assert_eq!(
        hit(&row, &row_lanes(&row), &view, 500.0, 3.0, 14.0, false),
        Some(i)
    );
    assert!(t.start[i] <= view.t(500.0) && view.t(500.0) <= t.end[i] && i != 0);
}

#[test]
fn hit_equals_row_hit_on_fixtures_and_random_rows() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut rows = fixture_rows();
    for k in 0..60 {
        let origin = if k % 2 == 0 { 0.0 } else { 1.7e9 };
        rows.push((format!("random {k}"), {
            let n = rng.below(300) as usize;
            random_row(&mut rng, n, origin)
        }));
    }
    let (mut probes, mut found) = (0, 0);
    for (what, row) in &rows {
        let t = track_of(row);
        let rl = track_lanes(&t);
        let fit = Viewport::fit(row.start, row.end, 1000.0);
        for expanded in [true, false] {
            let idx = LaneIndex::new(&t, &rl, expanded);
            let lanes = if expanded { rl.count } else { 1 };
            for zoom in [1.0, 7.0, 300.0, 1e6] {
                let mut view = fit;
                view.zoom_at(rng.unit() * 1000.0, zoom);
                for _ in 0..40 {
                    // Half the probes on an item's edge or middle, where ties and rounding live.
                    let x = if rng.below(2) == 0 && !t.is_empty() {
                        let i = rng.below(t.len() as u64) as usize;
                        let (x0, x1) = (view.x(t.start[i]), view.x(t.end[i]));
                        [x0, x1, (x0 + x1) / 2.0, x0 + 1.0, x0 - 4.0, x0 + 4.0]
                            [rng.below(6) as usize]
                    } else {
                        rng.unit() * 1100.0 - 50.0
                    };
                    let y = (rng.unit() * (lanes as f64 + 1.0) - 0.2) * 14.0;
                    let want = hit(row, &rl, &view, x, y, 14.0, expanded);
                    let got = hit_track(&t, &idx, &view, x, y, 14.0);
                    assert_eq!(
                        got, want,
                        "{what}: expanded {expanded}, zoom {zoom}, ({x}, {y})"
                    );
                    probes += 1;
                    found += want.is_some() as usize;
                }
            }
        }
    }
    assert!(
        found * 4 > probes,
        "only {found} of {probes} probes hit something"
    );
}

#[test]
fn lane_prims_track_equal_lane_prims_on_fixtures() {
    let mut drawn = 0;
    for (what, row) in fixture_rows() {
        let t = track_of(&row);
        let rl = track_lanes(&t);
        let idx = LaneIndex::new(&t, &rl, true);
        let mut buf = Vec::new();
        for zoom in [1.0, 20.0] {
            let mut view = Viewport::fit(row.start, row.end, 800.0);
            view.zoom_at(400.0, zoom);
            for lane in 0..rl.count {
                // The Row path: every span of the lane in start order, then level of detail.
                let mut all: Vec<usize> = (0..t.len())
                    .filter(|&i| t.is_span(i) && rl.lanes[i] == lane)
                    .collect();
                all.sort_by(|&a, &b| t.start[a].total_cmp(&t.start[b]).then(a.cmp(&b)));
                let want = lane_prims(&row, &all, &view, 800.0);
                // The window padded by a pixel: the pixel test in level of detail decides.
                idx.spans(&t, lane, view.t(-1.0), view.t(801.0), &mut buf);
                assert_eq!(
                    lane_prims_track(&t, &buf, &view, 800.0),
                    want,
                    "{what} lane {lane}"
                );
                drawn += want.len();
            }
        }
    }
    assert!(drawn > 100, "{drawn}");
    // A stale index past the track's end is skipped, not a panic.
    assert!(lane_prims_track(
        &Track::default(),
        &[3, 7],
        &Viewport::fit(0.0, 1.0, 10.0),
        10.0
    )
    .is_empty());
}

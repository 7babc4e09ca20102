//! Unit tests of the viewport, layout, level of detail, colours, PD lanes and hit testing.
use super::*;
use crate::testutil;

#[test]
fn zoom_keeps_the_anchor_and_pan_moves_by_pixels() {
    let mut v = Viewport {
        t0: 0.0,
        t1: 100.0,
        width: 1000.0,
    };
    let before = v.t(250.0);
    v.zoom_at(250.0, 4.0);
    assert!((v.t(250.0) - before).abs() < 1e-9);
    assert!((v.span() - 25.0).abs() < 1e-9);
    v.pan_px(100.0);
    assert!((v.t(350.0) - before).abs() < 1e-9);
    v.zoom_at(0.0, 1e30);
    assert!(v.span() >= MIN_SPAN);
}

#[test]
fn ticks_are_nice_and_spaced() {
    let v = Viewport {
        t0: 1000.0,
        t1: 1010.0,
        width: 1000.0,
    };
    let t = ticks(&v, 80.0, 1000.0);
    assert_eq!(t.first().unwrap().1, "0");
    assert_eq!(t[1].1, "1 s");
    assert!(t.windows(2).all(|w| v.x(w[1].0) - v.x(w[0].0) >= 80.0));
}

#[test]
fn an_axis_keeps_one_set_of_units() {
    let labels = |t0: f64, t1: f64, min_px: f64| -> Vec<String> {
        let v = Viewport {
            t0,
            t1,
            width: 800.0,
        };
        ticks(&v, min_px, 0.0).into_iter().map(|t| t.1).collect()
    };
    // The 1 M-span bench dump's overview (3 min 19 s): minutes, not "100 s" then "2 min 30 s".
    assert_eq!(labels(-4.0, 199.0, 150.0), ["0", "1 min", "2 min", "3 min"]);
    assert_eq!(
        labels(-4.0, 199.0, 60.0),
        [
            "0",
            "30 s",
            "1 min",
            "1 min 30 s",
            "2 min",
            "2 min 30 s",
            "3 min"
        ]
    );
    // Under two minutes in all, seconds throughout.
    assert_eq!(labels(0.0, 119.0, 150.0), ["0", "30 s", "60 s", "90 s"]);
    assert_eq!(
        labels(0.0, 10.0, 150.0),
        ["0", "2 s", "4 s", "6 s", "8 s", "10 s"]
    );
    // Hours: past two hours every tick past one is in hours and minutes.
    assert_eq!(
        labels(0.0, 9_000.0, 150.0),
        ["0", "30 min", "1 h", "1 h 30 min", "2 h", "2 h 30 min"]
    );
    assert_eq!(
        labels(0.0, 30_000.0, 150.0),
        ["0", "2 h", "4 h", "6 h", "8 h"]
    );
    // Days, and past two days 1, 2, 5 × 10^k days.
    assert_eq!(
        labels(0.0, 200_000.0, 150.0),
        ["0", "12 h", "1 d", "1 d 12 h", "2 d"]
    );
    assert_eq!(
        labels(0.0, 2e6, 150.0),
        ["0", "5 d", "10 d", "15 d", "20 d"]
    );
    // Zoomed in past a minute, an hour, two days: finer units, never two ticks alike.
    assert_eq!(
        labels(119.0, 121.0, 90.0),
        [
            "1 min 59.0 s",
            "1 min 59.5 s",
            "2 min",
            "2 min 0.5 s",
            "2 min 1.0 s"
        ]
    );
    assert_eq!(
        labels(119.1, 121.0, 60.0),
        [
            "1 min 59.2 s",
            "1 min 59.4 s",
            "1 min 59.6 s",
            "1 min 59.8 s",
            "2 min",
            "2 min 0.2 s",
            "2 min 0.4 s",
            "2 min 0.6 s",
            "2 min 0.8 s",
            "2 min 1.0 s"
        ]
    );
    assert_eq!(
        labels(7_150.0, 7_250.0, 90.0),
        [
            "1 h 59 min 15 s",
            "1 h 59 min 30 s",
            "1 h 59 min 45 s",
            "2 h",
            "2 h 0 min 15 s",
            "2 h 0 min 30 s",
            "2 h 0 min 45 s"
        ]
    );
    let days = labels(172_700.0, 172_900.0, 90.0);
    assert_eq!(days[..2], ["47 h 58 min 30 s", "47 h 59 min"]);
    for axis in [
        days,
        labels(-200.0, 200.0, 60.0),
        labels(3_500.0, 3_700.0, 90.0),
    ] {
        let mut seen = axis.clone();
        seen.dedup();
        assert_eq!(seen, axis, "two ticks alike");
    }
    // A third of a millisecond around two minutes: ticks 50 µs apart.
    assert_eq!(
        labels(120.0, 120.000_35, 90.0)[1..3],
        ["2 min 0.00005 s", "2 min 0.00010 s"]
    );
    // Before the origin, the same units with a sign.
    assert_eq!(
        labels(-199.0, 4.0, 150.0),
        ["-3 min", "-2 min", "-1 min", "0"]
    );
    // A tick alone still reads as before.
    assert_eq!(format_duration(100.0, 1.0), "100 s");
}

#[test]
fn layout_and_row_lookup() {
    let l = layout([1, 3, 2], 10.0, 2.0);
    assert_eq!(l.tops, vec![0.0, 12.0, 44.0]);
    assert_eq!(l.row_at(5.0), Some(0));
    assert_eq!(l.row_at(11.0), None, "the gap");
    assert_eq!(l.row_at(41.0), Some(1));
    assert_eq!(l.row_at(43.0), None);
    assert_eq!(l.row_at(1e9), None);
    assert_eq!(l.visible(13.0, 45.0), 1..3);
}

#[test]
fn colors_are_stable_and_durations_readable() {
    // Golden values (FNV-1a 32 → hue, saturation, lightness), computed independently:
    // a colour may never change between builds, or users' mental map of spans breaks.
    for (name, light, dark) in [
        ("sglang_generate", "hsl(63 73% 62%)", "hsl(63 73% 52%)"),
        ("a", "hsl(340 55% 64%)", "hsl(340 55% 52%)"),
        ("b", "hsl(157 61% 64%)", "hsl(157 61% 56%)"),
        ("", "hsl(61 69% 60%)", "hsl(61 69% 58%)"),
    ] {
        assert_eq!(color_for(name, false), light, "{name:?}");
        assert_eq!(color_for(name, true), dark, "{name:?} (dark)");
    }
    assert_eq!(format_duration(0.25, 0.05), "250 ms");
    assert_eq!(format_duration(2.5, 0.5), "2.5 s");
    assert_eq!(format_duration(200.0, 10.0), "3 min 20 s");
    assert_eq!(format_duration(180.0, 60.0), "3 min");
    assert_eq!(format_duration(179.6, 1.0), "3 min");
    assert_eq!(format_duration(18_720.0, 60.0), "5 h 12 min");
    assert_eq!(
        format_duration(-3.0 * 86_400.0 - 7_200.0, 3_600.0),
        "-3 d 2 h"
    );
    assert_eq!(format_duration(200_000_000.0, 20_000_000.0), "2314 d");
    assert_eq!(format_duration(1e308, 1e307), "1.000e308 s");
}

#[test]
fn level_of_detail_is_bounded_by_pixels_and_hits_stay_exact() {
    use trace::{Item, SpanAttrs, SpanItem, State};
    // One lane of 200 000 back-to-back 1 ms spans over 200 s, on 1000 px.
    let n = 200_000;
    let items: Vec<Item> = (0..n)
        .map(|i| {
            Item::Span(SpanItem {
                state: State::ClosedSpan,
                name: format!("s{}", i % 7).into(),
                start_ts: i as f64 * 0.001,
                end_ts: Some(i as f64 * 0.001 + 0.001),
                display_end_ts: i as f64 * 0.001 + 0.001,
                attempt: 0,
                span_id: serde_json::Value::Null,
                parent_span_id: serde_json::Value::Null,
                parent_span_name: serde_json::Value::Null,
                lane: 0,
                depth: 0,
                attrs: SpanAttrs {
                    start_attrs: serde_json::json!({}),
                    end_attrs: serde_json::json!({}),
                },
            })
        })
        .collect();
    let row = trace::Row {
        row_id: 0,
        sample_index: 0.into(),
        group_index: serde_json::Value::Null,
        source: serde_json::Value::Null,
        status: serde_json::Value::Null,
        label: serde_json::Value::Null,
        reward: serde_json::Value::Null,
        trace_id: serde_json::Value::Null,
        attempt: 0,
        start: 0.0,
        end: n as f64 * 0.001,
        duration: n as f64 * 0.001,
        lane_count: 1,
        item_count: n,
        closed_span_count: n,
        open_span_count: 0,
        point_event_count: 0,
        orphan_count: 0,
        total_response_length: 0,
        max_response_length: 0,
        items,
    };
    let idx: Vec<usize> = (0..n).collect();
    let view = Viewport {
        t0: 0.0,
        t1: n as f64 * 0.001,
        width: 1000.0,
    };
    let prims = lane_prims(&row, &idx, &view, 1000.0);
    assert!(
        prims.len() <= 1000,
        "{} primitives for 1000 px",
        prims.len()
    );
    let covered: usize = prims
        .iter()
        .map(|p| match p {
            Prim::Run { count, .. } => *count,
            Prim::Item(_) => 1,
        })
        .sum();
    assert_eq!(covered, n, "every span is in some primitive");
    // Zoomed in to 10 spans: every one drawn as itself.
    let near = Viewport {
        t0: 50.0,
        t1: 50.01,
        width: 1000.0,
    };
    let prims = lane_prims(&row, &idx, &near, 1000.0);
    assert!(
        prims.iter().all(|p| matches!(p, Prim::Item(_))) && prims.len() <= 12,
        "{prims:?}"
    );
    // Hit testing looks at items, not primitives: exact at any zoom.
    let hit_far = hit(&row, &row_lanes(&row), &view, 500.0, 5.0, 14.0, true).unwrap();
    let (x0, x1) = item_x(&view, &row.items[hit_far]);
    assert!(x0 <= 500.0 && 500.0 <= x1.max(x0 + 1.0));
}

#[test]
fn tracks_reduce_to_pixel_columns_and_keep_peaks() {
    // 100 000 alternating steps 0,1,0,1,… with one spike of 50 in the middle.
    let mut pts: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, (i % 2) as f64)).collect();
    pts[50_000].1 = 50.0;
    let view = Viewport {
        t0: 0.0,
        t1: 100_000.0,
        width: 500.0,
    };
    let cols = track_columns(&pts, &view, 500.0);
    assert!(cols.len() <= 500 && cols.len() >= 499, "{}", cols.len());
    assert!(cols.iter().any(|c| c.1 == 50.0), "the spike survives");
    assert!(cols.iter().all(|c| c.1 >= 1.0), "every column reaches 1");
    // A value set before the view holds across it.
    let held = track_columns(
        &[(0.0, 7.0)],
        &Viewport {
            t0: 10.0,
            t1: 20.0,
            width: 10.0,
        },
        10.0,
    );
    assert_eq!(held.len(), 10);
    assert!(held.iter().all(|c| c.1 == 7.0));
    assert!(track_columns(&[], &view, 500.0).is_empty());
}

#[test]
fn pd_phases_and_clusters() {
    assert_eq!(
        pd_phase("sglang_pd_prefill_forward").unwrap().0,
        "prefill_forward"
    );
    assert_eq!(
        pd_phase("pd_decode_transfer_duration").unwrap().0,
        "decode_transfer"
    );
    assert!(pd_phase("sglang_generate").is_none());
    assert_eq!(pd_color("sglang_pd_decode_forward"), Some("#f28e2b"));
    assert_eq!(pd_color("sglang_generate [P]"), Some("#a0b9d6"));
    let c = clusters(&[(0.0, 0), (4.0, 1), (9.0, 2), (30.0, 3)]);
    assert_eq!(c, vec![(0.0, 9.0, 3, 0), (30.0, 30.0, 1, 3)]);
}

/// The fewest lanes spans of one role can take: the most of them overlapping at once
/// (an interval graph's clique number), by brute force over every start.
fn max_overlap(spans: &[(f64, f64)]) -> u32 {
    spans
        .iter()
        .map(|&(t, _)| spans.iter().filter(|&&(s, e)| s <= t && t < e).count() as u32)
        .max()
        .unwrap_or(0)
}

#[test]
fn pd_lanes_are_packed_for_display_only() {
    use crate::lanes::pd_role;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime/pdflat_5.pt");
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("pdflat_5.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let mut saved = 0;
    for row in &built.cache.rows {
        let rl = row_lanes(row);
        let role_spans = |want: bool| -> Vec<(f64, f64)> {
            row.items
                .iter()
                .filter(|it| pd_role(it) == Some(want))
                .map(|it| (it.start(), it.display_end()))
                .collect()
        };
        let (p, d) = (role_spans(true), role_spans(false));
        let mut real: Vec<u32> = row
            .items
            .iter()
            .filter(|it| pd_role(it).is_none())
            .map(Item::lane)
            .collect();
        real.sort_unstable();
        real.dedup();
        // Exactly the optimum: slime's other lanes, plus as many [P] and [D] lanes as
        // the most spans of each role overlapping at one instant.
        let optimum = (real.len() as u32 + max_overlap(&p) + max_overlap(&d)).max(1);
        assert_eq!(rl.count, optimum, "row {}", row.row_id);
        // The cache gave each virtual span its own lane; packing must not do that.
        let virtual_count = (p.len() + d.len()) as u32;
        assert_eq!(
            row.lane_count,
            real.len() as u32 + virtual_count,
            "row {}",
            row.row_id
        );
        saved += row.lane_count - rl.count;
        for (i, it) in row.items.iter().enumerate() {
            if pd_role(it).is_none() {
                // Non-virtual items keep slime's lanes (dense in these rows).
                assert_eq!(rl.lanes[i], it.lane());
            }
            for (j, other) in row.items.iter().enumerate().skip(i + 1) {
                if pd_role(it).is_some() && pd_role(other).is_some() && rl.lanes[i] == rl.lanes[j] {
                    assert!(it.display_end() <= other.start() || other.display_end() <= it.start());
                }
            }
        }
    }
    // pdflat_5 has one generate call per sample: nothing to pack there.
    assert_eq!(saved, 0);
}

#[test]
fn pd_lanes_of_a_multi_turn_sample_are_packed() {
    use crate::lanes::pd_role;
    // A root span and three generate calls (the last two overlap), each with flat
    // pd_* attrs: the cache gives each of the six [P]/[D] spans its own lane.
    let pd: &[(&str, f64)] = &[
        ("pd_prefill_forward_duration", 0.5),
        ("pd_decode_forward_duration", 5.0),
    ];
    let events: Vec<testutil::Ev> = vec![
        ("span_start", "rollout", 0.0, "r", "", &[]),
        ("span_start", "sglang_generate", 1.0, "g1", "r", &[]),
        ("span_end", "sglang_generate", 10.0, "g1", "r", pd),
        ("span_start", "sglang_generate", 11.0, "g2", "r", &[]),
        ("span_start", "sglang_generate", 15.0, "g3", "r", &[]),
        ("span_end", "sglang_generate", 20.0, "g2", "r", pd),
        ("span_end", "sglang_generate", 25.0, "g3", "r", pd),
        ("span_end", "rollout", 100.0, "r", "", &[]),
    ];
    let built = trace::load(
        &testutil::dump(&events),
        &trace::LoadOptions::new("multi.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let row = &built.cache.rows[0];
    assert_eq!(row.lane_count, 8, "two real lanes and six virtual ones");
    let rl = row_lanes(row);
    assert_eq!(rl.count, 6, "two real lanes, two [P] lanes, two [D] lanes");
    // Each virtual span, by (role, start): g1 and g2 share a lane, g3 overlaps g2.
    let mut got: Vec<(bool, f64, u32)> = row
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| pd_role(it).map(|p| (p, it.start(), rl.lanes[i])))
        .collect();
    got.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));
    assert_eq!(
        got,
        vec![
            (true, 1.0, 2),
            (true, 11.0, 2),
            (true, 15.0, 3),
            (false, 1.0, 4),
            (false, 11.0, 4),
            (false, 15.0, 5),
        ]
    );
    // The rows themselves are unchanged: packing is display only.
    let again = trace::load(
        &testutil::dump(&events),
        &trace::LoadOptions::new("multi.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let lanes = |r: &Row| r.items.iter().map(Item::lane).collect::<Vec<_>>();
    assert_eq!(lanes(row), lanes(&again.cache.rows[0]));
}

#[test]
fn pd_segments_of_the_flat_shape() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime/pdflat_5.pt");
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("pdflat_5.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let virt = built.cache.rows[0]
        .items
        .iter()
        .find(
            |i| matches!(i, Item::Span(s) if s.name.as_str().is_some_and(|n| n.ends_with(" [D]"))),
        )
        .expect("a [D] lane");
    let segs = pd_segments(virt);
    assert!(!segs.is_empty());
    assert!(
        segs.windows(2).all(|w| (w[0].1 - w[1].0).abs() < 1e-9),
        "end to end"
    );
    assert_eq!(segs[0].0, virt.start());
}

#[test]
fn hit_testing_on_a_real_row() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime/pd_1.pt");
    let built = trace::load(
        &std::fs::read(path).unwrap(),
        &trace::LoadOptions::new("pd_1.pt", 0.0),
    )
    .map(trace::Loaded::materialize)
    .unwrap();
    let row = &built.cache.rows[0];
    let view = Viewport::fit(row.start, row.end, 1000.0);
    let rl = row_lanes(row);
    let lane_h = 14.0;
    // Whether anything but item `i` in lane `lane` covers pixel `x` (as `hit` sees it).
    let others_at = |i: usize, lane: u32, x: f64| {
        row.items.iter().enumerate().any(|(j, it)| {
            let (x0, x1) = item_x(&view, it);
            let (lo, hi) = match it {
                Item::Span(_) => (x0, x1.max(x0 + 1.0)),
                _ => (x0 - MARKER_PX / 2.0, x0 + MARKER_PX / 2.0),
            };
            j != i && rl.lanes[j] == lane && lo <= x && x <= hi
        })
    };
    // Every span whose middle nothing else in its lane covers is hit there, exactly.
    let mut checked = 0;
    for (i, it) in row.items.iter().enumerate() {
        let (x0, x1) = item_x(&view, it);
        let x = (x0 + x1) / 2.0;
        let lane = rl.lanes[i];
        if !matches!(it, Item::Span(_)) || x1 - x0 < 2.0 || others_at(i, lane, x) {
            continue;
        }
        let y = (lane as f64 + 0.5) * lane_h;
        assert_eq!(
            hit(row, &rl, &view, x, y, lane_h, true),
            Some(i),
            "item {i} at ({x:.1}, {y})"
        );
        // One lane down, at the same x, it is not what is hit.
        assert_ne!(hit(row, &rl, &view, x, y + lane_h, lane_h, true), Some(i));
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} spans could be checked");
    // Misses: left of everything, right of everything, below the last lane, above row.
    let mid_y = 0.5 * lane_h;
    assert_eq!(hit(row, &rl, &view, -50.0, mid_y, lane_h, true), None);
    assert_eq!(hit(row, &rl, &view, 1050.0, mid_y, lane_h, true), None);
    let below = (rl.count as f64 + 0.5) * lane_h;
    assert_eq!(hit(row, &rl, &view, 500.0, below, lane_h, true), None);
    assert_eq!(hit(row, &rl, &view, 500.0, -1.0, lane_h, true), None);
}

/// A 200 000-step counter reduced to 4 096 coarse steps draws, at a zoom where a column is
/// wider than a bucket, no column lower than the exact one (peaks survive) and none higher
/// than the exact value of it or a neighbour; the coarse series is bounded by its buckets.
#[test]
fn coarse_steps_keep_peaks_within_a_column() {
    let mut x = 1u64;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut t = 1.7e9;
    let pts: Vec<(f64, f64)> = (0..200_000)
        .map(|_| {
            t += next() * 0.01;
            (t, (next() * 300.0).floor())
        })
        .collect();
    let (coarse, dt) = coarse_steps(&pts, 4096);
    assert!(coarse.len() <= 4097 && dt > 0.0);
    let view = Viewport {
        t0: pts[0].0,
        t1: pts[pts.len() - 1].0,
        width: 900.0,
    };
    assert!(dt <= view.span() / 900.0);
    let exact: std::collections::HashMap<i64, f64> = track_columns(&pts, &view, 900.0)
        .into_iter()
        .map(|(x, v)| (x as i64, v))
        .collect();
    let cols = track_columns(&coarse, &view, 900.0);
    assert!(cols.len() > 800);
    for (x, v) in cols {
        let x = x as i64;
        let Some(&e) = exact.get(&x) else { continue };
        assert!(v >= e, "column {x}: {v} < exact {e}");
        let near = (x - 1..=x + 1)
            .filter_map(|k| exact.get(&k))
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        assert!(v <= near, "column {x}: {v} > neighbours' {near}");
    }
    assert_eq!(coarse_steps(&[], 10).0.len(), 0);
    assert_eq!(
        coarse_steps(&[(1.0, 2.0)], 10).0.len(),
        0,
        "no span: nothing to reduce"
    );
}

#[test]
fn a_cluster_count_is_written_only_where_it_fits_before_the_next_marker() {
    let r = 5.0;
    // (x, last x, markers, first item): "×3" needs 12 px after x + r + 1.
    let groups = [
        (100.0, 104.0, 3, 0),
        (112.0, 112.0, 2, 3),
        (140.0, 141.0, 2, 5),
        (200.0, 205.0, 12, 7),
    ];
    // 112 - 5 - 106 = 1 px of room: none.
    assert!(!crate::shows_count(&groups, 0, r));
    // 140 - 5 - 118 = 17 px: "×2" fits.
    assert!(crate::shows_count(&groups, 1, r));
    // 200 - 5 - 146 = 49 px, and the last cluster has the rest of the row.
    assert!(crate::shows_count(&groups, 2, r));
    assert!(crate::shows_count(&groups, 3, r));
    // A lone marker has no count; past the end, nothing.
    assert!(!crate::shows_count(&[(10.0, 10.0, 1, 0)], 0, r));
    assert!(!crate::shows_count(&groups, 4, r));
    // "×12" is wider than "×2": 17 px of room is not enough, 18 is.
    let two = |gap: f64| [(0.0, 0.0, 12, 0), (gap + 2.0 * r + 1.0, 0.0, 1, 1)];
    assert!(!crate::shows_count(&two(17.0), 0, r));
    assert!(crate::shows_count(&two(18.0), 0, r));
}

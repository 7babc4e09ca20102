//! Tests of the trend charts' data: series per kind, eval datasets, bands, outliers, hover.

use super::*;
use serde_json::json;
use trace::run::DumpKind;

fn dump(id: i64, kind: DumpKind) -> DumpRef {
    DumpRef {
        rollout_id: id,
        kind,
        file: format!("rollout_data/{id}.pt"),
        train_file: None,
    }
}

fn summary(metrics: serde_json::Value) -> Option<Arc<RolloutSummary>> {
    Some(Arc::new(RolloutSummary {
        metrics: metrics.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    }))
}

fn run() -> (Vec<DumpRef>, Vec<Option<Arc<RolloutSummary>>>) {
    let dumps = vec![
        dump(0, DumpKind::Train),
        dump(1, DumpKind::Train),
        dump(2, DumpKind::Train),
        dump(2, DumpKind::Eval),
        dump(3, DumpKind::Train),
    ];
    let train = |t: f64, r: f64| {
        summary(json!({
            "reward/mean": r, "reward/min": 0.0, "reward/max": 1.0,
            "pass_rate": {"pass@1": r, "pass@4": 0.9},
            "perf/rollout_time": t,
        }))
    };
    let sums = vec![
        train(10.0, 0.25),
        train(10.0, 0.5),
        train(100.0, 0.75),
        summary(json!({"eval_datasets": ["aime"], "eval/aime-pass@1": 0.4, "reward/mean": 0.4})),
        None,
    ];
    (dumps, sums)
}

#[test]
fn train_and_eval_series_stay_apart() {
    let (dumps, sums) = run();
    let charts = charts(&dumps, &sums, &[]);
    let ids: Vec<&str> = charts.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "reward",
            "pass",
            "response-len",
            "truncated",
            "time",
            "zero-std"
        ]
    );
    let pass = &charts[1];
    let names: Vec<&str> = pass.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["pass@1", "pass@4", "eval/aime pass@1"]);
    // Train lines have a point per train dump (the unread one included, as a gap) …
    let p1: Vec<(usize, Option<f64>)> = pass.series[0].points.iter().map(|p| (p.0, p.2)).collect();
    assert_eq!(p1, [(0, Some(0.25)), (1, Some(0.5)), (2, Some(0.75))]);
    // … and the eval's line only its own dump.
    let eval = &pass.series[2];
    assert!(eval.eval && !pass.series[0].eval);
    assert_eq!(
        eval.points.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(),
        [(3, Some(0.4))]
    );
    // The reward's band is min–max.
    let band = charts[0].series[0].band.as_ref().expect("a band");
    assert_eq!(band[0], Some((0.0, 1.0)));
}

#[test]
fn a_slow_rollout_is_an_outlier_and_hover_says_so() {
    let (dumps, sums) = run();
    let charts = charts(&dumps, &sums, &[]);
    let time = charts
        .iter()
        .find(|c| c.id == "time")
        .expect("a time chart");
    assert_eq!(time.outliers.len(), 1);
    let (si, pj, why) = &time.outliers[0];
    assert_eq!(time.series[*si].points[*pj].0, 2);
    assert!(why.starts_with("10×"), "{why}");
    let text = hover_text(time, 2, &dumps);
    assert!(text.starts_with("rollout 2"), "{text}");
    assert!(
        text.contains("rollout time 100") && text.contains("outlier: 10×"),
        "{text}"
    );
    assert!(!hover_text(time, 0, &dumps).contains("outlier"));
}

#[test]
fn extents_runs_and_ticks() {
    let (dumps, sums) = run();
    let charts = charts(&dumps, &sums, &[]);
    let pass = &charts[1];
    let e = extent(pass);
    // A ratio chart: 0..1 whatever its values; ids 0..2 (the eval's id is 2 too).
    assert_eq!(
        (e.x0, e.x1, e.lo, e.hi, e.empty),
        (0.0, 2.0, 0.0, 1.0, false)
    );
    let time = charts.iter().find(|c| c.id == "time").expect("time");
    let e = extent(time);
    assert_eq!(e.lo, 0.0);
    assert!((e.hi - 105.0).abs() < 1e-9, "{}", e.hi);
    assert_eq!(x_ticks(time, e.x0, e.x1), [0.0, 1.0, 2.0]);
    // No values at all: an empty chart on 0..1.
    let none = Chart {
        id: "x",
        title: "x",
        unit_range: false,
        series: vec![],
        outliers: vec![],
    };
    let e = extent(&none);
    assert!(e.empty && e.hi > e.lo);
    // A gap splits a line into runs.
    let s = Series {
        name: "s".into(),
        color: "#000",
        eval: false,
        points: vec![
            (0, 0.0, Some(1.0)),
            (1, 1.0, None),
            (2, 2.0, Some(2.0)),
            (3, 3.0, Some(3.0)),
        ],
        band: None,
    };
    assert_eq!(value_runs(&s), vec![vec![0], vec![2, 3]]);
}

#[test]
fn unnamed_eval_sets_take_the_users_names_and_keep_their_values() {
    let dumps = vec![dump(0, DumpKind::Train), dump(0, DumpKind::Eval)];
    let sums = vec![
        summary(json!({"reward/mean": 0.5})),
        summary(json!({
            "eval_datasets": [{"name": "eval set 1", "sample_count": 12}, {"name": "eval set 2", "sample_count": 12}],
            "eval/eval set 1": 0.25, "eval/eval set 2": 0.75,
        })),
    ];
    let reward = |names: &[String]| -> Vec<(String, Option<f64>)> {
        charts(&dumps, &sums, names)[0]
            .series
            .iter()
            .filter(|s| s.eval)
            .map(|s| (s.name.clone(), s.points[0].2))
            .collect()
    };
    let unnamed = reward(&[]);
    assert_eq!(
        unnamed,
        [
            ("eval/eval set 1".to_string(), Some(0.25)),
            ("eval/eval set 2".to_string(), Some(0.75))
        ]
    );
    let named = reward(&["math500".into(), "aime24".into()]);
    assert_eq!(
        named,
        [
            ("eval/math500".to_string(), Some(0.25)),
            ("eval/aime24".to_string(), Some(0.75))
        ]
    );
}

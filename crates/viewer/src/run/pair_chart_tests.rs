use std::sync::Arc;

use serde_json::json;
use trace::run::{DumpKind, DumpRef, RolloutSummary};

use super::*;
use crate::run::chart_data::charts;

fn dump(id: i64, kind: DumpKind) -> DumpRef {
    DumpRef {
        rollout_id: id,
        kind,
        file: format!("rollout_data/{id}.pt"),
        train_file: None,
    }
}

fn sum(n: u64, reward: f64) -> Option<Arc<RolloutSummary>> {
    let mut s = RolloutSummary::default();
    s.metrics.insert("sample_count".into(), json!(n));
    s.metrics.insert("reward/mean".into(), json!(reward));
    Some(Arc::new(s))
}

#[test]
fn b_is_laid_over_a_with_its_own_names_colours_and_dumps() {
    let a = vec![dump(0, DumpKind::Train), dump(1, DumpKind::Train)];
    let sa = vec![sum(4, 0.25), sum(4, 0.5)];
    let b = vec![dump(0, DumpKind::Train)];
    let sb = vec![sum(8, 0.75)];
    let all = overlay(charts(&a, &sa, &[]), charts(&b, &sb, &[]), a.len());
    let reward = all
        .iter()
        .find(|c| c.id == "reward")
        .expect("a reward chart");
    let names: Vec<&str> = reward.series.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"A · reward mean") && names.contains(&"B · reward mean"),
        "{names:?}"
    );
    let bs = reward
        .series
        .iter()
        .find(|s| s.name == "B · reward mean")
        .expect("B");
    assert_eq!(bs.points, vec![(2, 0.0, Some(0.75))]);
    assert!(B_COLORS.contains(&bs.color));
    let both: Vec<DumpRef> = a.iter().chain(&b).cloned().collect();
    assert_eq!(a_dump_for(&both, 2, 2), Some(0));
    assert_eq!(a_dump_for(&both, 2, 1), Some(1));
}

#[test]
fn samples_seen_moves_points_to_the_samples_trained_on() {
    let a = vec![
        dump(0, DumpKind::Train),
        dump(1, DumpKind::Train),
        dump(1, DumpKind::Eval),
    ];
    let sa = vec![sum(4, 0.25), sum(8, 0.5), None];
    let x = samples_seen_x(&a, &sa);
    assert_eq!(x, vec![Some(4.0), Some(12.0), Some(4.0)]);
    let mut c = charts(&a, &sa, &[]);
    remap_x(&mut c, &x);
    let reward = c.iter().find(|c| c.id == "reward").expect("reward");
    let xs: Vec<f64> = reward.series[0].points.iter().map(|p| p.1).collect();
    assert_eq!(xs, vec![4.0, 12.0]);
}

//! slime's arguments a dump cannot tell (`RunOptions`) and the sample state slime records
//! (`remove_sample`, weight versions, `spec_info`), on the flat run and on built dumps.

use std::path::PathBuf;

use picklegen::Pickle;
use trace::run::{scan_bytes, summarize_with, DumpKind, DumpRef, RunOptions};

fn flat(file: &str) -> (DumpRef, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run_flat");
    let id = file
        .trim_end_matches(".pt")
        .rsplit('_')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let dump = DumpRef {
        rollout_id: id,
        kind: DumpKind::Train,
        file: file.into(),
        train_file: None,
    };
    (dump, std::fs::read(dir.join(file)).expect("fixture"))
}

fn metrics(file: &str, opts: &RunOptions) -> serde_json::Map<String, serde_json::Value> {
    let (d, bytes) = flat(file);
    let scan = scan_bytes(&bytes, false).expect("scans");
    summarize_with(&d, scan, None, false, opts).0.metrics
}

#[test]
fn the_reward_key_picks_a_dict_rewards_entry() {
    let score = metrics("rollout_2.pt", &RunOptions::default());
    let acc = metrics(
        "rollout_2.pt",
        &RunOptions {
            reward_key: Some("acc".into()),
            ..RunOptions::default()
        },
    );
    assert_eq!(score["reward/mean"].as_f64(), Some(0.375));
    // `acc` is a bool that agrees with `score` (Python adds it as 0 or 1); a key whose
    // values are not numbers is said.
    assert_eq!(acc["reward/mean"], score["reward/mean"]);
    let (d, bytes) = flat("rollout_2.pt");
    let opts = RunOptions {
        reward_key: Some("pred".into()),
        ..RunOptions::default()
    };
    let (s, _) = summarize_with(
        &d,
        scan_bytes(&bytes, false).expect("scans"),
        None,
        false,
        &opts,
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("24 dict rewards have no number under the reward key \"pred\"")),
        "{:?}",
        s.notes
    );
}

#[test]
fn ppo_counts_no_zero_std_groups() {
    let grpo = metrics("rollout_0.pt", &RunOptions::default());
    assert_eq!(grpo["rollout/zero_std/count_0.0"], 2);
    let ppo = metrics(
        "rollout_0.pt",
        &RunOptions {
            advantage_estimator: Some("ppo".into()),
            ..RunOptions::default()
        },
    );
    assert!(!ppo.keys().any(|k| k.contains("zero_std")));
}

#[test]
fn weight_versions_give_staleness() {
    let (d, bytes) = flat("rollout_3.pt");
    let (_, scan) = summarize_with(
        &d,
        scan_bytes(&bytes, false).expect("scans"),
        None,
        false,
        &RunOptions::default(),
    );
    // One version per turn, all the rollout's own: no sample is stale.
    assert!(scan
        .rows
        .iter()
        .all(|r| !r.state.weight_versions.is_empty()
            && r.state.weight_versions.iter().all(|v| v == "3")));
    assert!(scan
        .rows
        .iter()
        .all(|r| r.staleness == Some(0) && !r.state.remove_sample));
}

/// One sample with `spec_info`, `remove_sample` and a partial rollout's `start_rollout_id`.
fn spec_dump(verify: i64) -> Vec<u8> {
    picklegen::rollout_zip(|p: &mut Pickle| {
        p.empty_list().mark();
        p.empty_dict().mark();
        p.str("index")
            .int(0)
            .str("group_index")
            .int(0)
            .str("reward")
            .float(1.0);
        p.str("remove_sample").bool(true);
        p.str("weight_versions")
            .empty_list()
            .mark()
            .str("2")
            .str("3")
            .appends();
        p.str("metadata")
            .empty_dict()
            .str("start_rollout_id")
            .int(1)
            .setitem();
        p.str("spec_info").empty_dict().mark();
        p.str("spec_accept_token_num")
            .int(3)
            .str("spec_draft_token_num")
            .int(4);
        p.str("spec_verify_ct")
            .int(verify)
            .str("completion_token_num")
            .int(10);
        p.setitems();
        p.setitems();
        p.appends();
    })
}

#[test]
fn spec_metrics_when_the_dump_has_verify_steps() {
    let d = DumpRef {
        rollout_id: 4,
        kind: DumpKind::Train,
        file: "x.pt".into(),
        train_file: None,
    };
    let run = |verify| {
        let scan = scan_bytes(&spec_dump(verify), false).expect("scans");
        summarize_with(&d, scan, None, false, &RunOptions::default())
    };
    let (s, scan) = run(5);
    assert_eq!(s.metrics["rollout/spec_accept_rate"].as_f64(), Some(0.75));
    assert_eq!(s.metrics["rollout/spec_accept_length"].as_f64(), Some(2.0));
    let r = &scan.rows[0];
    assert!(r.state.remove_sample);
    // start_rollout_id wins over the weight versions: 4 - 1.
    assert_eq!(r.staleness, Some(3));
    let (s, _) = run(0);
    assert!(!s.metrics.contains_key("rollout/spec_accept_rate"));
}

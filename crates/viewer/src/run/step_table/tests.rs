//! Tests of the step view's logic (sort, filter, search, groups, token values).

use super::*;
use serde_json::json;
use trace::run::TrainFields;

fn row(pos: usize, group: J, status: &str, reward: Option<f64>) -> SampleRow {
    SampleRow {
        position: pos,
        index: json!(pos),
        group_index: group,
        status: Some(status.into()),
        reward,
        response_length: Some(10.0 * pos as f64),
        ..Default::default()
    }
}

fn step() -> StepData {
    let rows = vec![
        row(0, json!(0), "completed", Some(1.0)),
        row(1, json!(0), "completed", Some(1.0)),
        row(2, json!(1), "truncated", Some(0.0)),
        row(3, json!(1), "completed", Some(1.0)),
        row(4, json!(2), "aborted", None),
    ];
    StepData {
        rows,
        responses: vec![
            "The answer is 4".into(),
            "the ANSWER, the answer".into(),
            "no idea".into(),
            "<script>alert(1)</script>".into(),
            String::new(),
        ],
        ..Default::default()
    }
}

fn positions(s: &StepData, v: &View) -> Vec<usize> {
    v.order.iter().map(|&i| s.rows[i].position).collect()
}

#[test]
fn sort_by_reward_both_ways_missing_last_ties_in_dump_order() {
    let s = step();
    let idx = SearchIndex::new(&s);
    let f = Filter::default();
    let asc = view(&s, &idx, &f, Some((&Column::Reward, false)));
    assert_eq!(positions(&s, &asc), vec![2, 0, 1, 3, 4]);
    let desc = view(&s, &idx, &f, Some((&Column::Reward, true)));
    assert_eq!(positions(&s, &desc), vec![0, 1, 3, 2, 4]);
    let by_status = view(&s, &idx, &f, Some((&Column::Status, false)));
    assert_eq!(positions(&s, &by_status), vec![4, 0, 1, 3, 2]);
}

#[test]
fn text_search_is_case_insensitive_and_counts_rows_and_hits() {
    let s = step();
    let idx = SearchIndex::new(&s);
    let f = Filter {
        text: "Answer".into(),
        ..Default::default()
    };
    let v = view(&s, &idx, &f, None);
    assert_eq!(positions(&s, &v), vec![0, 1]);
    assert_eq!((v.text_rows, v.text_hits), (2, 3));
    let f = Filter {
        text: "<SCRIPT>".into(),
        ..Default::default()
    };
    assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![3]);
}

#[test]
fn status_group_and_reward_filters_combine() {
    let s = step();
    let idx = SearchIndex::new(&s);
    let mut f = Filter {
        status: Some("completed".into()),
        ..Default::default()
    };
    assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![0, 1, 3]);
    f.group = " 1 ".into();
    assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![3]);
    f = Filter {
        reward: RewardFilter::parse("= 0").unwrap(),
        ..Default::default()
    };
    assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![2]);
    f.reward = RewardFilter::parse("0.5..").unwrap();
    assert_eq!(positions(&s, &view(&s, &idx, &f, None)), vec![0, 1, 3]);
}

#[test]
fn reward_filter_syntax() {
    assert_eq!(RewardFilter::parse("  ").unwrap(), RewardFilter::Any);
    assert_eq!(RewardFilter::parse("1").unwrap(), RewardFilter::Eq(1.0));
    assert_eq!(RewardFilter::parse("==0.5").unwrap(), RewardFilter::Eq(0.5));
    assert_eq!(
        RewardFilter::parse("..0").unwrap(),
        RewardFilter::Range {
            min: None,
            max: Some(0.0)
        }
    );
    assert_eq!(
        RewardFilter::parse(">= -1").unwrap(),
        RewardFilter::Range {
            min: Some(-1.0),
            max: None
        }
    );
    let e = RewardFilter::parse("high").unwrap_err();
    assert!(e.contains("\"high\"") && e.contains("range"), "{e}");
    assert!(RewardFilter::parse("1..x").unwrap_err().contains("\"x\""));
    assert!(RewardFilter::parse("nan").is_err());
    // A float32 reward (0.3 read back as 0.30000001192…) equals "= 0.3"; 0.31 does not.
    assert!(RewardFilter::Eq(0.3).matches(Some(f64::from(0.3f32))));
    assert!(!RewardFilter::Eq(0.3).matches(Some(0.31)));
    assert!(!RewardFilter::Eq(0.0).matches(None));
}

#[test]
fn groups_keep_whole_group_stats_and_mark_zero_std() {
    let s = step();
    let idx = SearchIndex::new(&s);
    let f = Filter {
        status: Some("completed".into()),
        ..Default::default()
    };
    let v = view(&s, &idx, &f, None);
    let g = groups(&s.rows, &v.order);
    assert_eq!(g.len(), 2, "group 2 has no completed row");
    assert_eq!(
        (g[0].key.as_str(), g[0].size, g[0].zero_std),
        ("0", 2, true)
    );
    assert_eq!(g[0].members, vec![0, 1]);
    assert_eq!(g[0].std, Some(0.0));
    // Group 1 is filtered down to one row but its statistics are the whole group's.
    assert_eq!(
        (g[1].key.as_str(), g[1].size, g[1].members.len()),
        ("1", 2, 1)
    );
    assert_eq!((g[1].mean, g[1].std), (Some(0.5), Some(0.5)));
    assert!(!g[1].zero_std);
    let mut rows = s.rows.clone();
    for r in &mut rows {
        r.group_index = J::Null;
        r.reward = Some(1.0);
    }
    let all: Vec<usize> = (0..rows.len()).collect();
    let g = groups(&rows, &all);
    assert_eq!((g.len(), g[0].key.as_str(), g[0].zero_std), (1, "—", false));
}

#[test]
fn columns_expand_dict_rewards_and_show_train_only_when_present() {
    let mut s = step();
    assert!(!columns(&s.rows).contains(&Column::AdvantageMean));
    s.rows[1].reward_fields = vec![("score".into(), json!(1.0)), ("acc".into(), json!(true))];
    s.rows[2].reward_fields = vec![("pred".into(), json!("4")), ("score".into(), json!(0.0))];
    s.rows[3].train = Some(Box::new(TrainFields {
        advantage_mean: Some(0.5),
        ..Default::default()
    }));
    let cols = columns(&s.rows);
    let fields: Vec<String> = cols
        .iter()
        .filter_map(|c| match c {
            Column::RewardField(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(fields, ["score", "acc", "pred"]);
    assert!(cols.contains(&Column::AdvantageMean));
    assert!(!cols.contains(&Column::KlMean));
    let idx = SearchIndex::new(&s);
    let v = view(
        &s,
        &idx,
        &Filter::default(),
        Some((&Column::RewardField("pred".into()), false)),
    );
    assert_eq!(positions(&s, &v)[0], 2);
}

#[test]
fn ten_thousand_rows_filter_and_sort_quickly() {
    // Bound: 10 000 rows × 500-char responses, 20 filter+sort passes in < 5 s (a
    // quadratic sort or a per-keystroke lowercase copy would blow it).
    let n = 10_000;
    let s = StepData {
        rows: (0..n)
            .map(|i| row(i, json!(i / 8), "completed", Some((i % 7) as f64)))
            .collect(),
        responses: (0..n).map(|i| format!("{}{i}", "x".repeat(500))).collect(),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let idx = SearchIndex::new(&s);
    let mut shown = 0;
    for k in 0..20 {
        let f = Filter {
            text: format!("x{k}"),
            ..Default::default()
        };
        let v = view(&s, &idx, &f, Some((&Column::Reward, k % 2 == 0)));
        shown += v.order.len();
        let _ = groups(&s.rows, &v.order);
    }
    assert!(shown > 0);
    assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
}

#[test]
fn keys_move_the_selection_and_stop_at_the_ends() {
    assert_eq!(next_selection(0, None, 1), None);
    assert_eq!(next_selection(3, None, 0), None);
    assert_eq!(next_selection(3, None, 1), Some(0));
    assert_eq!(next_selection(3, None, -1), Some(0));
    assert_eq!(next_selection(3, Some(0), -1), Some(0));
    assert_eq!(next_selection(3, Some(1), 1), Some(2));
    assert_eq!(next_selection(3, Some(2), 1), Some(2));
    assert_eq!(next_selection(3, Some(2), 0), Some(2));
}

#[test]
fn count_search_and_group_lines() {
    assert_eq!(
        count_line(500, 812, 1000),
        "showing 500 of 812 (filtered from 1000) samples"
    );
    assert_eq!(count_line(3, 3, 3), "showing 3 of 3 samples");
    let v = View {
        order: vec![],
        text_rows: 2,
        text_hits: 1,
    };
    assert_eq!(
        search_line(&v, 24),
        "2 of 24 responses contain it · 1 match in the shown samples"
    );
    let g = Group {
        key: "7".into(),
        members: vec![1, 2],
        size: 4,
        mean: Some(0.5),
        std: None,
        zero_std: false,
    };
    assert_eq!(
        group_head(&g),
        "group 7 · 4 samples · reward mean 0.5000 · std — · 2 shown by the filter"
    );
}

mod fixture {
    //! The step view's logic on the shared run (`tests/fixtures/run`), read by `trace`
    //! exactly as the worker reads a step.
    use super::super::*;
    use crate::run::token_view::{available_values, token_count, tool_segments, TokenValue};
    use std::path::{Path, PathBuf};
    use trace::run::{DumpKind, DumpRef, DumpScan, Step, TrainData};

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
    }

    fn open(id: i64) -> Step {
        let file = format!("rollout_data/{id}.pt");
        let bytes = std::fs::read(dir().join(&file)).unwrap();
        let mut scan = DumpScan::step();
        // In pieces, as the worker receives a file.
        for chunk in bytes.chunks(64 << 10) {
            scan.push(chunk).unwrap();
        }
        let train_file = format!("train_data/{id}.pt");
        let train = TrainData::read(&std::fs::read(dir().join(&train_file)).unwrap(), true);
        let dump = DumpRef {
            rollout_id: id,
            kind: DumpKind::Train,
            file,
            train_file: Some(train_file),
        };
        Step::new(dump, scan.finish().unwrap(), Some(train))
    }

    fn reference() -> serde_json::Value {
        let text = std::fs::read_to_string(dir().join("run_reference.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn zero_std_groups_are_slimes() {
        let r = reference();
        for id in 0..=5 {
            let step = open(id).data();
            let all: Vec<usize> = (0..step.rows.len()).collect();
            let g = groups(&step.rows, &all);
            assert_eq!(g.len(), 6, "rollout {id}: 6 groups of 4");
            assert!(g.iter().all(|g| g.size == 4 && g.members.len() == 4));
            let meta = r["rollouts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["rollout_id"] == id && x["kind"] == "train")
                .unwrap();
            let want: i64 = meta
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with("rollout/zero_std/count_"))
                .map(|(_, v)| v.as_i64().unwrap())
                .sum();
            let got = g.iter().filter(|g| g.zero_std).count() as i64;
            assert_eq!(got, want, "rollout {id}");
        }
    }

    #[test]
    fn rollout_2_dict_rewards_script_text_and_sort() {
        let step = open(2).data();
        assert_eq!(step.rows.len(), 24);
        let cols = columns(&step.rows);
        for k in ["score", "acc", "pred"] {
            assert!(cols.contains(&Column::RewardField(k.into())), "{k}");
        }
        assert!(cols.contains(&Column::AdvantageMean));
        let idx = SearchIndex::new(&step);
        let f = Filter {
            text: "<SCRIPT>alert(1)".into(),
            ..Default::default()
        };
        let v = view(&step, &idx, &f, None);
        let pos: Vec<usize> = v.order.iter().map(|&i| step.rows[i].position).collect();
        assert_eq!(pos, vec![19]);
        let v = view(
            &step,
            &idx,
            &Filter::default(),
            Some((&Column::Reward, true)),
        );
        let rewards: Vec<f64> = v
            .order
            .iter()
            .filter_map(|&i| step.rows[i].reward)
            .collect();
        assert_eq!(rewards.len(), 24);
        assert!(rewards.windows(2).all(|w| w[0] >= w[1]), "{rewards:?}");
        assert!(rewards[0] > rewards[23]);
    }

    #[test]
    fn rollout_4_long_line_has_every_token_and_value() {
        let step = open(4);
        let d = step.detail(21, None).unwrap();
        assert!(d.response.contains(&"=".repeat(20_000)));
        assert_eq!(Some(token_count(&d) as f64), d.row.response_length);
        assert_eq!(token_count(&d), 640);
        // This run has no reference model: every value but the reference's (and the
        // series slime keeps only when configured).
        let present = &TokenValue::ALL[..5];
        assert_eq!(available_values(&d), present.to_vec());
        for &v in present {
            assert_eq!(v.series(&d).unwrap().len(), 640, "{}", v.title());
        }
        // Without pieces (no tokenizer here) the response is shown whole and plain.
        assert_eq!(tool_segments(&d), None);
    }

    #[test]
    fn a_reference_model_adds_its_log_probs_and_the_gap() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run_flat");
        let bytes = std::fs::read(dir.join("rollout_3.pt")).unwrap();
        let mut scan = DumpScan::step();
        scan.push(&bytes).unwrap();
        let train = TrainData::read(&std::fs::read(dir.join("train_3_4.pt")).unwrap(), true);
        let dump = DumpRef {
            rollout_id: 3,
            kind: DumpKind::Train,
            file: "rollout_3.pt".into(),
            train_file: Some("train_3_4.pt".into()),
        };
        let step = Step::new(dump, scan.finish().unwrap(), Some(train));
        let d = step.detail(0, None).unwrap();
        let values = available_values(&d);
        assert!(values.contains(&TokenValue::RefLogProb) && values.contains(&TokenValue::RefGap));
        assert!(
            !values.contains(&TokenValue::Entropy),
            "no --use-rollout-entropy in this run"
        );
        let (lp, r) = (
            TokenValue::TrainLogProb.series(&d).unwrap(),
            TokenValue::RefLogProb.series(&d).unwrap(),
        );
        let gap = TokenValue::RefGap.series(&d).unwrap();
        assert_eq!(r.len(), lp.len());
        // slime's k1 KL is exactly this difference.
        let kl = TokenValue::Kl.series(&d).unwrap();
        assert!(gap.iter().zip(&kl).all(|(g, k)| (g - k).abs() < 1e-5));
        assert!((gap[0] - (lp[0] - r[0])).abs() < 1e-7);
    }

    #[test]
    fn removed_and_stale_samples_are_marked() {
        let mut r = SampleRow::default();
        assert!(flags(&r).is_empty());
        r.state.remove_sample = true;
        r.staleness = Some(2);
        assert_eq!(flags(&r), vec!["removed", "stale"]);
        r.staleness = Some(0);
        assert_eq!(flags(&r), vec!["removed"]);
    }
}

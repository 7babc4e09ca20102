use serde_json::{json, Map, Value as J};

use super::*;

fn rec(id: i64, kind: &str, n: u64, reward: f64) -> Map<String, J> {
    let v = json!({"rollout_id": id, "kind": kind, "sample_count": n, "reward/mean": reward});
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn samples_seen_counts_train_dumps_up_to_each() {
    let run = [
        rec(1, "train", 8, 0.0),
        rec(0, "train", 4, 0.0),
        rec(0, "eval", 100, 0.0),
        rec(2, "eval", 100, 0.0),
    ];
    assert_eq!(samples_seen(&run), [Some(12), Some(4), Some(0), Some(12)]);
}

#[test]
fn align_by_rollout_id_keeps_dumps_of_one_run_alone() {
    let a = [
        rec(0, "train", 4, 0.5),
        rec(1, "train", 4, 0.5),
        rec(0, "eval", 2, 0.5),
    ];
    let b = [rec(1, "train", 4, 0.75), rec(2, "train", 4, 0.0)];
    let pairs = align(&a, &b, Align::RolloutId);
    assert_eq!(
        pairs,
        [
            (Some(0), None),
            (Some(1), Some(0)),
            (None, Some(1)),
            (Some(2), None)
        ]
    );
    assert_eq!(deltas(&a[1], &b[0])["reward/mean"], json!(0.25));
    assert!(!deltas(&a[1], &b[0]).contains_key("rollout_id"));
}

#[test]
fn align_by_samples_seen_pairs_rollouts_of_other_sizes() {
    // A trains 4 samples a rollout, B 8: B's rollout 0 has seen what A's 1 has.
    let a: Vec<_> = (0..4).map(|i| rec(i, "train", 4, 0.0)).collect();
    let b: Vec<_> = (0..2).map(|i| rec(i, "train", 8, 0.0)).collect();
    let pairs = align(&a, &b, Align::SamplesSeen);
    assert_eq!(
        pairs,
        [
            (Some(0), None),
            (Some(1), Some(0)),
            (Some(2), None),
            (Some(3), Some(1))
        ]
    );
}

#[test]
fn logprob_diff_is_mean_and_max_of_abs_a_minus_b() {
    let a = [-1.0f32, -2.0, -0.5, f32::NAN];
    let b = [-1.5f32, -2.0, -0.25, -1.0, -9.0];
    assert_eq!(per_token_diff(&a, &b)[..3], [0.5, 0.0, -0.25]);
    let d = logprob_diff(&a, &b).expect("both have log probs");
    assert_eq!(d.tokens, 4);
    // The NaN of A's last token is not taken as equal: it is counted.
    assert_eq!(d.non_finite, 1);
    assert!(d.length_differs);
    assert!((d.mean_abs - 0.25).abs() < 1e-9, "{d:?}");
    assert_eq!((d.max_abs, d.max_at), (0.5, 0));
    assert_eq!(logprob_diff(&[], &b), None);
    // Only non-finite differences: counted, never a difference of 0 hidden as "no data".
    let d = logprob_diff(&[f32::NAN, f32::NEG_INFINITY], &[-1.0, f32::NEG_INFINITY]).unwrap();
    assert_eq!((d.tokens, d.non_finite, d.mean_abs), (2, 2, 0.0));
}

#[test]
fn deltas_reach_pass_rates_one_level_down_and_an_evals_pass_at_1() {
    let obj = |v: J| v.as_object().cloned().unwrap_or_default();
    // verl's and slime's train records: pass rates only in a nested object.
    let a = obj(json!({"pass_rate": {"pass@1": 0.25, "pass@2": 0.5}, "reward/mean": 0.5}));
    let b = obj(json!({"pass_rate": {"pass@1": 0.75, "pass@2": 0.5}, "reward/mean": 0.5}));
    let d = deltas(&a, &b);
    assert_eq!(d["pass_rate/pass@1"], json!(0.5));
    assert_eq!(d["pass_rate/pass@2"], json!(0.0));
    assert_eq!(d["pass@1"], json!(0.5));
    // An eval: pass@1 is the mean over its sets, as `rollscope run` shows it.
    let a = obj(json!({"eval/x-pass@1": 0.25, "eval/y-pass@1": 0.25}));
    let b = obj(json!({"eval/x-pass@1": 0.5, "eval/y-pass@1": 1.0}));
    assert_eq!(deltas(&a, &b)["pass@1"], json!(0.5));
    // No pass rate on one side: no pass@1 change.
    assert!(!deltas(&a, &obj(json!({}))).contains_key("pass@1"));
}

//! Two runs side by side on the replay pair: `tests/fixtures/run` and `run_replay`, whose train
//! log probs were shifted by a known amount (`run_replay/make_replay.py`'s `delta`).

use std::path::PathBuf;

use trace::run::{compare_train, most_different, SampleMatch, TrainData, TrainPair};

fn train(run: &str, id: i64) -> TrainData {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../tests/fixtures/{run}/train_data/{id}.pt"));
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    TrainData::read(&bytes, true).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `make_replay.py`'s B − A on token `j` of the sample at position `p` of rollout `r`.
fn delta(r: usize, p: usize, j: usize) -> f64 {
    let jitter = 0.001 * (((j * 7 + p * 3 + r) % 5) as f64 - 2.0);
    let drift = if p % 5 == 3 {
        0.05 * (1 + j % 3) as f64
    } else {
        0.0
    };
    jitter + drift
}

fn pair(id: i64, by: SampleMatch) -> TrainPair {
    compare_train(&train("run", id), &train("run_replay", id), by)
}

#[test]
fn the_replay_pair_differs_by_what_was_written() {
    for r in 0..4usize {
        let a = train("run", r as i64);
        let p = pair(r as i64, SampleMatch::Index);
        assert_eq!((p.only_a, p.only_b), (0, 0));
        assert_eq!(p.samples.len(), 24);
        let mut all_max = 0.0f64;
        for &(x, y, d) in &p.samples {
            assert_eq!(x, y);
            let n = a.tokens[&x].log_probs.len();
            let want: Vec<f64> = (0..n).map(|j| delta(r, x, j).abs()).collect();
            let mean = want.iter().sum::<f64>() / n as f64;
            let max = want.iter().copied().fold(0.0, f64::max);
            all_max = all_max.max(max);
            let d = d.expect("both have log probs");
            assert_eq!(d.tokens, n);
            // float32 rounding of values near -1..-10: a few 1e-7 per token.
            assert!(
                (d.mean_abs - mean).abs() < 1e-5,
                "r{r} p{x}: {d:?} vs {mean}"
            );
            assert!((d.max_abs - max).abs() < 1e-5, "r{r} p{x}: {d:?} vs {max}");
        }
        assert!((p.max_abs.unwrap_or(0.0) - all_max).abs() < 1e-5);
    }
}

#[test]
fn matching_by_prompt_tokens_finds_the_same_pairs() {
    for id in 0..4 {
        let p = pair(id, SampleMatch::Prompt);
        assert_eq!((p.only_a, p.only_b, p.samples.len()), (0, 0, 24));
        // Samples of one prompt pair in order, so a replay pairs each with itself.
        assert!(p.samples.iter().all(|&(x, y, _)| x == y), "{:?}", p.samples);
    }
}

#[test]
fn the_drifted_samples_differ_most() {
    let pairs: Vec<(i64, TrainPair)> = (0..4).map(|i| (i, pair(i, SampleMatch::Index))).collect();
    let refs: Vec<(i64, &TrainPair)> = pairs.iter().map(|(i, p)| (*i, p)).collect();
    let top = most_different(&refs, 20);
    assert_eq!(top.len(), 20);
    // 5 drifted samples (positions 3, 8, 13, 18, 23) in each of 4 rollouts: exactly the top 20.
    assert!(top.iter().all(|t| t.1 % 5 == 3), "{top:?}");
    assert!(top.windows(2).all(|w| w[0].3.mean_abs >= w[1].3.mean_abs));
}

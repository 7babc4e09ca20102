//! Tests of the token view's logic (values offered, series, colours, tool segments).

use super::*;

#[test]
fn a_response_is_shown_in_pages_cut_at_characters() {
    assert_eq!(response_shown("abc", 1), (3, true));
    assert_eq!(response_shown("", 0), (0, true));
    let long = "é".repeat(RESPONSE_PAGE + 1);
    assert_eq!(response_shown(&long, 1), (2 * RESPONSE_PAGE, false));
    assert_eq!(response_shown(&long, 2), (long.len(), true));
    let exact = "a".repeat(RESPONSE_PAGE);
    assert_eq!(response_shown(&exact, 1), (RESPONSE_PAGE, true));
}
use trace::run::{TokenPiece, TrainTokens};

fn detail() -> SampleDetail {
    let response = "ab\n<out>é</out>".to_string();
    let cuts = [(0, 2), (2, 3), (3, 8), (8, 9), (9, 15)];
    let chars: Vec<char> = response.chars().collect();
    let pieces = cuts
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| TokenPiece {
            id: i as u32,
            text: chars[s..e].iter().collect(),
            start: s,
            end: e,
        })
        .collect();
    SampleDetail {
        response,
        tokens: vec![0, 1, 2, 3, 4],
        loss_mask: vec![1, 1, 0, 0, 0],
        rollout_log_probs: vec![-0.1, -2.0, 0.0, 0.0, 0.0],
        pieces: Some(pieces),
        train: Some(TrainTokens {
            log_probs: vec![-0.2, -1.5, 0.0, 0.0, 0.0],
            rollout_log_probs: vec![-0.1, -2.0, 0.0, 0.0, 0.0],
            advantages: vec![0.5; 5],
            kl: vec![],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn tool_segments_follow_the_loss_mask_in_bytes() {
    let d = detail();
    let seg = tool_segments(&d).unwrap();
    assert_eq!(seg, vec![(0, 3, false), (3, d.response.len(), true)]);
    assert_eq!(&d.response[3..], "<out>é</out>");
    // Pieces that do not spell the response: no split at all.
    let mut bad = d.clone();
    bad.pieces.as_mut().unwrap()[1].text = "X".into();
    assert_eq!(tool_segments(&bad), None);
    let mut short = d.clone();
    short.pieces.as_mut().unwrap().pop();
    assert_eq!(tool_segments(&short), None);
    let mut none = d;
    none.pieces = None;
    assert_eq!(tool_segments(&none), None);
}

#[test]
fn token_values_offered_only_when_present() {
    let d = detail();
    assert_eq!(
        available_values(&d),
        vec![
            TokenValue::RolloutLogProb,
            TokenValue::TrainLogProb,
            TokenValue::Advantage,
            TokenValue::LogProbGap
        ]
    );
    let gap = TokenValue::LogProbGap.series(&d).unwrap();
    assert!((gap[0] + 0.1).abs() < 1e-6 && (gap[1] - 0.5).abs() < 1e-6);
    assert_eq!(token_count(&d), 5);
    let mut bare = d.clone();
    bare.pieces = None;
    bare.tokens.clear();
    bare.train = None;
    assert_eq!(available_values(&bare), vec![TokenValue::RolloutLogProb]);
    assert_eq!(token_count(&bare), 5, "one cell per rollout log prob");
    assert!(is_tool(&d, 2) && !is_tool(&d, 1) && !is_tool(&d, 99));
}

#[test]
fn colour_scales() {
    let lp = Scale::of(&[-3.0, f32::NAN, -0.5, 0.0], false).unwrap();
    assert_eq!((lp.min, lp.max), (-3.0, 0.0));
    assert_eq!(lp.color(-3.0).unwrap(), "hsla(0,85%,50%,0.750)");
    assert_eq!(lp.color(0.0).unwrap(), "hsla(0,85%,50%,0.000)");
    assert_eq!(lp.color(f32::NAN), None);
    let adv = Scale::of(&[-1.0, 2.0], true).unwrap();
    assert_eq!(adv.color(2.0).unwrap(), "hsla(215,85%,50%,0.750)");
    assert_eq!(adv.color(-1.0).unwrap(), "hsla(0,85%,50%,0.375)");
    assert_eq!(Scale::of(&[f32::NAN], true), None);
    assert_eq!(visible_ws(" a\n\t\u{1}"), "␣a↵⇥\\u{1}");
}

#[test]
fn a_series_of_sixteen_million_values_is_summarised_in_bounded_columns() {
    let n = 16_777_216;
    let values: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
    assert_eq!(Layout::of(n, false), Layout::Summary);
    let t = std::time::Instant::now();
    let b = summarize(&values, n, SUMMARY_COLUMNS, |i| i % 2 == 0);
    assert!(t.elapsed().as_secs_f64() < 10.0, "{:?}", t.elapsed());
    assert_eq!(b.len(), SUMMARY_COLUMNS);
    // The buckets tile 0..n in order, each non-empty.
    assert_eq!(b[0].start, 0);
    assert_eq!(b.last().map(|b| b.end), Some(n));
    assert!(b.windows(2).all(|w| w[0].end == w[1].start));
    assert!(b.iter().all(|b| b.end > b.start));
    let (lo, mean, hi) = b[0].stats.unwrap();
    assert_eq!((lo, hi), (-3.0, 3.0));
    assert!(mean.abs() < 0.01, "{mean}");
    assert_eq!(b.iter().map(|b| b.tool).sum::<usize>(), n / 2);
}

#[test]
fn summary_buckets_say_min_mean_max_and_missing_values() {
    let values = [1.0, f32::NAN, 3.0, -2.0, f32::NEG_INFINITY, 4.0];
    // Eight tokens, six values: the last bucket has none.
    let b = summarize(&values, 8, 4, |i| i == 7);
    let spans: Vec<(usize, usize)> = b.iter().map(|b| (b.start, b.end)).collect();
    assert_eq!(spans, vec![(0, 2), (2, 4), (4, 6), (6, 8)]);
    assert_eq!(b[0].stats, Some((1.0, 1.0, 1.0)));
    assert_eq!(b[1].stats, Some((-2.0, 0.5, 3.0)));
    assert_eq!(b[2].stats, Some((4.0, 4.0, 4.0)));
    assert_eq!(b[3].stats, None);
    assert_eq!((b[3].tool, b[0].tool), (1, 0));
    // Fewer tokens than columns: one bucket each; none at all: no buckets.
    assert_eq!(summarize(&values, 3, 1024, |_| false).len(), 3);
    assert!(summarize(&[], 0, 1024, |_| false).is_empty());
}

#[test]
fn layouts_and_text_pages() {
    assert_eq!(Layout::of(MAX_STRIP_CELLS, false), Layout::Cells);
    assert_eq!(Layout::of(MAX_STRIP_CELLS + 1, false), Layout::Summary);
    assert_eq!(Layout::of(450_000, true), Layout::Text);
    assert_eq!(text_shown(450_000, 0), TEXT_PAGE);
    assert_eq!(text_shown(450_000, 2), 2 * TEXT_PAGE);
    assert_eq!(text_shown(10, 5), 10);
    assert_eq!(text_shown(450_000, usize::MAX), 450_000);
}

#[test]
fn lengths_without_copies_agree_with_the_series() {
    let d = detail();
    for v in TokenValue::ALL {
        assert_eq!(v.len(&d), v.series(&d).map(|s| s.len()), "{}", v.title());
    }
}

#[test]
fn the_loss_mask_is_counted_from_the_dump_else_the_train_side() {
    let d = detail();
    assert_eq!(masked_count(&d, 5), Some(3));
    assert_eq!(masked_count(&d, 2), Some(0), "only the tokens shown count");
    let mut train_only = d.clone();
    train_only.loss_mask.clear();
    if let Some(t) = train_only.train.as_mut() {
        t.loss_masks = vec![1, 0, 1, 1, 1];
    }
    assert_eq!(masked_count(&train_only, 5), Some(1));
    assert!(is_tool(&train_only, 1) && !is_tool(&train_only, 0));
    let mut none = train_only;
    none.train = None;
    assert_eq!(
        masked_count(&none, 5),
        None,
        "no mask is not an all-trained mask"
    );
}

#[test]
fn the_prompt_is_counted_by_pieces_else_ids_and_a_long_one_shows_both_ends() {
    let mut d = detail();
    assert_eq!(prompt_count(&d), 0);
    d.prompt_tokens = vec![7; 3];
    assert_eq!(prompt_count(&d), 3, "ids without a tokenizer");
    d.prompt_pieces = Some(vec![TokenPiece {
        id: 7,
        text: "<|im_start|>".into(),
        start: 0,
        end: 12,
    }]);
    assert_eq!(prompt_count(&d), 1, "the pieces, when decoded");
    assert_eq!(prompt_shown(10), (0..10, 10..10));
    assert_eq!(
        prompt_shown(2 * PROMPT_EDGE),
        (0..2 * PROMPT_EDGE, 2 * PROMPT_EDGE..2 * PROMPT_EDGE)
    );
    let n = 1_000_000;
    let (head, tail) = prompt_shown(n);
    assert_eq!((head.len(), tail.len()), (PROMPT_EDGE, PROMPT_EDGE));
    assert_eq!(
        (head.start, tail.end),
        (0, n),
        "the start and the generation prompt"
    );
}

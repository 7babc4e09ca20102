//! Tests of the token view's logic (values offered, series, colours, tool segments).

use super::*;
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

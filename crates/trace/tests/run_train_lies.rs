//! Train payloads that lie (`picklegen::hostile::train`): each is read with a clear note for
//! what does not add up, and every other sample keeps its numbers.

use picklegen::hostile::catalog;
use picklegen::hostile::train::{good_sample, train_payload};
use trace::run::{layout, pair_train, scan_bytes, train_rollout_metrics, TrainData};

fn case(file: &str) -> Vec<u8> {
    catalog()
        .into_iter()
        .find(|c| c.file == file)
        .map(|c| c.bytes)
        .unwrap_or_else(|| panic!("{file} is in the catalog"))
}

#[test]
fn a_lying_rollout_id_pairs_by_the_payload() {
    let t = TrainData::read(&case("train_lying_rollout_id.pt"), false).expect("reads");
    assert_eq!(t.rollout_id, Some(99));
    // Named for rollout 3, it holds rollout 99: paired by its payload, rollout 3 has none.
    let mut l = layout(&["rollout_3.pt", "train_3_0.pt"]);
    assert_eq!(l.dumps[0].train_file.as_deref(), Some("train_3_0.pt"));
    pair_train(&mut l, &[("train_3_0.pt".into(), t.rollout_id)]);
    assert_eq!(l.dumps[0].train_file, None);
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("train_3_0.pt: train data without its rollout dump")),
        "{:?}",
        l.notes
    );
}

#[test]
fn absurd_ranks_are_just_ranks() {
    let t = TrainData::read(&case("train_absurd_ranks.pt"), false).expect("reads");
    assert_eq!(t.writer_rank, Some(-1));
    assert_eq!(t.fields.len(), 2);
    let m = train_rollout_metrics(&t.rollout, 0, 1, None);
    // Two ranks of one sample each: every value is still the samples' mean.
    assert_eq!(m["rollout/advantages"].as_f64(), Some(0.5));
    assert_eq!(m["rollout/log_probs"].as_f64(), Some(-0.25));
}

#[test]
fn a_series_longer_than_its_mask_is_a_note_and_the_rest_stays() {
    let t = TrainData::read(&case("train_mismatched_lengths.pt"), true).expect("reads");
    assert_eq!(t.fields[&0].advantage_masked_mean, Some(0.5));
    assert_eq!(t.fields[&1].advantage_masked_mean, None);
    assert_eq!(t.fields[&1].logprob_abs_diff, Some(0.25));
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("samples[1]: advantages has 6 values for 4 loss-mask entries")),
        "{:?}",
        t.notes
    );
    assert_eq!(t.tokens[&1].advantages.len(), 6, "the values as stored");
}

#[test]
fn nan_is_a_note_not_a_number() {
    let t = TrainData::read(&case("train_nan.pt"), false).expect("reads");
    assert_eq!(t.fields[&0].logprob_abs_diff, Some(0.25));
    assert_eq!(t.fields[&1].logprob_abs_diff, None);
    assert!(
        t.notes.iter().any(|n| n.contains("not finite")),
        "{:?}",
        t.notes
    );
    let m = train_rollout_metrics(&t.rollout, 0, 1, None);
    assert!(serde_json::to_string(&m).is_ok_and(|s| !s.contains("NaN")));
}

#[test]
fn a_huge_image_is_not_read() {
    let s = scan_bytes(&case("huge_image.pt"), true).expect("scans");
    assert_eq!(s.rows.len(), 1);
    // The train payload builder makes what the catalog uses.
    let t = TrainData::read(&train_payload(4, 0, &[good_sample(0, 0, 3)]), false).expect("reads");
    assert_eq!(t.rollout_id, Some(4));
}

#[test]
fn a_train_payload_named_like_a_rollout_is_said_to_be_one() {
    let err = scan_bytes(&case("train_nan.pt"), false).expect_err("not a rollout dump");
    assert!(err.contains("a train dump"), "{err}");
    assert!(scan_bytes(&case("huge_image.pt"), false).is_ok());
}

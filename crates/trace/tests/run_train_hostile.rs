//! Train dumps that cost little to write and much to read: tensors whose shape far exceeds
//! their storage (stride 0), named again and again through the pickle memo. The work a train
//! read does is bounded by its input (`Allowance::for_input`), like a rollout scan's.

use std::time::{Duration, Instant};

use picklegen::train::train_zip;
use trace::run::{Allowance, TrainData};

/// Generous (a read up to its allowance takes seconds in a debug build on a busy 2-core
/// machine); the unbounded one took minutes.
const BOUND: Duration = Duration::from_secs(60);

#[test]
fn a_shared_stride_zero_tensor_costs_what_the_file_allows() {
    // 4 M elements per reference from a 4-byte storage; 40 samples × 6 keys = 240
    // references (≈ 1 G elements unbounded) in a file of a few KB.
    let zip = train_zip(40, &[1 << 22], &[0]);
    let limit = Allowance::for_input(zip.len() as u64);
    for tokens in [false, true] {
        let t = Instant::now();
        let got = TrainData::read(&zip, tokens).expect("read");
        assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
        // Every sample still has its row.
        assert_eq!(got.fields.len(), 40);
        assert!(
            got.notes.iter().any(|n| n.contains("work limit")),
            "{:?}",
            got.notes
        );
        // What is kept is within the allowance (elements, each one unit).
        let kept: u64 = got
            .tokens
            .values()
            .map(|t| {
                (t.advantages.len()
                    + t.returns.len()
                    + t.kl.len()
                    + t.log_probs.len()
                    + t.rollout_log_probs.len()
                    + t.loss_masks.len()) as u64
            })
            .sum();
        assert!(kept <= limit, "{kept} > {limit}");
        if tokens {
            // The first sample, within the allowance, is read in full.
            assert_eq!(got.tokens[&0].advantages.len(), 1 << 22);
        }
    }
}

#[test]
fn a_tensor_with_many_unit_dimensions_is_read_in_linear_time() {
    // Shape [1; 200 000] + [1 000 000]: one million elements, each (unbounded) summing
    // 200 001 index products.
    let mut shape = vec![1i64; 200_000];
    shape.push(1_000_000);
    let stride = vec![0i64; shape.len()];
    let zip = train_zip(1, &shape, &stride);
    let t = Instant::now();
    let got = TrainData::read(&zip, true).expect("read");
    assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
    assert_eq!(got.tokens[&0].advantages.len(), 1_000_000);
    assert_eq!(got.fields[&0].advantage_mean, Some(1.0));
}

/// `zip` with the central entry named `name` given a ZIP64 local-header offset of `local`
/// (its 32-bit field set to 0xFFFFFFFF and a ZIP64 extra field appended).
fn with_zip64_local(zip: &[u8], name: &str, local: u64) -> Vec<u8> {
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as usize;
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let eocd = zip.len() - 22;
    assert_eq!(
        u32_at(zip, eocd),
        0x0605_4b50,
        "no comment after the end record"
    );
    let (size, offset) = (
        u32_at(zip, eocd + 12) as usize,
        u32_at(zip, eocd + 16) as usize,
    );
    let mut dir = Vec::new();
    let mut at = offset;
    while at < offset + size {
        let (n, x, c) = (
            u16_at(zip, at + 28),
            u16_at(zip, at + 30),
            u16_at(zip, at + 32),
        );
        let mut e = zip[at..at + 46 + n + x + c].to_vec();
        if &zip[at + 46..at + 46 + n] == name.as_bytes() {
            assert_eq!((x, c), (0, 0));
            e[42..46].copy_from_slice(&u32::MAX.to_le_bytes());
            e[30..32].copy_from_slice(&12u16.to_le_bytes());
            e.extend_from_slice(&[1, 0, 8, 0]);
            e.extend_from_slice(&local.to_le_bytes());
        }
        dir.extend_from_slice(&e);
        at += 46 + n + x + c;
    }
    let mut out = zip[..offset].to_vec();
    out.extend_from_slice(&dir);
    let mut end = zip[eocd..].to_vec();
    end[12..16].copy_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&end);
    out
}

#[test]
fn a_storage_whose_local_header_is_past_usize_is_a_note() {
    let zip = with_zip64_local(&train_zip(1, &[1], &[1]), "archive/data/0", u64::MAX - 10);
    let got = TrainData::read(&zip, true).expect("read");
    assert!(
        got.notes.iter().any(|n| n.contains("no local header")),
        "{:?}",
        got.notes
    );
    assert_eq!(got.fields[&0].advantage_mean, None);
    // The same file unpatched reads the value: the patch is what the note is about.
    let got = TrainData::read(&train_zip(1, &[1], &[1]), true).expect("read");
    assert_eq!(got.fields[&0].advantage_mean, Some(1.0));
}

//! The run reader on hostile input: every catalog file, shared large values, and train data
//! whose tensors lie about their storage. Each gives rows or a one-line error, within a bound.

use std::time::{Duration, Instant};

use picklegen::{zip_entries, Entry, Method, Pickle};
use trace::run::{scan_bytes, TrainData};

/// Generous (a scan up to its work allowance takes ≈7 s in a debug build on a busy 2-core
/// machine): this catches hangs and quadratic blowups, not slowness.
const BOUND: Duration = Duration::from_secs(60);

#[test]
fn every_catalog_case_scans_within_bounds() {
    for case in picklegen::hostile::catalog() {
        for step in [false, true] {
            let t = Instant::now();
            let got = scan_bytes(&case.bytes, step);
            assert!(t.elapsed() < BOUND, "{}: {:?}", case.file, t.elapsed());
            if let Ok(s) = got {
                assert!(s.rows.len() <= trace::MAX_SAMPLES, "{}", case.file);
                assert!(!step || s.details.len() == s.rows.len(), "{}", case.file);
            }
            let t = Instant::now();
            let _ = TrainData::read(&case.bytes, step);
            assert!(
                t.elapsed() < BOUND,
                "{}: train read {:?}",
                case.file,
                t.elapsed()
            );
        }
    }
}

/// `{"samples": [s, s, …]}` where every sample is a new dict naming one memoised 1 MiB
/// response and one memoised 100 000-event list: each reference costs the file 2 bytes.
fn shared_values(samples: usize) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list();
    p.mark();
    for i in 0..samples {
        p.empty_dict().mark();
        p.str("response");
        if i == 0 {
            p.str(&"x".repeat(1 << 20)).put(1);
        } else {
            p.get(1);
        }
        p.str("trace");
        if i == 0 {
            p.empty_dict().str("events").list_of(100_000, |p, k| {
                p.empty_dict()
                    .str("type")
                    .str("span_start")
                    .setitem()
                    .str("ts")
                    .float(k as f64)
                    .setitem();
            });
            p.setitem().put(2);
        } else {
            p.get(2);
        }
        p.setitems();
    }
    p.appends().setitem();
    p.stop()
}

#[test]
fn shared_large_values_cost_what_the_file_allows() {
    let bytes = shared_values(20_000);
    assert!(bytes.len() < 8 << 20, "{} bytes", bytes.len());
    for step in [false, true] {
        let t = Instant::now();
        let s = scan_bytes(&bytes, step).expect("a dump");
        assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
        assert_eq!(s.rows.len(), 20_000, "every sample has its row");
        // The allowance (64 × the file + 64 MiB) covers some samples in full, not all.
        assert!(
            s.over_budget > 0 && s.over_budget < 20_000,
            "{}",
            s.over_budget
        );
        assert!(
            s.notes.iter().any(|n| n.contains("work limit")),
            "{:?}",
            s.notes
        );
        let full = s
            .rows
            .iter()
            .filter(|r| r.response_chars == 1 << 20)
            .count();
        assert_eq!(full + s.over_budget, 20_000);
        if step {
            let text: usize = s.details.iter().map(|d| d.response.len()).sum();
            assert!(
                text as u64 <= 64 * bytes.len() as u64 + (64 << 20),
                "{text}"
            );
        }
    }
}

#[test]
fn a_tensor_that_lies_about_its_storage_is_a_note_not_a_crash() {
    // A train dump whose `advantages` tensor claims 1 000 000 floats from a 4-byte storage.
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    p.empty_dict().mark();
    p.str("rollout_position").int(0);
    p.str("local_raw_reward").float(1.0);
    p.str("advantages");
    picklegen::train::tensor(&mut p, &[1_000_000], &[1]);
    p.setitems().appends().setitem();
    let pkl = p.stop();
    let storage = 1.0f32.to_le_bytes();
    let stored = |name, data| Entry {
        name,
        data,
        method: Method::Stored,
    };
    let zip = zip_entries(&[
        stored("archive/data.pkl", &pkl),
        stored("archive/data/0", &storage),
    ]);
    let t = TrainData::read(&zip, true).expect("read");
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("advantages") && n.contains("needs 4000000 bytes")),
        "{:?}",
        t.notes
    );
    let f = &t.fields[&0];
    assert_eq!(f.raw_reward, Some(1.0));
    assert_eq!(f.advantage_mean, None);
}

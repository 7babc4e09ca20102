//! Span ids and names are interned by hashing their text: texts crafted to share one hash
//! must not make the build quadratic (each lookup comparing against every earlier one).

use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use picklegen::Pickle;

/// rustc-hash 2's `multiply_mix` on 64-bit targets.
fn multiply_mix(x: u64, y: u64) -> u64 {
    let full = (x as u128).wrapping_mul(y as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

/// `n` distinct 62-character ids whose JSON texts (64 bytes with the quotes) have one
/// FxHash: rustc-hash 2 hashes a long text 16 bytes at a time, a block mixing
/// `(state ^ first word) * (constant ^ second word)`; a third block whose first word equals
/// the state left by the first makes that product 0 whatever its second word, which is then
/// free. Found by trying first blocks until that state is printable text.
fn colliding_ids(n: usize) -> Vec<String> {
    const SEED1: u64 = 0x243f_6a88_85a3_08d3;
    const P: u64 = 0xa409_3822_299f_31d0;
    let printable = |b: u8| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\';
    let digits = |mut i: u64, out: &mut [u8]| {
        for b in out.iter_mut() {
            *b = b'a' + (i % 26) as u8;
            i /= 26;
        }
    };
    let mut text = [b'x'; 64];
    text[0] = b'"';
    text[63] = b'"';
    let mut k = 0u64;
    loop {
        digits(k, &mut text[1..16]);
        let x = u64::from_le_bytes(text[0..8].try_into().unwrap());
        let y = u64::from_le_bytes(text[8..16].try_into().unwrap());
        let state = multiply_mix(SEED1 ^ x, P ^ y).to_le_bytes();
        if state.iter().all(|&b| printable(b)) {
            text[32..40].copy_from_slice(&state);
            break;
        }
        k += 1;
    }
    (0..n as u64)
        .map(|i| {
            digits(i, &mut text[40..48]);
            String::from_utf8(text[1..63].to_vec()).unwrap()
        })
        .collect()
}

#[test]
fn the_crafted_ids_do_collide_under_fxhash() {
    let ids = colliding_ids(1000);
    let hash = |s: &str| rustc_hash::FxBuildHasher.hash_one(format!("\"{s}\"").as_str());
    assert!(ids.iter().all(|s| hash(s) == hash(&ids[0])));
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 1000);
}

/// One sample of `ids.len()` closed spans, span `k` with id `ids[k]`.
fn dump(ids: &[String]) -> Vec<u8> {
    let mut p = Pickle::proto(4);
    p.empty_dict().mark().str("samples").empty_list();
    p.empty_dict().mark().str("index").int(0).str("trace");
    p.empty_dict().mark().str("events").empty_list();
    for (k, id) in ids.iter().enumerate() {
        p.mark();
        for (kind, ts) in [("span_start", k as f64), ("span_end", k as f64 + 0.5)] {
            p.empty_dict()
                .mark()
                .str("type")
                .str(kind)
                .str("name")
                .str("n");
            p.str("ts").float(ts).str("span_id").str(id).setitems();
        }
        p.appends();
    }
    p.setitems().setitems().append().setitems();
    p.stop()
}

/// 20 000 spans whose ids share one FxHash: read within 5 s (≈ 0.6 s in a debug build with
/// a keyed hash; 17 s with FxHash, about 2·10^8 text comparisons).
#[test]
fn ids_crafted_to_collide_build_in_linear_time() {
    let ids = colliding_ids(20_000);
    let bytes = dump(&ids);
    let t = Instant::now();
    let compact = trace::load(&bytes, &trace::LoadOptions::new("x", 0.0)).unwrap();
    let took = t.elapsed();
    assert_eq!(compact.store.len(), 1);
    let row = compact.store.row(0);
    assert_eq!(row.items.len(), 20_000);
    assert!(took < Duration::from_secs(5), "{took:?}");
}

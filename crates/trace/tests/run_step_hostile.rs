//! A step's token view on hostile input: a tokenizer whose token stands for 1 024 bytes and a
//! sample of many such ids. Decoding is bounded per id, so the pieces could be 1 000 × the
//! dump's size; the step bounds what it produces instead.

use std::time::{Duration, Instant};

use picklegen::Pickle;
use tokenizer::Tokenizer;
use trace::run::{scan_bytes, Step, MAX_TEXT_CHARS};

const BOUND: Duration = Duration::from_secs(60);

#[test]
fn pieces_of_a_few_kilobytes_of_ids_stay_bounded() {
    let long = "x".repeat(1024);
    let tok = Tokenizer::from_json(
        format!(
            r#"{{"model": {{"vocab": {{"a": 0, "{long}": 1}}}}, "added_tokens": [], "decoder": {{"type": "ByteLevel"}}}}"#
        )
            .as_bytes(),
    )
    .expect("tokenizer");
    // Sample 0: 100 000 ids of token 1 (≈ 200 KB of pickle, 100 MiB decoded).
    let n = 100_000usize;
    let mut p = Pickle::proto(2);
    p.empty_dict().str("samples").empty_list().mark();
    p.empty_dict().mark();
    p.str("response").str("short");
    p.str("response_length").int(n as i64);
    p.str("tokens").list_of(n, |p, _| {
        p.int(1);
    });
    p.setitems();
    // And an honest one: "aaa" as three ids of token 0.
    p.empty_dict().mark();
    p.str("response").str("aaa");
    p.str("response_length").int(3);
    p.str("tokens").list_of(3, |p, _| {
        p.int(0);
    });
    p.setitems().appends().setitem();
    let bytes = p.stop();
    let scan = scan_bytes(&bytes, true).expect("scan");
    let dump = trace::run::layout(&["rollout_data/0.pt"]).dumps.remove(0);
    let step = Step::new(dump, scan, None);
    let t = Instant::now();
    let d = step.detail(0, Some(&tok)).expect("detail");
    assert!(t.elapsed() < BOUND, "{:?}", t.elapsed());
    assert_eq!(d.tokens.len(), n, "the ids themselves are kept");
    // The bound: the pieces' text is at most what a response may hold (4 bytes per char of
    // MAX_TEXT_CHARS); past it there are no pieces (the viewer shows the value strip).
    let text: usize = d
        .pieces
        .as_ref()
        .map_or(0, |p| p.iter().map(|x| x.text.len()).sum());
    assert!(text <= 4 * MAX_TEXT_CHARS, "{text} bytes of pieces");
    assert!(d.pieces.is_none());
    // An honest sample still gets its pieces.
    let d = step.detail(1, Some(&tok)).expect("detail");
    let pieces = d.pieces.expect("pieces");
    assert_eq!(pieces.len(), 3);
    assert_eq!(
        pieces.iter().map(|x| x.text.as_str()).collect::<String>(),
        "aaa"
    );
}

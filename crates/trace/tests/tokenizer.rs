//! `tokenizer` (with `trace`'s run reader): the run fixture's tokenizer decodes every sample's tokens to its text,
//! pieces split that text by token exactly, and hostile `tokenizer.json` files are clear,
//! bounded errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokenizer::{Piece, Tokenizer, TokenizerError, MAX_TOKENIZER_BYTES, MAX_TOKEN_BYTES};

fn run_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
}

fn fixture_tokenizer() -> Tokenizer {
    let bytes = std::fs::read(run_dir().join("tokenizer/tokenizer.json")).unwrap();
    Tokenizer::from_json(&bytes).unwrap()
}

/// The pieces concatenate to `text` and each one's offsets are where its text is.
fn check_pieces(pieces: &[Piece], ids: &[u32], text: &str, what: &str) {
    assert_eq!(pieces.len(), ids.len(), "{what}: one piece per id");
    let chars: Vec<char> = text.chars().collect();
    let mut joined = String::new();
    let mut at = 0;
    for (p, &id) in pieces.iter().zip(ids) {
        assert_eq!(p.id, id, "{what}");
        assert_eq!(p.start, at, "{what}: piece starts where the last ended");
        assert_eq!(p.end - p.start, p.text.chars().count(), "{what}");
        let slice: String = chars[p.start..p.end].iter().collect();
        assert_eq!(slice, p.text, "{what}: offsets point at the piece's text");
        joined.push_str(&p.text);
        at = p.end;
    }
    assert_eq!(at, chars.len(), "{what}: pieces cover the text");
    assert_eq!(joined, text, "{what}: pieces concatenate to the text");
}

fn ids_of(tree: &pt::Tree, v: &pt::Value) -> Vec<u32> {
    tree.as_seq(v)
        .expect("tokens is a list")
        .iter()
        .map(|t| match t {
            pt::Value::Int(i) => u32::try_from(*i).expect("token id fits u32"),
            other => panic!("token {other:?} is not an int"),
        })
        .collect()
}

/// The prompt text slime encoded: the prompt itself, or a message list through the run's
/// chat template (`<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
/// `<|im_start|>assistant\n`).
fn prompt_text(tree: &pt::Tree, v: &pt::Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    let mut out = String::new();
    for m in tree.as_seq(v).expect("prompt is a str or a list") {
        let m = trace::values::dict_of(tree, m).expect("a message is a dict");
        let field = |k: &str| m.get_str(k).and_then(|v| v.as_str()).unwrap().to_string();
        out += &format!(
            "<|im_start|>{}\n{}<|im_end|>\n",
            field("role"),
            field("content")
        );
    }
    out + "<|im_start|>assistant\n"
}

#[test]
fn every_rollout_sample_decodes_to_its_response_and_prompt() {
    let tok = fixture_tokenizer();
    assert_eq!(tok.len(), 3076, "ids 0–3071 in the vocab, 3072–3075 added");
    let mut files = 0;
    let mut samples = 0;
    let mut list_prompts = 0;
    let mut entries: Vec<_> = std::fs::read_dir(run_dir().join("rollout_data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pt"))
        .collect();
    entries.sort();
    let limits = pt::Limits {
        keep_numeric_list_max: None,
        ..pt::Limits::default()
    };
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dump = pt::read(&std::fs::read(&path).unwrap(), &limits).unwrap();
        let tree = &dump.tree;
        let list = tree.get(&tree.root, "samples").expect("a samples key");
        for (i, s) in tree.as_seq(list).expect("a sample list").iter().enumerate() {
            let what = format!("{name} sample {i}");
            let d = trace::values::dict_of(tree, s).expect("a sample dict");
            let ids = ids_of(tree, d.get_str("tokens").unwrap());
            let response = d.get_str("response").and_then(|v| v.as_str()).unwrap();
            let response_len = match d.get_str("response_length") {
                Some(pt::Value::Int(n)) => *n as usize,
                other => panic!("{what}: response_length {other:?}"),
            };
            let tail = &ids[ids.len() - response_len..];
            assert_eq!(tok.decode(tail), response, "{what}: response");
            check_pieces(&tok.pieces(tail), tail, response, &what);

            let prompt = prompt_text(tree, d.get_str("prompt").unwrap());
            if d.get_str("prompt").unwrap().as_str().is_none() {
                list_prompts += 1;
            }
            let all = tok.decode(&ids);
            assert!(
                all.starts_with(&prompt),
                "{what}: decoded tokens start with the prompt"
            );
            assert_eq!(
                all,
                prompt + response,
                "{what}: prompt text then the response"
            );
            check_pieces(&tok.pieces(&ids), &ids, &all, &what);
            samples += 1;
        }
        files += 1;
    }
    // 6 rollouts of 24 samples, 2 evals of 24: every file and sample was checked.
    assert_eq!(files, 8);
    assert_eq!(samples, 192);
    assert!(list_prompts > 0, "message-list prompts were checked too");
}

#[test]
fn added_and_special_tokens() {
    let tok = fixture_tokenizer();
    assert_eq!(tok.decode(&[3072]), "<think>");
    assert_eq!(
        tok.decode(&[3073, 3074, 3075]),
        "</think><tool_call></tool_call>"
    );
    assert_eq!(tok.token_bytes(3072), Some(&b"<think>"[..]));
    assert!(!tok.is_special(3072), "<think> is added, not special");
    assert_eq!(
        tok.decode(&[1, 2, 0]),
        "<|im_start|><|im_end|><|endoftext|>"
    );
    assert!(tok.is_special(0) && tok.is_special(1) && tok.is_special(2));
    assert!(!tok.is_special(3), "a vocab token is not special");
    assert!(!tok.is_special(9999), "an unknown id is not special");
}

/// The id of the token standing for exactly `bytes`.
fn id_for(tok: &Tokenizer, bytes: &[u8]) -> u32 {
    (0..tok.len() as u32)
        .find(|&id| tok.token_bytes(id) == Some(bytes))
        .unwrap_or_else(|| panic!("no token for {bytes:?}"))
}

#[test]
fn a_character_split_over_tokens_shows_on_the_token_that_completes_it() {
    let tok = fixture_tokenizer();
    // "é" is C3 A9; "€" is E2 82 AC: byte-level vocabularies have a token for every byte.
    let [c3, a9, e2, x82, xac] = [0xC3u8, 0xA9, 0xE2, 0x82, 0xAC].map(|b| id_for(&tok, &[b]));
    let a = id_for(&tok, b"a");
    let ids = [a, c3, a9, e2, x82, xac, a];
    assert_eq!(tok.decode(&ids), "aé€a");
    let pieces = tok.pieces(&ids);
    let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["a", "", "é", "", "", "€", "a"]);
    assert_eq!(
        (pieces[2].start, pieces[2].end),
        (1, 2),
        "char offsets, not bytes"
    );
    assert_eq!((pieces[6].start, pieces[6].end), (3, 4));
    check_pieces(&pieces, &ids, "aé€a", "split chars");

    // An incomplete character is U+FFFD, shown on the last token of the bad bytes, as
    // `from_utf8_lossy` gives it.
    let ids = [e2, x82, a, c3];
    assert_eq!(tok.decode(&ids), "\u{FFFD}a\u{FFFD}");
    let pieces = tok.pieces(&ids);
    let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["", "\u{FFFD}", "a", "\u{FFFD}"]);
    check_pieces(&pieces, &ids, "\u{FFFD}a\u{FFFD}", "broken chars");
}

#[test]
fn an_unknown_id_is_a_replacement_character() {
    let tok = fixture_tokenizer();
    let a = id_for(&tok, b"a");
    assert_eq!(tok.token_bytes(3076), None);
    assert_eq!(tok.decode(&[a, 3076, a, u32::MAX]), "a\u{FFFD}a\u{FFFD}");
    let pieces = tok.pieces(&[a, u32::MAX, a]);
    assert_eq!(pieces[1].text, "\u{FFFD}");
    check_pieces(&pieces, &[a, u32::MAX, a], "a\u{FFFD}a", "unknown id");
    assert_eq!(tok.decode(&[]), "");
    assert!(tok.pieces(&[]).is_empty());
}

#[test]
fn decoding_is_linear_in_ids() {
    // 200 000 ids decode and split into pieces well within the bound (a quadratic split
    // would take minutes): ≤ 5 s in debug for what takes ≈ 50 ms.
    let tok = fixture_tokenizer();
    let ids: Vec<u32> = (0..200_000u32).map(|i| i % 3080).collect();
    let started = Instant::now();
    let text = tok.decode(&ids);
    let pieces = tok.pieces(&ids);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(pieces.len(), ids.len());
    assert_eq!(pieces.last().unwrap().end, text.chars().count());
    // Output bound: at most 3 bytes out per byte of token (U+FFFD for an invalid byte).
    assert!(text.len() <= 3 * MAX_TOKEN_BYTES * ids.len());
}

// ---- hostile and unsupported files ----

/// A minimal byte-level BPE tokenizer.json around `vocab` (JSON text) and `rest` (more
/// top-level fields, with a leading comma).
fn file(vocab: &str, rest: &str) -> String {
    format!(
        r#"{{"model": {{"type": "BPE", "vocab": {vocab}, "merges": []}},
"decoder": {{"type": "ByteLevel"}}{rest}}}"#
    )
}

fn error_of(json: &str) -> String {
    let started = Instant::now();
    let e = Tokenizer::from_json(json.as_bytes()).expect_err("refused");
    // Each refusal is bounded: a parse of at most a few MB, ≤ 5 s even in debug.
    assert!(started.elapsed() < Duration::from_secs(5));
    e.to_string()
}

#[test]
fn a_minimal_file_reads() {
    let tok = Tokenizer::from_json(
        file(
            r#"{"h": 0, "i": 1, "Ġ": 2, "Ċ": 3}"#,
            r#", "added_tokens": [{"id": 4, "content": "<x>", "special": true}]"#,
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(tok.len(), 5);
    assert_eq!(tok.decode(&[0, 1, 2, 4, 3]), "hi <x>\n");
    assert!(tok.is_special(4));
    // A vocab token with a char outside the byte map stands for its own UTF-8, as in HF.
    let tok = Tokenizer::from_json(file(r#"{"a b": 0, "Ġc": 1}"#, "").as_bytes()).unwrap();
    assert_eq!(tok.decode(&[0, 1]), "a b c");
    // An added token replaces the vocab token of its id.
    let tok = Tokenizer::from_json(
        file(
            r#"{"x": 0}"#,
            r#", "added_tokens": [{"id": 0, "content": "<y>", "special": false}]"#,
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!((tok.len(), tok.decode(&[0]).as_str()), (1, "<y>"));
}

#[test]
fn not_json() {
    assert_eq!(
        error_of("{\n\"model\": {\n  \"vocab\" x"),
        "tokenizer.json: not JSON: expected `:` at line 3 column 11"
    );
    assert_eq!(
        error_of("{\"model\": {"),
        "tokenizer.json: not JSON: ends early at line 1 column 11"
    );
    assert_eq!(
        Tokenizer::from_json(b"\xff\xfe").unwrap_err().to_string(),
        "tokenizer.json: not JSON: expected value at line 1 column 1"
    );
}

#[test]
fn vocab_not_an_object() {
    assert_eq!(
        error_of(&file("[1, 2]", "")),
        "tokenizer.json: model.vocab is a list, not an object mapping tokens to ids"
    );
    assert_eq!(
        error_of(&file("\"x\"", "")),
        "tokenizer.json: model.vocab is a string, not an object mapping tokens to ids"
    );
    assert_eq!(
        error_of(r#"{"model": {"type": "BPE"}, "decoder": {"type": "ByteLevel"}}"#),
        "tokenizer.json: model has no vocab"
    );
    assert_eq!(
        error_of(r#"{"decoder": {"type": "ByteLevel"}}"#),
        "tokenizer.json: missing field `model` at line 1 column 34"
    );
}

#[test]
fn bad_ids() {
    assert_eq!(
        error_of(&file(r#"{"a": 0, "b": -1}"#, "")),
        "tokenizer.json: model.vocab: id -1 is negative (token \"b\") at line 1 column 52"
    );
    assert_eq!(
        error_of(&file(r#"{"a": 4194304}"#, "")),
        "tokenizer.json: model.vocab: id 4194304 is too large (ids are below 4194304) \
         (token \"a\") at line 1 column 49"
    );
    assert_eq!(
        error_of(&file(r#"{"a": 1e99}"#, "")),
        "tokenizer.json: model.vocab: id 1e99 is not an integer (token \"a\") at line 1 \
         column 46"
    );
    assert_eq!(
        error_of(&file(r#"{"a": 1.5}"#, "")),
        "tokenizer.json: model.vocab: id 1.5 is not an integer (token \"a\") at line 1 column 45"
    );
    assert_eq!(
        error_of(&file(r#"{"a": "1"}"#, "")),
        "tokenizer.json: model.vocab: id is a string, not an integer (token \"a\") at line 1 \
         column 45"
    );
    assert_eq!(
        error_of(&file(r#"{"a": 5, "b": 6, "c": 5}"#, "")),
        "tokenizer.json: model.vocab: id 5 given to two tokens (\"a\" and \"c\")"
    );
    assert_eq!(
        error_of(&file(
            r#"{"a": 0}"#,
            r#", "added_tokens": [{"id": 7, "content": "<x>"}, {"id": 7, "content": "<y>"}]"#
        )),
        "tokenizer.json: added_tokens: id 7 given to two tokens (\"<x>\" and \"<y>\")"
    );
    assert_eq!(
        error_of(&file(
            r#"{"a": 0}"#,
            r#", "added_tokens": [{"id": -3, "content": "<x>"}]"#
        )),
        "tokenizer.json: added_tokens: id -3 is negative (token \"<x>\") at line 2 column 80"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // The fields read sit at a fixed depth (≤ 4); anything below them is skipped by
    // serde_json's skipper, which does not recurse. 200 levels where an id or an added token
    // is expected are a specific error; 100 000 levels in a field that is not read cost no
    // stack (an overflow would abort this test binary) and the file reads.
    let deep_list = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        error_of(&file(&format!("{{\"a\": {deep_list}}}"), "")),
        "tokenizer.json: model.vocab: id is a list, not an integer (token \"a\") at line 1 \
         column 443"
    );
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    assert_eq!(
        error_of(&file(&format!("{{\"a\": {deep_obj}}}"), "")),
        "tokenizer.json: model.vocab: id is an object, not an integer (token \"a\") at line 1 \
         column 1243"
    );
    assert_eq!(
        error_of(&file(
            r#"{"a": 0}"#,
            &format!(", \"added_tokens\": [{deep_list}]")
        )),
        "tokenizer.json: added_tokens: an entry is a list, not an object {id, content} at line 2 \
         column 52"
    );
    let deeper = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let started = Instant::now();
    let tok =
        Tokenizer::from_json(file(r#"{"a": 0}"#, &format!(", \"extra\": {deeper}")).as_bytes())
            .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(tok.decode(&[0]), "a");
}

#[test]
fn a_2_mb_token_is_refused() {
    let long = "a".repeat(2_000_000);
    let e = error_of(&file(&format!("{{\"{long}\": 0}}"), ""));
    assert_eq!(
        e,
        format!(
            "tokenizer.json: model.vocab: token \"{}…\" stands for 2000000 bytes (at most \
             {MAX_TOKEN_BYTES}) at line 1 column 2000042",
            "a".repeat(40)
        )
    );
    let e = error_of(&file(
        r#"{"a": 0}"#,
        &format!(", \"added_tokens\": [{{\"id\": 1, \"content\": \"{long}\"}}]"),
    ));
    assert!(
        e.starts_with("tokenizer.json: added_tokens: token \"aaaa"),
        "{e}"
    );
    assert!(e.contains("stands for 2000000 bytes (at most 1024)"), "{e}");
    // Exactly the limit is fine.
    let edge = "a".repeat(MAX_TOKEN_BYTES);
    let tok = Tokenizer::from_json(file(&format!("{{\"{edge}\": 0}}"), "").as_bytes()).unwrap();
    assert_eq!(tok.token_bytes(0).map(<[u8]>::len), Some(MAX_TOKEN_BYTES));
}

#[test]
fn unsupported_tokenizers_are_named() {
    assert_eq!(
        error_of(r#"{"model": {"type": "Unigram", "vocab": [["a", -1.0]]}}"#),
        "tokenizer.json: model type Unigram is not supported (byte-level BPE only)"
    );
    assert_eq!(
        error_of(
            r#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "decoder": {"type": "WordPiece"}}"#
        ),
        "tokenizer.json: model type WordPiece is not supported (byte-level BPE only)"
    );
    assert_eq!(
        error_of(
            r#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "decoder": {"type": "Metaspace", "replacement": "▁"}}"#
        ),
        "tokenizer.json: decoder Metaspace is not supported (byte-level BPE only)"
    );
    assert_eq!(
        error_of(r#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "decoder": null}"#),
        "tokenizer.json: a tokenizer without a decoder is not supported (byte-level BPE only)"
    );
    // An old file without model.type is read as BPE.
    let tok = Tokenizer::from_json(
        br#"{"model": {"vocab": {"a": 0}}, "decoder": {"type": "ByteLevel"}}"#,
    )
    .unwrap();
    assert_eq!(tok.decode(&[0]), "a");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let big = vec![b' '; MAX_TOKENIZER_BYTES + 1];
    let e = Tokenizer::from_json(&big).unwrap_err();
    assert_eq!(e, TokenizerError::TooLarge(MAX_TOKENIZER_BYTES + 1));
    assert_eq!(
        e.to_string(),
        "tokenizer.json: 67108865 bytes is more than the 67108864 read"
    );
}

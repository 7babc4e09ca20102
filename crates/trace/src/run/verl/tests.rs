use super::*;

#[test]
fn which_file_is_a_verl_step_and_of_which_kind() {
    assert_eq!(
        verl_role("rollout", "12.jsonl"),
        Some((DumpKind::Train, 12))
    );
    assert_eq!(
        verl_role("val_generations", "0.jsonl"),
        Some((DumpKind::Eval, 0))
    );
    assert_eq!(
        verl_role("Validation", "4.jsonl"),
        Some((DumpKind::Eval, 4))
    );
    assert_eq!(verl_role("eval", "4.jsonl"), Some((DumpKind::Eval, 4)));
    assert_eq!(verl_role("", "3.jsonl"), Some((DumpKind::Train, 3)));
    for name in [
        "x.jsonl",
        "3.json",
        ".jsonl",
        "1e3.jsonl",
        "99999999999999999999.jsonl",
    ] {
        assert_eq!(verl_role("rollout", name), None, "{name}");
    }
    assert!(is_verl_path("run/validation/2.jsonl"));
    assert!(!is_verl_path("run/rollout_data/2.pt"));
}

#[test]
fn a_line_without_a_score_or_with_another_step_is_said_and_kept() {
    let mut s = VerlScan::new(false);
    s.push(b"{\"input\": \"a\", \"output\": \"b\", \"step\": 3, \"score\": true}\n");
    s.push(b"{\"input\": \"a\", \"output\": \"b\", \"step\": 4}\n");
    let got = s.finish().unwrap_or_default();
    assert_eq!(got.rows.len(), 2);
    assert_eq!(got.rows[0].reward, Some(1.0));
    assert_eq!(got.rows[1].reward, None);
    assert_eq!(got.rollout_id, Some(3));
    assert_eq!(
        got.notes,
        [
            "line 2: no score",
            "line 2: step 4, where the file's first line says 3"
        ]
    );
}

#[test]
fn an_empty_file_is_an_error() {
    let e = VerlScan::new(false).finish().err().unwrap_or_default();
    assert_eq!(e, "no verl sample in the file (no lines)");
}

#[test]
fn zz_size() {
    eprintln!("SIZE {}", std::mem::size_of::<crate::run::SampleRow>());
}

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
fn a_leading_zero_is_a_note_and_the_step_verl_writes_comes_first() {
    let l = crate::run::layout(&["rollout/01.jsonl", "rollout/1.jsonl", "val/007.jsonl"]);
    let got: Vec<(i64, &str)> = l
        .dumps
        .iter()
        .map(|d| (d.rollout_id, d.file.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "rollout/1.jsonl"),
            (1, "rollout/01.jsonl"),
            (7, "val/007.jsonl")
        ]
    );
    for note in [
        "rollout/01.jsonl: step 01 has a leading zero (verl would write 1); read as step 1",
        "rollout/01.jsonl: a second train dump for rollout 1 (after rollout/1.jsonl); both are read",
        "val/007.jsonl: step 007 has a leading zero (verl would write 7); read as step 7",
    ] {
        assert!(l.notes.iter().any(|n| n == note), "{note}\n{:#?}", l.notes);
    }
    assert_eq!(l.notes.len(), 3, "{:#?}", l.notes);
}

#[test]
fn a_byte_order_mark_before_the_first_line_is_skipped() {
    let mut s = VerlScan::new(false);
    s.push(b"\xEF\xBB\xBF{\"input\": \"a\", \"output\": \"b\", \"step\": 3, \"score\": 1}\n");
    let got = s.finish().unwrap_or_default();
    assert_eq!(got.rows.len(), 1);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn uids_alike_in_their_first_characters_stay_two_groups() {
    let same = "u".repeat(300);
    let mut s = VerlScan::new(false);
    for (tail, score) in [("a", 1), ("b", 0), ("a", 1), ("b", 0)] {
        let line = format!(
            "{{\"input\": \"q\", \"output\": \"o\", \"score\": {score}, \"step\": 1, \
             \"uid\": \"{same}{tail}\"}}\n"
        );
        s.push(line.as_bytes());
    }
    let got = s.finish().unwrap_or_default();
    assert_ne!(got.rows[0].group_index, got.rows[1].group_index);
    assert_eq!(got.rows[0].group_index, got.rows[2].group_index);
    assert!(got.rows[0]
        .group_index
        .as_str()
        .is_some_and(|g| g.chars().count() < 230));
}

#[test]
fn a_big_list_extra_is_a_short_note_not_a_value() {
    let mut s = VerlScan::new(true);
    let list = format!("[{}0]", "0,".repeat(100_000));
    let line = format!(
        "{{\"input\": \"q\", \"output\": \"o\", \"score\": 1, \"step\": 1, \"x\": {list}, \"acc\": true}}\n"
    );
    s.push(line.as_bytes());
    let got = s.finish().unwrap_or_default();
    let want = format!("<a list of {} bytes, not read>", list.len());
    assert_eq!(
        got.rows[0].reward_fields[1],
        ("x".to_string(), serde_json::json!(want))
    );
    assert_eq!(got.details[0].metadata["x"], serde_json::json!(want));
    assert_eq!(got.rows[0].reward_fields[0].1, serde_json::json!(true));
}

#[test]
fn a_line_of_many_keys_keeps_the_first_by_name_and_counts_the_rest() {
    // 100 000 extra keys, largest name first: the row shows the 32 smallest names, as when
    // every key was read, and the note counts the others.
    let mut line = String::from("{\"score\": 1, \"uid\": \"g\"");
    for i in (0..100_000).rev() {
        line.push_str(&format!(", \"k{i:06}\": {i}"));
    }
    line.push_str("}\n");
    let mut s = VerlScan::new(true);
    s.push(line.as_bytes());
    let got = s.finish().unwrap_or_default();
    let names: Vec<&str> = got.rows[0]
        .reward_fields
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    // (`uid` is an extra too; it sorts after the `k…` names.)
    let want: Vec<String> = (0..32).map(|i| format!("k{i:06}")).collect();
    assert_eq!(names, want);
    assert_eq!(
        got.notes,
        ["line 1: 99969 more extra keys than the 32 shown"]
    );
}

#[test]
fn lines_without_input_are_not_one_prompts_group() {
    let mut s = VerlScan::new(false);
    s.push(b"{\"score\": 1, \"step\": 1}\n{\"score\": 0, \"step\": 1}\n");
    let got = s.finish().unwrap_or_default();
    let l = crate::run::layout(&["rollout/1.jsonl"]);
    let (sum, _) = summary::summarize_verl(&l.dumps[0], got);
    assert_eq!(
        sum.metrics["group_size"],
        serde_json::json!(1),
        "{:#?}",
        sum.metrics
    );
    assert_eq!(sum.pass_at(1), Some(0.5));
}

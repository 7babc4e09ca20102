use super::*;

#[test]
fn loose_templates_are_refused_naming_the_flag() {
    let t = |r: &str, tr: Option<&str>| Templates {
        rollout: Some(r.into()),
        train: tr.map(Into::into),
    };
    assert_eq!(
        t(
            "d/rollout_{rollout_id}.pt",
            Some("d/t_{rollout_id}_{rank}.pt")
        )
        .check(),
        Ok(())
    );
    assert_eq!(Templates::default().check(), Ok(()));
    let e = t("d/rollout.pt", None).check().unwrap_err();
    assert!(
        e.starts_with(
            "--save-debug-rollout-data \"d/rollout.pt\": no {rollout_id} in the file name"
        ),
        "{e}"
    );
    let e = t("d/{rollout_id}/data.pt", None).check().unwrap_err();
    assert!(
        e.starts_with(
            "--save-debug-rollout-data \"d/{rollout_id}/data.pt\": a {…} slot in the folder part"
        ),
        "{e}"
    );
    let e = t("d/r_{rollout_id}.pt", Some("t/{rank}/x_{rollout_id}.pt"))
        .check()
        .unwrap_err();
    assert!(e.starts_with("--save-debug-train-data"), "{e}");
    let e = t("d/r_{rollout_id}.pt", Some("t/train_{rank}.pt"))
        .check()
        .unwrap_err();
    assert!(e.contains("no {rollout_id} in the file name"), "{e}");
}

#[test]
fn a_missing_train_file_is_named_as_the_layout_names_it() {
    let dump = |file: &str| DumpRef {
        rollout_id: 3,
        kind: DumpKind::Train,
        file: file.into(),
        train_file: None,
    };
    assert_eq!(
        expected_train(&dump("rollout_data/3.pt")),
        "train_data/3.pt"
    );
    assert_eq!(
        expected_train(&dump("run/rollout_data/3.pt")),
        "train_data/3.pt"
    );
    let flat = expected_train(&dump("rollout_3.pt"));
    assert!(flat.contains("train_3_{rank}.pt"), "{flat}");
    assert!(!flat.contains("train_data/"), "{flat}");
}

#[test]
fn dump_details_folder_with_a_prefix() {
    let l = layout(&[
        "run/rollout_data/10.pt",
        "run/rollout_data/2.pt",
        "run/rollout_data/eval_2.pt",
        "run/train_data/2.pt",
        "run/train_data/7.pt",
        "run/tokenizer/tokenizer.json",
        "run/tokenizer/tokenizer_config.json",
        "run/rollout_data/notes.txt",
    ]);
    let got: Vec<_> = l
        .dumps
        .iter()
        .map(|d| {
            (
                d.rollout_id,
                d.kind,
                d.file.as_str(),
                d.train_file.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                DumpKind::Train,
                "run/rollout_data/2.pt",
                Some("run/train_data/2.pt")
            ),
            (2, DumpKind::Eval, "run/rollout_data/eval_2.pt", None),
            (10, DumpKind::Train, "run/rollout_data/10.pt", None),
        ]
    );
    assert_eq!(l.tokenizer.as_deref(), Some("run/tokenizer/tokenizer.json"));
    assert!(l
        .notes
        .iter()
        .any(|n| n.contains("train_data/7.pt: train data without")));
    assert!(l.notes.iter().any(|n| n.contains("1 other files ignored")));
}

#[test]
fn the_largest_id_leaves_the_unnamed_at_the_end() {
    let l = layout(&[
        "rollout_data/9007199254740991.pt",
        "rollout_data/x.pt",
        "rollout_data/y.pt",
    ]);
    let ids: Vec<_> = l.dumps.iter().map(|d| d.rollout_id).collect();
    let m = MAX_NAMED_ROLLOUT_ID;
    assert_eq!(ids, [m, m + 1, m + 2]);
    assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
    // i64::MAX names no id: numbered from 0 like the unnamed.
    let l = layout(&["9223372036854775807.pt", "x.pt"]);
    let ids: Vec<_> = l.dumps.iter().map(|d| d.rollout_id).collect();
    assert_eq!(ids, [0, 1]);
}

#[test]
fn a_list_of_dumps() {
    let l = layout(&["rollout_3.pt", "rollout_1.pt", "nothing.pt", "eval_1.pt"]);
    let ids: Vec<_> = l.dumps.iter().map(|d| (d.rollout_id, d.kind)).collect();
    let want = [
        (1, DumpKind::Train),
        (1, DumpKind::Eval),
        (3, DumpKind::Train),
        (4, DumpKind::Train),
    ];
    assert_eq!(ids, want);
    let note = "nothing.pt: no rollout id in the name; shown as rollout 4";
    assert!(l.notes.iter().any(|n| n == note), "{:?}", l.notes);
    // No train_data folder at all: nothing is missing.
    assert!(!l.notes.iter().any(|n| n.contains("no train_data")));
}

/// What slime writes is the rule (`{rollout_id}` from a Python int): a leading zero still
/// names one id, the name slime would write first when both are there; a negative or huge
/// id names none (numbered after the others); each is a note, and every dump is read.
#[test]
fn flat_name_oddities_are_notes_and_hide_no_dump() {
    let huge = "rollout_99999999999999999999999999999999.pt";
    let l = layout(&[
        "rollout_04.pt",
        "rollout_4.pt",
        "rollout_-1.pt",
        "rollout_1.pt",
        huge,
        "rollout_9007199254740992.pt",
        "rollout_07.pt",
        "run-2.pt",
    ]);
    let got: Vec<_> = l
        .dumps
        .iter()
        .map(|d| (d.rollout_id, d.file.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "rollout_1.pt"),
            (2, "run-2.pt"),
            (4, "rollout_4.pt"),
            (4, "rollout_04.pt"),
            (7, "rollout_07.pt"),
            (8, "rollout_-1.pt"),
            (9, huge),
            (10, "rollout_9007199254740992.pt"),
        ]
    );
    for note in [
        "rollout_04.pt: rollout id 04 has a leading zero (slime would write 4); read as rollout 4",
        "rollout_04.pt: a second train dump for rollout 4 (after rollout_4.pt); both are read",
        "rollout_07.pt: rollout id 07 has a leading zero (slime would write 7); read as rollout 7",
        "rollout_-1.pt: rollout id -1 is negative (slime numbers rollouts from 0); shown as rollout 8",
        "rollout_99999999999999999999999999999999.pt: rollout id 999999999999999999999999… \
         is not a number up to 9007199254740991; shown as rollout 9",
        "rollout_9007199254740992.pt: rollout id 9007199254740992 is not a number up to \
         9007199254740991; shown as rollout 10",
    ] {
        assert!(l.notes.iter().any(|n| n == note), "{note}\n{:#?}", l.notes);
    }
    assert_eq!(l.notes.len(), 6, "{:#?}", l.notes);
    // Eval dumps under slime's template: the same rule.
    let t = Templates {
        rollout: Some("d/rollout_{rollout_id}.pt".into()),
        train: None,
    };
    let l = layout_with(&["rollout_eval_05.pt", "rollout_eval_5.pt"], &t);
    let got: Vec<_> = l
        .dumps
        .iter()
        .map(|d| (d.rollout_id, d.kind, d.file.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (5, DumpKind::Eval, "rollout_eval_5.pt"),
            (5, DumpKind::Eval, "rollout_eval_05.pt")
        ]
    );
}

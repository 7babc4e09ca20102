//! Which file of a run is which, from paths alone.
//!
//! slime's `--dump-details DIR` writes `DIR/rollout_data/{id}.pt`, `DIR/rollout_data/eval_{id}.pt`,
//! `DIR/train_data/{id}.pt` and `DIR/tokenizer/tokenizer.json`. The paths may carry any prefix
//! (a browser's folder picker gives `run/rollout_data/0.pt`), or be a plain list of dumps
//! (`rollout_3.pt`, `eval_5.pt`): a dump's id is the last run of digits in its name, and a
//! name starting `eval_` is an eval. A `.pt` file whose folder is `train_data` is train data.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{DumpKind, DumpRef};

/// The dumps of a run, in slime's order: by rollout id, a rollout before its eval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunLayout {
    pub dumps: Vec<DumpRef>,
    /// `…/tokenizer/tokenizer.json` (or a `tokenizer.json` beside the dumps), if present.
    pub tokenizer: Option<String>,
    /// What was left out or is missing, one line each (e.g. a train dump without train data).
    pub notes: Vec<String>,
}

/// Most dumps one run may name: a run writes one per rollout step (thousands at most).
pub const MAX_DUMPS: usize = 100_000;

/// Sorts `paths` into a run (see the module doc). Paths use `/` as separator.
pub fn layout<S: AsRef<str>>(paths: &[S]) -> RunLayout {
    let mut out = RunLayout::default();
    let mut train: HashMap<i64, String> = HashMap::new();
    let mut dumps = Vec::new();
    let mut ignored = 0usize;
    let mut unnamed: Vec<String> = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let (dir, name) = match p.rsplit_once('/') {
            Some((d, n)) => (d.rsplit('/').next().unwrap_or(d), n),
            None => ("", p),
        };
        if name == "tokenizer.json" {
            // The run's own tokenizer folder wins over any other tokenizer.json.
            if dir == "tokenizer" || out.tokenizer.is_none() {
                out.tokenizer = Some(p.to_string());
            }
            continue;
        }
        let Some(stem) = name.strip_suffix(".pt") else {
            // Only a stray file among the dumps is worth a note (not a README or the
            // tokenizer's other files).
            ignored += (dir == "rollout_data" || dir == "train_data") as usize;
            continue;
        };
        let id = match last_number(stem) {
            Some(id) => id,
            None if dir == "train_data" => {
                out.notes
                    .push(format!("{p}: no rollout id in the name; left out"));
                continue;
            }
            None => {
                // A dump named without an id (`synth.pt`): numbered after the others, in order.
                unnamed.push(p.to_string());
                continue;
            }
        };
        if dir == "train_data" {
            train.insert(id, p.to_string());
            continue;
        }
        let kind = if stem.starts_with("eval_") {
            DumpKind::Eval
        } else {
            DumpKind::Train
        };
        dumps.push(DumpRef {
            rollout_id: id,
            kind,
            file: p.to_string(),
            train_file: None,
        });
    }
    let first = dumps
        .iter()
        .map(|d| d.rollout_id + 1)
        .max()
        .unwrap_or(0)
        .max(0);
    for (id, p) in (first..).zip(unnamed) {
        out.notes.push(format!(
            "{p}: no rollout id in the name; shown as rollout {id}"
        ));
        dumps.push(DumpRef {
            rollout_id: id,
            kind: DumpKind::Train,
            file: p,
            train_file: None,
        });
    }
    dumps.sort_by(|a, b| (a.rollout_id, a.kind, &a.file).cmp(&(b.rollout_id, b.kind, &b.file)));
    if dumps.len() > MAX_DUMPS {
        out.notes.push(format!(
            "{} dumps; only the first {MAX_DUMPS} are read",
            dumps.len()
        ));
        dumps.truncate(MAX_DUMPS);
    }
    // A rollout without its train data is said by its summary (`Flags::missing_train`).
    for d in &mut dumps {
        if d.kind == DumpKind::Train {
            d.train_file = train.remove(&d.rollout_id);
        }
    }
    let mut orphans: Vec<_> = train.into_values().collect();
    orphans.sort();
    for t in orphans {
        out.notes.push(format!(
            "{t}: train data without its rollout dump; left out"
        ));
    }
    if ignored > 0 {
        out.notes.push(format!("{ignored} other files ignored"));
    }
    out.dumps = dumps;
    out
}

/// The last run of ASCII digits in `s`, if it fits an i64.
fn last_number(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let end = b.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = b[..end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    s[start..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(last_number("x99999999999999999999"), None);
    }
}

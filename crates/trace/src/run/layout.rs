//! Which file of a run is which, from paths (the payload then confirms: [`pair_train`]).
//!
//! slime writes dumps through two templates, `--save-debug-rollout-data` (an eval's id is
//! `eval_{id}`, put into the `{rollout_id}` slot) and `--save-debug-train-data` (`{rollout_id}`
//! and the writer's `{rank}`). `--dump-details DIR` sets them to `DIR/rollout_data/{rollout_id}.pt`
//! and `DIR/train_data/{rollout_id}.pt`; the documented flat layout is `DIR/rollout_{rollout_id}.pt`
//! and `DIR/train_{rollout_id}_{rank}.pt`. So, for any prefix (a browser's folder picker gives
//! `run/rollout_data/0.pt`) and any names:
//! - a `.pt` file in a `train_data` folder, or whose name starts with `train`, is train data;
//!   its id is the first run of digits in its name (the rank comes after it), and the payload's
//!   own `rollout_id` wins once read ([`pair_train`]);
//! - a name with the word `eval` in it (`eval_5.pt`, `rollout_eval_5.pt`) is an eval dump;
//! - any other `.pt` is a rollout dump; a dump's id is the last run of digits in its name.
//!
//! [`Templates`] reads slime's own flags instead, exactly.

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
    /// Every train-data file, with the id its name gives (its payload may say otherwise).
    pub train: Vec<(Option<i64>, String)>,
}

/// What a file is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Dump(DumpKind),
    TrainData,
}

/// slime's two path templates (`--save-debug-rollout-data`, `--save-debug-train-data`), as the
/// user pastes them; each names files exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Templates {
    pub rollout: Option<String>,
    pub train: Option<String>,
}

impl Templates {
    /// What `name` (a file name, no folder) is under these templates, with its id.
    pub fn role(&self, name: &str) -> Option<(FileRole, Option<i64>)> {
        let file = |t: &String| t.rsplit('/').next().unwrap_or(t).to_string();
        if let Some(f) = self.rollout.as_ref().map(file) {
            if let Some(slots) = match_template(&f, name) {
                let id = slots
                    .iter()
                    .find(|(k, _)| k == "rollout_id")
                    .map(|(_, v)| v);
                return match id.map(|v| (v.strip_prefix("eval_"), v)) {
                    Some((Some(e), _)) => Some((FileRole::Dump(DumpKind::Eval), e.parse().ok())),
                    Some((None, v)) => Some((FileRole::Dump(DumpKind::Train), v.parse().ok())),
                    None => Some((FileRole::Dump(DumpKind::Train), None)),
                };
            }
        }
        let f = self.train.as_ref().map(file)?;
        let slots = match_template(&f, name)?;
        let id = slots.iter().find(|(k, _)| k == "rollout_id");
        Some((FileRole::TrainData, id.and_then(|(_, v)| v.parse().ok())))
    }
}

/// Matches `name` against a template of literal text and `{field}` slots (each slot takes at
/// least one character, as little as it can while the rest matches): the slots' values.
pub fn match_template(template: &str, name: &str) -> Option<Vec<(String, String)>> {
    // Literal pieces and slot names, alternating: lit, slot, lit, slot, …, lit.
    let mut lits = Vec::new();
    let mut slots = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        lits.push(&rest[..open]);
        slots.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    lits.push(rest);
    if slots.len() > 8 {
        return None;
    }
    let mut s = name.strip_prefix(lits[0])?;
    let mut out = Vec::new();
    for (k, slot) in slots.iter().enumerate() {
        let next = lits[k + 1];
        let last = k + 1 == slots.len();
        let at = if last {
            // The last literal ends the name.
            s.strip_suffix(next).map(str::len)?
        } else if next.is_empty() {
            // Two slots side by side: the first takes one run of digits.
            s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())
        } else {
            s.get(1..)?.find(next)? + 1
        };
        if at == 0 {
            return None;
        }
        out.push((slot.to_string(), s[..at].to_string()));
        s = &s[at + next.len()..];
    }
    (slots.is_empty() && s.is_empty() || !slots.is_empty()).then_some(out)
}

/// What a file is by its name alone (see the module doc), with the id its name gives.
fn role_by_name(dir: &str, stem: &str) -> (FileRole, Option<i64>) {
    let lower = stem.to_ascii_lowercase();
    if dir == "train_data" || lower.starts_with("train") {
        return (FileRole::TrainData, first_number(stem));
    }
    let words = lower.split(|c: char| !c.is_ascii_alphanumeric());
    let eval = words.clone().any(|w| {
        w == "eval" || w.starts_with("eval") && w[4..].bytes().all(|b| b.is_ascii_digit())
    });
    let kind = if eval {
        DumpKind::Eval
    } else {
        DumpKind::Train
    };
    (FileRole::Dump(kind), last_number(stem))
}

/// Most dumps one run may name: a run writes one per rollout step (thousands at most).
pub const MAX_DUMPS: usize = 100_000;

/// Sorts `paths` into a run (see the module doc). Paths use `/` as separator.
pub fn layout<S: AsRef<str>>(paths: &[S]) -> RunLayout {
    layout_with(paths, &Templates::default())
}

/// [`layout`], with slime's templates deciding for the names they match.
pub fn layout_with<S: AsRef<str>>(paths: &[S], templates: &Templates) -> RunLayout {
    let mut out = RunLayout::default();
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
        let (role, id) = templates
            .role(name)
            .unwrap_or_else(|| role_by_name(dir, stem));
        let kind = match role {
            FileRole::TrainData => {
                out.train.push((id, p.to_string()));
                continue;
            }
            FileRole::Dump(kind) => kind,
        };
        let Some(id) = id else {
            // A dump named without an id (`synth.pt`): numbered after the others, in order.
            unnamed.push(p.to_string());
            continue;
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
        .map(|d| d.rollout_id.saturating_add(1))
        .max()
        .unwrap_or(0)
        .max(0);
    // Ids come from names: one of i64::MAX leaves no room after it, so the unnamed count
    // on saturating (they share the last id, and their files tell them apart).
    for (k, p) in unnamed.into_iter().enumerate() {
        let id = first.saturating_add(i64::try_from(k).unwrap_or(i64::MAX));
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
    out.dumps = dumps;
    let by_name: Vec<(String, Option<i64>)> =
        out.train.iter().map(|(id, p)| (p.clone(), *id)).collect();
    pair_train(&mut out, &by_name);
    if ignored > 0 {
        out.notes.push(format!("{ignored} other files ignored"));
    }
    out
}

/// Pairs each rollout dump with its train data by rollout id: `ids` gives each train file's
/// id (the payload's `rollout_id` once read, else the name's). A rollout without train data
/// is said by its summary (`Flags::missing_train`); train data for no rollout, or a second
/// file for one rollout, is a note.
pub fn pair_train(l: &mut RunLayout, ids: &[(String, Option<i64>)]) {
    l.notes.retain(|n| !n.contains(TRAIN_NOTE_MARK));
    let mut train: HashMap<i64, String> = HashMap::new();
    let mut notes = Vec::new();
    for (file, id) in ids {
        let Some(id) = id else {
            notes.push(format!(
                "{file}: no rollout id in its name or payload{TRAIN_NOTE_MARK}"
            ));
            continue;
        };
        if let Some(first) = train.get(id) {
            notes.push(format!(
                "{file}: a second train dump for rollout {id} (after {first}){TRAIN_NOTE_MARK}"
            ));
            continue;
        }
        train.insert(*id, file.clone());
    }
    for d in &mut l.dumps {
        d.train_file = match d.kind {
            DumpKind::Train => train.remove(&d.rollout_id),
            DumpKind::Eval => None,
        };
    }
    let mut orphans: Vec<_> = train.into_values().collect();
    orphans.sort();
    for t in orphans {
        notes.push(format!(
            "{t}: train data without its rollout dump{TRAIN_NOTE_MARK}"
        ));
    }
    l.notes.extend(notes);
}

/// The train file a rollout dump would have beside it, as slime's flags name it: under
/// `--dump-details`, `train_data/{id}.pt`; in the documented flat layout,
/// `train_{id}_{rank}.pt` (the writer's rank unknown). For a note on a missing one.
pub fn expected_train(dump: &DumpRef) -> String {
    let (dir, _) = dump.file.rsplit_once('/').unwrap_or(("", &dump.file));
    let id = dump.rollout_id;
    if dir == "rollout_data" || dir.ends_with("/rollout_data") {
        format!("train_data/{id}.pt")
    } else {
        format!(
            "train data for rollout {id} (train_{id}_{{rank}}.pt by slime's documented template)"
        )
    }
}

/// Ends every note [`pair_train`] writes (so a second pairing replaces them).
const TRAIN_NOTE_MARK: &str = "; left out";

/// The first run of ASCII digits in `s`, if it fits an i64.
fn first_number(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let start = b.iter().position(u8::is_ascii_digit)?;
    let end = b[start..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(b.len(), |i| start + i);
    s[start..end].parse().ok()
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
    fn an_id_of_i64_max_leaves_the_unnamed_at_the_end() {
        let l = layout(&[
            "rollout_data/9223372036854775807.pt",
            "rollout_data/x.pt",
            "rollout_data/y.pt",
        ]);
        let ids: Vec<_> = l.dumps.iter().map(|d| d.rollout_id).collect();
        assert_eq!(ids, vec![i64::MAX; 3]);
        assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
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

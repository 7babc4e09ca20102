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
//! - a `{step}.jsonl` is a verl step log (`verl::verl_role`: eval when its folder's name
//!   starts with `val`, `eval` or `test`).
//!
//! [`Templates`] reads slime's own flags instead, exactly.

use std::collections::{HashMap, HashSet};

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
    /// Whether slime could have written a run through these templates, as far as reading one
    /// needs: each names its files by `{rollout_id}` in the file name, and its folder is
    /// literal (a run is read from one folder per template). The error names the flag.
    pub fn check(&self) -> Result<(), String> {
        for (flag, t) in [
            ("--save-debug-rollout-data", &self.rollout),
            ("--save-debug-train-data", &self.train),
        ] {
            let Some(t) = t else { continue };
            let (folder, file) = t.rsplit_once('/').unwrap_or(("", t));
            if folder.contains('{') || folder.contains('}') {
                return Err(format!(
                    "{flag} {t:?}: a {{…}} slot in the folder part; rollscope reads one folder \
                     per template, so only the file name may hold {{rollout_id}} \
                     (e.g. DIR/rollout_{{rollout_id}}.pt)"
                ));
            }
            if !file.contains("{rollout_id}") {
                return Err(format!(
                    "{flag} {t:?}: no {{rollout_id}} in the file name, so every rollout \
                     would write the same file (e.g. DIR/rollout_{{rollout_id}}.pt)"
                ));
            }
        }
        Ok(())
    }

    /// What `name` (a file name, no folder) is under these templates, with its id's text.
    pub fn role(&self, name: &str) -> Option<(FileRole, Option<String>)> {
        let file = |t: &String| t.rsplit('/').next().unwrap_or(t).to_string();
        if let Some(f) = self.rollout.as_ref().map(file) {
            if let Some(slots) = match_template(&f, name) {
                let id = slots
                    .iter()
                    .find(|(k, _)| k == "rollout_id")
                    .map(|(_, v)| v);
                return match id.map(|v| (v.strip_prefix("eval_"), v)) {
                    Some((Some(e), _)) => Some((FileRole::Dump(DumpKind::Eval), Some(e.into()))),
                    Some((None, v)) => Some((FileRole::Dump(DumpKind::Train), Some(v.clone()))),
                    None => Some((FileRole::Dump(DumpKind::Train), None)),
                };
            }
        }
        let f = self.train.as_ref().map(file)?;
        let slots = match_template(&f, name)?;
        let id = slots.into_iter().find(|(k, _)| k == "rollout_id");
        Some((FileRole::TrainData, id.map(|(_, v)| v)))
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

/// What a file is by its name alone (see the module doc), with the text of the id its name
/// gives.
fn role_by_name(dir: &str, stem: &str) -> (FileRole, Option<String>) {
    let lower = stem.to_ascii_lowercase();
    if dir == "train_data" || lower.starts_with("train") {
        return (FileRole::TrainData, first_number(stem).map(str::to_string));
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
    (FileRole::Dump(kind), last_number(stem).map(str::to_string))
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
    // Dumps whose names give no id slime would write, with why.
    let mut unnamed: Vec<(String, String)> = Vec::new();
    // Dumps whose names give an id slime would have written otherwise (`rollout_04.pt`).
    let mut odd: HashSet<String> = HashSet::new();
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
        if let Some((kind, id)) = super::verl::verl_role(dir, name) {
            // verl names a step log by its int step: a leading zero is slime's rule's case.
            let stem = name.trim_end_matches(".jsonl");
            if stem.len() > 1 && stem.starts_with('0') {
                out.notes.push(format!(
                    "{p}: step {stem} has a leading zero (verl would write {id}); read as step {id}"
                ));
                odd.insert(p.to_string());
            }
            dumps.push(DumpRef {
                rollout_id: id,
                kind,
                file: p.to_string(),
                train_file: None,
            });
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
                out.train
                    .push((id.and_then(|t| t.parse().ok()), p.to_string()));
                continue;
            }
            FileRole::Dump(kind) => kind,
        };
        // A dump named without an id (`synth.pt`), or with one slime never writes
        // (`rollout_-1.pt`): numbered after the others, in order.
        let id = match id.as_deref().map(dump_id) {
            None => Err("no rollout id in the name".to_string()),
            Some(Err(why)) => Err(why),
            Some(Ok((id, why))) => {
                if let Some(why) = why {
                    out.notes.push(format!("{p}: {why}"));
                    odd.insert(p.to_string());
                }
                Ok(id)
            }
        };
        let id = match id {
            Ok(id) => id,
            Err(why) => {
                unnamed.push((p.to_string(), why));
                continue;
            }
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
    for (k, (p, why)) in unnamed.into_iter().enumerate() {
        let id = first.saturating_add(i64::try_from(k).unwrap_or(i64::MAX));
        out.notes.push(format!("{p}: {why}; shown as rollout {id}"));
        dumps.push(DumpRef {
            rollout_id: id,
            kind: DumpKind::Train,
            file: p,
            train_file: None,
        });
    }
    // The dump named as slime names it first; a second dump for one rollout and kind is
    // read too (it may be train data by its keys, `ops::table::read_run`), and said.
    let is_odd = |d: &DumpRef| odd.contains(&d.file);
    dumps.sort_by(|a, b| {
        (a.rollout_id, a.kind, is_odd(a), &a.file).cmp(&(b.rollout_id, b.kind, is_odd(b), &b.file))
    });
    for w in dumps.windows(2) {
        if (w[0].rollout_id, w[0].kind) == (w[1].rollout_id, w[1].kind) {
            out.notes.push(format!(
                "{}: a second {} dump for rollout {} (after {}); both are read",
                w[1].file,
                w[1].kind.as_str(),
                w[1].rollout_id,
                w[0].file
            ));
        }
    }
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

/// The first run of ASCII digits in `s`.
fn first_number(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let start = b.iter().position(u8::is_ascii_digit)?;
    let end = b[start..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(b.len(), |i| start + i);
    Some(&s[start..end])
}

/// The last run of ASCII digits in `s`, with the `-` before it when that is a sign (at the
/// start, or after a separator: `rollout_-1`, not `rollout-1`).
fn last_number(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let end = b.iter().rposition(u8::is_ascii_digit)? + 1;
    let mut start = b[..end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let signed =
        start > 0 && b[start - 1] == b'-' && (start == 1 || !b[start - 2].is_ascii_alphanumeric());
    start -= usize::from(signed);
    Some(&s[start..end])
}

/// Largest rollout id a name may give: slime numbers rollouts from 0 by one per step, and a
/// larger id would not survive a JavaScript number (the run explorer) exactly.
pub const MAX_NAMED_ROLLOUT_ID: i64 = (1 << 53) - 1;

/// A dump's id from the text its name gives, as slime writes it (`{rollout_id}` formatted
/// from a Python int: no sign, no leading zero): `Ok((id, None))`; `Ok((id, Some(why)))` for
/// one slime would not write but that still names one id (a leading zero); `Err(why)` for
/// one that names none (negative, too large).
fn dump_id(text: &str) -> Result<(i64, Option<String>), String> {
    if text.starts_with('-') {
        return Err(format!(
            "rollout id {text} is negative (slime numbers rollouts from 0)"
        ));
    }
    let id = text
        .parse::<i64>()
        .ok()
        .filter(|id| (0..=MAX_NAMED_ROLLOUT_ID).contains(id));
    let Some(id) = id else {
        let shown: String = text.chars().take(24).collect();
        let more = if shown.len() < text.len() { "…" } else { "" };
        return Err(format!(
            "rollout id {shown}{more} is not a number up to {MAX_NAMED_ROLLOUT_ID}"
        ));
    };
    let odd = (text.len() > 1 && text.starts_with('0')).then(|| {
        format!(
            "rollout id {text} has a leading zero (slime would write {id}); read as rollout {id}"
        )
    });
    Ok((id, odd))
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;

//! An eval dump's datasets, told apart.
//!
//! slime's eval (`eval_rollout_single_dataset`, once per configured dataset, in config order)
//! concatenates every dataset's samples into one dump and names none of them; each dataset's
//! `index` restarts at 0. A dataset name is in a sample's metadata only when the user's eval
//! config put one there (`metadata_overrides`, read as [`super::sample::DATASET_KEYS`]). So a
//! new set starts where the metadata name changes or where `index` goes back (to 0, or below
//! the previous index). Names: the metadata's, else the user's (`--eval-names a,b`, in config
//! order), else `eval set 1`, `eval set 2`, ….

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use super::SampleRow;

/// Most eval sets one dump is split into; past it the rest joins the last set (a dump whose
/// `index` jumps back at every sample is not a list of datasets).
pub const MAX_EVAL_SETS: usize = 256;

/// One eval set of a dump: its name and its rows (`start..end` of the dump's rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalSet {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// Splits an eval dump's rows into its sets and writes each row's `eval_set` and
/// `eval_dataset` (the set's name). `names`: the user's names, in config order.
pub fn eval_sets(rows: &mut [SampleRow], names: &[String]) -> Vec<EvalSet> {
    let mut starts: Vec<usize> = Vec::new();
    let mut prev: Option<(i64, Option<&str>)> = None;
    for (i, r) in rows.iter().enumerate() {
        let index = r.index.as_i64();
        let name = r.eval_dataset.as_deref();
        let new = match (prev, index) {
            (None, _) => true,
            (Some((_, pn)), _) if pn != name => true,
            (Some((p, _)), Some(x)) => x == 0 || x < p,
            (Some(_), None) => false,
        };
        if new && starts.len() < MAX_EVAL_SETS {
            starts.push(i);
        }
        if let Some(x) = index {
            prev = Some((x, name));
        } else if let Some(p) = &mut prev {
            p.1 = name;
        } else {
            prev = Some((i64::MIN, name));
        }
    }
    let mut sets = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(rows.len());
        let name = rows[start]
            .eval_dataset
            .clone()
            .or_else(|| names.get(k).cloned())
            .unwrap_or_else(|| default_name(k));
        for r in &mut rows[start..end] {
            r.eval_set = Some(k);
            r.eval_dataset = Some(name.clone());
        }
        sets.push(EvalSet { name, start, end });
    }
    sets
}

/// The name of a dump's set `k` (from 0) that neither its metadata nor the user names.
fn default_name(k: usize) -> String {
    format!("eval set {}", k + 1)
}

/// A set's name as shown with names the user gave later (the run explorer's box, kept in its
/// link): a default `eval set N` takes the N-th of `names` (slime's config order), as
/// `--eval-names` would have named it; a name from metadata, or a blank entry, keeps it.
pub fn renamed_set(name: &str, names: &[String]) -> String {
    name.strip_prefix("eval set ")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n >= 1 && default_name(n - 1) == name)
        .and_then(|n| names.get(n - 1))
        .filter(|s| !s.is_empty())
        .map_or_else(|| name.to_string(), Clone::clone)
}

/// Eval set names as a user types them (`math500, aime24`): comma-separated, trimmed, at most
/// [`MAX_EVAL_SETS`] of at most 200 characters each; an empty entry leaves its set's name.
pub fn parse_eval_names(s: &str) -> Vec<String> {
    let mut names: Vec<String> = s
        .split(',')
        .take(MAX_EVAL_SETS)
        .map(|n| super::sample::cut(n.trim(), 200))
        .collect();
    while names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    names
}

/// `eval_datasets` of a dump's record: `[{"name", "sample_count"}, …]` in file order.
pub fn eval_sets_json(sets: &[EvalSet]) -> J {
    J::Array(
        sets.iter()
            .map(|s| serde_json::json!({"name": s.name, "sample_count": s.end - s.start}))
            .collect(),
    )
}

/// The set names of an `eval_datasets` value (new objects, or the plain names of older
/// records).
pub fn eval_set_names(v: &J) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().or_else(|| d.get("name").and_then(J::as_str)))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_given_later_rename_only_default_names() {
        let names = parse_eval_names(" math500 , ,aime24,, ");
        assert_eq!(names, ["math500", "", "aime24"]);
        assert_eq!(renamed_set("eval set 1", &names), "math500");
        assert_eq!(
            renamed_set("eval set 2", &names),
            "eval set 2",
            "blank: kept"
        );
        assert_eq!(renamed_set("eval set 3", &names), "aime24");
        assert_eq!(
            renamed_set("eval set 4", &names),
            "eval set 4",
            "no fourth name"
        );
        assert_eq!(renamed_set("eval set 01", &names), "eval set 01");
        assert_eq!(renamed_set("eval set 0", &names), "eval set 0");
        assert_eq!(
            renamed_set("gsm8k", &names),
            "gsm8k",
            "a metadata name stays"
        );
        assert!(parse_eval_names("").is_empty());
        let many = parse_eval_names(&"x,".repeat(10_000));
        assert_eq!(many.len(), MAX_EVAL_SETS);
        let long = parse_eval_names(&"y".repeat(5000));
        assert!(long[0].chars().count() < 250, "{}", long[0].len());
    }

    fn rows(indices: &[i64], names: &[Option<&str>]) -> Vec<SampleRow> {
        indices
            .iter()
            .zip(names)
            .map(|(&i, n)| SampleRow {
                index: J::from(i),
                eval_dataset: n.map(str::to_string),
                ..SampleRow::default()
            })
            .collect()
    }

    #[test]
    fn index_restarts_split_and_names_come_in_order() {
        let mut r = rows(&[0, 1, 2, 0, 1], &[None; 5]);
        let s = eval_sets(&mut r, &["math".into()]);
        let got: Vec<_> = s
            .iter()
            .map(|s| (s.name.as_str(), s.start, s.end))
            .collect();
        assert_eq!(got, vec![("math", 0, 3), ("eval set 2", 3, 5)]);
        assert_eq!(r[4].eval_set, Some(1));
        assert_eq!(r[4].eval_dataset.as_deref(), Some("eval set 2"));
    }

    #[test]
    fn metadata_names_win_and_split_without_a_restart() {
        let mut r = rows(&[0, 1, 2, 3], &[Some("a"), Some("a"), Some("b"), Some("b")]);
        let s = eval_sets(&mut r, &["x".into(), "y".into()]);
        let names: Vec<_> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            eval_set_names(&eval_sets_json(&s)),
            eval_set_names(&serde_json::json!(["a", "b"]))
        );
    }

    #[test]
    fn a_backwards_index_at_every_sample_stays_bounded() {
        let idx: Vec<i64> = (0..1000).rev().collect();
        let mut r = rows(&idx, &vec![None; 1000]);
        let s = eval_sets(&mut r, &[]);
        assert_eq!(s.len(), MAX_EVAL_SETS);
        assert_eq!(s.last().map(|s| s.end), Some(1000));
    }
}

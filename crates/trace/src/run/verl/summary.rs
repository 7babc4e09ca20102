//! A verl step log's [`RolloutSummary`] and `--json` records: slime's keys where the meaning is
//! the same, nothing for what verl does not record.

use serde_json::{Map, Value as J};

use super::super::metrics::pass_rate;
use super::super::{
    Dist, Dists, DumpKind, DumpRef, Flags, RolloutSummary, SampleRow, Scanned, SummaryExtra,
};
use crate::json::float_json;
use crate::metrics::{py_round1, stats};

/// The step's groups: rows of equal `uid` (wherever they sit in the file) when every row has
/// one, else runs of identical `input` (a row with no input text is a group of its own: lines
/// that say nothing of their prompt are not taken for one prompt); `Some((size, rows in group
/// order))` when every group has the same size, else `None`.
fn groups(rows: &[SampleRow]) -> Option<(usize, Vec<usize>)> {
    let mut keyed: Vec<(String, Vec<usize>)> = Vec::new();
    if !rows.is_empty() && rows.iter().all(|r| !r.group_index.is_null()) {
        let mut at: std::collections::HashMap<String, usize> = Default::default();
        for (i, r) in rows.iter().enumerate() {
            let k = r.group_index.to_string();
            let slot = *at.entry(k.clone()).or_insert_with(|| {
                keyed.push((k, Vec::new()));
                keyed.len() - 1
            });
            keyed[slot].1.push(i);
        }
    } else {
        for (i, r) in rows.iter().enumerate() {
            match keyed.last_mut() {
                Some((k, v)) if r.prompt_chars > 0 && *k == r.prompt_hash.to_string() => v.push(i),
                _ => keyed.push((r.prompt_hash.to_string(), vec![i])),
            }
        }
    }
    let size = keyed.first()?.1.len();
    keyed
        .iter()
        .all(|(_, v)| v.len() == size)
        .then(|| (size, keyed.into_iter().flat_map(|(_, v)| v).collect()))
}

/// pass@k for k = 1, 2, 4, … ≤ the group size (slime's `compute_pass_rate`; a pass is a score
/// of exactly 1), with pass@1 for groups of one too. `None` when a score is missing or the
/// groups differ in size.
fn pass_at_k(rows: &[SampleRow]) -> Option<(usize, Map<String, J>)> {
    let (size, order) = groups(rows)?;
    let rewards: Vec<f64> = order
        .iter()
        .map(|&i| rows[i].reward)
        .collect::<Option<_>>()?;
    if size == 1 {
        let pass = rewards.iter().filter(|&&r| r == 1.0).count() as f64 / rewards.len() as f64;
        let mut m = Map::new();
        m.insert("pass@1".into(), float_json(pass));
        return Some((1, m));
    }
    Some((size, pass_rate(&rewards, size)?))
}

/// The eval set's name: the folder the validation files are in (`validation`), else
/// `default` as slime names an unnamed set.
fn eval_name(file: &str) -> String {
    file.rsplit_once('/')
        .map(|(d, _)| d.rsplit('/').next().unwrap_or(d))
        .filter(|d| !d.is_empty())
        .unwrap_or("default")
        .to_string()
}

/// The step's rollout entry (see the module doc of `verl`).
fn verl_metrics(dump: &DumpRef, rows: &[SampleRow]) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("rollout_id".into(), J::from(dump.rollout_id));
    m.insert("kind".into(), J::from(dump.kind.as_str()));
    m.insert("file".into(), J::from(dump.file.clone()));
    m.insert("format".into(), J::from("verl"));
    m.insert("sample_count".into(), J::from(rows.len()));
    let rewards: Vec<f64> = rows.iter().filter_map(|r| r.reward).collect();
    if let Some(s) = stats(&rewards) {
        for (k, v) in [
            ("mean", s.mean),
            ("median", s.median),
            ("max", s.max),
            ("min", s.min),
        ] {
            m.insert(format!("reward/{k}"), float_json(v));
        }
    }
    let pass = pass_at_k(rows);
    if let Some((size, _)) = &pass {
        m.insert("group_size".into(), J::from(*size));
    }
    match dump.kind {
        DumpKind::Train => {
            if let Some((_, p)) = pass {
                m.insert("pass_rate".into(), J::Object(p));
            }
            for (k, n) in zero_std(rows) {
                m.insert(format!("rollout/zero_std/count_{k}"), J::from(n));
            }
        }
        DumpKind::Eval => {
            let name = eval_name(&dump.file);
            if !rewards.is_empty() {
                let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
                m.insert(format!("eval/{name}"), float_json(mean));
            }
            for (k, v) in pass.map(|(_, p)| p).unwrap_or_default() {
                m.insert(format!("eval/{name}-{k}"), v);
            }
            m.insert("eval/step".into(), J::from(dump.rollout_id));
            m.insert(
                "eval_datasets".into(),
                serde_json::json!([{"name": name, "sample_count": rows.len()}]),
            );
        }
    }
    extra_means(&mut m, rows);
    m
}

/// slime's `_compute_zero_std_metrics` over the step's groups: per reward (as
/// `str(round(r, 1))`), the groups whose scores are all that reward. Empty when the groups are
/// not known.
fn zero_std(rows: &[SampleRow]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let Some((size, order)) = groups(rows) else {
        return counts;
    };
    for g in order.chunks(size.max(1)) {
        let first = rows[g[0]].reward;
        if let Some(r) = first.filter(|_| g.iter().all(|&i| rows[i].reward == first)) {
            let key = py_round1(r);
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
    }
    counts
}

/// `reward_extra/{key}/mean` for every extra key whose every value is a number or a bool.
fn extra_means(m: &mut Map<String, J>, rows: &[SampleRow]) {
    let mut keys: Vec<&str> = Vec::new();
    for r in rows {
        for (k, _) in &r.reward_fields {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    for k in keys {
        let values: Option<Vec<f64>> = rows
            .iter()
            .map(|r| match r.reward_fields.iter().find(|(f, _)| f == k)?.1 {
                J::Bool(b) => Some(f64::from(u8::from(b))),
                ref v => v.as_f64().filter(|x| x.is_finite()),
            })
            .collect();
        if let Some(v) = values.filter(|v| !v.is_empty()) {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            m.insert(format!("reward_extra/{k}/mean"), float_json(mean));
        }
    }
}

/// A verl step's summary: its rollout entry, its reward distribution, the scan's notes.
pub fn summarize_verl(dump: &DumpRef, scan: Scanned) -> (RolloutSummary, Scanned) {
    let mut notes = scan.notes.clone();
    if let Some(step) = scan.rollout_id.filter(|&s| s != dump.rollout_id) {
        notes.push(format!(
            "its lines say step {step}; shown as step {} (its name)",
            dump.rollout_id
        ));
    }
    let metrics = verl_metrics(dump, &scan.rows);
    let flags = Flags {
        zero_std_groups: metrics
            .iter()
            .filter(|(k, _)| k.starts_with("rollout/zero_std/count_"))
            .filter_map(|(_, v)| v.as_u64())
            .sum::<u64>() as usize,
        ..Flags::default()
    };
    let summary = RolloutSummary {
        dump: Some(dump.clone()),
        metrics,
        flags,
        dists: Dists {
            reward: Dist::of(scan.rows.iter().filter_map(|r| r.reward)),
            ..Dists::default()
        },
        e2e_p99: None,
        notes,
        error: None,
        extra: SummaryExtra::default(),
    };
    (summary, scan)
}

/// One line's `--json` sample record: slime's sample keys that verl has, and its extras under
/// `extra/{key}`.
pub fn verl_sample_record(dump: &DumpRef, r: &SampleRow) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("rollout_id".into(), J::from(dump.rollout_id));
    m.insert("kind".into(), J::from(dump.kind.as_str()));
    m.insert("position".into(), J::from(r.position));
    m.insert("group_index".into(), r.group_index.clone());
    m.insert("reward".into(), r.reward.map_or(J::Null, float_json));
    m.insert("label".into(), r.label.clone());
    m.insert("prompt_chars".into(), J::from(r.prompt_chars));
    m.insert("response_chars".into(), J::from(r.response_chars));
    m.insert(
        "response_text_sha256".into(),
        J::from(r.response_sha256.clone()),
    );
    m.insert(
        "response_max_line_chars".into(),
        J::from(r.response_max_line_chars),
    );
    for (k, v) in &r.reward_fields {
        m.insert(format!("extra/{k}"), v.clone());
    }
    m
}

//! The records of `rollscope run --json`: `{"rollouts": [...], "samples": [...]}` with the keys
//! of `run_reference.json` (slime's metric names; one record per sample of every dump).

use serde_json::{Map, Value as J};

use super::{eval_set_names, DumpRef, RolloutSummary, SampleRow};
use crate::json::float_json;

/// One sample's record (`run_reference.json` `samples[i]`).
pub fn sample_record(dump: &DumpRef, r: &SampleRow) -> Map<String, J> {
    if dump.is_verl() {
        return super::verl::verl_sample_record(dump, r);
    }
    let f = |x: Option<f64>| x.map_or(J::Null, float_json);
    // Lengths are ints in slime's records; keep whole numbers as ints.
    let n = |x: Option<f64>| match x {
        Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => J::from(v as i64),
        other => f(other),
    };
    let t = r.train.as_ref();
    let mut m = Map::new();
    m.insert("rollout_id".into(), J::from(dump.rollout_id));
    m.insert("kind".into(), J::from(dump.kind.as_str()));
    m.insert("position".into(), J::from(r.position));
    m.insert("index".into(), r.index.clone());
    m.insert("group_index".into(), r.group_index.clone());
    m.insert("status".into(), r.status.clone().map_or(J::Null, J::from));
    m.insert("reward".into(), f(r.reward));
    m.insert("reward_is_dict".into(), J::Bool(r.reward_is_dict));
    m.insert("response_length".into(), n(r.response_length));
    m.insert(
        "effective_response_length".into(),
        n(r.effective_response_length),
    );
    m.insert("label".into(), r.label.clone());
    m.insert("prompt_is_messages".into(), J::Bool(r.prompt_is_messages));
    m.insert("prompt_chars".into(), J::from(r.prompt_chars));
    m.insert("response_chars".into(), J::from(r.response_chars));
    m.insert("response_token_count".into(), n(r.response_length));
    m.insert(
        "response_text_sha256".into(),
        J::from(r.response_sha256.clone()),
    );
    m.insert(
        "response_max_line_chars".into(),
        J::from(r.response_max_line_chars),
    );
    m.insert("traced".into(), J::Bool(r.traced));
    m.insert(
        "eval_dataset".into(),
        r.eval_dataset.clone().map_or(J::Null, J::from),
    );
    m.insert("train/raw_reward".into(), f(t.and_then(|t| t.raw_reward)));
    m.insert(
        "train/advantage_mean".into(),
        f(t.and_then(|t| t.advantage_mean)),
    );
    m.insert(
        "eval_dataset_index".into(),
        r.eval_set.map_or(J::Null, J::from),
    );
    m.insert(
        "train/advantage_masked_mean".into(),
        f(t.and_then(|t| t.advantage_masked_mean)),
    );
    m.insert(
        "train/kl_masked_mean".into(),
        f(t.and_then(|t| t.kl_masked_mean)),
    );
    m.insert(
        "train/train_rollout_logprob_abs_diff".into(),
        f(t.and_then(|t| t.logprob_abs_diff)),
    );
    m.insert(
        "train/response_length".into(),
        n(t.and_then(|t| t.response_length)),
    );
    let i = |x: Option<i64>| x.map_or(J::Null, J::from);
    m.insert(
        "train/rollout_position".into(),
        i(t.and_then(|t| t.rollout_position)),
    );
    m.insert(
        "train/sample_index".into(),
        i(t.and_then(|t| t.sample_index)),
    );
    m.insert(
        "train/data_parallel_rank".into(),
        i(t.and_then(|t| t.data_parallel_rank)),
    );
    m
}

/// One dump's record (`run_reference.json` `rollouts[i]`): slime's metrics, and what went
/// wrong beside them, only when something did.
pub fn rollout_record(s: &RolloutSummary) -> Map<String, J> {
    let mut m = s.metrics.clone();
    if !s.notes.is_empty() {
        m.insert("notes".into(), J::from(s.notes.clone()));
    }
    if let Some(e) = &s.error {
        if let Some(d) = &s.dump {
            m.insert("rollout_id".into(), J::from(d.rollout_id));
            m.insert("kind".into(), J::from(d.kind.as_str()));
            m.insert("file".into(), J::from(d.file.clone()));
        }
        m.insert("error".into(), J::from(e.clone()));
    }
    m
}

/// The whole `--json` document; the run's `notes` (`RunLayout::notes`: what was skipped or
/// is missing) under `"notes"` when there are any.
pub fn run_json(rollouts: &[RolloutSummary], samples: Vec<Map<String, J>>, notes: &[String]) -> J {
    let rollouts: Vec<J> = rollouts
        .iter()
        .map(|s| J::Object(rollout_record(s)))
        .collect();
    let mut doc = Map::new();
    doc.insert("rollouts".into(), J::Array(rollouts));
    doc.insert(
        "samples".into(),
        J::Array(samples.into_iter().map(J::Object).collect()),
    );
    if !notes.is_empty() {
        doc.insert("notes".into(), J::from(notes.to_vec()));
    }
    J::Object(doc)
}

/// `ours` as a `run_reference.json` written before the train-side keys (`rollout/log_probs`,
/// `multi_turn/…`, `passrate/…`, the per-sample masked means, `eval_dataset_index`) and with
/// eval sets as a plain list of names: what a test compares with such an older reference.
pub fn as_older_reference(ours: &J) -> J {
    let mut ours = ours.clone();
    let newer = |k: &str| {
        k == "eval_dataset_index"
            || k.starts_with("multi_turn/")
            || k.starts_with("passrate/")
            || [
                "train/advantage_masked_mean",
                "train/kl_masked_mean",
                "train/train_rollout_logprob_abs_diff",
            ]
            .contains(&k)
            || k.starts_with("rollout/")
                && !k.starts_with("rollout/response_len/")
                && !k.starts_with("rollout/zero_std/")
                && ![
                    "rollout/truncated_ratio",
                    "rollout/repetition_frac",
                    "rollout/prefix_cache_hit_rate",
                    "rollout/avg_cached_tokens_per_sample",
                ]
                .contains(&k)
    };
    for list in ["rollouts", "samples"] {
        for r in ours[list].as_array_mut().into_iter().flatten() {
            if let Some(m) = r.as_object_mut() {
                m.retain(|k, _| !newer(k));
                if let Some(v) = m.get("eval_datasets") {
                    let names = eval_set_names(v);
                    m.insert("eval_datasets".into(), J::from(names));
                }
            }
        }
    }
    ours
}

/// Where `ours` differs from `reference`: the same keys, equal strings, bools and nulls, and
/// numbers within `rel` relative or `abs` absolute (what "equal to `run_reference.json`"
/// means). One line per difference, naming its path.
pub fn json_diff(reference: &J, ours: &J, rel: f64, abs: f64) -> Vec<String> {
    let mut out = Vec::new();
    diff("", reference, ours, (rel, abs), &mut out);
    out
}

fn diff(path: &str, a: &J, b: &J, tol: (f64, f64), out: &mut Vec<String>) {
    let (rel, abs) = tol;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(&format!("{path}.{k}"), v, w, tol, out),
                    None => out.push(format!("{path}.{k}: missing from ours")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: ours only ({})", y[k]));
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), v, w, tol, out);
            }
        }
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            if (x - y).abs() > abs && (x - y).abs() > rel * x.abs().max(y.abs()).max(1e-12) {
                out.push(format!("{path}: reference {x}, ours {y}"));
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: reference {a}, ours {b}")),
    }
}

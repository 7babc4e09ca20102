//! What a slime `Sample` says about its own state beyond its text and reward: `remove_sample`
//! (left out of training), the weight versions that generated it and the rollout it started
//! in (`weight_versions`, `metadata["start_rollout_id"]`: how stale it is under async or
//! partial rollouts), its own `rollout_id`, and speculative decoding (`spec_info`, in either
//! of the two field sets slime's `Sample.SpecInfo` has had).

use pt::{Dict, Tree, Value};
use serde::{Deserialize, Serialize};

use super::sample::num;
use crate::values::dict_of;

/// Weight versions kept per sample (a sample generated across more updates keeps the first
/// and the last ones of these).
const MAX_VERSIONS: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleState {
    pub remove_sample: bool,
    /// `weight_versions`, as text (at most 16, each at most 64 characters).
    pub weight_versions: Vec<String>,
    /// `metadata["start_rollout_id"]`: the rollout a partial sample was begun in.
    pub start_rollout_id: Option<i64>,
    /// The sample's own `rollout_id` (slime sets it on samples of some rollout functions).
    pub rollout_id: Option<i64>,
    /// `spec_info`: verify steps, and slime's `spec_accept_rate` / `spec_accept_length`.
    pub spec_verify_ct: Option<f64>,
    pub spec_accept_rate: Option<f64>,
    pub spec_accept_length: Option<f64>,
}

impl SampleState {
    /// Rollouts between the one whose weights began the sample and `rollout_id` (the dump's):
    /// from `start_rollout_id`, else from the oldest numeric weight version.
    pub fn staleness(&self, rollout_id: i64) -> Option<i64> {
        let start = self.start_rollout_id.or_else(|| {
            self.weight_versions
                .iter()
                .filter_map(|v| v.trim().parse::<i64>().ok())
                .min()
        })?;
        rollout_id.checked_sub(start)
    }
}

/// Reads the state fields of one sample dict.
pub fn read_state(tree: &Tree, d: &Dict) -> SampleState {
    let int = |v: Option<&Value>| match v {
        Some(Value::Int(x)) => Some(*x),
        _ => None,
    };
    let mut s = SampleState {
        remove_sample: matches!(d.get_str("remove_sample"), Some(Value::Bool(true))),
        rollout_id: int(d.get_str("rollout_id")),
        ..SampleState::default()
    };
    if let Some(list) = d.get_str("weight_versions").and_then(|v| tree.as_seq(v)) {
        let text = |v: &Value| match v {
            Value::Str(x) => Some(x.chars().take(64).collect::<String>()),
            Value::Int(x) => Some(x.to_string()),
            _ => None,
        };
        let all: Vec<String> = list.iter().filter_map(text).collect();
        s.weight_versions = if all.len() > MAX_VERSIONS {
            let mut v = all[..MAX_VERSIONS - 1].to_vec();
            v.extend(all.last().cloned());
            v
        } else {
            all
        };
    }
    s.start_rollout_id = d
        .get_str("metadata")
        .and_then(|m| dict_of(tree, m))
        .and_then(|m| int(m.get_str("start_rollout_id")));
    if let Some(spec) = d.get_str("spec_info").and_then(|v| dict_of(tree, v)) {
        let f = |k: &str| spec.get_str(k).and_then(num);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            (_, Some(_)) => Some(0.0),
            _ => None,
        };
        let verify = f("spec_verify_ct");
        s.spec_verify_ct = verify;
        s.spec_accept_rate = ratio(f("spec_accept_token_num"), f("spec_draft_token_num"))
            .or_else(|| ratio(f("spec_num_correct_drafts"), f("spec_num_proposed_drafts")));
        s.spec_accept_length = ratio(f("completion_token_num"), verify)
            .or_else(|| ratio(f("completion_tokens"), verify));
    }
    s
}

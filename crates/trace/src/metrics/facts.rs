//! What is known about each sample (row, index, group, status, reward, response length),
//! from the dump's samples (so untraced samples count too) or, for a cache JSON, from the rows.

use std::collections::HashMap;

use pt::{Tree, Value};
use serde_json::Value as J;

use crate::json::py_str;
use crate::model::Row;
use crate::values::dict_of;

/// What is known about one sample, wherever it came from.
#[derive(Debug, Clone, Default)]
pub struct SampleFacts {
    pub row: Option<usize>,
    pub sample_index: J,
    pub group: Option<String>,
    pub status: Option<String>,
    pub reward: Option<f64>,
    /// `effective_response_length`: `sum(loss_mask)` if there is a loss mask, else
    /// `response_length`.
    pub response_length: Option<f64>,
}

/// Facts about every sample of a dump. Work per sample is bounded: a `loss_mask` list shared
/// by many samples is summed once, and a sample's index and group are read as short text.
///
/// `rows`: each row's `row_id` (the sample's position) and `sample_index`, in row order.
pub fn sample_facts(tree: &Tree, samples: &[Value], rows: &[(usize, &J)]) -> Vec<SampleFacts> {
    let row_of: HashMap<usize, usize> = rows.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
    let num = |v: &Value| match v {
        Value::Int(x) => Some(*x as f64),
        Value::Float(x) if x.is_finite() => Some(*x),
        Value::Bool(b) => Some(*b as u8 as f64),
        _ => None,
    };
    let mut sums: HashMap<pt::NodeId, Option<f64>> = HashMap::new();
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let Some(d) = dict_of(tree, s) else {
                return SampleFacts::default();
            };
            let loss_sum = match d.get_str("loss_mask") {
                Some(Value::Node(id)) => *sums.entry(*id).or_insert_with(|| match tree.node(*id) {
                    pt::Node::ElidedList { sum, .. } => Some(*sum),
                    pt::Node::List(v) => Some(v.iter().filter_map(num).sum()),
                    _ => None,
                }),
                _ => None,
            };
            let row = row_of.get(&i).copied();
            SampleFacts {
                row,
                // The row's own index when there is one; else short text (facts are kept for
                // every sample, so no sample may bring a large value here).
                sample_index: match (row, d.get_str("index")) {
                    (Some(r), _) => rows[r].1.clone(),
                    (None, None) => J::from(i),
                    (None, Some(Value::Int(x))) => J::from(*x),
                    (None, Some(Value::None)) => J::Null,
                    (None, Some(v)) => J::String(pt::walk::repr(tree, v, 80)),
                },
                group: d
                    .get_str("group_index")
                    .map(|g| pt::walk::repr(tree, g, 80)),
                status: d
                    .get_str("status")
                    .and_then(|v| v.as_str())
                    .map(|s| s.chars().take(64).collect()),
                reward: d.get_str("reward").and_then(num),
                response_length: loss_sum.or_else(|| d.get_str("response_length").and_then(num)),
            }
        })
        .collect()
}

/// Facts from rows alone (a cache JSON): no response length.
pub fn facts_from_rows(rows: &[Row]) -> Vec<SampleFacts> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| SampleFacts {
            row: Some(i),
            sample_index: r.sample_index.clone(),
            group: (!r.group_index.is_null()).then(|| py_str(&r.group_index)),
            status: r.status.as_str().map(str::to_string),
            reward: r.reward.as_f64(),
            response_length: None,
        })
        .collect()
}

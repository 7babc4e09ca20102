//! 3.7 Row fields taken from the sample: source, compact text, response lengths.

use std::collections::HashMap;

use pt::{NodeId, Tree, Value};
use serde_json::Value as J;

use crate::json::{to_json_counted, Output};
use crate::values::dict_of;

pub(super) fn response_length(j: &J) -> Option<i64> {
    match j {
        J::Bool(b) => Some(*b as i64),
        J::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    }
}

/// slime's `_infer_source`. The metadata scan (every key, for one containing "source") is
/// memoised per metadata dict: samples sharing one huge metadata dict scan it once.
pub(super) fn infer_source(
    tree: &Tree,
    sample: &pt::Dict,
    metadata: Option<&Value>,
    memo: &mut HashMap<NodeId, Option<usize>>,
    out: &mut Output,
) -> J {
    let mut present = |v: Option<&Value>| match v {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) if s.is_empty() => None,
        Some(v) => Some(to_json_counted(tree, v, out)),
    };
    if let Some(j) = present(sample.get_str("source")) {
        return j;
    }
    let Some((id, meta)) = metadata.and_then(|m| match (m, dict_of(tree, m)) {
        (Value::Node(id), Some(d)) => Some((*id, d)),
        _ => None,
    }) else {
        return J::Null;
    };
    for key in ["source", "source_name"] {
        if let Some(j) = present(meta.get_str(key)) {
            return j;
        }
    }
    let found = *memo.entry(id).or_insert_with(|| {
        meta.entries.iter().position(|(k, v)| {
            // ASCII lowering finds "source" where Python's `str.lower` does (no other
            // character lowers to one of its letters) without Unicode's case tables in the wasm.
            let key = match k {
                Value::Str(s) => s.to_ascii_lowercase(),
                other => pt::walk::repr(tree, other, 200).to_ascii_lowercase(),
            };
            key.contains("source") && !matches!(v, Value::None) && v.as_str() != Some("")
        })
    });
    match found.and_then(|at| meta.entries.get(at)) {
        Some((_, v)) => present(Some(v)).unwrap_or(J::Null),
        None => J::Null,
    }
}

/// slime's `_compact_text`: long text becomes its first `max` characters plus a marker.
pub(super) fn compact_text(j: J, max: usize) -> J {
    match j {
        J::String(s) => {
            let n = s.chars().count();
            if n <= max {
                J::String(s)
            } else {
                let head: String = s.chars().take(max).collect();
                J::String(format!("{head}...<truncated:{n}>"))
            }
        }
        other => other,
    }
}

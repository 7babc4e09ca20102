//! PD timings of a sample's requests, read as `stats` reads them: current producers put the
//! `pd_*` durations on `sglang_pd_*` child spans (and a `sglang_pd_summary` event) rather than
//! on the `sglang_generate` end (see the spec's section 5).

use pt::{Tree, Value};

use super::sample::num;

/// An int or finite float attribute (bools are not durations).
pub(super) fn finite(v: &Value) -> Option<f64> {
    match v {
        Value::Int(x) => Some(*x as f64),
        Value::Float(x) if x.is_finite() => Some(*x),
        _ => None,
    }
}

/// The `pd_*` values of each `sglang_generate` request (by span id) found on its
/// `sglang_pd_*` descendants (span ends and events), the first of each key winning: current
/// producers put PD timings there rather than on the request's own end
/// (`trace::metrics::requests` reads the built rows the same way, for `stats`). A parent is
/// the event's `parent_span_id`, else the innermost span open when it came.
pub(super) type PdValues = std::collections::HashMap<String, Vec<(String, Option<f64>)>>;

pub(super) fn pd_values(tree: &Tree, events: &[&pt::Dict]) -> PdValues {
    use std::collections::HashMap;
    let text = |e: &pt::Dict, k: &str| {
        e.get_str(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let is_pd = |e: &pt::Dict| text(e, "name").is_some_and(|n| n.starts_with("sglang_pd_"));
    let mut out = PdValues::new();
    if !events.iter().any(|e| is_pd(e)) {
        return out;
    }
    // span id → (is a request, parent id).
    let mut spans: HashMap<String, (bool, Option<String>)> = HashMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut pending: Vec<(Option<String>, &pt::Dict)> = Vec::new();
    for e in events {
        if e.get_str("ts").and_then(num).is_none() {
            continue;
        }
        let ty = text(e, "type");
        let id = text(e, "span_id");
        let parent = text(e, "parent_span_id").or_else(|| stack.last().cloned());
        match (ty.as_deref(), &id) {
            (Some("span_start"), Some(id)) => {
                let request = text(e, "name").as_deref() == Some("sglang_generate");
                spans.insert(id.clone(), (request, parent.clone()));
                stack.push(id.clone());
            }
            (Some("span_end"), Some(id)) => {
                if let Some(at) = stack.iter().rposition(|s| s == id) {
                    stack.remove(at);
                }
            }
            _ => {}
        }
        match ty.as_deref() {
            Some("span_end") if is_pd(e) => pending.push((id, e)),
            Some("event") if is_pd(e) => pending.push((parent, e)),
            _ => {}
        }
    }
    for (anchor, e) in pending {
        let mut cur = anchor;
        let mut request = None;
        for _ in 0..64 {
            let Some(id) = cur else { break };
            let Some((is_request, parent)) = spans.get(&id) else {
                break;
            };
            if *is_request {
                request = Some(id);
                break;
            }
            cur = parent.clone();
        }
        let (Some(req), Some(attrs)) = (request, e.get_str("attrs").and_then(|a| tree.as_dict(a)))
        else {
            continue;
        };
        let slot = out.entry(req).or_default();
        for (k, v) in attrs.entries.iter().take(64) {
            let Some(k) = k.as_str().filter(|k| k.starts_with("pd_")) else {
                continue;
            };
            if !slot.iter().any(|(x, _)| x == k) {
                slot.push((k.to_string(), finite(v)));
            }
        }
    }
    out
}

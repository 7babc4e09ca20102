//! OTLP/JSON encoding shared by export and import: deterministic hex ids, unix-nano times,
//! typed `AnyValue` attributes both ways, and rollscope's own marker attribute keys.

use serde_json::{json, Map, Value as J};

use crate::json::py_str;
use crate::model::Row;

use super::micros;

/// FNV-1a, 64 bits, with a seed mixed in first.
fn fnv64(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x100_0000_01b3);
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h.max(1)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

/// A 32-hex trace id: slime's own when it already is one, else derived from it (or the row).
pub fn otlp_trace_id(row: &Row) -> String {
    trace_id_of(row.row_id, &row.trace_id)
}

/// [`otlp_trace_id`] of a row's id and slime trace id.
pub(super) fn trace_id_of(row_id: usize, trace_id: &J) -> String {
    let given = py_str(trace_id);
    if is_hex(&given, 32) {
        return given.to_ascii_lowercase();
    }
    let key = if trace_id.is_null() {
        format!("row-{row_id}")
    } else {
        given
    };
    format!("{:016x}{:016x}", fnv64(1, &[&key]), fnv64(2, &[&key]))
}

/// A 16-hex span id derived from the trace and slime's span id (or, for items without one,
/// from their kind, name, time and position).
pub fn otlp_span_id(trace_id: &str, slime_id: &str) -> String {
    format!("{:016x}", fnv64(3, &[trace_id, slime_id]))
}

/// Unix nanoseconds as OTLP's fixed64 text: times before 1970 or past 2554 are clamped
/// (the field is unsigned 64-bit).
pub(super) fn nanos_text(ts: f64) -> String {
    format!("{}000", micros(ts).clamp(0, (u64::MAX / 1000) as i64))
}

pub(super) fn nanos_to_secs(v: Option<&J>) -> Option<f64> {
    let n: f64 = match v? {
        J::String(s) => s.parse::<u128>().ok()? as f64,
        J::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some(n / 1e9)
}

/// An OTLP `AnyValue` in its JSON form.
fn any_value(v: &J) -> J {
    match v {
        J::String(s) => json!({"stringValue": s}),
        J::Bool(b) => json!({"boolValue": b}),
        J::Number(n) => match n.as_i64() {
            // int64 is a string in proto3's JSON mapping.
            Some(i) => json!({"intValue": i.to_string()}),
            None => json!({"doubleValue": n.as_f64().unwrap_or(0.0)}),
        },
        J::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(any_value).collect::<Vec<_>>()}})
        }
        J::Object(m) => json!({"kvlistValue": {"values": key_values(m)}}),
        J::Null => json!({}),
    }
}

pub(super) fn key_values(m: &Map<String, J>) -> Vec<J> {
    m.iter()
        .map(|(k, v)| json!({"key": k, "value": any_value(v)}))
        .collect()
}

pub(super) fn from_any_value(v: &J) -> J {
    let Some(m) = v.as_object() else {
        return J::Null;
    };
    if let Some(s) = m.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = m.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = m.get("intValue") {
        return match i {
            J::String(s) => s.parse::<i64>().map(J::from).unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = m.get("doubleValue") {
        return d.clone();
    }
    if let Some(a) = m
        .get("arrayValue")
        .and_then(|a| a.get("values"))
        .and_then(J::as_array)
    {
        return J::Array(a.iter().map(from_any_value).collect());
    }
    if let Some(kv) = m
        .get("kvlistValue")
        .and_then(|a| a.get("values"))
        .and_then(J::as_array)
    {
        return J::Object(from_key_values(kv));
    }
    J::Null
}

pub(super) fn from_key_values(list: &[J]) -> Map<String, J> {
    let mut m = Map::new();
    for kv in list {
        if let (Some(k), Some(v)) = (kv.get("key").and_then(J::as_str), kv.get("value")) {
            m.insert(k.to_string(), from_any_value(v));
        }
    }
    m
}

/// Attribute marking which keys were a span's start attrs (the rest are end attrs).
pub(super) const START_KEYS: &str = "rollscope.start_attrs";
/// Attribute marking what a zero-length span stands for (`event` or `orphan_end`).
pub(super) const KIND: &str = "rollscope.kind";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_values_round_trip() {
        for v in [
            json!("x"),
            json!(3),
            json!(-2.5),
            json!(true),
            json!([1, "a"]),
            json!({"k": {"n": 1}}),
        ] {
            assert_eq!(from_any_value(&any_value(&v)), v);
        }
    }
}

//! Prometheus series: HTTP API `query_range`/`query` JSON and the text exposition format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::json::py_str;
use crate::Error;

/// One time series: its name, labels and (unix seconds, value) points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// `name{a="1",b="2"}`.
    pub fn title(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let l: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        format!("{}{{{}}}", self.name, l.join(","))
    }
}

/// Whether these bytes look like Prometheus data (query_range JSON or text exposition).
pub fn is_prometheus(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(crate::sniff::BOM).unwrap_or(bytes);
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let t = text.trim_start();
    if t.starts_with('{') {
        return t.contains("\"resultType\"");
    }
    t.starts_with("# HELP")
        || t.starts_with("# TYPE")
        || parse_text_line(t.lines().next().unwrap_or("")).is_some()
}

/// Prometheus HTTP API `query_range` (or `query`) JSON, or the text exposition format.
pub fn parse_prometheus(bytes: &[u8]) -> Result<Vec<Series>, Error> {
    let bad = |what: String| Error::BadCache(format!("Prometheus: {what}"));
    let bytes = bytes.strip_prefix(crate::sniff::BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8 text ({e})")))?;
    if text.trim_start().starts_with('{') {
        let v: J = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if v.get("status").and_then(J::as_str) == Some("error") {
            return Err(bad(format!(
                "the query failed: {}",
                py_str(v.get("error").unwrap_or(&J::Null))
            )));
        }
        let data = v.get("data").ok_or_else(|| bad("no data".into()))?;
        let kind = data.get("resultType").and_then(J::as_str).unwrap_or("");
        let results = data
            .get("result")
            .and_then(J::as_array)
            .ok_or_else(|| bad("no result list".into()))?;
        let mut out = Vec::new();
        for r in results {
            let mut labels: BTreeMap<String, String> = r
                .get("metric")
                .and_then(J::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), py_str(v))).collect())
                .unwrap_or_default();
            let name = labels.remove("__name__").unwrap_or_else(|| "series".into());
            let pairs: Vec<&J> = match kind {
                "matrix" => r
                    .get("values")
                    .and_then(J::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default(),
                "vector" => r.get("value").into_iter().collect(),
                other => return Err(bad(format!("resultType {other:?} has no time series"))),
            };
            let mut points = Vec::new();
            for p in pairs {
                let (Some(t), Some(v)) = (p.get(0).and_then(J::as_f64), p.get(1)) else {
                    continue;
                };
                let v = match v {
                    J::String(s) => s.parse::<f64>().ok(),
                    other => other.as_f64(),
                };
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    points.push((t, v));
                }
            }
            out.push(Series {
                name,
                labels,
                points,
            });
        }
        return Ok(out);
    }
    let mut by_key: BTreeMap<String, Series> = BTreeMap::new();
    // Samples without a (finite) timestamp have no place on a time axis: they are left out,
    // and a file made only of them is an error that says so.
    let mut untimed = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, labels, value, ts) = parse_text_line(line)
            .ok_or_else(|| bad(format!("line {}: cannot read {line:?}", n + 1)))?;
        let s = Series {
            name,
            labels,
            points: Vec::new(),
        };
        let key = s.title();
        let entry = by_key.entry(key).or_insert(s);
        match ts.filter(|t| t.is_finite()) {
            Some(t) if value.is_finite() => entry.points.push((t, value)),
            Some(_) => {}
            None => untimed += 1,
        }
    }
    if untimed > 0 && by_key.values().all(|s| s.points.is_empty()) {
        return Err(bad(format!(
            "{untimed} sample(s) and none with a timestamp: a counter track needs times \
             (scrape with timestamps, or export `query_range` JSON)"
        )));
    }
    let mut out: Vec<Series> = by_key.into_values().collect();
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(out)
}

/// One exposition-format line: name, labels, value, timestamp in seconds.
type TextSample = (String, BTreeMap<String, String>, f64, Option<f64>);

/// `name{labels} value [timestamp_ms]`.
fn parse_text_line(line: &str) -> Option<TextSample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let close = body.find('}')?;
        for pair in split_labels(&body[..close]) {
            let (k, v) = pair.split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            labels.insert(
                k.trim().to_string(),
                v.replace("\\\"", "\"").replace("\\\\", "\\"),
            );
        }
        rest = &body[close + 1..];
    }
    let mut parts = rest.split_whitespace();
    let value = match parts.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    let ts = parts
        .next()
        .and_then(|t| t.parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    Some((name.to_string(), labels, value, ts))
}

/// Splits `a="x",b="y,z"` at commas outside quotes.
fn split_labels(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            '\\' if quoted => escaped = !escaped,
            '"' if !escaped => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn samples_without_a_timestamp_are_left_out() {
        // Mixed: the timed sample is kept, the untimed one and the infinite time are not.
        let t = b"m 1 1790000000000\nm 2\nm 3 1e400\n";
        let s = parse_prometheus(t).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].points, vec![(1_790_000_000.0, 1.0)]);
        // Only untimed samples: an error that says why.
        let e = parse_prometheus(b"m 1\nm 2\n").unwrap_err().to_string();
        assert!(e.contains("none with a timestamp"), "{e}");
    }

    use super::*;

    #[test]
    fn prometheus_query_range_and_text() {
        let q = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"sglang:num_running_reqs","instance":"a:30000"},"values":[[1790000000,"3"],[1790000015,"5"]]}]}}"#;
        let s = parse_prometheus(q).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].title(),
            "sglang:num_running_reqs{instance=\"a:30000\"}"
        );
        assert_eq!(s[0].points, vec![(1790000000.0, 3.0), (1790000015.0, 5.0)]);
        assert!(is_prometheus(q));
        let t = b"# HELP sglang:num_queue_reqs q\n# TYPE sglang:num_queue_reqs gauge\nsglang:num_queue_reqs{model_name=\"m,1\"} 7 1790000000000\nsglang:num_queue_reqs{model_name=\"m,1\"} 9 1790000001000\n";
        let s = parse_prometheus(t).unwrap();
        assert_eq!(s[0].labels["model_name"], "m,1");
        assert_eq!(s[0].points, vec![(1790000000.0, 7.0), (1790000001.0, 9.0)]);
        assert!(is_prometheus(t));
        let err = parse_prometheus(b"{\"status\":\"error\",\"error\":\"bad query\"}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("the query failed: bad query"), "{err}");
        let err = parse_prometheus(b"not a metric line at all {")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1: cannot read"), "{err}");
    }
}

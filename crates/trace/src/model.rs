//! The timeline cache (v1) as Rust types: what `rollscope cache` writes and what slime's
//! `trace_timeline_viewer.py` reads and writes. Field order follows slime's output.
//!
//! **Non-finite numbers.** Finite times give infinite results (`end − start` of ±1e308), and
//! serde_json writes a non-finite `f64` as `null`, which then fails to decode as `f64`: the
//! page could not read such a file back. Every `f64` here and in [`crate::metrics`] that can
//! become non-finite is therefore written with [`jf64`]: finite values as JSON numbers, the
//! others as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (the spelling `json.rs` uses
//! for attribute values), and read back from either. Output stays strict JSON and
//! `serde_json::from_str::<Materialized>` gives back what was written. Times themselves are always
//! finite (events with non-finite `ts` are skipped, and a cache JSON with one is refused).

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

pub const CACHE_VERSION: u32 = 1;

/// A whole cache file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cache {
    pub cache_version: u32,
    pub pt_path: String,
    #[serde(with = "jf64")]
    pub generated_at: f64,
    pub sample_count: usize,
    #[serde(with = "jf64::opt")]
    pub global_start: Option<f64>,
    #[serde(with = "jf64::opt")]
    pub global_end: Option<f64>,
    pub rows: Vec<Row>,
}

/// The JSON keys of the sample's own fields a row carries, in the cache's order: what a cache
/// JSON row and a row store's head both carry ([`sample_fields!`] pairs them with the values).
pub(crate) const SAMPLE_FIELD_KEYS: [&str; 7] = [
    "sample_index",
    "group_index",
    "source",
    "status",
    "label",
    "reward",
    "trace_id",
];

/// The sample's own fields a row carries, `(cache key, value)` in the cache's order: the one
/// list every writer of them uses (the cache JSON, OTLP resources). [`Row`] and
/// [`crate::store::RowHead`] hold them under the same names, so this works on either.
macro_rules! sample_fields {
    ($r:expr) => {{
        let k = $crate::model::SAMPLE_FIELD_KEYS;
        [
            (k[0], &$r.sample_index),
            (k[1], &$r.group_index),
            (k[2], &$r.source),
            (k[3], &$r.status),
            (k[4], &$r.label),
            (k[5], &$r.reward),
            (k[6], &$r.trace_id),
        ]
    }};
}
pub(crate) use sample_fields;

/// One sample's row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub row_id: usize,
    pub sample_index: J,
    pub group_index: J,
    pub source: J,
    pub status: J,
    pub label: J,
    pub reward: J,
    pub trace_id: J,
    pub attempt: i64,
    #[serde(with = "jf64")]
    pub start: f64,
    #[serde(with = "jf64")]
    pub end: f64,
    #[serde(with = "jf64")]
    pub duration: f64,
    pub lane_count: u32,
    pub item_count: usize,
    pub closed_span_count: usize,
    pub open_span_count: usize,
    pub point_event_count: usize,
    pub orphan_count: usize,
    pub total_response_length: i64,
    pub max_response_length: i64,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    ClosedSpan,
    OpenSpan,
    PointEvent,
    OrphanEnd,
}

/// Something drawn in a row: a span (closed or open), a point event or an orphan end.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Item {
    #[serde(rename = "span")]
    Span(SpanItem),
    #[serde(rename = "event")]
    Event(PointItem),
    #[serde(rename = "orphan_end")]
    OrphanEnd(PointItem),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpanItem {
    pub state: State,
    pub name: J,
    #[serde(with = "jf64")]
    pub start_ts: f64,
    #[serde(with = "jf64::opt")]
    pub end_ts: Option<f64>,
    /// Where the bar ends: `end_ts` when closed, the clip point (see `clipped_by` in the end
    /// attrs) when open.
    #[serde(with = "jf64")]
    pub display_end_ts: f64,
    pub attempt: i64,
    pub span_id: J,
    pub parent_span_id: J,
    pub parent_span_name: J,
    pub lane: u32,
    pub depth: u32,
    pub attrs: SpanAttrs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpanAttrs {
    pub start_attrs: J,
    pub end_attrs: J,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointItem {
    pub state: State,
    pub name: J,
    #[serde(with = "jf64")]
    pub ts: f64,
    pub attempt: i64,
    pub span_id: J,
    pub parent_span_id: J,
    pub parent_span_name: J,
    pub lane: u32,
    pub depth: u32,
    pub attrs: J,
}

/// The end-attrs key that marks a `[P]`/`[D]` virtual span (spec §3.5) and names its role.
pub const PD_VIRTUAL_ROLE: &str = "timeline_pd_virtual_role";

impl SpanItem {
    /// `Some("prefill" | "decode")` for a `[P]`/`[D]` virtual span made from flat `pd_*` attrs.
    pub fn pd_virtual_role(&self) -> Option<&str> {
        self.attrs.end_attrs.get(PD_VIRTUAL_ROLE)?.as_str()
    }
}

impl Item {
    pub fn lane(&self) -> u32 {
        match self {
            Item::Span(s) => s.lane,
            Item::Event(p) | Item::OrphanEnd(p) => p.lane,
        }
    }

    /// `start_ts` of a span, `ts` of a point.
    pub fn start(&self) -> f64 {
        match self {
            Item::Span(s) => s.start_ts,
            Item::Event(p) | Item::OrphanEnd(p) => p.ts,
        }
    }

    /// `display_end_ts` of a span, `ts` of a point.
    pub fn display_end(&self) -> f64 {
        match self {
            Item::Span(s) => s.display_end_ts,
            Item::Event(p) | Item::OrphanEnd(p) => p.ts,
        }
    }

    pub fn name(&self) -> &J {
        match self {
            Item::Span(s) => &s.name,
            Item::Event(p) | Item::OrphanEnd(p) => &p.name,
        }
    }

    pub fn state(&self) -> State {
        match self {
            Item::Span(s) => s.state,
            Item::Event(p) | Item::OrphanEnd(p) => p.state,
        }
    }

    pub fn attempt(&self) -> i64 {
        match self {
            Item::Span(s) => s.attempt,
            Item::Event(p) | Item::OrphanEnd(p) => p.attempt,
        }
    }

    /// The attribute dicts slime scans for `response_length`: a point's attrs (and any
    /// `start_attrs`/`end_attrs` inside them), a span's start and end attrs.
    pub fn attr_payloads(&self) -> Vec<&J> {
        match self {
            Item::Span(s) => vec![&s.attrs.start_attrs, &s.attrs.end_attrs],
            Item::Event(p) | Item::OrphanEnd(p) => {
                let mut v = vec![&p.attrs];
                v.extend(p.attrs.get("start_attrs"));
                v.extend(p.attrs.get("end_attrs"));
                v
            }
        }
    }
}

/// Serde for `f64` values that may be non-finite: a JSON number when finite, else the string
/// `"NaN"`, `"Infinity"` or `"-Infinity"`; reads either (and integers).
pub mod jf64 {
    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// An `f64` that serialises as described in the module doc.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct F(pub f64);

    impl Serialize for F {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let x = self.0;
            if x.is_finite() {
                s.serialize_f64(x)
            } else if x.is_nan() {
                s.serialize_str("NaN")
            } else if x > 0.0 {
                s.serialize_str("Infinity")
            } else {
                s.serialize_str("-Infinity")
            }
        }
    }

    struct FVisitor;

    impl Visitor<'_> for FVisitor {
        type Value = F;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<F, E> {
            Ok(F(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<F, E> {
            Ok(F(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<F, E> {
            Ok(F(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<F, E> {
            match v {
                "NaN" => Ok(F(f64::NAN)),
                "Infinity" => Ok(F(f64::INFINITY)),
                "-Infinity" => Ok(F(f64::NEG_INFINITY)),
                other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
            }
        }
    }

    impl<'de> Deserialize<'de> for F {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F, D::Error> {
            d.deserialize_any(FVisitor)
        }
    }

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        F(*x).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        F::deserialize(d).map(|f| f.0)
    }

    /// `Option<f64>`: `null` for `None`.
    pub mod opt {
        use super::F;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            x.map(F).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<F>::deserialize(d).map(|o| o.map(|f| f.0))
        }
    }

    /// `Vec<(String, f64)>`.
    pub mod named {
        use super::F;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|(k, x)| (k, F(*x))))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<(String, f64)>, D::Error> {
            Vec::<(String, F)>::deserialize(d)
                .map(|v| v.into_iter().map(|(k, f)| (k, f.0)).collect())
        }
    }

    /// `Vec<(String, f64, f64)>`.
    pub mod named2 {
        use super::F;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[(String, f64, f64)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|(k, x, y)| (k, F(*x), F(*y))))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<(String, f64, f64)>, D::Error> {
            Vec::<(String, F, F)>::deserialize(d)
                .map(|v| v.into_iter().map(|(k, x, y)| (k, x.0, y.0)).collect())
        }
    }

    /// `Vec<(f64, u32)>`.
    pub mod steps {
        use super::F;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[(f64, u32)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|(x, n)| (F(*x), n)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, u32)>, D::Error> {
            Vec::<(F, u32)>::deserialize(d).map(|v| v.into_iter().map(|(x, n)| (x.0, n)).collect())
        }
    }

    /// `Vec<(f64, f64)>`.
    pub mod pairs {
        use super::F;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|(x, y)| (F(*x), F(*y))))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
            Vec::<(F, F)>::deserialize(d).map(|v| v.into_iter().map(|(x, y)| (x.0, y.0)).collect())
        }
    }
}

//! A timeline cache JSON (slime's or ours) read as untrusted input, validated like a dump.
//!
//! serde alone would accept a `lane` of 4 294 967 294 (and later stages would allocate per
//! claimed lane), read `"Infinity"` as a time, and name no row in its errors. Here every
//! field is checked first, with errors naming the row, the item and the field:
//! - numbers have their type and range (`lane`/`depth` below the row's item count: a row of
//!   n items cannot use more than n lanes, whatever it claims; times finite);
//! - a row's `lane_count` and counts that disagree with its items are replaced by what the
//!   items say, with a warning (the page sizes rows by `lane_count`);
//! - rows and items are bounded like a dump's ([`crate::MAX_SAMPLES`],
//!   [`crate::MAX_FILE_ITEMS`]).

use serde_json::{Map, Value as J};

use crate::model::{Cache, Item, State, CACHE_VERSION};
use crate::{metrics, Error, Materialized, Warning};

fn bad(at: &str, what: String) -> Error {
    Error::BadCache(if at.is_empty() {
        what
    } else {
        format!("{at}: {what}")
    })
}

/// A JSON value's kind, for messages.
fn kind(j: &J) -> &'static str {
    match j {
        J::Null => "null",
        J::Bool(_) => "a bool",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}

/// Field checks on one JSON object, errors prefixed with where it is.
struct Fields<'a> {
    obj: &'a Map<String, J>,
    at: String,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Result<&'a J, Error> {
        self.obj
            .get(name)
            .ok_or_else(|| bad(&self.at, format!("missing field `{name}`")))
    }

    fn uint(&self, name: &str, max: u64) -> Result<u64, Error> {
        match self.get(name)? {
            J::Number(n) => match n.as_u64() {
                Some(x) if x <= max => Ok(x),
                Some(x) => Err(bad(&self.at, format!("`{name}` is {x}, more than {max}"))),
                None => Err(bad(
                    &self.at,
                    format!("`{name}` is {n}, not a whole number ≥ 0"),
                )),
            },
            other => Err(bad(
                &self.at,
                format!("`{name}` is {}, not a whole number", kind(other)),
            )),
        }
    }

    fn int(&self, name: &str) -> Result<i64, Error> {
        match self.get(name)? {
            J::Number(n) => n
                .as_i64()
                .ok_or_else(|| bad(&self.at, format!("`{name}` is {n}, not a 64-bit integer"))),
            other => Err(bad(
                &self.at,
                format!("`{name}` is {}, not an integer", kind(other)),
            )),
        }
    }

    /// A finite number (a time): `"Infinity"`/`"NaN"` strings are refused here.
    fn finite(&self, name: &str) -> Result<f64, Error> {
        match self.get(name)? {
            J::Number(n) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&self.at, format!("`{name}` is not a finite number"))),
            J::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => Err(bad(
                &self.at,
                format!("`{name}` is {s}, not a finite number"),
            )),
            other => Err(bad(
                &self.at,
                format!("`{name}` is {}, not a number", kind(other)),
            )),
        }
    }

    fn opt_finite(&self, name: &str) -> Result<Option<f64>, Error> {
        match self.obj.get(name) {
            None | Some(J::Null) => Ok(None),
            Some(_) => self.finite(name).map(Some),
        }
    }

    /// A duration: ≥ 0, may be `"Infinity"` (the end − start of far-apart finite times).
    fn duration(&self, name: &str) -> Result<(), Error> {
        match self.get(name)? {
            J::String(s) if s == "Infinity" => Ok(()),
            _ => match self.finite(name)? {
                x if x >= 0.0 => Ok(()),
                x => Err(bad(&self.at, format!("`{name}` is {x}, less than 0"))),
            },
        }
    }

    fn string(&self, name: &str) -> Result<&'a str, Error> {
        match self.get(name)? {
            J::String(s) => Ok(s),
            other => Err(bad(
                &self.at,
                format!("`{name}` is {}, not a string", kind(other)),
            )),
        }
    }

    fn list(&self, name: &str) -> Result<&'a [J], Error> {
        match self.get(name)? {
            J::Array(a) => Ok(a),
            other => Err(bad(
                &self.at,
                format!("`{name}` is {}, not a list", kind(other)),
            )),
        }
    }
}

fn object<'a>(j: &'a J, at: String) -> Result<Fields<'a>, Error> {
    match j {
        J::Object(obj) => Ok(Fields { obj, at }),
        other => Err(bad(&at, format!("is {}, not an object", kind(other)))),
    }
}

/// Checks every field the cache types read, before serde reads them.
fn validate(value: &J) -> Result<(), Error> {
    let top = object(value, String::new())?;
    let version = top.uint("cache_version", u64::from(u32::MAX))?;
    if version != u64::from(CACHE_VERSION) {
        return Err(Error::BadCache(format!(
            "cache_version is {version}, this reader knows {CACHE_VERSION}"
        )));
    }
    top.string("pt_path")?;
    top.finite("generated_at")?;
    top.uint("sample_count", u64::MAX)?;
    top.opt_finite("global_start")?;
    top.opt_finite("global_end")?;
    let rows = top.list("rows")?;
    if rows.len() > crate::MAX_SAMPLES {
        return Err(Error::BadCache(format!(
            "{} rows, more than the limit of {}",
            rows.len(),
            crate::MAX_SAMPLES
        )));
    }
    let mut total_items = 0usize;
    for (r, row) in rows.iter().enumerate() {
        let f = object(row, format!("row {r}"))?;
        f.uint("row_id", u64::MAX)?;
        for key in crate::model::SAMPLE_FIELD_KEYS {
            f.get(key)?;
        }
        f.int("attempt")?;
        f.finite("start")?;
        f.finite("end")?;
        f.duration("duration")?;
        f.uint("lane_count", u64::from(u32::MAX))?;
        for key in [
            "item_count",
            "closed_span_count",
            "open_span_count",
            "point_event_count",
            "orphan_count",
        ] {
            f.uint(key, u64::MAX)?;
        }
        f.int("total_response_length")?;
        f.int("max_response_length")?;
        let items = f.list("items")?;
        total_items = total_items.saturating_add(items.len());
        if total_items > crate::MAX_FILE_ITEMS {
            return Err(Error::BadCache(format!(
                "row {r}: the rows hold more than the limit of {} items",
                crate::MAX_FILE_ITEMS
            )));
        }
        for (i, item) in items.iter().enumerate() {
            validate_item(item, format!("row {r}, item {i}"), items.len())?;
        }
    }
    Ok(())
}

fn validate_item(item: &J, at: String, row_items: usize) -> Result<(), Error> {
    let f = object(item, at)?;
    let ty = f.string("type")?;
    let state = f.string("state")?;
    let allowed: &[&str] = match ty {
        "span" => &["closed_span", "open_span"],
        "event" => &["point_event"],
        "orphan_end" => &["orphan_end"],
        other => {
            return Err(bad(
                &f.at,
                format!("`type` is {other:?}, not span, event or orphan_end"),
            ))
        }
    };
    if !allowed.contains(&state) {
        return Err(bad(
            &f.at,
            format!("`state` {state:?} does not go with type {ty:?}"),
        ));
    }
    for key in [
        "name",
        "span_id",
        "parent_span_id",
        "parent_span_name",
        "attrs",
    ] {
        f.get(key)?;
    }
    f.int("attempt")?;
    // A row of n items uses at most n lanes: depth d needs d ancestors in the row, and each
    // PD lane is an item of its own.
    let max_lane = row_items.saturating_sub(1) as u64;
    for key in ["lane", "depth"] {
        let x = f.uint(key, u64::from(u32::MAX))?;
        if x > max_lane {
            return Err(bad(
                &f.at,
                format!("`{key}` is {x}, beyond what the row's {row_items} items can use"),
            ));
        }
    }
    if ty == "span" {
        f.finite("start_ts")?;
        f.finite("display_end_ts")?;
        let end = f.opt_finite("end_ts")?;
        if state == "closed_span" && end.is_none() {
            return Err(bad(&f.at, "a closed span without `end_ts`".into()));
        }
        let attrs = object(f.get("attrs")?, format!("{}, attrs", f.at))?;
        attrs.get("start_attrs")?;
        attrs.get("end_attrs")?;
    } else {
        f.finite("ts")?;
    }
    Ok(())
}

/// Replaces a row's counts that disagree with its items, and says so.
fn repair_counts(cache: &mut Cache, warnings: &mut Vec<Warning>) {
    for (r, row) in cache.rows.iter_mut().enumerate() {
        let lane_count = 1 + row.items.iter().map(Item::lane).max().unwrap_or(0);
        let count = |s: State| row.items.iter().filter(|i| i.state() == s).count();
        let counts = (
            row.items.len(),
            count(State::ClosedSpan),
            count(State::OpenSpan),
            count(State::PointEvent),
            count(State::OrphanEnd),
        );
        let claimed = (
            row.item_count,
            row.closed_span_count,
            row.open_span_count,
            row.point_event_count,
            row.orphan_count,
        );
        if row.lane_count != lane_count {
            warnings.push(Warning {
                sample: Some(r),
                message: format!(
                    "lane_count says {} but its items use {lane_count} lanes; {lane_count} used",
                    row.lane_count
                ),
            });
            row.lane_count = lane_count;
        }
        if claimed != counts {
            warnings.push(Warning {
                sample: Some(r),
                message: format!(
                    "item counts say {claimed:?} but its items give {counts:?} \
                     (items, closed, open, point events, orphan ends); the items' counts used"
                ),
            });
            (
                row.item_count,
                row.closed_span_count,
                row.open_span_count,
                row.point_event_count,
                row.orphan_count,
            ) = counts;
        }
    }
}

/// A serialised [`Materialized`] (`{"cache": …, "warnings": […], "analysis": {…}}`, what a one-file
/// report carries): the cache is validated like any cache JSON; the warnings and analysis
/// are kept when they read as such (the analysis then has the dump's sample facts, which the
/// rows alone lack), else the ones the rows give.
pub(crate) fn materialized_from_json(mut value: J) -> Result<Materialized, Error> {
    let Some(obj) = value.as_object_mut() else {
        return Err(Error::BadCache("not an object".into()));
    };
    let cache = obj.remove("cache").unwrap_or(J::Null);
    let warnings = obj.remove("warnings");
    let analysis = obj.remove("analysis");
    let mut built = cache_from_json(cache)?;
    if let Some(Ok(mut w)) = warnings.map(serde_json::from_value::<Vec<Warning>>) {
        w.truncate(crate::MAX_WARNINGS);
        w.append(&mut built.warnings);
        built.warnings = w;
    }
    if let Some(Ok(a)) = analysis.map(serde_json::from_value) {
        built.analysis = a;
    }
    Ok(built)
}

/// Whether a JSON value is a serialised [`Materialized`] rather than a cache.
pub(crate) fn is_materialized(value: &J) -> bool {
    value.as_object().is_some_and(|o| {
        o.contains_key("cache") && o.contains_key("analysis") && !o.contains_key("rows")
    })
}

pub(crate) fn cache_from_json(value: J) -> Result<Materialized, Error> {
    validate(&value)?;
    let mut cache: Cache =
        serde_json::from_value(value).map_err(|e| Error::BadCache(e.to_string()))?;
    let mut warnings = Vec::new();
    if cache.sample_count != cache.rows.len() {
        warnings.push(Warning {
            sample: None,
            message: format!(
                "sample_count says {} but the cache has {} rows",
                cache.sample_count,
                cache.rows.len()
            ),
        });
    }
    repair_counts(&mut cache, &mut warnings);
    warnings.truncate(crate::MAX_WARNINGS);
    let analysis = metrics::analyze(
        &cache.rows,
        &metrics::facts_from_rows(&cache.rows),
        &metrics::Thresholds::default(),
    );
    Ok(Materialized {
        cache,
        warnings,
        analysis,
    })
}

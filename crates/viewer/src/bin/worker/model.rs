//! The open file, as the worker holds it: the only place on the browser side that knows
//! `trace`'s rows. The page asks through this narrow interface (row and item indices in,
//! columns, JSON-ready structs or bytes out), so the storage behind it can change (today a
//! `trace::Built`; later `trace`'s compact store) without the page or the protocol noticing.

use serde_json::Value as J;
use timeline::{Names, Track, PD_PHASES};
use trace::json::py_str;
use trace::{Built, Item, Row};
use viewer::protocol::{ItemDetails, PdSegment, RowData, RowHead, Summary, HEAD_TEXT_MAX};

/// What `export` can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Chrome Trace Event JSON.
    Chrome,
    /// OTLP/JSON.
    Otlp,
    /// slime's timeline cache (v1) JSON.
    Cache,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "chrome" => Format::Chrome,
            "otlp" => Format::Otlp,
            "cache" => Format::Cache,
            _ => return None,
        })
    }

    /// The download's name, after the file's stem.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::Chrome => "chrome.json",
            Format::Otlp => "otlp.json",
            Format::Cache => "trace_timeline_cache.json",
        }
    }
}

pub struct Model {
    built: Built,
    /// Names and attempt numbers interned as rows are turned into columns (ids stay fixed
    /// for the file, so the page's tables only grow).
    names: Names,
    attempts: Vec<i64>,
    attempt_ids: std::collections::HashMap<i64, u32>,
}

impl Model {
    pub fn new(built: Built) -> Model {
        Model {
            built,
            names: Names::default(),
            attempts: Vec::new(),
            attempt_ids: Default::default(),
        }
    }

    pub fn row_count(&self) -> usize {
        self.built.cache.rows.len()
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn attempts(&self) -> &[i64] {
        &self.attempts
    }

    fn row(&self, row: usize) -> Result<&Row, String> {
        self.built
            .cache
            .rows
            .get(row)
            .ok_or_else(|| format!("there is no row {row} (the file has {})", self.row_count()))
    }

    /// Row `row`'s head (`row < row_count()`).
    pub fn head(&self, row: usize) -> Result<RowHead, String> {
        let r = self.row(row)?;
        let text = |v: &J| cut(py_str(v));
        Ok(RowHead {
            row_id: r.row_id,
            sample_index: text(&r.sample_index),
            source: (!r.source.is_null()).then(|| text(&r.source)),
            status: text(&r.status),
            label: text(&r.label),
            trace_id: text(&r.trace_id),
            reward: r.reward.as_f64(),
            start: r.start,
            end: r.end,
            duration: r.duration,
            lane_count: r.lane_count,
            closed_spans: r.closed_span_count,
            open_spans: r.open_span_count,
        })
    }

    /// Row `row`'s columns, interning its names and attempts.
    pub fn track(&mut self, row: usize) -> Result<RowData, String> {
        let rows = &self.built.cache.rows;
        let Some(r) = rows.get(row) else {
            return Err(format!("there is no row {row}"));
        };
        let track = Track::from_row(r, &mut self.names);
        let mut attempt = Vec::with_capacity(r.items.len());
        let mut pd = Vec::new();
        for (i, item) in r.items.iter().enumerate() {
            let a = item.attempt();
            let next = self.attempts.len() as u32;
            let idx = *self.attempt_ids.entry(a).or_insert(next);
            if idx == next {
                self.attempts.push(a);
            }
            attempt.push(idx);
            pd_segments(item, i as u32, &mut pd);
        }
        Ok(RowData { track, attempt, pd })
    }

    /// Everything about item `item` of row `row`.
    pub fn details(&self, row: usize, item: usize) -> Result<ItemDetails, String> {
        let r = self.row(row)?;
        let it = r
            .items
            .get(item)
            .ok_or_else(|| format!("row {row} has no item {item}"))?;
        let state = serde_json::to_value(it.state())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let sample = vec![
            ("sample".to_string(), py_str(&r.sample_index)),
            ("group".into(), py_str(&r.group_index)),
            ("source".into(), py_str(&r.source)),
            ("status".into(), py_str(&r.status)),
            ("label".into(), py_str(&r.label)),
            ("reward".into(), py_str(&r.reward)),
            ("trace id".into(), py_str(&r.trace_id)),
            (
                "response length".into(),
                format!(
                    "{} total, {} max",
                    r.total_response_length, r.max_response_length
                ),
            ),
        ];
        Ok(match it {
            Item::Span(s) => ItemDetails {
                name: py_str(&s.name),
                state,
                start: s.start_ts,
                end: s.end_ts,
                display_end: s.display_end_ts,
                parent: py_str(&s.parent_span_name),
                span_id: py_str(&s.span_id),
                attempt: s.attempt,
                clipped_by: s.attrs.end_attrs.get("clipped_by").map(py_str),
                attrs: vec![
                    ("start attrs".into(), s.attrs.start_attrs.clone()),
                    ("end attrs".into(), s.attrs.end_attrs.clone()),
                ],
                sample,
            },
            Item::Event(p) | Item::OrphanEnd(p) => ItemDetails {
                name: py_str(&p.name),
                state,
                start: p.ts,
                end: None,
                display_end: p.ts,
                parent: py_str(&p.parent_span_name),
                span_id: py_str(&p.span_id),
                attempt: p.attempt,
                clipped_by: None,
                attrs: vec![("attrs".into(), p.attrs.clone())],
                sample,
            },
        })
    }

    /// The file's facts besides its rows.
    pub fn summary(&self, name: &str) -> Summary {
        let c = &self.built.cache;
        Summary {
            name: name.to_string(),
            sample_count: c.sample_count,
            rows: c.rows.len(),
            global_start: c.global_start,
            global_end: c.global_end,
            warnings: self.built.warnings.clone(),
            analysis: self.built.analysis.clone(),
            pd_phases: pd_phases_seen(&c.rows),
        }
    }

    /// Writes the file in `format` as JSON to `out` (the worker's sink turns it into a
    /// Blob in pieces, so the text never exists whole in wasm memory).
    pub fn export(&self, format: Format, out: &mut dyn std::io::Write) -> Result<(), String> {
        let cache = &self.built.cache;
        let r = match format {
            Format::Chrome => serde_json::to_writer(out, &trace::interop::export_chrome(cache)),
            Format::Otlp => serde_json::to_writer(out, &trace::interop::export_otlp(cache)),
            Format::Cache => serde_json::to_writer(out, cache),
        };
        r.map_err(|e| format!("the export could not be written: {e}"))
    }
}

/// A head text, cut to [`HEAD_TEXT_MAX`] characters.
fn cut(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(HEAD_TEXT_MAX) {
        s.truncate(at);
        s.push('…');
    }
    s
}

/// The `pd_*_duration` attrs of a `[P]`/`[D]` span laid end to end from its start (what
/// `timeline::pd_segments` draws), as segments of item `i`.
fn pd_segments(item: &Item, i: u32, out: &mut Vec<PdSegment>) {
    let Item::Span(span) = item else { return };
    if span.pd_virtual_role().is_none() {
        return;
    }
    let Some(attrs) = span.attrs.end_attrs.as_object() else {
        return;
    };
    let mut t = span.start_ts;
    for (phase, (key, _, _)) in PD_PHASES.iter().enumerate() {
        let attr = format!("pd_{key}_duration");
        if let Some(d) = attrs.get(&attr).and_then(J::as_f64) {
            if d > 0.0 && d.is_finite() {
                out.push(PdSegment {
                    item: i,
                    phase: phase as u8,
                    t0: t,
                    t1: t + d,
                });
                t += d;
            }
        }
    }
}

/// The PD phases named by any span of `rows` (as end-attr keys or span names), as indices
/// into `PD_PHASES`, in legend order.
fn pd_phases_seen(rows: &[Row]) -> Vec<usize> {
    let mut seen = [false; PD_PHASES.len()];
    for r in rows {
        for it in &r.items {
            if let Item::Span(sp) = it {
                let keys = sp
                    .attrs
                    .end_attrs
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys().cloned());
                for k in keys.chain(std::iter::once(py_str(&sp.name))) {
                    if let Some(p) = timeline::pd_phase(&k) {
                        if let Some(i) = PD_PHASES.iter().position(|x| x.0 == p.0) {
                            seen[i] = true;
                        }
                    }
                }
            }
        }
    }
    (0..PD_PHASES.len()).filter(|&i| seen[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use viewer::protocol::{decode_batch, BatchWriter, Tables};

    fn fixture(name: &str) -> Built {
        let path = format!(
            "{}/../../../shared/fixtures/slime/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        trace::load(&bytes, name, 0.0).expect("fixture loads")
    }

    /// Every fixture's rows go through batches (several per file: a small batch size is
    /// forced by the item cap on the larger ones) and come out as the columns
    /// `Track::from_row` makes of the rows themselves, with the same names and attempts.
    #[test]
    fn batches_carry_every_row_as_its_columns() {
        for name in [
            "basic_0.pt",
            "pd_1.pt",
            "agent_2.pt",
            "pdflat_5.pt",
            "edge_9.pt",
        ] {
            let built = fixture(name);
            let rows = built.cache.rows.clone();
            let mut model = Model::new(built);
            let mut writer = BatchWriter::default();
            let mut page = Tables::default();
            let (mut heads, mut data) = (Vec::new(), Vec::new());
            let mut flush = |writer: &mut BatchWriter, model: &Model| {
                if let Some((h, c)) = writer.take(model.names(), model.attempts()) {
                    // Through JSON, as the head travels.
                    let text = serde_json::to_string(&h).expect("head serialises");
                    let h = viewer::protocol::decode_head(&text).expect("head decodes");
                    let (hs, ds) = decode_batch(h, c, heads.len(), &mut page).expect("decodes");
                    heads.extend(hs);
                    data.extend(ds);
                }
            };
            for r in 0..model.row_count() {
                if writer.is_full() {
                    flush(&mut writer, &model);
                }
                let tables = (model.names().len(), model.attempts().len());
                let d = model.track(r).expect("row");
                let h = model.head(r).expect("head");
                writer.push(r, h, &d, tables);
            }
            flush(&mut writer, &model);
            assert_eq!(data.len(), rows.len(), "{name}");
            let mut names = Names::default();
            for (i, row) in rows.iter().enumerate() {
                let want = Track::from_row(row, &mut names);
                let got = &data[i].track;
                assert_eq!(got.start, want.start, "{name} row {i}");
                assert_eq!(got.kind, want.kind, "{name} row {i}");
                assert_eq!(got.lane, want.lane, "{name} row {i}");
                for (a, b) in got.name.iter().zip(&want.name) {
                    assert_eq!(page.names.text(*a), names.text(*b), "{name} row {i}");
                }
                for (j, item) in row.items.iter().enumerate() {
                    assert_eq!(page.attempts[data[i].attempt[j] as usize], item.attempt());
                    let mut pd = Vec::new();
                    pd_segments(item, j as u32, &mut pd);
                    let got: Vec<_> = data[i].pd.iter().filter(|s| s.item == j as u32).collect();
                    assert_eq!(got.len(), pd.len(), "{name} row {i} item {j}");
                }
                assert_eq!(heads[i].row_id, row.row_id);
                assert_eq!(heads[i].start.to_bits(), row.start.to_bits());
            }
            if name == "pd_1.pt" || name == "pdflat_5.pt" {
                assert!(!model.summary(name).pd_phases.is_empty(), "{name}");
            }
            if name == "pdflat_5.pt" {
                assert!(
                    data.iter().any(|d| !d.pd.is_empty()),
                    "[P]/[D] segments travel"
                );
            }
        }
    }

    #[test]
    fn details_name_the_item_and_bad_indices_are_errors() {
        let model = Model::new(fixture("agent_2.pt"));
        let row = &model.built.cache.rows[0];
        let (i, span) = row
            .items
            .iter()
            .enumerate()
            .find_map(|(i, it)| match it {
                Item::Span(s) => Some((i, s)),
                _ => None,
            })
            .expect("a span");
        let d = model.details(0, i).expect("details");
        assert_eq!(d.name, py_str(&span.name));
        assert_eq!(d.attempt, span.attempt);
        assert_eq!(d.attrs[1].1, span.attrs.end_attrs);
        assert_eq!(d.sample[0].1, py_str(&row.sample_index));
        // Round trip through the message text.
        let text = viewer::protocol::to_text(&viewer::protocol::FromWorker::Details {
            id: 3,
            row: 0,
            item: i,
            details: Box::new(d.clone()),
        });
        match viewer::protocol::decode(&text) {
            Ok(viewer::protocol::FromWorker::Details { details, id: 3, .. }) => {
                assert_eq!(*details, d)
            }
            other => panic!("{other:?}"),
        }
        let n = model.row_count();
        assert!(model.details(n, 0).unwrap_err().contains("no row"));
        assert!(model
            .details(0, row.items.len())
            .unwrap_err()
            .contains("no item"));
    }

    #[test]
    fn exports_are_the_trace_exports() {
        let model = Model::new(fixture("basic_0.pt"));
        let mut out = Vec::new();
        model.export(Format::Cache, &mut out).expect("cache");
        let back: trace::Cache = serde_json::from_slice(&out).expect("cache reads back");
        assert_eq!(back.rows.len(), model.row_count());
        let mut out = Vec::new();
        model.export(Format::Chrome, &mut out).expect("chrome");
        let v: J = serde_json::from_slice(&out).expect("json");
        assert!(v["traceEvents"].as_array().is_some_and(|a| !a.is_empty()));
        assert_eq!(Format::parse("otlp"), Some(Format::Otlp));
        assert_eq!(Format::parse("pdf"), None);
    }

    #[test]
    fn head_texts_are_cut() {
        let long = "x".repeat(HEAD_TEXT_MAX * 3);
        let c = cut(long);
        assert_eq!(c.chars().count(), HEAD_TEXT_MAX + 1);
        assert!(c.ends_with('…'));
        assert_eq!(cut("short".into()), "short");
    }
}

//! The open file, as the worker holds it: the only place on the browser side that knows
//! `trace`'s rows. The page asks through this narrow interface (row and item indices in,
//! columns, JSON-ready structs or bytes out); behind it is `trace`'s compact row store
//! (`trace::Loaded`), and the page and the protocol know nothing of it.

use serde_json::Value as J;
use timeline::{Names, Track};
use trace::json::py_str;
use trace::{Item, Loaded};
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

// The store's item kinds are sent as the Track's kinds unchanged (`timeline::KIND_*` are
// `trace::store`'s kinds re-exported).

pub struct Model {
    built: Loaded,
    /// The file's size in bytes: what bounds its exports, as the CLI bounds them.
    input_bytes: u64,
    /// Names and attempt numbers interned as rows are turned into columns (ids stay fixed
    /// for the file, so the page's tables only grow).
    names: Names,
    /// The page's name id of each of the store's names, once sent.
    name_ids: Vec<Option<u32>>,
    attempts: Vec<i64>,
    attempt_ids: std::collections::HashMap<i64, u32>,
}

impl Model {
    pub fn new(built: Loaded, input_bytes: u64) -> Model {
        Model {
            built,
            input_bytes,
            names: Names::default(),
            name_ids: Vec::new(),
            attempts: Vec::new(),
            attempt_ids: Default::default(),
        }
    }

    pub fn row_count(&self) -> usize {
        self.built.store.len()
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn attempts(&self) -> &[i64] {
        &self.attempts
    }

    fn head_of(&self, row: usize) -> Result<&trace::store::RowHead, String> {
        self.built
            .store
            .heads
            .get(row)
            .ok_or_else(|| format!("there is no row {row} (the file has {})", self.row_count()))
    }

    /// Row `row`'s head (`row < row_count()`).
    pub fn head(&self, row: usize) -> Result<RowHead, String> {
        let r = self.head_of(row)?;
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

    /// Row `row`'s columns, straight from the store's columns (only `[P]`/`[D]` virtual
    /// spans are materialised, for their phase segments), interning names and attempts.
    pub fn track(&mut self, row: usize) -> Result<RowData, String> {
        let range = self.head_of(row)?.items();
        let store = &self.built.store;
        let c = &store.cols;
        let n = range.len();
        let mut track = Track {
            start: c.start[range.clone()].to_vec(),
            end: c.display_end[range.clone()].to_vec(),
            name: Vec::with_capacity(n),
            // The store's kind bits are the Track's (state, PD flags): checked in tests.
            kind: c.kind[range.clone()].to_vec(),
            lane: c.lane[range.clone()].to_vec(),
            depth: c.depth[range.clone()].to_vec(),
        };
        let mut attempt = Vec::with_capacity(n);
        for i in range.clone() {
            let sid = c.name[i] as usize;
            if self.name_ids.len() <= sid {
                self.name_ids.resize(sid + 1, None);
            }
            let id = match self.name_ids[sid] {
                Some(id) => id,
                None => {
                    let id = self.names.intern_text(&store.names.display(c.name[i]));
                    self.name_ids[sid] = Some(id);
                    id
                }
            };
            track.name.push(id);
            let a = c.attempt[i];
            let next = self.attempts.len() as u32;
            let idx = *self.attempt_ids.entry(a).or_insert(next);
            if idx == next {
                self.attempts.push(a);
            }
            attempt.push(idx);
        }
        // The row's PD segments, kept by the store (`trace::store::PdIndex`), by position
        // in the row.
        let segs = &store.pd;
        let first = range.start as u32;
        let pd = segs
            .segments_of(range)
            .map(|k| PdSegment {
                item: segs.item[k] - first,
                phase: segs.phase[k],
                t0: segs.t0[k],
                t1: segs.t1[k],
            })
            .collect();
        Ok(RowData { track, attempt, pd })
    }

    /// Everything about item `item` of row `row`.
    pub fn details(&self, row: usize, item: usize) -> Result<ItemDetails, String> {
        let r = self.head_of(row)?;
        if item >= r.len {
            return Err(format!("row {row} has no item {item}"));
        }
        let it = &self.built.store.item(r.first + item);
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
        let c = &self.built;
        Summary {
            name: name.to_string(),
            sample_count: c.store.len(),
            rows: c.store.len(),
            global_start: c.head.global_start,
            global_end: c.head.global_end,
            warnings: c.warnings.clone(),
            analysis: c.analysis.clone(),
            pd_phases: c.store.pd.phases_seen(),
        }
    }

    /// Writes the file in `format` as JSON to `out` (the worker's sink turns it into a
    /// Blob in pieces, so the text never exists whole in wasm memory), streamed from the
    /// store; Chrome and OTLP exports are bounded by the file's size as the CLI's are
    /// (`trace::interop::export_limit`).
    pub fn export(&self, format: Format, out: &mut dyn std::io::Write) -> Result<(), String> {
        use trace::interop::{export_limit, write_export, Format as Export};
        let r = match format {
            Format::Cache => self.built.write_cache(out).map_err(|e| e.to_string()),
            Format::Chrome | Format::Otlp => {
                let f = if format == Format::Chrome {
                    Export::Chrome
                } else {
                    Export::Otlp
                };
                let limit = export_limit(self.input_bytes);
                write_export(&self.built, f, limit, out)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    use timeline::PD_PHASES;
    use viewer::protocol::{decode_batch, BatchWriter, Tables};

    fn fixture(name: &str) -> Loaded {
        let path = format!(
            "{}/../../tests/fixtures/slime/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        trace::load(&bytes, &trace::LoadOptions::new(name, 0.0)).expect("fixture loads")
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
            let rows = built.clone().materialize().cache.rows;
            let mut model = Model::new(built, 1 << 20);
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
                // Bit for bit: an end that is NaN on one side only is a span not drawn.
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.end), bits(&want.end), "{name} row {i}");
                assert_eq!(got.kind, want.kind, "{name} row {i}");
                assert_eq!(got.lane, want.lane, "{name} row {i}");
                assert_eq!(got.depth, want.depth, "{name} row {i}");
                for (a, b) in got.name.iter().zip(&want.name) {
                    assert_eq!(page.names.text(*a), names.text(*b), "{name} row {i}");
                }
                for (j, item) in row.items.iter().enumerate() {
                    assert_eq!(page.attempts[data[i].attempt[j] as usize], item.attempt());
                    let want = timeline::pd_segments(item);
                    let got: Vec<_> = data[i].pd.iter().filter(|s| s.item == j as u32).collect();
                    assert_eq!(got.len(), want.len(), "{name} row {i} item {j}");
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!((g.t0, g.t1), (w.0, w.1), "{name} row {i} item {j}");
                        assert_eq!(PD_PHASES[g.phase as usize].2, w.2);
                    }
                }
                assert_eq!(heads[i].row_id, row.row_id);
                assert_eq!(heads[i].start.to_bits(), row.start.to_bits());
            }
            // The legend's phases: every span's name and end-attr keys, looked at one by one.
            let mut want = Vec::new();
            for row in &rows {
                for item in &row.items {
                    if let Item::Span(sp) = item {
                        let keys = sp
                            .attrs
                            .end_attrs
                            .as_object()
                            .into_iter()
                            .flat_map(|m| m.keys());
                        let name = match &sp.name {
                            J::String(s) => s.clone(),
                            v => v.to_string(),
                        };
                        for k in keys.map(String::as_str).chain([name.as_str()]) {
                            if let Some(p) = timeline::pd_phase(k) {
                                want.push(PD_PHASES.iter().position(|x| x.0 == p.0).unwrap());
                            }
                        }
                    }
                }
            }
            want.sort_unstable();
            want.dedup();
            assert_eq!(model.summary(name).pd_phases, want, "{name}");
            if name == "pd_1.pt" || name == "pdflat_5.pt" {
                assert!(!want.is_empty(), "{name}");
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
        let model = Model::new(fixture("agent_2.pt"), 1 << 20);
        let row = &model.built.clone().materialize().cache.rows[0];
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
        for name in ["basic_0.pt", "pd_1.pt"] {
            let model = Model::new(fixture(name), 1 << 20);
            // The same file through `trace` alone: what the CLI and Python export.
            let reference = fixture(name).materialize().cache;
            let export = |format| {
                let mut out = Vec::new();
                model.export(format, &mut out).expect("export");
                serde_json::from_slice::<J>(&out).expect("an export is JSON")
            };
            let back: trace::Cache =
                serde_json::from_value(export(Format::Cache)).expect("cache reads back");
            assert_eq!(back.rows.len(), model.row_count(), "{name}");
            assert_eq!(
                serde_json::to_value(&back).ok(),
                serde_json::to_value(&reference).ok(),
                "{name}: cache"
            );
            let chrome = export(Format::Chrome);
            assert!(chrome["traceEvents"]
                .as_array()
                .is_some_and(|a| a.len() > 1));
            assert_eq!(
                chrome,
                trace::interop::export_chrome(&reference),
                "{name}: chrome"
            );
            let otlp = export(Format::Otlp);
            assert!(otlp["resourceSpans"]
                .as_array()
                .is_some_and(|a| !a.is_empty()));
            assert_eq!(
                otlp,
                trace::interop::export_otlp(&reference),
                "{name}: otlp"
            );
        }
        assert_eq!(Format::parse("otlp"), Some(Format::Otlp));
        assert_eq!(Format::parse("chrome"), Some(Format::Chrome));
        assert_eq!(Format::parse("cache"), Some(Format::Cache));
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

//! The open file, as the worker holds it: with `outbox` (its rows as the page's columns), the
//! only place on the browser side that knows `trace`'s rows. The page asks through this
//! narrow interface (row and item indices in, JSON-ready structs or bytes out); behind it is
//! `trace`'s compact row store (`trace::Loaded`), and the page and the protocol know nothing
//! of it.

use trace::json::py_str;
use trace::{Item, Loaded};
use viewer::protocol::{ItemDetails, Summary};

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
}

impl Model {
    pub fn new(built: Loaded, input_bytes: u64) -> Model {
        Model { built, input_bytes }
    }

    #[cfg(test)]
    fn row_count(&self) -> usize {
        self.built.store.len()
    }

    fn head_of(&self, row: usize) -> Result<&trace::store::RowHead, String> {
        crate::outbox::head_of(&self.built.store, row)
    }

    /// The finished rows, for the rows still to be sent.
    pub fn store(&self) -> &trace::store::Store {
        &self.built.store
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::fixture;
    use serde_json::Value as J;

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
}

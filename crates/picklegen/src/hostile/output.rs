//! Hostile shapes for what is written from the rows (exports, reports): small dumps whose
//! samples share one long trace through the pickle memo, so the rows are cheap to build
//! (one trace, many references) but their text is far larger than the file.
//!
//! [`super::catalog`] holds them (what `cache` gives); [`export_cases`] says what each
//! export must give.

use super::trace::{dump, T0, W};
use super::{Case, Expect};

/// Memo keys: the shared trace, the shared attrs dict.
const TRACE: u32 = 1;
const ATTRS: u32 = 2;

/// `samples` samples whose `trace` is one dict of `spans` spans (2 events each, each start
/// with one shared 200-byte attrs dict), written once and named by every other sample.
pub fn shared_trace(samples: usize, spans: usize) -> Vec<u8> {
    dump(|w| {
        w.p.empty_list();
        w.items(samples, |w, i| {
            w.p.empty_dict().mark();
            w.s("index");
            w.p.int(i as i64);
            w.s("trace");
            if i == 0 {
                w.p.empty_dict().mark();
                w.s("events");
                w.p.empty_list();
                w.items(spans * 2, |w: &mut W, j| {
                    let (k, end) = (j / 2, j % 2 == 1);
                    let kind = if end { "span_end" } else { "span_start" };
                    w.event(kind, "generate", T0 + j as f64, Some(k as i64), None, |w| {
                        if end {
                            return;
                        }
                        w.s("attrs");
                        if j == 0 {
                            w.p.empty_dict().mark().str("note");
                            w.p.str(&"n".repeat(200)).setitems().put(ATTRS);
                        } else {
                            w.p.get(ATTRS);
                        }
                    })
                });
                w.p.setitems().put(TRACE);
            } else {
                w.p.get(TRACE);
            }
            w.p.setitems();
        });
    })
}

/// The file of each output case.
pub const SHARED_TRACE: &str = "output_shared_trace_1000x200.pt";

pub(super) fn cases() -> Vec<Case> {
    vec![Case {
        file: SHARED_TRACE,
        class: 2,
        what: "1 000 samples naming one 200-event trace (pickle memo): rows are cheap, \
               but the exports' text would be far larger than the file (the same shape at 2 000 \
               events once took 8.5 GB)",
        bytes: shared_trace(1000, 100),
        // The rows stop at the file's output limit (`OUTPUT_PER_INPUT_BYTE`, 256 bytes per byte
        // of input).
        expect: Expect::Rows {
            rows: 119,
            warning: "would pass the file's limit",
        },
        browser: true,
    }]
}

/// What `rollscope export --format chrome|otlp` must give on an output case: an error
/// (writing stopped at the limit), or rows (Chrome: one `thread_name` event per row; OTLP:
/// one resource per row) and a warning.
#[derive(Debug, Clone)]
pub struct ExportCase {
    pub file: &'static str,
    pub chrome: Expect,
    pub otlp: Expect,
}

/// The export expectations of the output cases (their bytes are in [`super::catalog`]).
pub fn export_cases() -> Vec<ExportCase> {
    vec![ExportCase {
        file: SHARED_TRACE,
        // Chrome's text of the rows kept is smaller than the cache's; OTLP's is larger.
        chrome: Expect::Rows {
            rows: 119,
            warning: "would pass the file's limit",
        },
        otlp: Expect::Error("the OTLP export would be larger than"),
    }]
}

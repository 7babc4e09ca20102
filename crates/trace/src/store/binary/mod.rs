//! A [`Loaded`] as bytes and back: the row store's own binary form, which a one-file report
//! embeds instead of JSON (a ≈1 M-span dump's rows are ≈0.5 GB of JSON; here they are the
//! store's columns as they are, which the page's worker opens without parsing a single row).
//!
//! **Layout** (version [`VERSION`], every number little-endian):
//!
//! ```text
//! MAGIC (16 bytes)  version: u32
//! meta: u64 length + JSON {pt_path, generated_at, global_start, global_end, warnings, analysis}
//! rows: u64  items: u64
//! heads, per row: row_id u64, 7 × (u32 length + JSON text) for sample_index … trace_id,
//!     attempt i64, start f64, end f64, duration f64, lane_count u32,
//!     item_count, closed, open, point events, orphan ends: 5 × u64,
//!     total_response_length i64, max_response_length i64
//! columns, each `items` long: kind u8, start f64, end f64, display_end f64, attempt i64,
//!     name, parent_span_name, span_id, parent_span_id, lane, depth: u32,
//!     start-attrs length u32, end-attrs length u32
//! names, then ids, then attribute keys: count u64, `count` × u32 length, the texts one after
//!     another
//! attrs: u64 length, the attribute texts one after another, keys marked (`store/keys.rs`)
//! PD index (`store/pd.rs`): phases seen u16, segments: u64 count, item u32, t0 f64, t1 f64,
//!     phase u8 (a column each)
//! END (4 bytes), and nothing after it
//! ```
//!
//! Columns, not records, because a column of one kind of number compresses well (the report
//! gzips this). Rows are contiguous and in order, so a head need not say where its items are.
//!
//! **It is input.** A report is a file anyone can hand over, so [`read`] trusts nothing: every
//! length is checked against the bytes left before anything is allocated (the store costs at
//! most a small multiple of its bytes), and every value against what a build can make: counts
//! under [`crate::MAX_SAMPLES`] and [`crate::MAX_FILE_ITEMS`], ids inside their tables,
//! lanes and depths below the row's item count, times finite, every text valid JSON (the
//! store writes id texts into exports verbatim, attribute texts with their key marks
//! expanded: each mark names a key in the table, at most once in a text, so a text expands
//! by at most the table's size), the counts of a head equal to its items'. Errors name the part and the row or item.

use serde::Deserialize;

use crate::metrics::Analysis;
use crate::model::jf64;
use crate::Warning;

mod check;
mod read;
mod write;

pub use read::read;
pub use write::write;

/// The first bytes of a store: what [`crate::sniff`] recognises.
pub const MAGIC: &[u8; 16] = b"rollscope-store\n";
/// The layout's version; any other is refused (a report's page reads the store it embeds).
pub const VERSION: u32 = 3;
const END: &[u8; 4] = b"end\n";

/// The JSON part as read: the cache header, warnings and analysis (small, and already serde
/// types); written as `write::MetaRef`.
#[derive(Deserialize)]
struct Meta {
    pt_path: String,
    #[serde(with = "jf64")]
    generated_at: f64,
    #[serde(with = "jf64::opt")]
    global_start: Option<f64>,
    #[serde(with = "jf64::opt")]
    global_end: Option<f64>,
    warnings: Vec<Warning>,
    analysis: Analysis,
}

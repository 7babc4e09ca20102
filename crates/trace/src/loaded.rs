//! [`Loaded`]: what loading a file gives (rows in the compact [`Store`], the cache header,
//! warnings and the analysis), and [`Materialized`], the same with every row as a [`Row`].

use std::io::{self, Write};

use crate::metrics::Analysis;
use crate::model::Row;
use crate::store::Store;
use crate::{Cache, Warning, CACHE_VERSION};

/// The header fields of a cache file (everything but its rows and their count).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHead {
    /// The input's name as the cache records it (slime records the dump's path).
    pub pt_path: String,
    /// Seconds since the epoch (the caller's clock: wasm has none of its own).
    pub generated_at: f64,
    pub global_start: Option<f64>,
    pub global_end: Option<f64>,
}

/// One file, loaded: rows (as a [`Store`]), the cache header, the warnings that say which
/// samples were bad and why, and the performance picture. What [`crate::load`] and
/// [`crate::Loader`] give; the CLI, Python and the viewer's worker keep this one.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub head: CacheHead,
    pub store: Store,
    pub warnings: Vec<Warning>,
    pub analysis: Analysis,
}

/// A [`Loaded`] with every row materialised as `serde_json`-ready [`Row`]s: the cache file
/// ([`Cache`]) plus the warnings and the analysis. Serialisable: it is what a one-file report
/// carries, and a cache JSON of this shape is read back as it was written.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Materialized {
    pub cache: Cache,
    pub warnings: Vec<Warning>,
    pub analysis: Analysis,
}

impl Loaded {
    /// Writes the cache JSON (the same bytes as `serde_json` on the materialised [`Cache`]).
    pub fn write_cache<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        self.store.write_cache(&self.head, w)
    }

    /// Every row materialised.
    pub fn materialize(self) -> Materialized {
        let rows: Vec<Row> = (0..self.store.len()).map(|r| self.store.row(r)).collect();
        Materialized {
            cache: Cache {
                cache_version: CACHE_VERSION,
                pt_path: self.head.pt_path,
                generated_at: self.head.generated_at,
                sample_count: self.store.len(),
                global_start: self.head.global_start,
                global_end: self.head.global_end,
                rows,
            },
            warnings: self.warnings,
            analysis: self.analysis,
        }
    }

    /// A materialised cache (a cache JSON, an OTLP import) into the store, row by row.
    pub fn from_materialized(m: Materialized) -> Loaded {
        let mut store = Store::default();
        for row in m.cache.rows {
            store.push(row);
        }
        Loaded {
            head: CacheHead {
                pt_path: m.cache.pt_path,
                generated_at: m.cache.generated_at,
                global_start: m.cache.global_start,
                global_end: m.cache.global_end,
            },
            store,
            warnings: m.warnings,
            analysis: m.analysis,
        }
    }
}

//! [`Compact`]: what a build gives, with the rows in the compact [`Store`].

use std::io::{self, Write};

use crate::metrics::Analysis;
use crate::store::{write::Header, Store};
use crate::{Built, Cache, Warning, CACHE_VERSION};

/// Rows (as a [`Store`]), warnings and the performance picture of one file. [`Built`] is the
/// same with every row materialised as `serde_json` values ([`Compact::into_built`]); the
/// CLI and the viewer's worker keep this one.
#[derive(Debug, Clone)]
pub struct Compact {
    pub pt_path: String,
    pub generated_at: f64,
    pub global_start: Option<f64>,
    pub global_end: Option<f64>,
    pub store: Store,
    pub warnings: Vec<Warning>,
    pub analysis: Analysis,
}

impl Compact {
    /// Writes the cache JSON (the same bytes as `serde_json` on the [`Built`]'s cache).
    pub fn write_cache<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        let head = Header {
            pt_path: &self.pt_path,
            generated_at: self.generated_at,
            global_start: self.global_start,
            global_end: self.global_end,
        };
        self.store.write_cache(&head, w)
    }

    /// Writes the serialised [`Built`] (what a one-file report embeds): the same bytes as
    /// `serde_json` on [`Compact::into_built`], with the rows written straight from the store.
    pub fn write_built<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"{\"cache\":")?;
        self.write_cache(w)?;
        w.write_all(b",\"warnings\":")?;
        serde_json::to_writer(&mut *w, &self.warnings).map_err(io::Error::from)?;
        w.write_all(b",\"analysis\":")?;
        serde_json::to_writer(&mut *w, &self.analysis).map_err(io::Error::from)?;
        w.write_all(b"}")
    }

    /// Every row materialised.
    pub fn into_built(self) -> Built {
        let rows = (0..self.store.len()).map(|r| self.store.row(r)).collect();
        Built {
            cache: Cache {
                cache_version: CACHE_VERSION,
                pt_path: self.pt_path,
                generated_at: self.generated_at,
                sample_count: self.store.len(),
                global_start: self.global_start,
                global_end: self.global_end,
                rows,
            },
            warnings: self.warnings,
            analysis: self.analysis,
        }
    }

    /// A built cache (a cache JSON, an OTLP import) into the store, row by row.
    pub fn from_built(b: Built) -> Compact {
        let mut store = Store::default();
        for row in b.cache.rows {
            store.push(row);
        }
        Compact {
            pt_path: b.cache.pt_path,
            generated_at: b.cache.generated_at,
            global_start: b.cache.global_start,
            global_end: b.cache.global_end,
            store,
            warnings: b.warnings,
            analysis: b.analysis,
        }
    }
}

//! Which kind of file this is, and where its pickle lives.

use std::io::Read;

use crate::error::Error;
use crate::pickle;
use crate::value::Tree;
use crate::Limits;

/// The container a value tree was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A torch ZIP archive; `entry` is the `*/data.pkl` that was read.
    Zip { entry: String },
    /// Torch's legacy serialization (`_use_new_zipfile_serialization=False`).
    Legacy,
    /// A bare pickle.
    Pickle,
}

/// A read file: its value tree and where it came from.
#[derive(Debug)]
pub struct Dump {
    pub tree: Tree,
    pub format: Format,
}

/// What the first bytes say the file is, if it is one of ours.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some("zip")
    } else if bytes.first() == Some(&0x80) && bytes.get(1).is_some_and(|&p| p <= 5) {
        Some("pickle")
    } else {
        None
    }
}

/// The magic number torch writes first in a legacy file.
pub(crate) const LEGACY_MAGIC: &str = "119547037146038801333356";

/// Reads a torch file (ZIP or legacy) or a bare pickle held whole.
///
/// This is the streaming reader fed the whole buffer (see `stream/`), so it gives exactly
/// what [`crate::StreamReader`] gives on the same bytes, in any chunks.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    crate::stream::read_whole(bytes, limits)
}

pub(crate) fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "starts with bytes {} (expected a ZIP 'PK\\x03\\x04' or a pickle 0x80)",
        head.join(" ")
    )
}

/// A ZIP whose `data.pkl` cannot be reached from its first local headers (a data descriptor,
/// another compression, entries in another order), read whole through its central directory.
/// STORED data is read in place, DEFLATED data inflated under the size cap whatever the
/// headers declare; no other method is read.
pub(crate) fn read_zip_archive(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    let (entry, start) = crate::zipdir::whole_data_pkl(bytes)?;
    let name = entry.name.clone();
    let limit = limits.max_pickle_bytes;
    if let Some(size) = entry.usize.filter(|&s| s > limit) {
        return Err(Error::TooLarge {
            entry: name,
            limit,
            declared: Some(size),
        });
    }
    let csize = entry
        .csize
        .ok_or_else(|| Error::ZipLayout(format!("{name}: its compressed size is unknown")))?;
    // u64 arithmetic, then a checked conversion: on a 32-bit target `as usize` would wrap a
    // size past 4 GiB into a wrong, in-bounds slice.
    let data = (start as u64)
        .checked_add(csize)
        .and_then(|end| usize::try_from(end).ok())
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| {
            Error::ZipLayout(format!(
                "{name}: data runs past the end of the file (bytes {start}..{} of {})",
                (start as u64).saturating_add(csize),
                bytes.len()
            ))
        })?;
    let pickle_bytes: std::borrow::Cow<'_, [u8]> = match entry.method {
        0 => {
            if data.len() as u64 > limit {
                return Err(Error::TooLarge {
                    entry: name,
                    limit,
                    declared: Some(data.len() as u64),
                });
            }
            std::borrow::Cow::Borrowed(data)
        }
        8 => {
            // The declared size is only a hint: cap what we inflate, whatever it says.
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| Error::Zip(format!("{name}: {e}")))?;
            if out.len() as u64 > limit {
                return Err(Error::TooLarge {
                    entry: name,
                    limit,
                    declared: None,
                });
            }
            std::borrow::Cow::Owned(out)
        }
        m => {
            return Err(Error::Zip(format!(
                "{name}: compression method {m} is not supported (only stored and deflated)"
            )))
        }
    };
    let entry = name;
    let (tree, _) = pickle::load(&pickle_bytes, limits, 0).map_err(|source| Error::Pickle {
        part: entry.clone(),
        source,
    })?;
    Ok(Dump {
        tree,
        format: Format::Zip { entry },
    })
}

//! Which kind of file this is, and where its pickle lives.

use std::io::{Cursor, Read};

use crate::error::Error;
use crate::pickle;
use crate::value::{Tree, Value};
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

/// Reads a torch file (ZIP or legacy) or a bare pickle.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    match sniff(bytes) {
        Some("zip") => read_zip(bytes, limits),
        Some(_) => read_pickles(bytes, limits),
        None => Err(Error::NotTorch(describe_start(bytes))),
    }
}

fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "starts with bytes {} (expected a ZIP 'PK\\x03\\x04' or a pickle 0x80)",
        head.join(" ")
    )
}

fn read_zip(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Error::Zip(e.to_string()))?;
    let mut candidates: Vec<String> = Vec::new();
    for i in 0..archive.len() {
        let f = archive
            .by_index_raw(i)
            .map_err(|e| Error::Zip(format!("entry #{i}: {e}")))?;
        let n = f
            .name()
            .map_err(|e| Error::Zip(format!("entry #{i}: {e}")))?
            .into_owned();
        if (n == "data.pkl" || n.ends_with("/data.pkl")) && n.matches('/').count() <= 1 {
            candidates.push(n);
        }
    }
    let entry = match candidates.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::ZipLayout(
                "no */data.pkl entry (is this a torch.save file?)".into(),
            ))
        }
        many => {
            return Err(Error::ZipLayout(format!(
                "{} entries named */data.pkl: {}",
                many.len(),
                many.join(", ")
            )))
        }
    };
    let mut file = archive
        .by_name(&entry)
        .map_err(|e| Error::Zip(format!("{entry}: {e}")))?;
    let size = file.size();
    if size > limits.max_pickle_bytes {
        return Err(Error::TooLarge {
            entry,
            limit: limits.max_pickle_bytes,
        });
    }
    let pickle_bytes: std::borrow::Cow<'_, [u8]> =
        if file.compression() == zip::CompressionMethod::Stored {
            // Torch writes entries STORED: read the pickle in place, no copy.
            let start = file.data_start().ok_or_else(|| {
                Error::ZipLayout(format!("{entry}: the offset of its data is unknown"))
            })? as usize;
            let end = start.saturating_add(size as usize);
            let slice = bytes.get(start..end).ok_or_else(|| {
                Error::ZipLayout(format!(
                    "{entry}: data runs past the end of the file (bytes {start}..{end} of {})",
                    bytes.len()
                ))
            })?;
            std::borrow::Cow::Borrowed(slice)
        } else {
            // The declared size is only a hint: cap what we inflate, whatever the header says.
            let mut out = Vec::new();
            (&mut file)
                .take(limits.max_pickle_bytes + 1)
                .read_to_end(&mut out)
                .map_err(|e| Error::Zip(format!("{entry}: {e}")))?;
            if out.len() as u64 > limits.max_pickle_bytes {
                return Err(Error::TooLarge {
                    entry,
                    limit: limits.max_pickle_bytes,
                });
            }
            std::borrow::Cow::Owned(out)
        };
    drop(file);
    let (tree, _) = pickle::load(&pickle_bytes, limits, 0).map_err(|source| Error::Pickle {
        part: entry.clone(),
        source,
    })?;
    Ok(Dump {
        tree,
        format: Format::Zip { entry },
    })
}

/// A bare pickle, or torch's legacy format: magic, protocol, sys info, the object, then
/// storage keys and raw storage bytes (never read).
fn read_pickles(bytes: &[u8], limits: &Limits) -> Result<Dump, Error> {
    // The same limits for every pickle, so a bare pickle reads as the streaming reader reads it.
    let (first, used) = pickle::load(bytes, limits, 0).map_err(|source| Error::Pickle {
        part: "pickle".into(),
        source,
    })?;
    let is_legacy = matches!(&first.root, Value::BigInt(s) if &**s == LEGACY_MAGIC);
    if !is_legacy {
        return Ok(Dump {
            tree: first,
            format: Format::Pickle,
        });
    }
    let mut at = used;
    for what in ["protocol version", "sys info"] {
        let rest = &bytes[at..];
        let (_, n) = pickle::load(rest, limits, at as u64).map_err(|source| Error::Pickle {
            part: format!("legacy torch file ({what})"),
            source,
        })?;
        at += n;
    }
    let (tree, _) =
        pickle::load(&bytes[at..], limits, at as u64).map_err(|source| Error::Pickle {
            part: "legacy torch file (object)".into(),
            source,
        })?;
    Ok(Dump {
        tree,
        format: Format::Legacy,
    })
}

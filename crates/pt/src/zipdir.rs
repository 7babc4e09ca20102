//! The parts of the ZIP format the reader walks itself: local file headers (to find
//! `*/data.pkl` from the front of the file, as it arrives) and the central directory at the
//! end (to check that the archive names exactly that one `data.pkl`, as `torch.load`, which
//! reads the central directory, would see it).

use crate::error::Error;

pub(crate) const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END: u32 = 0x0606_4b50;

/// The end of the file kept to check the central directory: it must lie in this many last
/// bytes. Torch writes one entry per tensor storage (about 100 bytes each), so this holds
/// tens of thousands of storages.
pub(crate) const TAIL_MAX: usize = 4 << 20;

/// Whether an entry name is torch's pickle: `data.pkl` or `<folder>/data.pkl`.
pub(crate) fn is_data_pkl(name: &str) -> bool {
    (name == "data.pkl" || name.ends_with("/data.pkl")) && name.matches('/').count() <= 1
}

/// What the bytes at a local header say.
pub(crate) enum Local {
    /// Not enough bytes to tell.
    NeedMore,
    /// Not a local header with sizes we can trust from here: read the file whole.
    Unstreamable,
    Entry(LocalEntry),
}

pub(crate) struct LocalEntry {
    pub header_len: usize,
    pub name: String,
    pub method: u16,
    /// Compressed size (bytes of data after the header).
    pub csize: u64,
    /// Uncompressed size as declared.
    pub usize: u64,
    /// Sizes come after the data (flag bit 3): unknown here.
    pub sizes_later: bool,
}

fn u16_at(p: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([p[i], p[i + 1]])
}

fn u32_at(p: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]])
}

fn u64_at(p: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[i..i + 8]);
    u64::from_le_bytes(b)
}

/// Reads the local header at the start of `p`.
pub(crate) fn local_header(p: &[u8]) -> Local {
    if p.len() < 4 {
        return Local::NeedMore;
    }
    if u32_at(p, 0) != LOCAL_HEADER {
        // The central directory (no data.pkl among the local entries) or an odd layout.
        return Local::Unstreamable;
    }
    if p.len() < 30 {
        return Local::NeedMore;
    }
    let flags = u16_at(p, 6);
    let method = u16_at(p, 8);
    let mut csize = u32_at(p, 18) as u64;
    let mut usize = u32_at(p, 22) as u64;
    let name_len = u16_at(p, 26) as usize;
    let extra_len = u16_at(p, 28) as usize;
    let header_len = 30 + name_len + extra_len;
    if p.len() < header_len {
        return Local::NeedMore;
    }
    let name = String::from_utf8_lossy(&p[30..30 + name_len]).into_owned();
    let extra = &p[30 + name_len..header_len];
    // ZIP64: the local extra field holds both sizes, uncompressed first.
    if csize == 0xFFFF_FFFF || usize == 0xFFFF_FFFF {
        match zip64_field(extra) {
            Some(body) if body.len() >= 16 => {
                usize = u64_at(body, 0);
                csize = u64_at(body, 8);
            }
            _ => return Local::Unstreamable,
        }
    }
    Local::Entry(LocalEntry {
        header_len,
        name,
        method,
        csize,
        usize,
        sizes_later: flags & 0x08 != 0,
    })
}

/// The body of the ZIP64 extended-information extra field.
fn zip64_field(extra: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16_at(extra, i);
        let len = u16_at(extra, i + 2) as usize;
        let body = extra.get(i + 4..i + 4 + len)?;
        if id == 0x0001 {
            return Some(body);
        }
        i += 4 + len;
    }
    None
}

/// An entry as the central directory lists it (fields `None` when a ZIP64 field
/// they need is missing).
pub(crate) struct Central {
    pub name: String,
    pub local: Option<u64>,
    pub csize: Option<u64>,
    pub usize: Option<u64>,
    pub method: u16,
}

/// The `*/data.pkl` entries of the central directory found in `tail` (the last bytes of a
/// file of `file_len` bytes; the whole file when `tail.len() == file_len`): at most 8 kept,
/// and the count of all of them.
fn data_pkl_entries(
    tail: &[u8],
    file_len: u64,
    name: &str,
) -> Result<(Vec<Central>, usize), Error> {
    central_entries(tail, file_len, name, is_data_pkl, 8)
}

/// The entries of the central directory found in `tail` (as [`data_pkl_entries`]) whose name
/// passes `keep`: at most `max_keep` kept, and the count of all that pass.
pub(crate) fn central_entries(
    tail: &[u8],
    file_len: u64,
    name: &str,
    keep: impl Fn(&str) -> bool,
    max_keep: usize,
) -> Result<(Vec<Central>, usize), Error> {
    let tail_start = file_len - tail.len() as u64;
    let eocd = find_end(tail).ok_or_else(|| {
        Error::Zip(format!(
            "no end of central directory record after {name} (is the file truncated?)"
        ))
    })?;
    let (mut size, mut offset) = (
        u32_at(tail, eocd + 12) as u64,
        u32_at(tail, eocd + 16) as u64,
    );
    let mut end = eocd;
    if u16_at(tail, eocd + 10) == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        let record = zip64_end(tail, eocd, tail_start).ok_or_else(|| {
            Error::Zip("ZIP64 end of central directory record missing or unreadable".into())
        })?;
        size = u64_at(tail, record + 40);
        offset = u64_at(tail, record + 48);
        end = record;
    }
    if offset < tail_start {
        return Err(Error::ZipLayout(format!(
            "the central directory starts {} bytes before the end of the file; at most {} \
             are read",
            file_len - offset.min(file_len),
            crate::human_bytes(TAIL_MAX as u64)
        )));
    }
    // In u64 until checked against `end` (an index into `tail`): on a 32-bit target a
    // hostile offset past 4 GiB must not wrap into a wrong, in-bounds index.
    let start = offset - tail_start;
    let stop = start.saturating_add(size);
    if stop > end as u64 {
        return Err(Error::Zip(
            "the central directory runs past its end record".into(),
        ));
    }
    let dir = &tail[start as usize..stop as usize];
    let mut found: Vec<Central> = Vec::new();
    let mut count = 0usize;
    let mut at = 0usize;
    while at < dir.len() {
        let cut = || {
            Error::Zip(format!(
                "central directory entry at byte {} is cut short",
                offset + at as u64
            ))
        };
        let h = dir.get(at..at + 46).ok_or_else(cut)?;
        if u32_at(h, 0) != CENTRAL_HEADER {
            return Err(Error::Zip(format!(
                "bad central directory entry at byte {}",
                offset + at as u64
            )));
        }
        let name_len = u16_at(h, 28) as usize;
        let extra_len = u16_at(h, 30) as usize;
        let comment_len = u16_at(h, 32) as usize;
        let (csize, usize, local) = (u32_at(h, 20), u32_at(h, 24), u32_at(h, 42));
        let next = at + 46 + name_len + extra_len + comment_len;
        let (Some(n), Some(extra)) = (
            dir.get(at + 46..at + 46 + name_len),
            dir.get(at + 46 + name_len..at + 46 + name_len + extra_len),
        ) else {
            return Err(cut());
        };
        let entry = String::from_utf8_lossy(n);
        if keep(&entry) {
            count += 1;
            // ZIP64 fields appear in order (uncompressed, compressed, local offset), each
            // only if its 32-bit field is full.
            let wide = |nth: usize| {
                zip64_field(extra)
                    .and_then(|b| b.get(8 * nth..8 * nth + 8))
                    .map(|b| u64_at(b, 0))
            };
            let wide_usize = (usize == 0xFFFF_FFFF) as usize;
            let usize = match usize {
                0xFFFF_FFFF => wide(0),
                u => Some(u as u64),
            };
            let csize = match csize {
                0xFFFF_FFFF => wide(wide_usize),
                c => Some(c as u64),
            };
            let local = match local {
                0xFFFF_FFFF => {
                    wide(wide_usize + (csize.is_some() && u32_at(h, 20) == 0xFFFF_FFFF) as usize)
                }
                l => Some(l as u64),
            };
            if found.len() < max_keep {
                found.push(Central {
                    name: entry.into_owned(),
                    local,
                    csize,
                    usize,
                    method: u16_at(h, 10),
                });
            }
        }
        at = next;
    }
    Ok((found, count))
}

/// "N entries named */data.pkl: a, b, …".
fn many_error(found: &[Central], count: usize) -> Error {
    let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    let more = if count > names.len() { ", …" } else { "" };
    Error::ZipLayout(format!(
        "{count} entries named */data.pkl: {}{more}",
        names.join(", ")
    ))
}

/// Checks the central directory, found in `tail` (the last bytes of a file of `file_len`
/// bytes): it must list exactly one `*/data.pkl`, the one read (`name`, its local header at
/// `local_at`), and its pickle (`used` bytes of entry data) must not run past the entry.
pub(crate) fn check_central(
    tail: &[u8],
    file_len: u64,
    name: &str,
    local_at: u64,
    used: u64,
) -> Result<(), Error> {
    let (found, count) = data_pkl_entries(tail, file_len, name)?;
    match found.as_slice() {
        [c] if count == 1 && c.name == name && c.local.is_none_or(|l| l == local_at) => {
            match c.csize {
                Some(csize) if used > csize => Err(Error::ZipLayout(format!(
                    "{name}: its pickle runs {used} bytes, past the entry's {csize}"
                ))),
                _ => Ok(()),
            }
        }
        [c] if count == 1 => Err(Error::ZipLayout(format!(
            "the central directory's {} (local header at byte {}) is not the {name} at \
             byte {local_at} that comes first in the file",
            c.name,
            c.local.map_or("?".into(), |l| l.to_string())
        ))),
        [] => Err(Error::ZipLayout(format!(
            "the central directory does not list {name}"
        ))),
        _ => Err(many_error(&found, count)),
    }
}

/// The one `*/data.pkl` of a whole archive, by its central directory: (entry, where its data
/// starts in `bytes`, compressed size, declared size, method). Errors name the layout
/// problem (none or several such entries, a local header that is not one, data past the end).
pub(crate) fn whole_data_pkl(bytes: &[u8]) -> Result<(Central, usize), Error> {
    let (mut found, count) = data_pkl_entries(bytes, bytes.len() as u64, "the last entry")?;
    if count > 1 {
        return Err(many_error(&found, count));
    }
    let Some(c) = found.pop() else {
        return Err(Error::ZipLayout(
            "no */data.pkl entry (is this a torch.save file?)".into(),
        ));
    };
    let start = data_start(bytes, &c)?;
    Ok((c, start))
}

/// Where the data of entry `c` starts in `bytes` (after its local header, which must be where
/// the central directory says).
pub(crate) fn data_start(bytes: &[u8], c: &Central) -> Result<usize, Error> {
    let name = c.name.clone();
    let local = c
        .local
        .and_then(|l| usize::try_from(l).ok())
        // A ZIP64 offset can be any u64: `l + 30` must not overflow.
        .filter(|&l| {
            l.checked_add(30)
                .and_then(|end| bytes.get(l..end))
                .is_some_and(|h| u32_at(h, 0) == LOCAL_HEADER)
        })
        .ok_or_else(|| {
            Error::ZipLayout(format!(
                "{name}: no local header where the central directory says"
            ))
        })?;
    let h = &bytes[local..local + 30];
    Ok(local + 30 + u16_at(h, 26) as usize + u16_at(h, 28) as usize)
}

/// Index in `tail` of the end of central directory record whose comment runs exactly to
/// the end of the file.
fn find_end(tail: &[u8]) -> Option<usize> {
    let last = tail.len().checked_sub(22)?;
    let first = last.saturating_sub(0xFFFF);
    (first..=last).rev().find(|&i| {
        u32_at(tail, i) == END_OF_CENTRAL && 22 + u16_at(tail, i + 20) as usize == tail.len() - i
    })
}

/// Index in `tail` of the ZIP64 end record named by the locator just before `eocd`.
fn zip64_end(tail: &[u8], eocd: usize, tail_start: u64) -> Option<usize> {
    let loc = eocd.checked_sub(20)?;
    if u32_at(tail, loc) != ZIP64_LOCATOR {
        return None;
    }
    let at = u64_at(tail, loc + 8).checked_sub(tail_start)?;
    let at = usize::try_from(at).ok()?;
    if at + 56 > loc || u32_at(tail, at) != ZIP64_END {
        return None;
    }
    Some(at)
}

//! A file the host serves (the named dump, or one of a run's listed files), held to what it
//! was when the server started.
//!
//! Why not open by path on each request: a listed file replaced afterwards by a symlink would
//! be followed out of the run folder, and a FIFO would hang the request. So each request opens
//! the path with `O_NOFOLLOW | O_NONBLOCK` (a link is refused, a FIFO opens at once), checks on
//! the descriptor (`fstat`) that it is a regular file with the device and inode recorded at
//! start, and serves from that descriptor (one byte range, or all of it). A file replaced by
//! another regular file is refused too: it is not the file that was listed.

use std::fs::{File, OpenOptions};
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A regular file as it was when listed: its path and identity.
#[derive(Clone, Debug)]
pub struct ServedFile {
    pub path: PathBuf,
    /// (device, inode) at listing time; `None` where the platform has none.
    identity: Option<(u64, u64)>,
}

impl ServedFile {
    /// `path` as it is now, without following a link at its last component: it must be a
    /// regular file.
    pub fn listed(path: &Path) -> io::Result<ServedFile> {
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.file_type().is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a regular file", path.display()),
            ));
        }
        Ok(ServedFile {
            path: path.to_path_buf(),
            identity: identity(&meta),
        })
    }

    /// Opens the file for one request: no link followed, no FIFO waited on, and only if it
    /// is still the regular file that was listed. Returns it with its length.
    pub fn open(&self) -> io::Result<(File, u64)> {
        let mut o = OpenOptions::new();
        o.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        }
        let file = o.open(&self.path)?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() || identity(&meta) != self.identity {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no longer the file that was listed",
            ));
        }
        Ok((file, meta.len()))
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// What a request's `Range` asks of a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file: no `Range`, or one this server ignores (several ranges, another unit,
    /// bad syntax), as RFC 9110 allows.
    Whole,
    /// Bytes `start..end`.
    Part(u64, u64),
    /// Nothing of it can be sent (416).
    Unsatisfiable,
}

/// What `range` asks of a file of `len` bytes.
pub fn wanted_range(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (start, end) = match (first.trim().is_empty(), num(first), num(last)) {
        // `-N`: the last N bytes.
        (true, _, Some(n)) if n > 0 => (len.saturating_sub(n), len),
        (true, _, Some(_)) => return Wanted::Unsatisfiable,
        (false, Some(a), None) if last.trim().is_empty() => (a, len),
        (false, Some(a), Some(b)) if b >= a => (a, b.saturating_add(1).min(len)),
        _ => return Wanted::Whole,
    };
    if start >= len {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part(start, end)
}

/// Answers `req` from `file`: 200 with the whole file, 206 with one range, 416 for a range
/// past the end, 404 if the file is gone or is no longer the one listed.
pub async fn respond(file: &ServedFile, req: Request) -> Response {
    let Ok((std_file, len)) = file.open() else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, start, end) = match wanted_range(range, len) {
        Wanted::Whole => (StatusCode::OK, 0, len),
        Wanted::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e),
        Wanted::Unsatisfiable => {
            let mut r = plain(StatusCode::RANGE_NOT_SATISFIABLE, "Range Not Satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type(&file.path))
        .header(header::CONTENT_LENGTH, end - start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-cache");
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", end - 1),
        );
    }
    let body = if req.method() == Method::HEAD || start == end {
        Body::empty()
    } else {
        let mut f = tokio::fs::File::from_std(std_file);
        if f.seek(SeekFrom::Start(start)).await.is_err() {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            f.take(end - start),
            1 << 16,
        ))
    };
    builder
        .body(body)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn plain(code: StatusCode, text: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = code;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        assert_eq!(wanted_range(None, 10), Wanted::Whole);
        assert_eq!(wanted_range(Some("bytes=2-4"), 10), Wanted::Part(2, 5));
        assert_eq!(wanted_range(Some("bytes=2-"), 10), Wanted::Part(2, 10));
        assert_eq!(wanted_range(Some("bytes=-3"), 10), Wanted::Part(7, 10));
        assert_eq!(wanted_range(Some("bytes=-30"), 10), Wanted::Part(0, 10));
        assert_eq!(wanted_range(Some("bytes=5-99"), 10), Wanted::Part(5, 10));
        assert_eq!(wanted_range(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted_range(Some("bytes=-0"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted_range(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
        // Ignored: the whole file.
        for odd in [
            "bytes=1-2,4-5",
            "items=1-2",
            "bytes=4-2",
            "bytes=x-",
            "bytes=+1-2",
        ] {
            assert_eq!(wanted_range(Some(odd), 10), Wanted::Whole, "{odd}");
        }
        assert_eq!(
            wanted_range(Some("bytes=0-18446744073709551615"), 10),
            Wanted::Part(0, 10)
        );
    }
}

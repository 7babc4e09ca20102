//! Inputs: a path or bytes the caller holds ([`Src`]), read in chunks or whole under a cap.
//!
//! A path is opened without blocking and checked by type before any byte is read
//! ([`open_regular`]): a FIFO with no writer, `/dev/zero` or a folder is refused at once with
//! a message, never read until the machine runs out of memory or time.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes handed to a reader at a time.
pub const CHUNK: usize = 1 << 20;

/// Where an input's bytes come from.
pub enum Src<'a> {
    Path(PathBuf),
    /// Bytes the caller already holds (a Ray task reads through a pyarrow filesystem).
    Bytes(&'a [u8]),
}

impl Src<'_> {
    /// How messages name the input: the path as given, or `name` for bytes.
    pub fn shown(&self, name: &str) -> String {
        match self {
            Src::Path(p) => p.display().to_string(),
            Src::Bytes(_) => name.to_string(),
        }
    }

    /// The name recorded in a cache: the path, or `name` for bytes.
    pub fn recorded(&self, name: &str) -> String {
        match self {
            Src::Path(p) => p.to_string_lossy().into_owned(),
            Src::Bytes(_) => name.to_string(),
        }
    }

    /// Calls `push` on the input in [`CHUNK`]s until it returns `Ok(true)` (done: the rest is
    /// not needed) or the input ends; the input is never held whole. Errors are the error
    /// text alone (the caller names the input).
    pub fn chunks(
        &self,
        push: &mut dyn FnMut(&[u8]) -> Result<bool, String>,
    ) -> Result<(), String> {
        match self {
            Src::Bytes(b) => {
                for c in b.chunks(CHUNK) {
                    if push(c)? {
                        break;
                    }
                }
                Ok(())
            }
            Src::Path(p) => read_in_chunks(p, push),
        }
    }

    /// The whole input, refused past `cap` bytes (`what` names it in that message).
    pub fn with_all<T>(
        &self,
        cap: u64,
        what: &str,
        f: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, String> {
        match self {
            Src::Bytes(b) => {
                check_cap(b.len() as u64, cap, what)?;
                f(b)
            }
            Src::Path(p) => f(&read_whole(p, cap, what)?),
        }
    }
}

fn check_cap(size: u64, cap: u64, what: &str) -> Result<(), String> {
    if size > cap {
        return Err(format!(
            "{what} of {:.1} MB is more than the {} MB read whole",
            size as f64 / 1e6,
            cap >> 20
        ));
    }
    Ok(())
}

/// Opens `path` for reading if it is a regular file: opened without blocking (a FIFO with no
/// writer would otherwise block the open itself) and checked with `fstat` before any read. A
/// FIFO, socket, device or folder is an error saying which. Errors are the text alone.
pub fn open_regular(path: &Path) -> Result<File, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let kind = file.metadata().map_err(|e| e.to_string())?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    Err(format!("{}, not a regular file", kind_name(&kind)))
}

/// What a file that is not regular is, for messages.
fn kind_name(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    "not a file"
}

/// Reads the regular file `path` in [`CHUNK`]s (see [`Src::chunks`]).
pub fn read_in_chunks(
    path: &Path,
    push: &mut dyn FnMut(&[u8]) -> Result<bool, String>,
) -> Result<(), String> {
    let mut file = open_regular(path)?;
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        if push(&chunk[..n])? {
            return Ok(());
        }
    }
}

/// The regular file `path` whole, refused past `cap` bytes before it is read (and never more
/// than `cap` read, should it grow meanwhile).
pub fn read_whole(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, String> {
    let file = open_regular(path)?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    check_cap(size, cap, what)?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    check_cap(out.len() as u64, cap, what)?;
    Ok(out)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fifo(dir: &Path) -> PathBuf {
        let p = dir.join("pipe.pt");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    #[test]
    fn a_fifo_a_device_and_a_folder_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("ops-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = std::time::Instant::now();
        for (p, what) in [
            (fifo(&dir), "FIFO"),
            (PathBuf::from("/dev/zero"), "character device"),
            (dir.clone(), "folder"),
        ] {
            let e = read_in_chunks(&p, &mut |_| Ok(false)).unwrap_err();
            assert!(e.contains(what), "{}: {e}", p.display());
            let e = read_whole(&p, 1 << 20, "x").unwrap_err();
            assert!(e.contains(what), "{}: {e}", p.display());
        }
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_whole_read_past_its_cap_is_refused_by_size() {
        let p = std::env::temp_dir().join(format!("ops-cap-{}", std::process::id()));
        std::fs::write(&p, vec![0u8; 3 << 20]).unwrap();
        let e = read_whole(&p, 2 << 20, "train data").unwrap_err();
        assert!(
            e.contains("train data of 3.1 MB") && e.contains("2 MB"),
            "{e}"
        );
        assert_eq!(read_whole(&p, 3 << 20, "x").unwrap().len(), 3 << 20);
        let bytes = vec![0u8; 10];
        let e = Src::Bytes(&bytes)
            .with_all(5, "train data", |_| Ok(()))
            .unwrap_err();
        assert!(e.contains("more than"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
}

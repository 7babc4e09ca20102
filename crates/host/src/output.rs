//! Every file `rollscope` writes goes through [`write_file`]: it can never be redirected.
//!
//! Why: a dump folder may come from someone else (a shared run directory, an unpacked
//! archive), and the default outputs (`<stem>.trace_timeline_cache.json`, `….viewer.html`)
//! are named after the dump, beside it. A plain `File::create` follows a symlink planted at
//! that name and overwrites whatever it points to (`~/.bashrc`), or creates it. So the
//! output is written to a fresh temporary file in the same folder (`create_new`, which with
//! `O_NOFOLLOW` never opens an existing entry, link or not) and renamed over the target only
//! when the target is absent or a regular file; a symlink, folder, FIFO or device there is
//! refused before anything is written. `rename` replaces the directory entry itself, so even
//! a link planted between the check and the rename is replaced, never followed.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `out` with `write`, through a temporary file renamed into place. The target must
/// be absent or a regular file (its permissions are kept); anything else is refused with an
/// error naming `out`, and then nothing is created anywhere. On any error the temporary
/// file is removed and `out` is as it was.
pub fn write_file(
    out: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let shown = out.display();
    let existing = writable_target(out)?;
    let (mut file, temp) = create_temp(out)?;
    if let Some(meta) = &existing {
        // As `File::create` would leave them: the user's mode bits, not the umask's.
        if let Err(e) = file.set_permissions(meta.permissions()) {
            let _ = std::fs::remove_file(&temp);
            return Err(format!("{shown}: {e}"));
        }
    }
    let written = {
        let mut w = BufWriter::new(&mut file);
        write(&mut w).and_then(|()| w.flush())
    };
    drop(file);
    let done = written
        .map_err(|e| format!("{shown}: {e}"))
        // Checked again just before the rename: a link planted meanwhile is still refused.
        .and_then(|()| writable_target(out).map(|_| ()))
        .and_then(|()| std::fs::rename(&temp, out).map_err(|e| format!("{shown}: {e}")));
    if done.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    done
}

/// Refuses an output that is the input itself (the same file, by any name or hard link):
/// `rollscope cache X.pt -o X.pt` would replace the dump with its cache. `-` is never the
/// input; an input that cannot be inspected is left to the reader to report.
pub fn not_the_input(out: &Path, input: &Path) -> Result<(), String> {
    if out == Path::new("-") {
        return Ok(());
    }
    let (Ok(o), Ok(i)) = (std::fs::symlink_metadata(out), std::fs::metadata(input)) else {
        return Ok(());
    };
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        (o.dev(), o.ino()) == (i.dev(), i.ino())
    };
    #[cfg(not(unix))]
    let same = o.is_file()
        && i.is_file()
        && std::fs::canonicalize(out).ok() == std::fs::canonicalize(input).ok();
    if same {
        return Err(format!(
            "{}: refusing to write over the input {} (choose another path)",
            out.display(),
            input.display()
        ));
    }
    Ok(())
}

/// `Ok(Some(meta))` for a regular file at `out`, `Ok(None)` when nothing is there; a symlink
/// (dangling or not), folder, FIFO, socket or device is an error naming `out`.
fn writable_target(out: &Path) -> Result<Option<std::fs::Metadata>, String> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_file() => Ok(Some(m)),
        Ok(m) => Err(format!(
            "{}: refusing to write: it is {}, not a regular file (remove it, or choose another \
             path; `-o -` writes to standard output)",
            out.display(),
            describe(&m.file_type())
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", out.display())),
    }
}

/// What a non-regular directory entry is, in a user's words.
fn describe(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// A new, empty file beside `out` (hidden, random name), opened without following links.
fn create_temp(out: &Path) -> Result<(File, PathBuf), String> {
    let shown = out.display();
    let name = out
        .file_name()
        .ok_or_else(|| format!("{shown}: not a file name"))?
        .to_string_lossy();
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut last = None;
    for _ in 0..8 {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes)
            .map_err(|e| format!("no random numbers from the operating system: {e}"))?;
        let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{name}.{tag}.tmp"));
        match new_file_options().open(&temp) {
            Ok(f) => return Ok((f, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(format!(
                    "{shown}: cannot create a file in {}: {e}",
                    dir.display()
                ))
            }
        }
    }
    Err(format!(
        "{shown}: no free temporary name in {}: {}",
        dir.display(),
        last.map_or_else(String::new, |e| e.to_string())
    ))
}

/// `create_new` (fails on any existing entry, a dangling link included) and, on Unix,
/// `O_NOFOLLOW` as well.
fn new_file_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rs-output-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_new_and_replaces_regular_files_keeping_their_mode() {
        let dir = tmpdir("regular");
        let out = dir.join("a.json");
        write_file(&out, |w| w.write_all(b"one")).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_file(&out, |w| w.write_all(b"two")).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        // A failing writer leaves the old file and no temporary behind.
        let err = write_file(&out, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.contains("disk full") && err.contains("a.json"), "{err}");
        assert_eq!(std::fs::read(&out).unwrap(), b"two");
        assert_eq!(entries(&dir), ["a.json"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn links_fifos_and_folders_are_refused_and_nothing_is_written() {
        let dir = tmpdir("links");
        let outside = dir.with_extension("outside");
        std::fs::write(&outside, b"keep").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let dangling = dir.join("dangling.json");
        let target = dir.with_extension("created");
        let _ = std::fs::remove_file(&target);
        std::os::unix::fs::symlink(&target, &dangling).unwrap();
        let fifo = dir.join("fifo.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let sub = dir.join("sub.json");
        std::fs::create_dir(&sub).unwrap();
        for (out, what) in [
            (&link, "a symbolic link"),
            (&dangling, "a symbolic link"),
            (&fifo, "a FIFO"),
            (&sub, "a folder"),
        ] {
            let err = write_file(out, |w| w.write_all(b"$(touch /tmp/pwned)")).unwrap_err();
            assert!(
                err.contains(&out.display().to_string()) && err.contains(what),
                "{err}"
            );
        }
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert!(!target.exists(), "a dangling link's target was created");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            entries(&dir),
            ["dangling.json", "fifo.json", "link.json", "sub.json"]
        );
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(&outside);
    }
}

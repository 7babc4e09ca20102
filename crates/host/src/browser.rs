//! Opening the viewer in the user's browser without putting its token on a command line.
//!
//! Why: the start URL carries the per-run secret ([`crate::guard::Token`]). Handed to
//! `xdg-open`, it ends up in the argv of the opener and of the browser, which every local
//! user can read in `ps`. So, as Jupyter does, the URL is written into a small HTML file that
//! redirects to it (0600, never over an existing file or through a link), and the opener is
//! given that file's path. The file lives in the user's runtime folder,
//! `$XDG_DATA_HOME/rollscope/runtime/` (else `~/.local/share/rollscope/runtime/`), made 0700
//! and used only when it and `rollscope/` are real folders of this user: a browser confined by
//! snap or flatpak can read the home folder but not the system's temporary folder. When that
//! folder cannot be had, a fresh 0700 folder in the temporary folder is used instead. The file
//! (and a temporary folder) is removed when the [`Redirect`] is dropped (when the server
//! stops); the opener is waited for in a thread, so it never lingers as a zombie.

use std::ffi::OsString;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The program that opens a file in the browser: `$ROLLSCOPE_OPENER` if set (it gets the
/// redirect file's path as its one argument), else the platform's opener.
pub const OPENER_ENV: &str = "ROLLSCOPE_OPENER";

/// A redirect file on disk, removed on drop (with its folder when that was made for it).
pub struct Redirect {
    file: PathBuf,
    /// A private temporary folder made for the file alone.
    temp_dir: Option<PathBuf>,
}

impl Redirect {
    /// Writes a page that sends the browser to `url` into the user's runtime folder (see the
    /// module doc), or a new private temporary folder when that cannot be had.
    pub fn new(url: &str) -> io::Result<Redirect> {
        Redirect::in_dir(url, runtime_dir())
    }

    /// [`Redirect::new`] with the runtime folder given (or why there is none).
    fn in_dir(url: &str, runtime: io::Result<PathBuf>) -> io::Result<Redirect> {
        let page = page(url);
        if let Ok(dir) = runtime {
            if let Ok(file) = write_new(&dir, "open.html", page.as_bytes()) {
                return Ok(Redirect {
                    file,
                    temp_dir: None,
                });
            }
        }
        let dir = private_dir(&std::env::temp_dir())?;
        match write_private(&dir.join("rollscope-open.html"), page.as_bytes()) {
            Ok(()) => Ok(Redirect {
                file: dir.join("rollscope-open.html"),
                temp_dir: Some(dir),
            }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        if let Some(d) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Best effort: opens `url` through a redirect file; `None` when that could not be done (the
/// user then clicks the printed URL). Keep the result alive while the server runs.
pub fn open(url: &str) -> Option<Redirect> {
    let redirect = Redirect::new(url).ok()?;
    let child = Command::new(opener())
        .arg(redirect.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    reap(child);
    Some(redirect)
}

/// Waits for the opener in a thread of its own, so it is reaped whenever it ends (`xdg-open`
/// returns at once; a browser given as `ROLLSCOPE_OPENER` may run as long as the server). One
/// thread per opened browser, which never holds up the process's exit.
fn reap(mut child: Child) {
    let spawned = std::thread::Builder::new()
        .name("rollscope-opener".into())
        .spawn(move || {
            let _ = child.wait();
        });
    // Without a thread, the child is reaped (by init) when this process ends.
    drop(spawned);
}

fn opener() -> OsString {
    if let Some(p) = std::env::var_os(OPENER_ENV).filter(|p| !p.is_empty()) {
        return p;
    }
    if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    }
    .into()
}

/// The user's runtime folder (see the module doc), made when missing: `rollscope/` and
/// `runtime/` must be real folders (not links) owned by this user; `runtime/` is set to 0700.
#[cfg(unix)]
pub fn runtime_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let env_dir = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let data = match env_dir("XDG_DATA_HOME") {
        Some(d) => d,
        None => env_dir("HOME")
            .ok_or_else(|| io::Error::other("no HOME"))?
            .join(".local/share"),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&data)?;
    let mut dir = data;
    for part in ["rollscope", "runtime"] {
        dir.push(part);
        match DirBuilder::new().mode(0o700).create(&dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        let meta = std::fs::symlink_metadata(&dir)?;
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        if !meta.file_type().is_dir() || meta.uid() != uid {
            return Err(io::Error::other(format!(
                "{}: not a folder of this user",
                dir.display()
            )));
        }
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(dir)
}

/// No runtime folder off unix: the private temporary folder is used.
#[cfg(not(unix))]
pub fn runtime_dir() -> io::Result<PathBuf> {
    Err(io::Error::other("no runtime folder on this platform"))
}

/// A random tag of 16 hex digits.
fn tag() -> io::Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new file `rollscope-<pid>-<random>-<suffix>` in `dir` holding `bytes` (never an existing
/// one, never through a link, 0600): its path.
fn write_new(dir: &Path, suffix: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let file = dir.join(format!(
        "rollscope-{}-{}-{suffix}",
        std::process::id(),
        tag()?
    ));
    write_private(&file, bytes)?;
    Ok(file)
}

/// A new folder `rollscope-<random>` in `parent`, mode 0700; never an existing one.
fn private_dir(parent: &Path) -> io::Result<PathBuf> {
    let mut builder = DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    let mut last = io::Error::other("no free name");
    for _ in 0..8 {
        let dir = parent.join(format!("rollscope-{}", tag()?));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// A new file (never an existing one, never through a link), mode 0600; removed again when
/// it could not be written whole.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = o.open(path)?;
    let written = f.write_all(bytes).and_then(|()| f.flush());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// The redirect page: a meta refresh, and a link in case refreshes are off.
fn page(url: &str) -> String {
    let u = crate::report::html_escape(url);
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={u}\"><title>rollscope</title></head>\n\
         <body><p>Opening rollscope… If nothing happens, <a href=\"{u}\">follow this link</a>.\
         </p></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:9/?url=d/abc/x.pt&a=\"<b>\"";

    fn check_page(r: &Redirect) {
        let text = std::fs::read_to_string(r.path()).unwrap();
        assert!(
            text.contains("url=http://127.0.0.1:9/?url=d/abc/x.pt&amp;a=&quot;&lt;b&gt;&quot;"),
            "{text}"
        );
        assert!(!text.contains("<b>"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(r.path()), 0o600);
            assert_eq!(mode(r.path().parent().unwrap()), 0o700);
        }
    }

    #[test]
    fn the_redirect_is_private_carries_the_url_escaped_and_is_removed() {
        // In the runtime folder given: the file alone is removed, the folder stays.
        let dir = std::env::temp_dir().join(format!("rs-redirect-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        DirBuilder::new().create(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let r = Redirect::in_dir(URL, Ok(dir.clone())).unwrap();
        assert_eq!(r.path().parent(), Some(dir.as_path()));
        check_page(&r);
        let file = r.path().to_path_buf();
        drop(r);
        assert!(!file.exists() && dir.is_dir(), "the file removed on drop");
        std::fs::remove_dir(&dir).unwrap();

        // No runtime folder: a private temporary folder, removed with the file.
        let r = Redirect::in_dir(URL, Err(io::Error::other("none"))).unwrap();
        check_page(&r);
        let temp = r.path().parent().unwrap().to_path_buf();
        assert_ne!(temp, dir);
        drop(r);
        assert!(!temp.exists(), "removed on drop");
    }
}

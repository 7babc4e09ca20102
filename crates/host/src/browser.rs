//! Opening the viewer in the user's browser without putting its token on a command line.
//!
//! Why: the start URL carries the per-run secret ([`crate::guard::Token`]). Handed to
//! `xdg-open`, it ends up in the argv of the opener and of the browser, which every local
//! user can read in `ps`. So, as Jupyter does, the URL is written into a small HTML file that
//! redirects to it, in a fresh folder only the user can enter (0700, the file 0600), and the
//! opener is given that file's path. The folder is removed when the [`Redirect`] is dropped
//! (when the server stops).

use std::ffi::OsString;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The program that opens a file in the browser: `$ROLLSCOPE_OPENER` if set (it gets the
/// redirect file's path as its one argument), else the platform's opener.
pub const OPENER_ENV: &str = "ROLLSCOPE_OPENER";

/// A redirect file on disk; its private folder is removed on drop.
pub struct Redirect {
    dir: PathBuf,
    file: PathBuf,
}

impl Redirect {
    /// Writes a page that sends the browser to `url`, in a new private folder under the
    /// system's temporary folder.
    pub fn new(url: &str) -> io::Result<Redirect> {
        let dir = private_dir(&std::env::temp_dir())?;
        let file = dir.join("rollscope-open.html");
        let written = write_private(&file, page(url).as_bytes());
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(Redirect { dir, file })
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Best effort: opens `url` through a redirect file; `None` when that could not be done (the
/// user then clicks the printed URL). Keep the result alive while the server runs.
pub fn open(url: &str) -> Option<Redirect> {
    let redirect = Redirect::new(url).ok()?;
    Command::new(opener())
        .arg(redirect.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(redirect)
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
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = parent.join(format!("rollscope-{tag}"));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// A new file (never an existing one, never through a link), mode 0600.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.flush()
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

    #[test]
    fn the_redirect_is_private_and_carries_the_url_escaped() {
        let url = "http://127.0.0.1:9/?url=d/abc/x.pt&a=\"<b>\"";
        let r = Redirect::new(url).unwrap();
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
        let dir = r.path().parent().unwrap().to_path_buf();
        drop(r);
        assert!(!dir.exists(), "removed on drop");
    }
}

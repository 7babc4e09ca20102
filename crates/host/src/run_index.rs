//! A served run's index (`/r/<token>/index.json`) and the files it lists, kept current while
//! the run is still being written (issue #21: a live run).
//!
//! The folder is listed again when the index or a file is asked for, at most once per
//! [`RELIST_EVERY`] (a page polling every two seconds, or many tabs, cost one listing a
//! second at most) and at most one tenth of the time (a folder of 100 000 files whose listing
//! takes 0.4 s is listed again every 4 s, not every second), by the same rule as at start (`ops::listing`: regular files only, no
//! link followed). A file newly listed is recorded as it is then ([`ServedFile::listed`]:
//! device and inode) and served under the same checks as one listed at start; a file that is
//! gone or no longer a regular file leaves the index and is no longer served. Each answer
//! carries an `ETag` (a hash of the index), and a request whose `If-None-Match` names it gets
//! `304 Not Modified` with no body, so an unchanged run costs the page nothing to parse. A
//! listing that fails (the folder was removed) keeps the last good one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use sha2::Digest;

use crate::served_file::ServedFile;

/// The folder is listed again at most this often.
pub const RELIST_EVERY: Duration = Duration::from_secs(1);

/// Lists the run again: its files relative to the root, with their sizes.
pub type Relist = dyn Fn() -> Result<Vec<(String, u64)>, String> + Send + Sync;

/// One listing: the index's bytes, its validator and the files it names.
struct Listed {
    body: Arc<Vec<u8>>,
    etag: String,
    files: Arc<HashMap<String, ServedFile>>,
    at: Instant,
    /// How long this listing took (the next waits at least ten times as long).
    took: Duration,
}

/// The index of a served run (see the module doc).
pub struct RunIndex {
    name: String,
    root: PathBuf,
    relist: Option<Box<Relist>>,
    now: Mutex<Listed>,
}

impl RunIndex {
    /// The run named `name` whose files (relative to `root`) are `files`; with `relist`, it
    /// is listed again on request (a live run), else it stays as listed now.
    pub fn new(
        name: &str,
        root: &Path,
        files: &[(String, u64)],
        relist: Option<Box<Relist>>,
    ) -> RunIndex {
        RunIndex {
            name: name.to_string(),
            root: root.to_path_buf(),
            relist,
            now: Mutex::new(listed(name, root, files)),
        }
    }

    /// The listing now, listed again first when it is older than [`RELIST_EVERY`].
    fn current(&self) -> MutexGuard<'_, Listed> {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(relist) = &self.relist {
            if now.at.elapsed() >= RELIST_EVERY.max(now.took * 10) {
                let start = Instant::now();
                match relist() {
                    Ok(files) => {
                        *now = listed(&self.name, &self.root, &files);
                        now.took = start.elapsed();
                    }
                    // Tried again after the next interval; the last good listing stays.
                    Err(_) => now.at = Instant::now(),
                }
            }
        }
        now
    }

    /// The file a relative path names, if it is listed now.
    pub fn file(&self, rel: &str) -> Option<ServedFile> {
        let files = Arc::clone(&self.current().files);
        files.get(rel).cloned()
    }

    /// Answers a request for the index: 200 with it, or 304 when `If-None-Match` names it.
    pub fn respond(&self, req: &Request) -> Response {
        let (body, etag) = {
            let now = self.current();
            (Arc::clone(&now.body), now.etag.clone())
        };
        let unchanged = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
        let builder = Response::builder()
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::ETAG, &etag);
        let r = if unchanged {
            builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
        } else {
            builder
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, body.len())
                .body(if req.method() == Method::HEAD {
                    Body::empty()
                } else {
                    Body::from(body.as_ref().clone())
                })
        };
        r.unwrap_or_else(|_| {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

/// `files`, listed from `from`, named from `root` instead: only those on disk under `dir`
/// (the folder served), so a listing whose root moved (a verl step folder listed from its
/// parent, then from itself once a dump lands in it) names the same files the same way.
pub fn rename_from(
    from: &Path,
    files: Vec<(String, u64)>,
    root: &Path,
    dir: &Path,
) -> Vec<(String, u64)> {
    files
        .into_iter()
        .filter_map(|(p, size)| {
            let abs = from.join(&p);
            if !abs.starts_with(dir) {
                return None;
            }
            let rel = abs.strip_prefix(root).ok()?.to_str()?.to_string();
            (!rel.is_empty()).then_some((rel, size))
        })
        .collect()
}

/// `files` as an index: each one's identity taken now; one that is no longer a regular file
/// is left out.
fn listed(name: &str, root: &Path, files: &[(String, u64)]) -> Listed {
    let kept: Vec<(&String, u64, ServedFile)> = files
        .iter()
        .filter_map(|(p, size)| Some((p, *size, ServedFile::listed(&root.join(p)).ok()?)))
        .collect();
    let index = serde_json::json!({
        "name": name,
        "files": kept
            .iter()
            .map(|(p, size, _)| serde_json::json!({"path": p, "size": size}))
            .collect::<Vec<_>>(),
    });
    let body = index.to_string().into_bytes();
    let hash = sha2::Sha256::digest(&body);
    let etag = format!(
        "\"{}\"",
        hash.iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Listed {
        body: Arc::new(body),
        etag,
        files: Arc::new(kept.into_iter().map(|(p, _, f)| (p.clone(), f)).collect()),
        at: Instant::now(),
        took: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(index: &RunIndex, etag: Option<&str>) -> Response {
        let mut b = Request::builder().uri("/r/x/index.json");
        if let Some(e) = etag {
            b = b.header(header::IF_NONE_MATCH, e);
        }
        index.respond(&b.body(Body::empty()).unwrap())
    }

    fn etag(r: &Response) -> String {
        r.headers()[header::ETAG].to_str().unwrap().to_string()
    }

    /// When the current listing was made and how long it took.
    fn listing(index: &RunIndex) -> (Instant, Duration) {
        let now = index.now.lock().unwrap();
        (now.at, now.took)
    }

    /// Sleeps until the current listing is due to be listed again (by the rule of
    /// [`RunIndex::current`]), and a little more: a fixed sleep of [`RELIST_EVERY`] is too
    /// short when the last listing took over a tenth of it (a stalled, loaded machine).
    fn until_due(index: &RunIndex) {
        let (at, took) = listing(index);
        let due = RELIST_EVERY.max(took * 10) + Duration::from_millis(50);
        std::thread::sleep(due.saturating_sub(at.elapsed()));
    }

    #[test]
    fn a_new_file_is_listed_after_the_interval_and_the_validator_changes() {
        let dir = std::env::temp_dir().join(format!("rs-run-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0.pt"), b"zero").unwrap();
        let d = dir.clone();
        let relist: Box<Relist> = Box::new(move || {
            let mut v: Vec<(String, u64)> = std::fs::read_dir(&d)
                .map_err(|e| e.to_string())?
                .filter_map(|e| {
                    let e = e.ok()?;
                    Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len()))
                })
                .collect();
            v.sort();
            Ok(v)
        });
        let index = RunIndex::new("run", &dir, &[("0.pt".into(), 4)], Some(relist));
        let first = get(&index, None);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = etag(&first);
        // Unchanged: 304 with the same validator, no body.
        let again = get(&index, Some(&tag));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(etag(&again), tag);
        assert!(index.file("1.pt").is_none());

        let (at, _) = listing(&index);
        std::fs::write(dir.join("1.pt"), b"one").unwrap();
        // Within the interval the listing stands (checked when this get came within it: a
        // machine that stalled for a second since the listing may list again).
        let within = get(&index, Some(&tag)).status();
        if at.elapsed() < RELIST_EVERY {
            assert_eq!(within, StatusCode::NOT_MODIFIED);
        }
        until_due(&index);
        let changed = get(&index, Some(&tag));
        assert_eq!(changed.status(), StatusCode::OK);
        assert_ne!(etag(&changed), tag);
        assert!(index.file("1.pt").is_some());
        // A file that became a link is no longer served.
        #[cfg(unix)]
        {
            std::fs::remove_file(dir.join("0.pt")).unwrap();
            std::os::unix::fs::symlink("/etc/hostname", dir.join("0.pt")).unwrap();
            until_due(&index);
            assert!(index.file("0.pt").is_none());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_listing_whose_root_moved_names_the_same_files_and_nothing_outside_the_folder() {
        let (parent, dir) = (Path::new("out"), Path::new("out/validation"));
        let files =
            |v: &[&str]| -> Vec<(String, u64)> { v.iter().map(|p| (p.to_string(), 1)).collect() };
        // Served from the parent (a lone verl step folder); now listed from the folder itself.
        assert_eq!(
            rename_from(dir, files(&["0.jsonl", "1.pt"]), parent, dir),
            files(&["validation/0.jsonl", "validation/1.pt"])
        );
        // Served from the folder; now listed from its parent.
        assert_eq!(
            rename_from(parent, files(&["validation/0.jsonl"]), dir, dir),
            files(&["0.jsonl"])
        );
        // A name from the parent that is not under the folder is not served.
        assert_eq!(
            rename_from(parent, files(&["secret.txt", "other/0.jsonl"]), parent, dir),
            files(&[])
        );
    }

    #[test]
    fn a_slow_listing_is_repeated_less_often() {
        let dir = std::env::temp_dir().join(format!("rs-run-index-slow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        // A listing that takes 200 ms (a folder of 100 000 files): the next one waits 2 s.
        let relist: Box<Relist> = Box::new(move || {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            Ok(Vec::new())
        });
        let index = RunIndex::new("run", &dir, &[], Some(relist));
        std::thread::sleep(RELIST_EVERY + Duration::from_millis(50));
        get(&index, None);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let (at, took) = listing(&index);
        assert!(took >= Duration::from_millis(200), "{took:?}");
        std::thread::sleep(RELIST_EVERY + Duration::from_millis(50));
        get(&index, None);
        // Checked when this get came before ten times the listing's time (at least 2 s) had
        // passed: the sleep of 200 ms can take longer on a loaded machine, and so can this.
        if at.elapsed() < took * 10 {
            assert_eq!(
                calls.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "listed again too soon"
            );
        }
        let before = calls.load(std::sync::atomic::Ordering::SeqCst);
        until_due(&index);
        get(&index, None);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), before + 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_relisting_the_index_stays_as_listed() {
        let dir = std::env::temp_dir().join(format!("rs-run-index-s-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0.pt"), b"zero").unwrap();
        let index = RunIndex::new("run", &dir, &[("0.pt".into(), 4)], None);
        std::fs::write(dir.join("1.pt"), b"one").unwrap();
        std::thread::sleep(RELIST_EVERY + Duration::from_millis(50));
        assert!(index.file("1.pt").is_none());
        assert!(index.file("0.pt").is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The static host: the embedded viewer and, optionally, one named dump or one run folder (or
//! two, compared).
//! Nothing else.
//!
//! Why it is this strict: slime's tool serves its whole directory on 0.0.0.0. Here a request
//! is answered only if its `Host` is this server ([`guard::Authorities`], against DNS
//! rebinding) and its raw path is exactly `/`, an embedded file name, the dump's URL
//! `/d/<token>/<name>` (the token is random per run, see [`guard::Token`]), or, for a run,
//! `/r/<token>/index.json` and `/r/<token>/f/<path>` where `<path>` (percent-decoded) is one
//! of the files listed (at start, and again while the run is being written: [`RunIndex`];
//! regular files under the run folder, no symlinks); a path is looked up in that list, never joined to a file-system path, so `..`,
//! `%2e%2e`, encoded slashes, backslashes and absolute paths all fall through to 404. A file
//! is served only while it is the regular file listed ([`ServedFile`]: no link followed, no
//! FIFO opened). Every response, refusals included, carries [`guard::SECURITY_HEADERS`] (no
//! framing, no referrer). Connections are capped and slow headers time out ([`listen`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::assets;
use crate::guard::{self, Authorities, Token};
use crate::listen;
use crate::run_index::RunIndex;
use crate::served_file::{self, ServedFile};

/// Everything but RFC 3986's unreserved characters is escaped in the dump's URL segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// In the `?url=` value a `/` may stay as it is.
const QUERY: &percent_encoding::AsciiSet = &SEGMENT.remove(b'/');

/// A run folder being served: its index and its files by relative path ([`RunIndex`]).
#[derive(Clone)]
pub struct RunSite {
    /// `/r/<token>/`.
    pub prefix: String,
    /// `{"name": …, "files": [{"path", "size"}, …]}` and the files it lists.
    pub index: Arc<RunIndex>,
}

impl RunSite {
    /// The run in `files` (relative paths under `root`), served under a fresh token. Each
    /// file's identity (device, inode) is taken now; one that is no longer a regular file
    /// is left out of the index.
    pub fn new(
        name: &str,
        root: &std::path::Path,
        files: &[(String, u64)],
        token: &Token,
    ) -> RunSite {
        RunSite::with_index(RunIndex::new(name, root, files, None), token)
    }

    /// A run whose index is kept current by `index` (see [`RunIndex`]).
    pub fn with_index(index: RunIndex, token: &Token) -> RunSite {
        RunSite {
            prefix: format!("/r/{}/", token.as_str()),
            index: Arc::new(index),
        }
    }

    /// The file a request path names, if it is one of the run's. The token part is compared
    /// in constant time, as on every route.
    fn file(&self, path: &str) -> Option<ServedFile> {
        let head = path.as_bytes().get(..self.prefix.len())?;
        if !guard::same(head, self.prefix.as_bytes()) {
            return None;
        }
        let rest = path.get(self.prefix.len()..)?.strip_prefix("f/")?;
        let rel = percent_encoding::percent_decode_str(rest)
            .decode_utf8()
            .ok()?;
        self.index.file(rel.as_ref())
    }
}

/// What to serve, and to whom.
#[derive(Clone)]
pub struct Site {
    /// The dump (as on disk at start) and the URL path it is served at, e.g.
    /// `/d/<token>/rollout_0.pt`.
    pub dump: Option<(ServedFile, String)>,
    /// A run folder, instead of a dump.
    pub run: Option<RunSite>,
    /// A second run folder, compared with the first (`rollscope A B`; its own token).
    pub second_run: Option<RunSite>,
    /// Who is answered; set from the bound address by [`run`] (until then, only port 0).
    pub authorities: Authorities,
}

impl Site {
    /// A site with a fresh random token in the dump's URL.
    pub fn new(dump: Option<PathBuf>) -> Result<Site, String> {
        Site::with_token(dump, &Token::random()?)
    }

    /// The dump is resolved now (the user named it, links and all) and then held to the
    /// regular file it resolved to.
    pub fn with_token(dump: Option<PathBuf>, token: &Token) -> Result<Site, String> {
        let dump = match dump {
            None => None,
            Some(p) => {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "dump.pt".into());
                let file = p
                    .canonicalize()
                    .and_then(|real| ServedFile::listed(&real))
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                let encoded = percent_encoding::utf8_percent_encode(&name, SEGMENT).to_string();
                Some((file, format!("/d/{}/{encoded}", token.as_str())))
            }
        };
        Ok(Site {
            dump,
            run: None,
            second_run: None,
            authorities: Authorities::new(std::net::Ipv4Addr::LOCALHOST.into(), 0),
        })
    }

    /// A site serving the run folder `run`.
    pub fn for_run(run: RunSite) -> Site {
        Site {
            dump: None,
            run: Some(run),
            second_run: None,
            authorities: Authorities::new(std::net::Ipv4Addr::LOCALHOST.into(), 0),
        }
    }

    /// The page to open: the viewer, with `?url=` naming the dump when there is one.
    pub fn start_url(&self, addr: SocketAddr) -> String {
        if let Some(run) = &self.run {
            let second = self.second_run.as_ref().map_or(String::new(), |b| {
                format!("&run={}index.json", &b.prefix[1..])
            });
            return format!("http://{addr}/?run={}index.json{second}", &run.prefix[1..]);
        }
        match &self.dump {
            Some((_, url_path)) => {
                let rel = url_path.trim_start_matches('/');
                let q = percent_encoding::utf8_percent_encode(rel, QUERY);
                format!("http://{addr}/?url={q}")
            }
            None => format!("http://{addr}/"),
        }
    }

    /// Answers one request, with the security headers on whatever comes back.
    pub async fn handle(self, req: Request) -> Response {
        let mut r = if self.authorities.allows(req.headers(), req.uri()) {
            self.answer(req).await
        } else {
            refused(&self.authorities)
        };
        guard::add_security_headers(r.headers_mut());
        r
    }

    async fn answer(self, req: Request) -> Response {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        let path = req.uri().path().to_string();
        if let Some((file, url_path)) = &self.dump {
            if guard::same(path.as_bytes(), url_path.as_bytes()) {
                return served_file::respond(file, req).await;
            }
        }
        for run in self.run.iter().chain(self.second_run.iter()) {
            if guard::same(
                path.as_bytes(),
                format!("{}index.json", run.prefix).as_bytes(),
            ) {
                return run.index.respond(&req);
            }
            if let Some(file) = run.file(&path) {
                return served_file::respond(&file, req).await;
            }
        }
        let name = if path == "/" {
            "index.html"
        } else {
            path.strip_prefix('/').unwrap_or("")
        };
        let Some(asset) = assets::get(name) else {
            if name == "index.html" {
                return not_built();
            }
            return status(StatusCode::NOT_FOUND);
        };
        let gzip_ok = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        let mut builder = Response::builder()
            .header(header::CONTENT_TYPE, assets::mime(asset.path))
            .header(
                header::CACHE_CONTROL,
                if assets::is_hashed(asset.path) {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            );
        let body = match asset.gzip {
            Some(gz) if gzip_ok => {
                builder = builder
                    .header(header::CONTENT_ENCODING, "gzip")
                    .header(header::VARY, "accept-encoding");
                gz
            }
            Some(_) => {
                builder = builder.header(header::VARY, "accept-encoding");
                asset.bytes
            }
            None => asset.bytes,
        };
        builder
            .header(header::CONTENT_LENGTH, body.len())
            .body(if req.method() == Method::HEAD {
                Body::empty()
            } else {
                Body::from(body)
            })
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::from(
        code.canonical_reason().unwrap_or("").to_string(),
    ));
    *r.status_mut() = code;
    r
}

/// The answer to a request for another host: no page, no dump, just why.
fn refused(to: &Authorities) -> Response {
    let mut r = Response::new(Body::from(format!(
        "rollscope: refused: this server answers only to {} (Host header checked against DNS rebinding)\n",
        to.describe()
    )));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn not_built() -> Response {
    let mut r = Response::new(Body::from(
        "<!doctype html><title>rollscope</title><p>This rollscope binary was built without \
         the viewer. Run <code>cargo xtask build</code>, then rebuild rollscope.</p>",
    ));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Binds and serves until Ctrl-C, SIGTERM or SIGHUP (handled from before `bound` runs);
/// `bound` is told the site (now knowing who it answers to) and the address once listening.
pub async fn run(
    mut site: Site,
    addr: SocketAddr,
    bound: impl FnOnce(&Site, SocketAddr),
) -> std::io::Result<()> {
    let listener = bind(addr)?;
    let local = listener.local_addr()?;
    site.authorities = Authorities::new(local.ip(), local.port());
    let stop = listen::StopSignals::register();
    bound(&site, local);
    listen::serve(listener, stop, move |req| site.clone().handle(req)).await
}

/// How many connections the kernel may hold for the server before it accepts them. std and
/// mio ask for 128: connecting faster than that (a burst of idle sockets from another local
/// user) has further connections dropped, each retried a second later, the user's browser's
/// too. Linux caps it at `net.core.somaxconn` (4096 by default since Linux 5.4, 128 before).
const BACKLOG: u32 = 1024;

/// A listener on `addr` with room for [`BACKLOG`] waiting connections (address reuse as std's).
fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

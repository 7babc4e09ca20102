//! Shared by the serving tests: start the real binary (with a time limit), send raw HTTP
//! requests (URL libraries would normalise away the `..`, `%2e%2e` and odd `Host`s we test).
#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this binary has the viewer built in (`cargo xtask build` before it). Where the
/// viewer must be there, a binary without it fails the test instead of skipping the checks
/// that need it: `ROLLSCOPE_REQUIRE_VIEWER` set (as `cargo xtask test` does, after building
/// the viewer), or `CI=true`.
pub fn viewer_built() -> bool {
    let built = host::assets::viewer_built();
    let required = std::env::var_os("ROLLSCOPE_REQUIRE_VIEWER").is_some()
        || std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        built || !required,
        "the viewer is required here (ROLLSCOPE_REQUIRE_VIEWER or CI is set) but this \
         rollscope was built without it: run `cargo xtask build`, then the tests"
    );
    built
}

/// A fresh, empty folder for one test: `rs-<tag>-<pid>` under the temporary folder.
pub fn tmpdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted.
pub fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slime")
        .join(name)
}

/// Starts the binary and waits (at most 30 s) for the address it prints; if it exits or
/// stays silent, fails with what it wrote to stderr instead of hanging.
pub fn start(args: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.args(args).arg("--no-open");
    start_command(cmd)
}

/// [`start`] for a prepared command (a wrapper, an environment), which gets `--port 0`
/// appended (and so may open a browser unless it says `--no-open`).
pub fn start_command(mut cmd: Command) -> Server {
    let mut child = cmd
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    // "rollscope: serving on http://127.0.0.1:PORT/?url=…  (Ctrl-C stops)"
    let Some(url) = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(str::to_string)
    else {
        let _ = child.kill();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = child.wait();
        panic!("rollscope printed no address within 30 s (stdout {line:?}); stderr:\n{err}");
    };
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    Server { child, addr, url }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request with `Host: addr`.
pub fn raw(addr: &str, method: &str, path: &str, extra: &[(&str, &str)]) -> Reply {
    raw_host(addr, Some(addr), method, path, extra)
}

/// One request to `addr` with the given `Host` header (or none), read to the end.
pub fn raw_host(
    addr: &str,
    host: Option<&str>,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if let Some(h) = host {
        req.push_str(&format!("Host: {h}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    parse_reply(&all)
}

pub fn parse_reply(all: &[u8]) -> Reply {
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: all[split + 4..].to_vec(),
    }
}

/// The dump's URL path, from the printed `?url=d/<token>/<name>`.
pub fn dump_path(srv: &Server) -> String {
    let rel = srv
        .url
        .split("?url=")
        .nth(1)
        .expect("a ?url= in the address");
    format!("/{rel}")
}

/// The token in the printed address `http://HOST/?url=d/<token>/<name>`: the `?url=` value,
/// percent-decoded, split into its path segments, must be `d`, the token, then the name.
pub fn url_token(srv: &Server) -> String {
    let value = srv
        .url
        .split_once("?url=")
        .map(|(_, v)| v.split('&').next().unwrap_or(v))
        .unwrap_or_else(|| panic!("no ?url= in {}", srv.url));
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .unwrap_or_else(|e| panic!("{}: {e}", srv.url));
    match decoded.split('/').collect::<Vec<_>>()[..] {
        ["d", token, name] if !name.is_empty() => token.to_string(),
        _ => panic!("not d/<token>/<name>: {}", srv.url),
    }
}

/// Whether `body` contains any 64-byte window of `secret` taken at a few offsets: a refusal
/// must not carry even part of the dump.
pub fn leaks(body: &[u8], secret: &[u8]) -> bool {
    [0, secret.len() / 2, secret.len().saturating_sub(64)]
        .iter()
        .filter_map(|&at| secret.get(at..at + 64))
        .any(|w| body.windows(64).any(|b| b == w))
}

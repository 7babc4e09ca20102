//! The real `rollscope` binary serving a fixture on 127.0.0.1, checked with raw HTTP
//! requests (URL libraries would normalise away the `..` and `%2e%2e` we test).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/slime")
        .join(name)
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .args(["--port", "0", "--no-open"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "rollscope: serving on http://127.0.0.1:PORT/?url=…  (Ctrl-C stops)"
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect(&line)
        .to_string();
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    Server { child, addr, url }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn raw(addr: &str, method: &str, path: &str, extra: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
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

#[test]
fn serves_the_named_dump_with_ranges_and_prints_the_viewer_url() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap()]);
    assert!(srv.url.ends_with("/?url=files/pd_1.pt"), "{}", srv.url);
    let bytes = std::fs::read(&dump).unwrap();
    let whole = raw(&srv.addr, "GET", "/files/pd_1.pt", &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, bytes);
    let part = raw(
        &srv.addr,
        "GET",
        "/files/pd_1.pt",
        &[("Range", "bytes=100-199")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &bytes[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{}", bytes.len()).as_str())
    );
    let index = raw(&srv.addr, "GET", "/", &[]);
    assert_eq!(index.status, 200);
    assert!(index
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
}

#[test]
fn nothing_else_is_reachable() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap()]);
    let secret = std::fs::read(fixture("agent_2.pt")).unwrap();
    let cargo =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for path in [
        "/../Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2FCargo.toml",
        "/files/../agent_2.pt",
        "/files/..%2fagent_2.pt",
        "/files/%2e%2e%2fagent_2.pt",
        "/files/agent_2.pt",
        "/files/pd_1.pt/../agent_2.pt",
        "/files/..\\agent_2.pt",
        "/..%5c..%5cCargo.toml",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "/C:/Windows/win.ini",
        "/files/",
        "/files",
        "/crates/",
        "/index.html/",
        "/./index.html",
        "/files/pd_1.pt%00",
        "/files/pd%5F1.pt",
    ] {
        let r = raw(&srv.addr, "GET", path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.len() < 100, "{path}: body of {} bytes", r.body.len());
        assert!(
            !r.body
                .windows(16)
                .any(|w| secret.windows(16).next() == Some(w)),
            "{path}"
        );
        assert_ne!(r.body, cargo, "{path}");
    }
    assert_eq!(raw(&srv.addr, "POST", "/", &[]).status, 405);
}

#[test]
fn loopback_by_default_and_a_warning_for_other_addresses() {
    let srv = start(&[]);
    assert!(srv.addr.starts_with("127.0.0.1:"), "{}", srv.addr);
    drop(srv);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["--host", "0.0.0.0", "--port", "0", "--no-open"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("warning: listening on 0.0.0.0"), "{line}");
}

#[test]
fn a_missing_dump_is_an_error_not_a_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["/nonexistent/rollout_0.pt", "--no-open", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: /nonexistent/rollout_0.pt: "),
        "{err}"
    );
}

//! The real `rollscope` binary serving a fixture on 127.0.0.1, checked with raw HTTP
//! requests (URL libraries would normalise away the `..` and `%2e%2e` we test).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{dump_path, fixture, leaks, raw, start};

#[test]
fn serves_the_named_dump_with_ranges_and_prints_the_viewer_url() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap()]);
    // `/?url=d/<32 hex digits>/pd_1.pt`: the token is 128 random bits.
    let rel = srv.url.split("/?url=").nth(1).unwrap_or_default();
    let token = rel
        .strip_prefix("d/")
        .and_then(|r| r.strip_suffix("/pd_1.pt"))
        .unwrap_or_else(|| panic!("{}", srv.url));
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    let path = dump_path(&srv);
    let bytes = std::fs::read(&dump).unwrap();
    let whole = raw(&srv.addr, "GET", &path, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, bytes);
    let part = raw(&srv.addr, "GET", &path, &[("Range", "bytes=100-199")]);
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
    let served = std::fs::read(&dump).unwrap();
    let cargo =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let path = dump_path(&srv);
    // `/d/<token>`, and the same with the token's last digit changed.
    let dir = path.strip_suffix("/pd_1.pt").unwrap().to_string();
    let last = dir.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &dir[..dir.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let upper = format!("/d/{}/pd_1.pt", dir[3..].to_ascii_uppercase());
    let paths: Vec<String> = [
        "/../Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2FCargo.toml",
        "{d}/../agent_2.pt",
        "{d}/..%2fagent_2.pt",
        "{d}/%2e%2e%2fagent_2.pt",
        "{d}/agent_2.pt",
        "{d}/pd_1.pt/../agent_2.pt",
        "{d}/..\\agent_2.pt",
        "/..%5c..%5cCargo.toml",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "/C:/Windows/win.ini",
        "{d}/",
        "{d}",
        "/d/",
        "/d",
        "/crates/",
        "/index.html/",
        "/./index.html",
        "{d}/pd_1.pt%00",
        "{d}/pd%5F1.pt",
        "{d}/./pd_1.pt",
        "/d/{d}/pd_1.pt",
        // The old fixed URL, and the right name under a wrong or re-cased token.
        "/files/pd_1.pt",
        "/d/pd_1.pt",
        "/d//pd_1.pt",
        "{w}/pd_1.pt",
        "{u}",
    ]
    .iter()
    .map(|p| {
        p.replace("{d}", &dir)
            .replace("{w}", &wrong)
            .replace("{u}", &upper)
    })
    .collect();
    for path in &paths {
        let r = raw(&srv.addr, "GET", path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.len() < 100, "{path}: body of {} bytes", r.body.len());
        assert!(!leaks(&r.body, &secret), "{path}");
        assert!(!leaks(&r.body, &served), "{path}");
        assert_ne!(r.body, cargo, "{path}");
    }
    assert_eq!(raw(&srv.addr, "POST", "/", &[]).status, 405);
    assert_eq!(raw(&srv.addr, "POST", &path, &[]).status, 405);
}

#[test]
fn each_run_has_its_own_token() {
    let dump = fixture("pd_1.pt");
    let (a, b) = (
        start(&[dump.to_str().unwrap()]),
        start(&[dump.to_str().unwrap()]),
    );
    assert_ne!(dump_path(&a), dump_path(&b));
    // One run's URL is a 404 on the other.
    assert_eq!(raw(&b.addr, "GET", &dump_path(&a), &[]).status, 404);
    assert_eq!(raw(&b.addr, "GET", &dump_path(&b), &[]).status, 200);
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

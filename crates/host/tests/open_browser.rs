//! The token never reaches a command line (issue 24, item 4): the real binary, with its
//! opener replaced (`ROLLSCOPE_OPENER`) by a script that records its argv, is given a private
//! redirect file's path, never the tokened URL; the file (0600, in the user's 0700 runtime
//! folder `$XDG_DATA_HOME/rollscope/runtime/`, which snap and flatpak browsers can read) sends
//! the browser to that URL, and is removed when the server stops. The opener is reaped (no
//! zombie), and a runtime folder planted as a link is not written through.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use common::{fixture, start_command, url_token, Server};

/// A fresh folder for one test.
fn fresh(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rs-opener-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An opener script in `dir` that runs `body` (the redirect file is `$1`), writing what it
/// prints to `dir/argv` at once when done: the log's path.
fn opener(dir: &Path, body: &str) -> (PathBuf, PathBuf) {
    let log = dir.join("argv");
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{\n{body}\n}} > '{log}.tmp'\nmv '{log}.tmp' '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    (script, log)
}

/// Serves a dump with `script` as the opener and `data` as `$XDG_DATA_HOME`.
fn serve(script: &Path, data: &Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.arg(fixture("pd_1.pt"))
        .env("ROLLSCOPE_OPENER", script)
        .env("XDG_DATA_HOME", data);
    start_command(cmd)
}

/// What the opener wrote, once it has run (at most 20 s).
fn opened(log: &Path) -> String {
    let started = Instant::now();
    while !log.exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(log).expect("the opener ran")
}

/// Sends `sig` to the server and waits (at most 20 s) for it to end.
fn stop(srv: &mut Server, sig: i32) -> ExitStatus {
    // SAFETY: a signal to our own child.
    assert_eq!(unsafe { libc::kill(srv.child.id() as i32, sig) }, 0);
    let started = Instant::now();
    loop {
        if let Some(status) = srv.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "signal {sig}: still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_opener_gets_a_private_redirect_file_not_the_token() {
    let dir = fresh("argv");
    let copy = dir.join("page");
    let (script, log) = opener(
        &dir,
        &format!(
            "printf '%s\\n' \"$0\" \"$@\"\ncp \"$1\" '{copy}'\n\
             stat -c '%a' \"$1\" \"$(dirname \"$1\")\"\necho $$",
            copy = copy.display()
        ),
    );
    let data = dir.join("data");
    let mut srv = serve(&script, &data);
    let token = url_token(&srv);
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        srv.url
    );

    let argv = opened(&log);
    let lines: Vec<&str> = argv.lines().collect();
    // $0, the one argument, the modes of the file and of its folder, the opener's pid.
    assert_eq!(lines.len(), 5, "{argv}");
    assert!(
        !argv.contains(&token),
        "the token is on the opener's command line: {argv}"
    );
    let page_path = PathBuf::from(lines[1]);
    assert_eq!(
        page_path.parent(),
        Some(data.join("rollscope/runtime").as_path()),
        "{argv}"
    );
    assert_eq!(&lines[2..4], ["600", "700"], "{argv}");
    assert_reaped(lines[4]);
    let page = std::fs::read_to_string(&copy).unwrap();
    assert!(
        page.contains(&format!("url={}", srv.url)),
        "the page redirects to the URL: {page}"
    );

    // Ctrl-C: the server stops and takes the redirect file with it.
    stop(&mut srv, libc::SIGINT);
    assert!(!page_path.exists(), "the redirect file outlived the server");
    assert!(
        page_path.parent().unwrap().is_dir(),
        "the runtime folder stays"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The opener (pid `pid`), which has exited, is reaped by the server: no zombie is left
/// (Linux: `/proc/<pid>` goes once the parent has waited for it).
fn assert_reaped(pid: &str) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    let started = Instant::now();
    while stat.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = std::fs::read_to_string(&stat).unwrap_or_default();
    assert!(
        !stat.exists(),
        "the opener {pid} was not reaped (a zombie): {state}"
    );
}

/// A runtime folder planted as a link (to a folder the attacker reads) is not used: the
/// redirect file goes to a private temporary folder instead, and nothing is written there.
#[test]
fn a_runtime_folder_planted_as_a_link_is_not_written_through() {
    let dir = fresh("link");
    let data = dir.join("data");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(data.join("rollscope")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, data.join("rollscope/runtime")).unwrap();
    let (script, log) = opener(&dir, "printf '%s' \"$1\"");
    let mut srv = serve(&script, &data);
    let page_path = PathBuf::from(opened(&log));
    assert!(page_path.is_file(), "{}", page_path.display());
    assert!(
        !page_path.starts_with(&data),
        "written through the link: {}",
        page_path.display()
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    stop(&mut srv, libc::SIGINT);
    assert!(!page_path.parent().unwrap().exists(), "removed at exit");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kill` (SIGTERM) and a closed terminal (SIGHUP) stop the server as Ctrl-C does: the
/// redirect file, which holds the token, is not left behind.
#[test]
fn sigterm_and_sighup_also_remove_the_redirect_file() {
    let dir = fresh("sig");
    let (script, log) = opener(&dir, "printf '%s' \"$1\"");
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let _ = std::fs::remove_file(&log);
        let mut srv = serve(&script, &dir.join("data"));
        let page_path = PathBuf::from(opened(&log));
        assert!(page_path.is_file(), "signal {sig}: {}", page_path.display());
        let status = stop(&mut srv, sig);
        assert!(status.success(), "signal {sig}: {status:?}");
        assert!(
            !page_path.exists(),
            "signal {sig}: the redirect file outlived the server"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! The token never reaches a command line (issue 24, item 4): the real binary, with its
//! opener replaced (`ROLLSCOPE_OPENER`) by a script that records its argv, is given a private
//! redirect file's path, never the tokened URL; the file (0600, in a 0700 folder) sends the
//! browser to that URL, and is removed when the server stops.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fixture, start_command, url_token};

#[test]
fn the_opener_gets_a_private_redirect_file_not_the_token() {
    let dir = std::env::temp_dir().join(format!("rs-opener-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("argv");
    let copy = dir.join("page");
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{log}.tmp'\n\
             cp \"$1\" '{copy}'\nstat -c '%a' \"$1\" \"$(dirname \"$1\")\" >> '{log}.tmp'\n\
             mv '{log}.tmp' '{log}'\n",
            log = log.display(),
            copy = copy.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.arg(fixture("pd_1.pt")).env("ROLLSCOPE_OPENER", &script);
    let mut srv = start_command(cmd);
    let token = url_token(&srv);
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        srv.url
    );

    let started = Instant::now();
    while !log.exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let argv = std::fs::read_to_string(&log).expect("the opener ran");
    let lines: Vec<&str> = argv.lines().collect();
    // $0, the one argument, then the modes of the file and of its folder.
    assert_eq!(lines.len(), 4, "{argv}");
    assert!(
        !argv.contains(&token),
        "the token is on the opener's command line: {argv}"
    );
    let page_path = PathBuf::from(lines[1]);
    assert!(page_path.is_absolute(), "{argv}");
    assert_eq!(&lines[2..], ["600", "700"], "{argv}");
    let page = std::fs::read_to_string(&copy).unwrap();
    assert!(
        page.contains(&format!("url={}", srv.url)),
        "the page redirects to the URL: {page}"
    );

    // Ctrl-C: the server stops and takes the redirect file with it.
    let pid = srv.child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let started = Instant::now();
    while srv.child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!page_path.exists(), "the redirect file outlived the server");
    assert!(!page_path.parent().unwrap().exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kill` (SIGTERM) and a closed terminal (SIGHUP) stop the server as Ctrl-C does: the
/// redirect file, which holds the token, is not left behind in the temporary folder.
#[test]
fn sigterm_and_sighup_also_remove_the_redirect_file() {
    let dir = std::env::temp_dir().join(format!("rs-opener-sig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("argv");
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{log}.tmp'\nmv '{log}.tmp' '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
        cmd.arg(fixture("pd_1.pt")).env("ROLLSCOPE_OPENER", &script);
        let mut srv = start_command(cmd);
        let started = Instant::now();
        while !log.exists() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let page_path = PathBuf::from(std::fs::read_to_string(&log).expect("the opener ran"));
        assert!(page_path.is_file(), "signal {sig}: {}", page_path.display());
        let pid = srv.child.id() as i32;
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = srv.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "signal {sig}: still running"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "signal {sig}: {status:?}");
        assert!(
            !page_path.parent().unwrap().exists(),
            "signal {sig}: the redirect file outlived the server"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

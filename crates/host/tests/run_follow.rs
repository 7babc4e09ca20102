//! `rollscope run DIR --follow` on a run being written: the test copies the fixture run's
//! dumps into a folder one by one (one of them first cut short, as `torch.save` leaves it
//! mid-write, then completed) and reads the child's lines as they come.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

fn fixture(f: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/run")
        .join(f)
}

fn copy(dir: &Path, f: &str) {
    std::fs::copy(fixture(f), dir.join(f)).unwrap();
}

/// The child and its stdout, line by line.
fn follow(dir: &Path, json: bool) -> (Child, Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.args(["run", dir.to_str().unwrap(), "--follow"]);
    if json {
        cmd.arg("--json");
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The next line, within `secs`.
fn next(rx: &Receiver<String>, secs: u64) -> String {
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(l) => l,
        Err(RecvTimeoutError::Timeout) => panic!("no line within {secs} s"),
        Err(RecvTimeoutError::Disconnected) => panic!("the child's output ended"),
    }
}

/// Nothing printed for `secs`.
fn quiet(rx: &Receiver<String>, secs: f64) {
    if let Ok(l) = rx.recv_timeout(Duration::from_secs_f64(secs)) {
        panic!("unexpected line {l:?}");
    }
}

/// SIGTERM, then the exit status within 20 s (it takes a look at most: a bound for a hang,
/// generous for a loaded machine).
fn stop(mut child: Child) -> std::process::ExitStatus {
    // SAFETY: a plain kill(2) of our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("--follow did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fields(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn follow_prints_each_rollout_as_it_lands_and_waits_for_one_being_written() {
    let dir = common::tmpdir("follow");
    for sub in ["rollout_data", "train_data"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    copy(&dir, "rollout_data/0.pt");
    copy(&dir, "train_data/0.pt");
    let (child, rx) = follow(&dir, false);
    let header = next(&rx, 30);
    assert!(header.trim_start().starts_with("id kind"), "{header}");
    let l0 = next(&rx, 10);
    assert_eq!(fields(&l0)[..3], ["0", "train", "24"], "{l0}");

    // Rollout 1 mid-write: a torch ZIP cut before its central directory. Waited for.
    let whole = std::fs::read(fixture("rollout_data/1.pt")).unwrap();
    std::fs::write(dir.join("rollout_data/1.pt"), &whole[..whole.len() / 2]).unwrap();
    copy(&dir, "train_data/1.pt");
    quiet(&rx, 2.5);
    // Completed: its line comes, once, and is no error.
    std::fs::write(dir.join("rollout_data/1.pt"), &whole).unwrap();
    let l1 = next(&rx, 10);
    assert_eq!(fields(&l1)[..3], ["1", "train", "24"], "{l1}");
    assert!(!l1.contains("ERROR"), "{l1}");
    // An eval dump lands.
    copy(&dir, "rollout_data/eval_0.pt");
    let le = next(&rx, 10);
    assert_eq!(fields(&le)[..2], ["0", "eval"], "{le}");
    quiet(&rx, 1.5);

    let status = stop(child);
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn follow_json_is_one_rollout_object_per_line() {
    let dir = common::tmpdir("follow-json");
    std::fs::create_dir_all(dir.join("rollout_data")).unwrap();
    copy(&dir, "rollout_data/2.pt");
    let (child, rx) = follow(&dir, true);
    let first: serde_json::Value = serde_json::from_str(&next(&rx, 30)).unwrap();
    assert_eq!(first["rollout_id"], 2);
    assert_eq!(first["kind"], "train");
    assert_eq!(first["file"], "rollout_data/2.pt");
    // An empty file (opened by torch.save, nothing written yet) is waited for.
    std::fs::write(dir.join("rollout_data/3.pt"), b"").unwrap();
    quiet(&rx, 2.0);
    copy(&dir, "rollout_data/3.pt");
    let second: serde_json::Value = serde_json::from_str(&next(&rx, 10)).unwrap();
    assert_eq!(second["rollout_id"], 3);
    assert!(second.get("error").is_none(), "{second}");
    assert!(stop(child).success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn follow_on_a_path_that_is_not_there_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(["run", "/nonexistent/rollscope-follow", "--follow"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rollscope-follow"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

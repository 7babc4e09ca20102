//! A run's memory is bounded per run, not per job, and inputs that are not regular files are
//! refused before any read: the real binary, its peak RSS read from `wait4`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peak resident memory of `rollscope run --jobs 8` on a run of hostile train files, in KiB.
const RSS: u64 = 1024 * 1024;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rollscope-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What one run of the binary gave.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident memory, KiB.
    rss: u64,
    secs: f64,
}

/// Runs the binary with `args`.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
fn run(args: &[&std::ffi::OsStr]) -> Ran {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_rollscope"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rollscope");
    let pid = child.id() as libc::pid_t;
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.expect("stdout")));
    let err = drain(Box::new(child.stderr.expect("stderr")));
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    Ran {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        rss: usage.ru_maxrss as u64,
        secs: start.elapsed().as_secs_f64(),
    }
}

#[test]
fn eight_jobs_on_hostile_train_files_stay_within_one_gigabyte() {
    // Three are enough: read at once they would hold ≈ 1.6 GB (a debug build reads each in
    // tens of seconds, so the run is kept short).
    let dir = tmpdir("run-memory");
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run");
    std::fs::create_dir_all(dir.join("rollout_data")).unwrap();
    std::fs::create_dir_all(dir.join("train_data")).unwrap();
    // Each train file: a few KB naming one 4 M-element stride-0 tensor from 40 samples, which
    // a read may expand up to what its size allows (≈ half a gigabyte).
    let train = picklegen::train::train_zip(40, &[1 << 22], &[0]);
    assert!(train.len() < 20_000, "{} bytes", train.len());
    for i in 0..3 {
        std::fs::copy(
            fixtures.join("rollout_data/0.pt"),
            dir.join(format!("rollout_data/{i}.pt")),
        )
        .unwrap();
        std::fs::write(dir.join(format!("train_data/{i}.pt")), &train).unwrap();
    }
    let ran = run(&[
        "run".as_ref(),
        dir.as_os_str(),
        "--json".as_ref(),
        "--jobs".as_ref(),
        "8".as_ref(),
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.rss <= RSS,
        "peak RSS {} MiB > {} MiB ({:.1} s)",
        ran.rss / 1024,
        RSS / 1024,
        ran.secs
    );
    // The train files were read (paired, their values in the records), as far as their
    // work limit allows, and that limit is said: bounded, not skipped.
    let doc: serde_json::Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    let rollouts = doc["rollouts"].as_array().expect("rollouts");
    assert_eq!(rollouts.len(), 3);
    for (i, r) in rollouts.iter().enumerate() {
        assert_eq!(r["train_file"], format!("train_data/{i}.pt"), "{r}");
        assert!(r["rollout/log_probs"].is_number(), "train values read: {r}");
        let notes = r["notes"].to_string();
        assert!(notes.contains("the read's work limit"), "{notes}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_a_device_and_a_folder_are_refused_at_once() {
    let dir = tmpdir("not-regular");
    let fifo = dir.join("rollout_0.pt");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (path, what) in [
        (fifo.as_path(), "FIFO"),
        (Path::new("/dev/zero"), "character device"),
        (dir.as_path(), "folder"),
    ] {
        for cmd in ["stats", "cache"] {
            let start = Instant::now();
            let ran = run(
                &[cmd.as_ref(), path.as_os_str(), "-o".as_ref(), "-".as_ref()]
                    [..if cmd == "cache" { 4 } else { 2 }],
            );
            let (code, err) = (ran.code, ran.stderr);
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{cmd} {}",
                path.display()
            );
            assert_eq!(code, Some(1), "{cmd} {}: {err}", path.display());
            assert!(
                err.contains(what) && err.contains("not a regular file"),
                "{cmd} {}: {err}",
                path.display()
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The hostile CLI tests' bounded run of the binary (`hostile_cli.rs`, `run_verl.rs`): CPU
//! time, wall time and address space bounded, peak RSS measured (wait4's `ru_maxrss`). Linux
//! carries the forking parent's high-water mark into the child's `ru_maxrss`: a test using
//! this keeps itself small.
#![allow(dead_code)] // each test file uses its own subset

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall time per case, as a multiple of its CPU bound: a child waiting for a core on a busy
/// machine is slow, not hostile; one that blocks (and uses no CPU) is killed here.
pub const HANG_FACTOR: u32 = 3;
/// Address space per child, in bytes (4 GiB): past this, allocations fail in the child
/// instead of the machine swapping.
pub const AS_LIMIT: u64 = 4 << 30;
/// One bounded run of the binary.
pub struct Run {
    /// `None` when killed for running past its CPU bound or by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub secs: f64,
    /// KiB.
    pub max_rss: u64,
    /// Its first MiB.
    pub stdout: String,
    pub stderr: String,
}

#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
/// `rollscope` with any arguments under an address-space limit of [`AS_LIMIT`]: its CPU time
/// (user + system, from `/proc/<pid>/stat`) ≤ `wall` and its wall time ≤ [`HANG_FACTOR`] ×
/// that (killed past either), its peak RSS read from the wait4 that reaps it.
pub fn run_args(args: &[&std::ffi::OsStr], wall: Duration) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollscope"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let lim = libc::rlimit {
                rlim_cur: AS_LIMIT as libc::rlim_t,
                rlim_max: AS_LIMIT as libc::rlim_t,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn rollscope");
    // Drain both pipes on their own threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        // Its first MiB kept (a table), the rest read and dropped.
        let mut v = Vec::new();
        let _ = (&mut out_pipe).take(1 << 20).read_to_end(&mut v);
        let _ = std::io::copy(&mut out_pipe, &mut std::io::sink());
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    let ticks = clock_ticks();
    loop {
        // SAFETY: wait4 on our own child with valid out-pointers; WNOHANG never blocks.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        let cpu = cpu_secs(pid, ticks);
        if (cpu > wall.as_secs_f64() || start.elapsed() > wall * HANG_FACTOR) && !timed_out {
            timed_out = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        timed_out,
        secs,
        max_rss: usage.ru_maxrss as u64,
        stdout,
        stderr,
    }
}

/// Clock ticks per second of `/proc/<pid>/stat`'s times.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// User + system CPU seconds of a running child (0 once it is gone).
fn cpu_secs(pid: libc::pid_t, ticks: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // After the command name's closing parenthesis: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (num(11) + num(12)) / ticks
}

//! `rollscope run DIR --follow`: the run table as the run is written. The header first, then
//! each dump's line as it lands (which dump can be read when is `ops::follow`), the folder
//! looked at every [`POLL`]; with `--json`, one rollout record per line (JSON Lines, the
//! objects of `run --json`'s `rollouts`). A folder whose listing is slow (100 000 files) is
//! looked at less often: the pause is at least four times the last look. Ctrl-C or SIGTERM stops it after the line being
//! written (a second one ends it at once); a closed stdout (`| head`) ends it quietly. The
//! run's layout notes (files ignored, train data without a rollout) change as it is written
//! and are not printed; each dump's own notes follow its line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ops::follow::Follower;
use trace::run::{RunOptions, Templates};

use crate::term::escape_lines;

/// How often the folder is looked at.
pub const POLL: Duration = Duration::from_millis(500);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: `signal` is async-signal-safe; the next such signal ends the process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Ctrl-C and SIGTERM set [`STOP`] instead of ending the process.
fn catch_signals() {
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let handler: extern "C" fn(libc::c_int) = on_signal;
        // SAFETY: the handler only stores to an atomic and calls `signal`, both
        // async-signal-safe.
        unsafe {
            libc::signal(sig, handler as libc::sighandler_t);
        }
    }
}

/// Sleeps `d`, waking early when asked to stop.
fn nap(d: Duration) {
    let until = Instant::now() + d;
    while !STOP.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Follows the run in `inputs` until stopped, writing to `out` (see the module doc). A run
/// folder without dumps yet is waited for; one that cannot be listed at the start is an error.
pub fn follow(
    inputs: &[PathBuf],
    json: bool,
    opts: &RunOptions,
    templates: &Templates,
    out: &mut dyn Write,
) -> Result<(), String> {
    catch_signals();
    let mut follower = Follower::new(inputs, templates)?;
    let result = (|| -> std::io::Result<()> {
        if !json {
            out.write_all(escape_lines(&crate::run::header()).as_bytes())?;
            out.flush()?;
        }
        while !STOP.load(Ordering::SeqCst) {
            let start = Instant::now();
            let ready = follower.look().map_err(std::io::Error::other)?;
            let looked = start.elapsed();
            for d in ready {
                let Some(r) = follower.read(&d, opts) else {
                    continue;
                };
                if json {
                    let rec = trace::run::rollout_record(&r.summary);
                    crate::term::write_json_safe(&mut *out, &rec).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                } else {
                    let text = crate::run::line(&r) + &crate::run::notes(&r);
                    out.write_all(escape_lines(&text).as_bytes())?;
                }
                out.flush()?;
                if STOP.load(Ordering::SeqCst) {
                    break;
                }
            }
            nap(POLL.max(looked * 4));
        }
        Ok(())
    })();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(()) => Ok(()),
    }
}

//! The server's stop signals are handled from the moment they are registered, not from the
//! server's first wait: a `kill` that comes while the browser is being opened stops the
//! server cleanly (so the redirect file is removed) instead of ending the process.
//!
//! Its own test binary: the signals are raised at this process.

#![cfg(unix)]

use std::time::Duration;

use host::listen::StopSignals;

#[test]
fn a_signal_raised_before_the_first_wait_is_kept() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        runtime.block_on(async {
            let stop = StopSignals::register();
            // Before the fix this ended the test process (the default action).
            // SAFETY: a signal to this process, whose handler was just installed.
            assert_eq!(unsafe { libc::raise(sig) }, 0);
            let waited = tokio::time::timeout(Duration::from_secs(10), stop.wait()).await;
            assert!(waited.is_ok(), "signal {sig}: not seen");
        });
    }
}

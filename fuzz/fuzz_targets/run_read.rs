//! Fuzz target `run_read`: see `fuzzcheck::check_run_read` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_run_read(data));

//! Fuzz target `pt_read`: see `fuzzcheck::check_pt_read` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_pt_read(data));

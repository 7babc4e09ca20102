//! Fuzz target `run_listing`: see `fuzzcheck::listing::check_run_listing` for what it runs and
//! checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::listing::check_run_listing(data));

//! Fuzz target `store_read`: see `fuzzcheck::check_store_read` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_store_read(data));

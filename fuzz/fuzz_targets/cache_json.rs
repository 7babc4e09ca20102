//! Fuzz target `cache_json`: see `fuzzcheck::check_cache_json` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_cache_json(data));

//! Fuzz target `structured`: see `fuzzcheck::check_structured` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_structured(data));

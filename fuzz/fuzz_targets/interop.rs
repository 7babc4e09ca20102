//! Fuzz target `interop`: see `fuzzcheck::check_interop` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_interop(data));

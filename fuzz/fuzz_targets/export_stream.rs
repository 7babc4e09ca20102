//! Fuzz target `export_stream`: see `fuzzcheck::export::check_export_stream` for what it runs
//! and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::export::check_export_stream(data));

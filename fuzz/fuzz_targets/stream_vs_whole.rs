//! Fuzz target `stream_vs_whole`: see `fuzzcheck::check_stream_vs_whole` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_stream_vs_whole(data));

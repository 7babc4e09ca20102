//! Fuzz target `trace_load`: see `fuzzcheck::check_trace_load` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_trace_load(data));

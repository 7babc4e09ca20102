//! Fuzz target `verl_read`: see `fuzzcheck::verl::check_verl_read` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::verl::check_verl_read(data));

//! Fuzz target `tokenizer`: see `fuzzcheck::check_tokenizer` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzcheck::check_tokenizer(data));

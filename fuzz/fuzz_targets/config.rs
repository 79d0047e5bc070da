//! libFuzzer entry point of the `config` target; the checks are in `rappel_fuzz::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::config(data));

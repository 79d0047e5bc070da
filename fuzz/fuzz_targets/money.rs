//! libFuzzer entry point of the `money` target; the checks are in `rappel_fuzz::money`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::money(data));

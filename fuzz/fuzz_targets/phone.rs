//! libFuzzer entry point of the `phone` target; the checks are in `rappel_fuzz::phone`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::phone(data));

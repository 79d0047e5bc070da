//! libFuzzer entry point of the `render` target; the checks are in `rappel_fuzz::render`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::render(data));

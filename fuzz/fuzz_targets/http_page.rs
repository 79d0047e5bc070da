//! libFuzzer entry point of the `http_page` target; the checks are in `rappel_fuzz::http_page`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::http_page(data));

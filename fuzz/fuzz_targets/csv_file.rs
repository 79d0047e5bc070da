//! libFuzzer entry point of the `csv_file` target; the checks are in `rappel_fuzz::csv_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::csv_file(data));

//! libFuzzer entry point of the `csv_row` target; the checks are in `rappel_fuzz::csv_row`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::csv_row(data));

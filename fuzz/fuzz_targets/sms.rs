//! libFuzzer entry point of the `sms` target; the checks are in `rappel_fuzz::sms`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::sms(data));

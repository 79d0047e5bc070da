//! libFuzzer entry point of the `twilio_response` target; the checks are in `rappel_fuzz::twilio_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rappel_fuzz::twilio_response(data));

//! The bodies of rappel's fuzz targets: each takes the fuzzer's bytes, feeds them to one
//! parser through its public API, and asserts properties of the result, not only "no
//! panic". `fuzz_targets/*.rs` hand them to libFuzzer; `tests/corpus.rs` runs them over the
//! seed corpus and the kept regressions with plain `cargo test`.

mod csv;
mod hostile;
mod http;
mod server;
mod text;

pub use csv::{csv_file, csv_row};
pub use hostile::{config, money, phone, render, sms};
pub use http::{http_page, twilio_response};

/// A target's body: the fuzzer's bytes in, a panic when a property does not hold.
pub type Target = fn(&[u8]);

/// Every target, by name, as `tests/corpus.rs` and `.ci/run` know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("money", money),
    ("phone", phone),
    ("config", config),
    ("sms", sms),
    ("render", render),
    ("csv_file", csv_file),
    ("csv_row", csv_row),
    ("http_page", http_page),
    ("twilio_response", twilio_response),
];

//! Splitting the fuzzer's bytes into a few choices and some text, the same way in every
//! target, so that seed files stay readable (one option byte, then the text).

/// The first byte (the options of a target) and the rest.
pub(crate) fn options(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, &[]),
    }
}

/// The bytes as text, invalid UTF-8 replaced (the parsers under test take `&str`).
pub(crate) fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The text split at the first NUL byte: two independent fields from one input.
pub(crate) fn two_fields(data: &[u8]) -> (String, String) {
    match data.iter().position(|b| *b == 0) {
        Some(at) => (lossy(&data[..at]), lossy(&data[at + 1..])),
        None => (lossy(data), String::new()),
    }
}

/// A distinctive fake secret that must never come back in any message.
pub(crate) const SECRET: &str = "tok_SECRET_fuzz_4242";

/// Held by targets that share a file or a server: `cargo test` runs targets in parallel.
pub(crate) fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

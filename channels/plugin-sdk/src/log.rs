//! Plugin logs, forwarded to the host's `tracing` through the callback it passed at `create`.
//! Before `create` (or with a host that passed none) logs are dropped.

use crate::abi::{HostLogFn, level};
use std::sync::OnceLock;

static HOST_LOG: OnceLock<HostLogFn> = OnceLock::new();

pub(crate) fn install(log: Option<HostLogFn>) {
    if let Some(log) = log {
        let _ = HOST_LOG.set(log);
    }
}

/// Whether the host takes plugin logs.
pub(crate) fn installed() -> bool {
    HOST_LOG.get().is_some()
}

/// Logs `message` at `level` (one of [`crate::abi::level`]). Never log a secret.
pub fn log(level: u32, message: &str) {
    if let Some(log) = HOST_LOG.get() {
        log(level, message.as_ptr(), message.len());
    }
}

/// The operator must act.
pub fn error(message: &str) {
    log(level::ERROR, message);
}

/// Something was skipped or will be retried.
pub fn warn(message: &str) {
    log(level::WARN, message);
}

/// Normal operation.
pub fn info(message: &str) {
    log(level::INFO, message);
}

/// Details for debugging.
pub fn debug(message: &str) {
    log(level::DEBUG, message);
}

//! The time source. Every command can run "as of" an instant (`--now`), and tests never sleep.

use chrono::{DateTime, Utc};

/// Where the engine reads the current instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant (`--now`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The system clock shifted so that it read `start` when it was created: `run --now` follows
/// the real passage of time from a chosen instant.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: chrono::Duration,
}

impl OffsetClock {
    /// A clock that reads `start` now and advances in real time.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_clock_starts_at_the_given_instant_and_advances() {
        let start = DateTime::parse_from_rfc3339("2025-12-01T05:59:50Z").unwrap().to_utc();
        let clock = OffsetClock::starting_at(start);
        let read = clock.now();
        assert!(read >= start && read - start < chrono::Duration::seconds(5));
    }
}

//! Wall-clock alignment: with a 6 h interval, checks run at 00:00, 06:00, 12:00 and 18:00 in
//! the configured time zone, computed from the clock every time so nothing drifts.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The first slot strictly after `now`: local midnight plus a whole number of intervals.
/// Slots restart at each local midnight, so an interval that does not divide a day still
/// gives the same times every day.
pub fn next_slot(now: DateTime<Utc>, interval: std::time::Duration, tz: Tz) -> DateTime<Utc> {
    let step = Duration::from_std(interval)
        .unwrap_or(Duration::hours(6))
        .max(Duration::seconds(1));
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    loop {
        let midnight = tz
            .from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            // A zone whose midnight does not exist on that day (DST at 00:00): start an hour on.
            .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)) + Duration::hours(1));
        let next_midnight = day.succ_opt().unwrap_or(day);
        let mut slot = midnight;
        while slot.with_timezone(&tz).date_naive() < next_midnight {
            if slot > now {
                return slot;
            }
            slot += step;
        }
        day = next_midnight;
    }
}

/// The most recent slot at or before `now`.
pub fn current_slot(now: DateTime<Utc>, interval: std::time::Duration, tz: Tz) -> DateTime<Utc> {
    let next = next_slot(now, interval, tz);
    let step = Duration::from_std(interval).unwrap_or(Duration::hours(6));
    let mut candidate = next - step;
    // Near midnight the previous slot may be shorter; walk back to the last one <= now.
    while candidate > now {
        candidate -= step;
    }
    next_slot(candidate - Duration::seconds(1), interval, tz).min(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    const SIX_H: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

    #[test]
    fn six_hours_in_dakar_gives_00_06_12_18() {
        let tz = chrono_tz::Africa::Dakar;
        assert_eq!(
            next_slot(at("2025-11-26T00:00:00Z"), SIX_H, tz),
            at("2025-11-26T06:00:00Z")
        );
        assert_eq!(
            next_slot(at("2025-11-26T05:59:59Z"), SIX_H, tz),
            at("2025-11-26T06:00:00Z")
        );
        assert_eq!(
            next_slot(at("2025-11-26T13:10:00Z"), SIX_H, tz),
            at("2025-11-26T18:00:00Z")
        );
        assert_eq!(
            next_slot(at("2025-11-26T19:00:00Z"), SIX_H, tz),
            at("2025-11-27T00:00:00Z")
        );
    }

    #[test]
    fn aligned_to_local_midnight_in_other_zones() {
        let tz = chrono_tz::Europe::Paris; // UTC+1 in November
        assert_eq!(
            next_slot(at("2025-11-26T00:30:00Z"), SIX_H, tz),
            at("2025-11-26T05:00:00Z")
        );
    }

    #[test]
    fn an_interval_that_does_not_divide_a_day_restarts_at_midnight() {
        let tz = chrono_tz::Africa::Dakar;
        let seven_h = std::time::Duration::from_secs(7 * 3600);
        assert_eq!(
            next_slot(at("2025-11-26T21:30:00Z"), seven_h, tz),
            at("2025-11-27T00:00:00Z")
        );
    }

    #[test]
    fn current_slot_is_the_last_boundary() {
        let tz = chrono_tz::Africa::Dakar;
        assert_eq!(
            current_slot(at("2025-11-26T13:10:00Z"), SIX_H, tz),
            at("2025-11-26T12:00:00Z")
        );
        assert_eq!(
            current_slot(at("2025-11-26T12:00:00Z"), SIX_H, tz),
            at("2025-11-26T12:00:00Z")
        );
    }
}

//! Wall-clock alignment: with a 6 h interval, checks run at 00:00, 06:00, 12:00 and 18:00 in
//! the configured time zone, computed from the clock every time so nothing drifts.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The first slot strictly after `now`: local midnight plus a whole number of intervals,
/// on the local wall clock (so 6 h stays 00:00, 06:00, 12:00, 18:00 across daylight-saving
/// changes). Slots restart at each local midnight, so an interval that does not divide a
/// day still gives the same times every day.
pub fn next_slot(now: DateTime<Utc>, interval: std::time::Duration, tz: Tz) -> DateTime<Utc> {
    let step = Duration::from_std(interval)
        .unwrap_or(Duration::hours(6))
        .max(Duration::seconds(1));
    let mut day = now.with_timezone(&tz).date_naive();
    // Two days always hold the next slot; a third guards against odd zones.
    for _ in 0..3 {
        let mut local = day.and_time(NaiveTime::MIN);
        while local.date() == day {
            let at = resolve(tz, local);
            if at > now {
                return at;
            }
            local += step;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    now + step
}

/// A local wall-clock time as an instant; a time skipped by a daylight-saving jump is taken
/// an hour later.
fn resolve(tz: Tz, local: chrono::NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest())
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

/// The next check after `now`: the next interval slot, or the next `extra` local time
/// (the end of quiet hours) when that comes first.
pub fn next_check(
    now: DateTime<Utc>,
    interval: std::time::Duration,
    tz: Tz,
    extra: Option<NaiveTime>,
) -> DateTime<Utc> {
    let slot = next_slot(now, interval, tz);
    let Some(time) = extra else { return slot };
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    for _ in 0..3 {
        if let Some(at) = tz
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            && at > now
        {
            return at.min(slot);
        }
        day = day.succ_opt().unwrap_or(day);
    }
    slot
}

/// Whether `run` must check at once on start: never checked, or the last check is at least
/// one interval old (after a restart or downtime; one check, not one per missed slot).
pub fn needs_catch_up(last: Option<DateTime<Utc>>, now: DateTime<Utc>, interval: std::time::Duration) -> bool {
    let interval = Duration::from_std(interval).unwrap_or(Duration::hours(6));
    last.is_none_or(|t| now - t >= interval)
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
    fn daylight_saving_days_keep_local_times() {
        let tz = chrono_tz::Europe::Paris;
        // 2026-03-29: clocks go from 02:00 to 03:00. Slots stay at local 00, 06, 12, 18.
        assert_eq!(
            next_slot(at("2026-03-28T23:30:00Z"), SIX_H, tz),
            at("2026-03-29T04:00:00Z"),
            "06:00 CEST"
        );
        assert_eq!(
            next_slot(at("2026-03-29T04:00:00Z"), SIX_H, tz),
            at("2026-03-29T10:00:00Z"),
            "12:00 CEST"
        );
        // 2026-10-25: clocks go back from 03:00 to 02:00.
        assert_eq!(
            next_slot(at("2026-10-24T22:00:00Z"), SIX_H, tz),
            at("2026-10-25T05:00:00Z"),
            "06:00 CET"
        );
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            next_slot(at("2026-03-08T05:00:00Z"), SIX_H, ny),
            at("2026-03-08T10:00:00Z"),
            "06:00 EDT"
        );
    }

    #[test]
    fn one_catch_up_after_downtime() {
        let last = Some(at("2025-11-26T00:00:00Z"));
        assert!(needs_catch_up(last, at("2025-11-26T20:00:00Z"), SIX_H), "20 h down");
        assert!(!needs_catch_up(last, at("2025-11-26T05:59:59Z"), SIX_H));
        assert!(needs_catch_up(None, at("2025-11-26T05:00:00Z"), SIX_H), "never checked");
    }

    #[test]
    fn an_extra_check_when_quiet_hours_end() {
        let tz = chrono_tz::Africa::Dakar;
        let eight = NaiveTime::from_hms_opt(8, 0, 0);
        assert_eq!(
            next_check(at("2025-11-26T06:00:00Z"), SIX_H, tz, eight),
            at("2025-11-26T08:00:00Z")
        );
        assert_eq!(
            next_check(at("2025-11-26T08:00:00Z"), SIX_H, tz, eight),
            at("2025-11-26T12:00:00Z")
        );
        assert_eq!(
            next_check(at("2025-11-26T06:00:00Z"), SIX_H, tz, None),
            at("2025-11-26T12:00:00Z")
        );
        assert_eq!(
            next_check(at("2025-11-26T19:00:00Z"), SIX_H, tz, eight),
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

//! The decision for one debtor at one instant: send a reminder now, or why not. A pure
//! function of the debt book, the debtor's history and the rules, so every rule has a test.

use crate::config::RulesConfig;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

/// What the ledger knows about a debtor, as the rules need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The open cycle, if a reminder was already sent for the current overdue balance.
    pub open_cycle: Option<CycleHistory>,
    /// The number of the last cycle, open or closed (0 if none).
    pub last_cycle: u32,
    /// The debtor's address opted out (STOP) on the channel's medium.
    pub opted_out: bool,
    /// The debtor's address was refused by a provider as invalid.
    pub invalid_contact: bool,
}

/// The state of the open cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleHistory {
    /// The cycle number.
    pub number: u32,
    /// Reminders that left (sent or later states).
    pub sent: u32,
    /// When the last reminder of the cycle was attempted (the check's instant): the period
    /// clock starts there.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// The highest sequence number recorded in this cycle.
    pub last_seq: u32,
    /// How that last reminder ended.
    pub last_outcome: Option<Outcome>,
}

/// How the last recorded reminder of a cycle ended, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It left (sent, delivered, read, or undelivered by the network).
    Sent,
    /// Written before the send and not updated yet: being sent, or the process died.
    Pending,
    /// The request may have reached the provider, but its answer was lost (timeout).
    Unknown,
    /// Failed for a reason that may pass: the same reminder is tried again.
    FailedTransient,
    /// Failed for good: counts as an attempt; the address flags say the rest.
    FailedPermanent,
}

/// How long a `pending` reminder belongs to the check that wrote it. Past that, its process
/// is taken to have died and the reminder is verified with the provider like an `unknown` one.
pub const PENDING_LEASE: Duration = Duration::minutes(15);

/// Why a debtor with a balance gets no reminder now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Nothing overdue.
    NotOverdue,
    /// Overdue balance below `rules.min_amount`.
    BelowMinimum,
    /// The address said STOP.
    OptedOut,
    /// No address for the channel's medium, or a provider refused it.
    NoValidAddress,
    /// `rules.max_reminders` reached in this cycle.
    MaxReminders,
    /// The last reminder is less than `period_days` old.
    NotYetDue,
    /// Inside `rules.quiet_hours`.
    QuietHours,
    /// The last attempt's outcome is unknown (timeout, crash): not sent again blindly.
    OutcomeUnknown,
    /// A row of this client could not be read: its total would be wrong.
    BadRows,
}

impl SkipReason {
    /// A short phrase for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotOverdue => "nothing overdue",
            Self::BelowMinimum => "below the minimum amount",
            Self::OptedOut => "opted out",
            Self::NoValidAddress => "no valid address",
            Self::MaxReminders => "maximum reminders reached",
            Self::NotYetDue => "reminded less than period_days ago",
            Self::QuietHours => "quiet hours",
            Self::OutcomeUnknown => "last send outcome unknown",
            Self::BadRows => "unreadable rows",
        }
    }
}

/// What to do with one debtor now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send reminder `seq` of cycle `cycle`.
    Send {
        /// The cycle (a new one when the debtor had none open).
        cycle: u32,
        /// The reminder's number in the cycle.
        seq: u32,
        /// Whether this opens the cycle.
        opens_cycle: bool,
        /// An earlier attempt of this same reminder may have reached the provider: ask the
        /// provider first, and send only if it has no such message.
        verify: bool,
    },
    /// Nothing to send. `close_cycle` is set when an open cycle is now paid up.
    Skip {
        /// Why.
        reason: SkipReason,
        /// The open cycle to close (its balance is paid).
        close_cycle: Option<u32>,
    },
}

/// The facts about a debtor's balance at the instant of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Overdue amount still owed, in minor units.
    pub overdue_minor: i64,
    /// `rules.min_amount` in minor units of the debtor's currency.
    pub min_minor: i64,
    /// Whether the debtor has a usable address for the channel's medium.
    pub has_address: bool,
}

impl Balance {
    /// Why nothing is reminded whatever the history and the addresses: nothing overdue, or
    /// less than `min_amount`.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        if self.overdue_minor <= 0 {
            Some(SkipReason::NotOverdue)
        } else if self.overdue_minor < self.min_minor {
            Some(SkipReason::BelowMinimum)
        } else {
            None
        }
    }
}

/// Decides for one debtor. `local_time` is the check's instant in the configured zone.
pub fn decide(
    balance: Balance,
    history: &History,
    rules: &RulesConfig,
    now: DateTime<Utc>,
    local_time: NaiveTime,
) -> Decision {
    let skip = |reason| Decision::Skip {
        reason,
        close_cycle: None,
    };
    match balance.skip_reason() {
        Some(SkipReason::NotOverdue) => {
            return Decision::Skip {
                reason: SkipReason::NotOverdue,
                close_cycle: history.open_cycle.as_ref().map(|c| c.number),
            };
        }
        Some(reason) => return skip(reason),
        None => {}
    }
    if history.opted_out {
        return skip(SkipReason::OptedOut);
    }
    if !balance.has_address || history.invalid_contact {
        return skip(SkipReason::NoValidAddress);
    }
    let (cycle, seq, opens_cycle, verify) = match &history.open_cycle {
        None => (history.last_cycle + 1, 1, true, false),
        Some(open) => {
            match open.last_outcome {
                Some(Outcome::Pending) if open.last_sent_at.is_some_and(|t| now - t < PENDING_LEASE) => {
                    return skip(SkipReason::OutcomeUnknown);
                }
                // The same reminder, after asking the provider whether the last try arrived.
                Some(Outcome::Pending | Outcome::Unknown) => (open.number, open.last_seq, false, true),
                // A send that failed for a transient reason is tried again under the same key.
                Some(Outcome::FailedTransient) => (open.number, open.last_seq, false, false),
                _ => {
                    if rules.max_reminders > 0 && open.sent >= rules.max_reminders {
                        return skip(SkipReason::MaxReminders);
                    }
                    if let Some(last) = open.last_sent_at
                        && now - last < Duration::days(i64::from(rules.period_days))
                    {
                        return skip(SkipReason::NotYetDue);
                    }
                    (open.number, open.last_seq + 1, false, false)
                }
            }
        }
    };
    if rules.quiet_hours.is_some_and(|q| q.contains(local_time)) {
        return skip(SkipReason::QuietHours);
    }
    Decision::Send {
        cycle,
        seq,
        opens_cycle,
        verify,
    }
}

/// When the next reminder may go, for `status`: the last one plus the period.
pub fn next_due(history: &History, rules: &RulesConfig) -> Option<DateTime<Utc>> {
    let last = history.open_cycle.as_ref()?.last_sent_at?;
    Some(last + Duration::days(i64::from(rules.period_days)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuietHours;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn noon() -> NaiveTime {
        NaiveTime::from_hms_opt(12, 0, 0).unwrap()
    }
    fn rules() -> RulesConfig {
        RulesConfig::default()
    }
    fn owing(minor: i64) -> Balance {
        Balance {
            overdue_minor: minor,
            min_minor: 0,
            has_address: true,
        }
    }
    fn open(sent: u32, last: &str, outcome: Outcome) -> History {
        History {
            open_cycle: Some(CycleHistory {
                number: 2,
                sent,
                last_sent_at: Some(at(last)),
                last_seq: sent,
                last_outcome: Some(outcome),
            }),
            last_cycle: 2,
            ..History::default()
        }
    }
    fn reason(d: Decision) -> SkipReason {
        match d {
            Decision::Skip { reason, .. } => reason,
            other => panic!("expected a skip, got {other:?}"),
        }
    }
    const NOW: &str = "2025-11-26T12:00:00Z";

    #[test]
    fn first_reminder_opens_the_next_cycle() {
        let h = History {
            last_cycle: 3,
            ..History::default()
        };
        assert_eq!(
            decide(owing(2500), &h, &rules(), at(NOW), noon()),
            Decision::Send {
                cycle: 4,
                seq: 1,
                opens_cycle: true,
                verify: false
            }
        );
    }

    #[test]
    fn nothing_overdue_closes_the_open_cycle() {
        let d = decide(
            owing(0),
            &open(2, "2025-11-20T12:00:00Z", Outcome::Sent),
            &rules(),
            at(NOW),
            noon(),
        );
        assert_eq!(
            d,
            Decision::Skip {
                reason: SkipReason::NotOverdue,
                close_cycle: Some(2)
            }
        );
        let d = decide(owing(0), &History::default(), &rules(), at(NOW), noon());
        assert_eq!(
            d,
            Decision::Skip {
                reason: SkipReason::NotOverdue,
                close_cycle: None
            }
        );
    }

    #[test]
    fn below_minimum_is_skipped() {
        let b = Balance {
            min_minor: 5000,
            ..owing(4999)
        };
        assert_eq!(
            reason(decide(b, &History::default(), &rules(), at(NOW), noon())),
            SkipReason::BelowMinimum
        );
        let b = Balance {
            min_minor: 5000,
            ..owing(5000)
        };
        assert!(matches!(
            decide(b, &History::default(), &rules(), at(NOW), noon()),
            Decision::Send { .. }
        ));
    }

    #[test]
    fn opted_out_and_invalid_contacts_are_skipped() {
        let h = History {
            opted_out: true,
            ..History::default()
        };
        assert_eq!(
            reason(decide(owing(1), &h, &rules(), at(NOW), noon())),
            SkipReason::OptedOut
        );
        let h = History {
            invalid_contact: true,
            ..History::default()
        };
        assert_eq!(
            reason(decide(owing(1), &h, &rules(), at(NOW), noon())),
            SkipReason::NoValidAddress
        );
        let b = Balance {
            has_address: false,
            ..owing(1)
        };
        assert_eq!(
            reason(decide(b, &History::default(), &rules(), at(NOW), noon())),
            SkipReason::NoValidAddress
        );
    }

    #[test]
    fn period_days_must_have_passed_since_the_last_reminder() {
        let r = rules(); // 3 days
        let h = open(1, "2025-11-23T12:00:01Z", Outcome::Sent);
        assert_eq!(reason(decide(owing(1), &h, &r, at(NOW), noon())), SkipReason::NotYetDue);
        let h = open(1, "2025-11-23T12:00:00Z", Outcome::Sent);
        assert_eq!(
            decide(owing(1), &h, &r, at(NOW), noon()),
            Decision::Send {
                cycle: 2,
                seq: 2,
                opens_cycle: false,
                verify: false
            }
        );
    }

    #[test]
    fn max_reminders_stops_the_cycle() {
        let r = RulesConfig {
            max_reminders: 2,
            ..rules()
        };
        let h = open(2, "2025-11-01T12:00:00Z", Outcome::Sent);
        assert_eq!(
            reason(decide(owing(1), &h, &r, at(NOW), noon())),
            SkipReason::MaxReminders
        );
        let r = RulesConfig {
            max_reminders: 0,
            ..rules()
        };
        assert!(matches!(
            decide(owing(1), &h, &r, at(NOW), noon()),
            Decision::Send { .. }
        ));
    }

    #[test]
    fn quiet_hours_hold_the_reminder() {
        let r = RulesConfig {
            quiet_hours: QuietHours::parse("21:00-08:00").unwrap(),
            ..rules()
        };
        let three_am = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        assert_eq!(
            reason(decide(owing(1), &History::default(), &r, at(NOW), three_am)),
            SkipReason::QuietHours
        );
        let r = RulesConfig {
            quiet_hours: None,
            ..rules()
        };
        assert!(matches!(
            decide(owing(1), &History::default(), &r, at(NOW), three_am),
            Decision::Send { .. }
        ));
    }

    #[test]
    fn unknown_outcome_is_never_sent_blindly() {
        // Unknown: the same reminder, verified with the provider first.
        let h = open(1, "2025-11-26T11:00:00Z", Outcome::Unknown);
        assert_eq!(
            decide(owing(1), &h, &rules(), at(NOW), noon()),
            Decision::Send {
                cycle: 2,
                seq: 1,
                opens_cycle: false,
                verify: true
            }
        );
        // Pending within the lease: another check may be sending it right now.
        let h = open(1, "2025-11-26T11:50:00Z", Outcome::Pending);
        assert_eq!(
            reason(decide(owing(1), &h, &rules(), at(NOW), noon())),
            SkipReason::OutcomeUnknown
        );
        // Pending past the lease: its process died; verify like unknown.
        let h = open(1, "2025-11-26T11:40:00Z", Outcome::Pending);
        assert_eq!(
            decide(owing(1), &h, &rules(), at(NOW), noon()),
            Decision::Send {
                cycle: 2,
                seq: 1,
                opens_cycle: false,
                verify: true
            }
        );
    }

    #[test]
    fn a_transient_failure_is_retried_under_the_same_key() {
        let mut h = open(1, "2025-11-25T12:00:00Z", Outcome::Sent);
        if let Some(c) = h.open_cycle.as_mut() {
            c.last_seq = 2;
            c.last_outcome = Some(Outcome::FailedTransient);
        }
        assert_eq!(
            decide(owing(1), &h, &rules(), at(NOW), noon()),
            Decision::Send {
                cycle: 2,
                seq: 2,
                opens_cycle: false,
                verify: false
            }
        );
    }

    #[test]
    fn next_due_is_last_plus_period() {
        assert_eq!(
            next_due(&open(1, "2025-11-23T12:00:00Z", Outcome::Sent), &rules()),
            Some(at("2025-11-26T12:00:00Z"))
        );
        assert_eq!(next_due(&History::default(), &rules()), None);
    }
}

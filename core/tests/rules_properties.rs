//! Property tests of the rule engine (`rules::decide`): for any history and any debt book,
//! no reminder goes to a client with no overdue balance, none inside quiet hours, none to an
//! opted-out or unreachable client, and within a cycle no two reminders that left are less
//! than `period_days` apart. Checked on single decisions from arbitrary histories, and on
//! simulated timelines where a model ledger records what `decide` asked for.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use proptest::prelude::*;
use rappel_core::config::{QuietHours, RulesConfig};
use rappel_core::rules::{Balance, CycleHistory, Decision, History, Outcome, PENDING_LEASE, decide};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 20, 0, 0, 0).unwrap()
}

fn quiet_hours() -> impl Strategy<Value = Option<QuietHours>> {
    prop_oneof![
        Just(None),
        (0_u32..24, 0_u32..60, 0_u32..24, 0_u32..60).prop_map(|(h1, m1, h2, m2)| {
            // An empty range (start = end) is refused by the parser: no quiet hours then.
            QuietHours::parse(&format!("{h1:02}:{m1:02}-{h2:02}:{m2:02}"))
                .ok()
                .flatten()
        }),
    ]
}

fn rules() -> impl Strategy<Value = RulesConfig> {
    (0_u32..10, 0_u32..4, 0_u32..6, quiet_hours()).prop_map(|(period_days, grace_days, max_reminders, quiet_hours)| {
        RulesConfig {
            period_days,
            grace_days,
            min_amount: 0,
            max_reminders,
            quiet_hours,
            ..RulesConfig::default()
        }
    })
}

fn outcome() -> impl Strategy<Value = Option<Outcome>> {
    prop_oneof![
        Just(None),
        Just(Some(Outcome::Sent)),
        Just(Some(Outcome::Pending)),
        Just(Some(Outcome::Unknown)),
        Just(Some(Outcome::FailedTransient)),
        Just(Some(Outcome::FailedPermanent)),
    ]
}

fn history() -> impl Strategy<Value = History> {
    let open = (
        1_u32..50,
        0_u32..10,
        proptest::option::of(-20_000_i64..20_000),
        0_u32..12,
        outcome(),
    )
        .prop_map(|(number, sent, minutes_ago, last_seq, last_outcome)| CycleHistory {
            number,
            sent,
            last_sent_at: minutes_ago.map(|m| start() + Duration::days(10) - Duration::minutes(m)),
            last_seq,
            last_outcome,
        });
    (proptest::option::of(open), 0_u32..50, any::<bool>(), any::<bool>()).prop_map(
        |(open_cycle, last_cycle, opted_out, invalid_contact)| History {
            last_cycle: open_cycle.as_ref().map_or(last_cycle, |c| c.number.max(last_cycle)),
            open_cycle,
            opted_out,
            invalid_contact,
        },
    )
}

fn balance() -> impl Strategy<Value = Balance> {
    (-1_000_i64..1_000_000, 0_i64..10_000, any::<bool>()).prop_map(|(overdue_minor, min_minor, has_address)| Balance {
        overdue_minor,
        min_minor,
        has_address,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// One decision from any history: every reason not to send is honoured.
    #[test]
    fn a_single_decision_honours_every_rule(
        balance in balance(),
        history in history(),
        rules in rules(),
        minutes in 0_i64..(24 * 60),
    ) {
        let now = start() + Duration::days(10) + Duration::minutes(minutes);
        let local = now.time();
        let decision = decide(balance, &history, &rules, now, local);
        if let Decision::Send { cycle, seq, opens_cycle, verify } = decision {
            prop_assert!(balance.overdue_minor > 0, "sent with nothing overdue");
            prop_assert!(balance.overdue_minor >= balance.min_minor, "sent below the minimum");
            prop_assert!(balance.has_address && !history.invalid_contact, "sent without a valid address");
            prop_assert!(!history.opted_out, "sent to an opted-out client");
            prop_assert!(!rules.quiet_hours.is_some_and(|q| q.contains(local)), "sent in quiet hours at {local}");
            prop_assert!(seq >= 1 || !opens_cycle);
            match &history.open_cycle {
                None => {
                    prop_assert!(opens_cycle && seq == 1 && !verify);
                    prop_assert_eq!(cycle, history.last_cycle + 1, "a closed cycle number is reused");
                }
                Some(open) => {
                    prop_assert!(!opens_cycle);
                    prop_assert_eq!(cycle, open.number);
                    let again = matches!(
                        open.last_outcome,
                        Some(Outcome::Pending | Outcome::Unknown | Outcome::FailedTransient)
                    );
                    if again {
                        // The same reminder, same key; verified first when it may have left.
                        prop_assert_eq!(seq, open.last_seq);
                        prop_assert_eq!(verify, open.last_outcome != Some(Outcome::FailedTransient));
                        if open.last_outcome == Some(Outcome::Pending) {
                            prop_assert!(open.last_sent_at.is_none_or(|t| now - t >= PENDING_LEASE));
                        }
                    } else {
                        // A new reminder: the period has passed and the maximum is not reached.
                        prop_assert_eq!(seq, open.last_seq + 1);
                        prop_assert!(!verify);
                        if let Some(last) = open.last_sent_at {
                            prop_assert!(now - last >= Duration::days(i64::from(rules.period_days)),
                                "reminded {} after the last one, period {} days", now - last, rules.period_days);
                        }
                        prop_assert!(rules.max_reminders == 0 || open.sent < rules.max_reminders);
                    }
                }
            }
        }
        if let Decision::Skip { close_cycle: Some(closed), .. } = decision {
            prop_assert!(balance.overdue_minor <= 0, "a cycle closed while money is overdue");
            prop_assert_eq!(Some(closed), history.open_cycle.as_ref().map(|c| c.number));
        }
    }
}

/// One check of a simulated timeline: how long after the previous one, the debt book then,
/// and what happens to a send.
#[derive(Debug, Clone)]
struct Step {
    minutes: i64,
    overdue_minor: i64,
    has_address: bool,
    opted_out: bool,
    /// What the provider does with a send: 0 left, 1 transient failure, 2 permanent
    /// failure, 3 left but the answer was lost, 4 lost before leaving, 5 the process died
    /// after it left, 6 the process died before.
    fate: u8,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (
        prop_oneof![0_i64..30, 60_i64..(6 * 60), (6 * 60_i64)..(4 * 24 * 60)],
        prop_oneof![3 => 1_i64..500_000, 1 => Just(0_i64)],
        prop_oneof![9 => Just(true), 1 => Just(false)],
        prop_oneof![19 => Just(false), 1 => Just(true)],
        prop_oneof![10 => Just(0_u8), 1 => 1_u8..7],
    )
        .prop_map(|(minutes, overdue_minor, has_address, opted_out, fate)| Step {
            minutes,
            overdue_minor,
            has_address,
            opted_out,
            fate,
        });
    proptest::collection::vec(step, 1..120)
}

/// What the provider really did with one attempt.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    at: DateTime<Utc>,
    left: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// A timeline of checks against a model ledger: what `decide` sends is recorded the way
    /// the ledger does (attempt instant, outcome, sent count), unknown outcomes are verified
    /// with a truthful provider. Within a cycle, messages that really left are at least
    /// `period_days` apart; none leaves with nothing overdue, in quiet hours, after STOP, or
    /// beyond `max_reminders`.
    #[test]
    fn a_timeline_never_reminds_twice_within_the_period(rules in rules(), steps in steps()) {
        let period = Duration::days(i64::from(rules.period_days));
        let mut now = start();
        let mut history = History::default();
        // Per open cycle: every attempt, keyed by sequence number (the ledger's unique key).
        let mut attempts: Vec<(u32, Attempt)> = Vec::new();
        let mut left_in_cycle: Vec<DateTime<Utc>> = Vec::new();
        for step in steps {
            now += Duration::minutes(step.minutes);
            history.opted_out |= step.opted_out;
            let balance = Balance { overdue_minor: step.overdue_minor, min_minor: 0, has_address: step.has_address };
            let local = now.time();
            match decide(balance, &history, &rules, now, local) {
                Decision::Skip { close_cycle, .. } => {
                    if let Some(number) = close_cycle {
                        prop_assert_eq!(Some(number), history.open_cycle.as_ref().map(|c| c.number));
                        prop_assert!(step.overdue_minor <= 0);
                        history.open_cycle = None;
                        attempts.clear();
                        left_in_cycle.clear();
                    }
                }
                Decision::Send { cycle, seq, opens_cycle, verify } => {
                    prop_assert!(step.overdue_minor > 0, "a reminder with nothing overdue");
                    prop_assert!(!history.opted_out && step.has_address);
                    prop_assert!(!rules.quiet_hours.is_some_and(|q| q.contains(local)),
                        "a reminder at {:02}:{:02} in quiet hours {:?}", local.hour(), local.minute(), rules.quiet_hours);
                    if opens_cycle {
                        history.last_cycle = cycle;
                        history.open_cycle = Some(CycleHistory { number: cycle, ..CycleHistory::default() });
                    }
                    let open = history.open_cycle.as_mut().expect("an open cycle");
                    // Verification: a truthful provider says whether the earlier attempt left.
                    if verify {
                        let earlier = attempts.iter().rev().find(|(s, _)| *s == seq).map(|(_, a)| *a);
                        if let Some(earlier) = earlier.filter(|a| a.left) {
                            open.last_outcome = Some(Outcome::Sent);
                            open.last_sent_at = Some(earlier.at);
                            open.sent += 1;
                            continue;
                        }
                    }
                    let left = matches!(step.fate, 0 | 3 | 5);
                    if left {
                        if let Some(previous) = left_in_cycle.last() {
                            prop_assert!(now - *previous >= period,
                                "two reminders {} apart in one cycle, period {} days", now - *previous, rules.period_days);
                        }
                        left_in_cycle.push(now);
                        if rules.max_reminders > 0 {
                            prop_assert!(left_in_cycle.len() as u32 <= rules.max_reminders, "more than max_reminders");
                        }
                    }
                    attempts.push((seq, Attempt { at: now, left }));
                    open.last_seq = seq;
                    open.last_sent_at = Some(now);
                    open.last_outcome = Some(match step.fate {
                        0 => Outcome::Sent,
                        1 => Outcome::FailedTransient,
                        2 => Outcome::FailedPermanent,
                        3 | 4 => Outcome::Unknown,
                        _ => Outcome::Pending,
                    });
                    if step.fate == 0 {
                        open.sent += 1;
                    }
                    if step.fate == 2 {
                        // A permanent failure flags the address: nothing more to this client.
                        history.invalid_contact = true;
                    }
                }
            }
        }
    }
}

/// Quiet hours hold at both edges, over midnight and not.
#[test]
fn quiet_hours_edges() {
    let q = QuietHours::parse("21:00-08:00").unwrap().unwrap();
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert!(q.contains(t(21, 0)) && q.contains(t(7, 59)) && q.contains(t(0, 0)));
    assert!(!q.contains(t(8, 0)) && !q.contains(t(20, 59)));
}

//! Twelve days of checks every 6 hours with `period_days = 3`: who gets what, and when.

use crate::util::{Scratch, outbox_config};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

fn row(id: &str, reference: &str, due: &str, amount: u32, paid: u32) -> String {
    format!(
        "{id},Client {id},77 123 45 0{},,invoice,{reference},{due},{amount},{paid},XOF\n",
        &id[1..]
    )
}

/// The CSV on `day` (0 = 2025-12-01). Client A never pays; B pays in full on day 4; C pays
/// 4 000 of 10 000 on day 5; D pays in full on day 1, then owes a new invoice due on day 6.
pub fn book(day: i64) -> String {
    let mut csv = String::new();
    csv += &row("A1", "FA-1", "2025-11-20", 5_000, 0);
    csv += &row("B2", "FB-1", "2025-11-20", 8_000, if day >= 4 { 8_000 } else { 0 });
    csv += &row("C3", "FC-1", "2025-11-20", 10_000, if day >= 5 { 4_000 } else { 0 });
    csv += &row("D4", "FD-1", "2025-11-20", 3_000, if day >= 1 { 3_000 } else { 0 });
    if day >= 2 {
        csv += &row("D4", "FD-2", "2025-12-07", 7_000, 0);
    }
    csv
}

/// One message as the provider saw it.
pub struct Sent {
    pub debtor: String,
    pub at: DateTime<Utc>,
    pub body: String,
}

pub const START: &str = "2025-12-01T00:00:00Z";

/// Runs 48 checks, 6 hours apart, changing the book each day as [`book`] says, and checks
/// who received what and when. `before_tick` runs before each check with its instant;
/// `sent` lists what the channel delivered.
pub fn run_timeline(s: &Scratch, before_tick: impl Fn(DateTime<Utc>), sent: impl Fn() -> Vec<Sent>) {
    let start: DateTime<Utc> = START.parse().unwrap();
    for slot in 0..48 {
        let now = start + Duration::hours(6 * slot);
        s.write_csv(&book(slot / 4));
        before_tick(now);
        s.run(&["tick", "--now", &now.to_rfc3339()]).ok();
    }

    let mut by_debtor: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for m in sent() {
        let day = (m.at - start).num_hours() as f64 / 24.0;
        let line = m.body.lines().find(|l| l.contains("Restant")).unwrap().to_string();
        let amount = line.rsplit("Restant: ").next().unwrap().to_string();
        by_debtor
            .entry(m.debtor)
            .or_default()
            .push((format!("day {day}"), amount));
    }
    let days = |id: &str| by_debtor[id].iter().map(|(d, _)| d.clone()).collect::<Vec<_>>();
    assert_eq!(
        days("A1"),
        ["day 0", "day 3", "day 6", "day 9"],
        "never pays: every 3 days"
    );
    assert_eq!(days("B2"), ["day 0", "day 3"], "paid in full on day 4: no more");
    assert_eq!(
        days("C3"),
        ["day 0", "day 3", "day 6", "day 9"],
        "partial payment: reminders go on"
    );
    let c_amounts: Vec<&str> = by_debtor["C3"].iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        c_amounts,
        ["10 000 XOF", "10 000 XOF", "6 000 XOF", "6 000 XOF"],
        "with the new remaining amount"
    );
    // D: paid on day 1; the new invoice is due 2025-12-07, overdue from 2025-12-08 (day 7):
    // a fresh cycle starts at day 0 of its own.
    assert_eq!(days("D4"), ["day 0", "day 7", "day 10"]);
    assert_eq!(by_debtor["D4"][1].1, "7 000 XOF");

    // The ledger agrees: D4 is in its second cycle with two reminders sent.
    let status = s
        .run(&["status", "--json", "--now", "2025-12-12T23:00:00Z"])
        .ok()
        .json_lines();
    let d4 = status.iter().find(|v| v["debtor_id"] == "D4").unwrap();
    assert_eq!(
        (d4["cycle"].as_u64(), d4["reminders_sent"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(d4["last_sent_at"], "2025-12-11T00:00:00Z");
    assert_eq!(d4["next_due_at"], "2025-12-14T00:00:00Z");
    let b2 = status.iter().find(|v| v["debtor_id"] == "B2").unwrap();
    assert_eq!((b2["balance_minor"].as_i64(), b2["cycle"].is_null()), (Some(0), true));
}

#[test]
fn reminders_follow_the_period_and_stop_when_paid() {
    let s = Scratch::new(&outbox_config(""), &book(0));
    let sent = || {
        s.outbox()
            .iter()
            .map(|line| Sent {
                debtor: line["debtor_id"].as_str().unwrap().to_string(),
                at: line["at"].as_str().unwrap().parse().unwrap(),
                body: line["body"].as_str().unwrap().to_string(),
            })
            .collect()
    };
    run_timeline(&s, |_| {}, sent);
}

//! The ledger on every backend this machine has.

use super::*;
use crate::channel::Delivery;
use crate::rules::Outcome;
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn reminder(cycle: u32, seq: u32) -> NewReminder<'static> {
    NewReminder {
        debtor_id: "C1",
        cycle,
        seq,
        opens_cycle: seq == 1,
        channel: "sms",
        template: "fr/sms/reminder",
        recipient: "+221771234567",
        body_hash: "abc",
        total_minor: 2500,
        currency: "XOF",
        items: 1,
        encoding: Some("GSM-7"),
        segments: Some(1),
        estimated_cost_micros: Some(7_500),
        cost_currency: Some("USD"),
        message: "reminder",
        experiment: None,
        variant: None,
    }
}

/// The ledger on every backend this machine has: SQLite always, Postgres when
/// `RAPPEL_TEST_DATABASE_URL` is set (required under CI), each in its own schema.
async fn ledgers() -> Vec<(Box<dyn std::any::Any>, Ledger)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Ledger::open_sqlite(&dir.path().join("sub/rappel.db")).await.unwrap();
    let mut out: Vec<(Box<dyn std::any::Any>, Ledger)> = vec![(Box::new(dir), sqlite)];
    if let Some(db) = crate::testing::postgres_schema().await {
        let ledger = Ledger::open_postgres(&db.url).await.unwrap();
        out.push((Box::new(db), ledger));
    }
    out
}

#[tokio::test]
async fn the_same_reminder_cannot_be_claimed_twice() {
    for (_guard, l) in ledgers().await {
        let now = at("2025-11-26T12:00:00Z");
        assert!(l.claim(&reminder(1, 1), now).await.unwrap().is_some());
        assert_eq!(l.claim(&reminder(1, 1), now).await.unwrap(), None);
    }
}

#[tokio::test]
async fn history_follows_the_reminders() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
        let h = &l.histories().await.unwrap()["C1"];
        assert_eq!(h.open_cycle.as_ref().unwrap().last_outcome, Some(Outcome::Pending));
        let delivery = Delivery {
            provider_id: Some("SM1".into()),
            segments: Some(2),
            ..Delivery::default()
        };
        l.mark_sent(id, &delivery, t0).await.unwrap();
        let h = &l.histories().await.unwrap()["C1"];
        let c = h.open_cycle.as_ref().unwrap();
        assert_eq!((h.last_cycle, c.number, c.sent, c.last_seq), (1, 1, 1, 1));
        assert_eq!(c.last_sent_at, Some(t0));

        let id = l.claim(&reminder(1, 2), t0).await.unwrap().unwrap();
        l.mark_failed(id, "failed", "HTTP 503", None, true, t0).await.unwrap();
        let c = l.histories().await.unwrap()["C1"].open_cycle.clone().unwrap();
        assert_eq!(c.last_outcome, Some(Outcome::FailedTransient));
        assert_eq!(c.last_sent_at, Some(t0));
        // A transient failure is taken over again under the same key; a sent one is not.
        assert_eq!(l.claim(&reminder(1, 2), t0).await.unwrap(), Some(id));
        assert_eq!(l.claim(&reminder(1, 1), t0).await.unwrap(), None);

        l.close_cycle("C1", 1, t0).await.unwrap();
        let h = &l.histories().await.unwrap()["C1"];
        assert_eq!((h.last_cycle, h.open_cycle.clone()), (1, None));
    }
}

#[tokio::test]
async fn an_unknown_reminder_is_taken_over_once_and_a_fresh_pending_one_not_at_all() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let t1 = at("2025-11-26T18:00:00Z");
        let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
        // Pending within the lease: nobody takes it over.
        assert_eq!(
            l.take_over("C1", 1, 1, t0 + chrono::Duration::minutes(5))
                .await
                .unwrap(),
            None
        );
        l.mark_failed(id, "unknown", "timeout", None, false, t0).await.unwrap();
        assert_eq!(l.take_over("C1", 1, 1, t1).await.unwrap(), Some((id, t0)));
        assert_eq!(
            l.take_over("C1", 1, 1, t1).await.unwrap(),
            None,
            "only one check verifies it"
        );
        let found = Settled::Sent {
            id,
            delivery: &Delivery::default(),
            found_from: Some(t0),
        };
        l.settle(&[found], t1).await.unwrap();
        let c = l.histories().await.unwrap()["C1"].open_cycle.clone().unwrap();
        assert_eq!(
            (c.last_outcome, c.last_sent_at, c.sent),
            (Some(Outcome::Sent), Some(t0), 1)
        );
    }
}

#[tokio::test]
async fn a_block_of_claims_answers_in_the_order_given_and_skips_the_keys_taken() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let taken = l.claim(&reminder(2, 1), t0).await.unwrap().unwrap();
        let mut c3 = reminder(3, 1);
        c3.debtor_id = "C3";
        let mut c0 = reminder(4, 1);
        c0.debtor_id = "C0";
        let block = [c3, reminder(2, 1), c0];
        let ids = l.claim_many(&block, t0).await.unwrap();
        assert_eq!(ids[1], None, "C1's cycle 2, reminder 1 is already claimed");
        let (a, b) = (ids[0].unwrap(), ids[2].unwrap());
        assert!(a != b && a != taken && b != taken);
        let rows = l.reminders_of("C3").await.unwrap();
        assert_eq!((rows[0].id, rows[0].status.as_str()), (a, "pending"));
        assert_eq!(l.reminders_of("C0").await.unwrap()[0].id, b);
    }
}

#[tokio::test]
async fn a_block_larger_than_one_statement_is_claimed_and_settled_whole() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let debtors: Vec<String> = (0..300).map(|i| format!("D{i:03}")).collect();
        let block: Vec<NewReminder> = debtors
            .iter()
            .map(|d| NewReminder {
                debtor_id: d,
                ..reminder(1, 1)
            })
            .collect();
        let ids: Vec<i64> = l.claim_many(&block, t0).await.unwrap().into_iter().flatten().collect();
        assert_eq!(ids.len(), 300);
        assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 300);
        let delivery = Delivery::default();
        let ends: Vec<Settled> = ids
            .iter()
            .map(|&id| Settled::Sent {
                id,
                delivery: &delivery,
                found_from: None,
            })
            .collect();
        l.settle(&ends, t0).await.unwrap();
        let h = l.histories().await.unwrap();
        assert_eq!(h.len(), 300);
        assert!(h.values().all(|h| h.open_cycle.as_ref().unwrap().sent == 1));
    }
}

#[tokio::test]
async fn outcomes_are_recorded_together_and_a_withdrawn_claim_is_sent_by_the_next_check() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let mut other = reminder(1, 1);
        other.debtor_id = "C2";
        let ids = l.claim_many(&[reminder(1, 1), other], t0).await.unwrap();
        let (sent, withdrawn) = (ids[0].unwrap(), ids[1].unwrap());
        let delivery = Delivery {
            provider_id: Some("SM1".into()),
            ..Delivery::default()
        };
        let ends = [
            Settled::Sent {
                id: sent,
                delivery: &delivery,
                found_from: None,
            },
            Settled::Withdrawn {
                id: withdrawn,
                reason: "rappel is shutting down",
            },
        ];
        l.settle(&ends, t0).await.unwrap();
        let rows = l.history(None, None).await.unwrap();
        let by_id = |id| rows.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            (by_id(sent).status.as_str(), by_id(sent).provider_id.as_deref()),
            ("sent", Some("SM1"))
        );
        assert_eq!(by_id(withdrawn).status, "failed");
        assert_eq!(by_id(withdrawn).error.as_deref(), Some("rappel is shutting down"));
        let h = l.histories().await.unwrap();
        assert_eq!(
            h["C2"].open_cycle.as_ref().unwrap().last_outcome,
            Some(Outcome::FailedTransient)
        );
        let mut again = reminder(1, 1);
        again.debtor_id = "C2";
        assert_eq!(
            l.claim(&again, t0).await.unwrap(),
            Some(withdrawn),
            "the next check claims it again"
        );
    }
}

#[tokio::test]
async fn reset_forgets_reminders_but_not_opt_outs() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        l.claim(&reminder(1, 1), t0).await.unwrap();
        l.flag_contact("+221771234567", ContactState::OptedOut, Some("C1"), "STOP", t0)
            .await
            .unwrap();
        assert_eq!(l.reset(Some("C1")).await.unwrap(), 1);
        assert!(l.histories().await.unwrap().is_empty());
        assert_eq!(
            l.contact_flags().await.unwrap()["+221771234567"],
            vec![ContactState::OptedOut]
        );
    }
}

#[tokio::test]
async fn delivery_statuses_only_move_forward_and_opt_outs_can_be_lifted() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-11-26T12:00:00Z");
        let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
        let d = Delivery {
            provider_id: Some("SM1".into()),
            ..Delivery::default()
        };
        l.mark_sent(id, &d, t0).await.unwrap();
        assert_eq!(
            l.record_delivery(Some(id), "SM1", "sent", None, t0).await.unwrap(),
            DeliveryUpdate::Recorded
        );
        assert_eq!(
            l.record_delivery(Some(id), "SM1", "delivered", None, t0).await.unwrap(),
            DeliveryUpdate::Recorded
        );
        assert_eq!(
            l.record_delivery(None, "SM1", "delivered", None, t0).await.unwrap(),
            DeliveryUpdate::Stale
        );
        assert_eq!(
            l.record_delivery(None, "SM1", "sent", None, t0).await.unwrap(),
            DeliveryUpdate::Stale
        );
        assert_eq!(
            l.record_delivery(None, "SM9", "sent", None, t0).await.unwrap(),
            DeliveryUpdate::NoSuchMessage
        );
        // A callback naming a reminder must carry that reminder's provider id.
        assert_eq!(
            l.record_delivery(Some(id), "SM9", "read", None, t0).await.unwrap(),
            DeliveryUpdate::NoSuchMessage
        );
        assert_eq!(
            l.record_delivery(Some(id + 1), "SM1", "read", None, t0).await.unwrap(),
            DeliveryUpdate::NoSuchMessage
        );
        assert_eq!(
            l.record_delivery(Some(id), "SM1", "exploded", None, t0).await.unwrap(),
            DeliveryUpdate::UnknownStatus
        );
        let h = l.history(Some("C1"), None).await.unwrap();
        assert_eq!(
            (h[0].status.as_str(), h[0].delivery_status.as_deref()),
            ("sent", Some("delivered"))
        );
        assert!(
            l.history(None, Some(at("2025-11-27T00:00:00Z")))
                .await
                .unwrap()
                .is_empty()
        );

        l.flag_contact("+221771234567", ContactState::OptedOut, None, "STOP", t0)
            .await
            .unwrap();
        assert!(l.unflag_contact("+221771234567", ContactState::OptedOut).await.unwrap());
        assert!(l.contact_flags().await.unwrap().is_empty());
        l.ping().await.unwrap();
    }
}

#[tokio::test]
async fn balance_drops_are_payments_attributed_to_the_last_reminder() {
    for (_guard, l) in ledgers().await {
        let t0 = at("2025-12-01T10:00:00Z");
        let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
        l.mark_sent(id, &Delivery::default(), t0).await.unwrap();
        let change = |previous, now_minor| BalanceChange {
            debtor_id: "C1".into(),
            previous_minor: previous,
            overdue_minor: now_minor,
            currency: "XOF".into(),
        };
        assert_eq!(
            l.record_balances(&[change(0, 2500)], 7, t0).await.unwrap(),
            0,
            "a rise is no payment"
        );
        let t1 = at("2025-12-03T10:00:00Z");
        assert_eq!(l.record_balances(&[change(2500, 1000)], 7, t1).await.unwrap(), 1);
        let t2 = at("2025-12-20T10:00:00Z");
        assert_eq!(l.record_balances(&[change(1000, 0)], 7, t2).await.unwrap(), 1);
        assert_eq!(l.balances().await.unwrap()["C1"], 0);
        let (sent, payments) = l.stats_data(None).await.unwrap();
        assert_eq!((sent.len(), sent[0].message.as_str()), (1, "reminder"));
        let got: Vec<(i64, bool, Option<i64>)> = payments
            .iter()
            .map(|p| (p.amount_minor, p.full, p.reminder_id))
            .collect();
        assert_eq!(
            got,
            [(1500, false, Some(id)), (1000, true, None)],
            "the second is outside the 7-day window"
        );
    }
}

#[tokio::test]
async fn checks_are_recorded() {
    for (_guard, l) in ledgers().await {
        assert_eq!(l.last_check().await.unwrap(), None);
        l.record_check(at("2025-11-26T12:00:00Z"), [1, 1, 0, 0, 0])
            .await
            .unwrap();
        assert_eq!(l.last_check().await.unwrap(), Some(at("2025-11-26T12:00:00Z")));
    }
}

#[tokio::test]
async fn a_sqlite_ledger_puts_every_commit_on_disk_before_going_on() {
    // A claim lost to a power cut would let a reminder that had left be sent again.
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_sqlite(&dir.path().join("rappel.db")).await.unwrap();
    let journal: String = pragma(&ledger, "journal_mode").await;
    let synchronous: i64 = pragma(&ledger, "synchronous").await;
    assert_eq!(
        (journal.as_str(), synchronous),
        ("wal", 2),
        "WAL with synchronous = FULL (2)"
    );
}

#[tokio::test]
async fn a_sqlite_ledger_keeps_a_checks_pages_in_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_sqlite(&dir.path().join("rappel.db")).await.unwrap();
    // Negative: KiB. SQLite's default, 2 MiB, is smaller than the pages a big check rewrites.
    let cache: i64 = pragma(&ledger, "cache_size").await;
    assert_eq!(cache, -16384, "a page cache of 16 MiB");
}

/// The value of SQLite's `PRAGMA name` on the ledger's connection.
async fn pragma<T>(ledger: &Ledger, name: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + Unpin,
{
    let super::Db::Sqlite(pool) = &ledger.db else {
        panic!("not a SQLite ledger")
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

//! The engine with a scripted channel: what reaches the provider when sends fail in each way.

use super::{Engine, MessageReport, Mode};
use crate::channel::{Channel, Delivery, Medium, Message, SendError, SendErrorKind};
use crate::config::Config;
use crate::debt::tests::item;
use crate::ledger::Ledger;
use crate::registry::Channels;
use crate::source::{Source, SourceBatch, SourceError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::{Arc, Mutex};

struct Book(Vec<crate::DebtItem>);

#[async_trait]
impl Source for Book {
    fn describe(&self) -> String {
        "test book".into()
    }
    async fn load(&self) -> Result<SourceBatch, SourceError> {
        Ok(SourceBatch {
            items: self.0.clone().into(),
            ..SourceBatch::default()
        })
    }
}

/// A channel that answers from a script and remembers what it was asked.
#[derive(Default)]
struct Scripted {
    /// Email instead of SMS.
    email: bool,
    /// Answers to `send`, in order; `Ok` once the script is used up.
    sends: Mutex<Vec<Result<(), SendErrorKind>>>,
    /// Answer to `find_sent`.
    found: Mutex<Option<bool>>,
    delivered: Mutex<Vec<String>>,
    attempts: Mutex<usize>,
    lookups: Mutex<usize>,
    /// How long each send takes.
    slow: std::time::Duration,
    /// Sends at once (1 when 0).
    in_flight: usize,
    /// Debtors whose sends take `slow` (every debtor's when empty).
    slow_for: Vec<&'static str>,
    /// The debtors whose sends finished, in the order they finished.
    finished: Mutex<Vec<String>>,
    /// Told when a send starts.
    started: tokio::sync::Notify,
}

#[async_trait]
impl Channel for Scripted {
    fn medium(&self) -> Medium {
        if self.email { Medium::Email } else { Medium::Sms }
    }
    fn max_in_flight(&self) -> usize {
        self.in_flight.max(1)
    }
    async fn send(&self, m: &Message) -> Result<Delivery, SendError> {
        *self.attempts.lock().unwrap() += 1;
        self.started.notify_one();
        let debtor = m.debtor_id.clone().unwrap_or_default();
        if self.slow_for.is_empty() || self.slow_for.contains(&debtor.as_str()) {
            tokio::time::sleep(self.slow).await;
        }
        self.finished.lock().unwrap().push(debtor);
        let next = {
            let mut script = self.sends.lock().unwrap();
            if script.is_empty() { Ok(()) } else { script.remove(0) }
        };
        match next {
            Ok(()) => {
                self.delivered.lock().unwrap().push(m.to.clone());
                Ok(Delivery {
                    provider_id: Some("P1".into()),
                    ..Delivery::default()
                })
            }
            Err(kind) => Err(SendError::new(kind, format!("scripted {kind:?}"))),
        }
    }
    async fn find_sent(&self, _: &Message, _: DateTime<Utc>) -> Result<Option<Delivery>, SendError> {
        *self.lookups.lock().unwrap() += 1;
        match *self.found.lock().unwrap() {
            Some(true) => Ok(Some(Delivery {
                provider_id: Some("P0".into()),
                ..Delivery::default()
            })),
            Some(false) => Ok(None),
            None => Err(SendError::new(SendErrorKind::Ambiguous, "cannot ask")),
        }
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn setup(channel: Arc<Scripted>) -> (tempfile::TempDir, Engine, Ledger) {
    setup_with(channel, vec![item("C1", "F-1", "2025-11-20", 2500, 0)]).await
}

/// An engine sending `items` through `channel` (as `sms`), with a fresh ledger.
async fn setup_with(channel: Arc<Scripted>, items: Vec<crate::DebtItem>) -> (tempfile::TempDir, Engine, Ledger) {
    let text = "[rules]\nquiet_hours = \"off\"\n[source]\nkind = \"book\"\n[channels.sms]\nkind = \"scripted\"\n";
    let config = Config::parse(text, Path::new("rappel.toml"), &|_| None).unwrap();
    let mut channels = Channels::new();
    channels.insert("sms".into(), channel);
    let book = Book(items);
    let engine = Engine::new(config, Box::new(book), channels).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_sqlite(&dir.path().join("l.db")).await.unwrap();
    (dir, engine, ledger)
}

/// Clients C1…Cn, each with one overdue invoice F-1…F-n.
fn clients(n: usize) -> Vec<crate::DebtItem> {
    (1..=n)
        .map(|n| item(&format!("C{n}"), &format!("F-{n}"), "2025-11-20", 100, 0))
        .collect()
}

async fn tick(engine: &Engine, ledger: &Ledger, now: &str) -> Vec<&'static str> {
    let mut statuses = Vec::new();
    engine
        .check(at(now), Mode::Send, Some(ledger), &mut |m: &MessageReport| {
            statuses.push(m.status)
        })
        .await
        .unwrap();
    statuses
}

#[tokio::test]
async fn an_ambiguous_send_that_arrived_is_never_sent_again() {
    let channel = Arc::new(Scripted::default());
    channel.sends.lock().unwrap().push(Err(SendErrorKind::Ambiguous));
    *channel.found.lock().unwrap() = Some(true);
    let (_dir, engine, ledger) = setup(channel.clone()).await;
    assert_eq!(tick(&engine, &ledger, "2025-12-01T00:00:00Z").await, ["unknown"]);
    assert_eq!(
        tick(&engine, &ledger, "2025-12-01T06:00:00Z").await,
        ["sent"],
        "found at the provider"
    );
    assert_eq!(*channel.attempts.lock().unwrap(), 1, "one request only");
    assert_eq!(*channel.lookups.lock().unwrap(), 1);
    // The period counts from the attempt that arrived (00:00), not from the lookup.
    assert!(tick(&engine, &ledger, "2025-12-03T23:00:00Z").await.is_empty());
    assert_eq!(tick(&engine, &ledger, "2025-12-04T00:00:00Z").await, ["sent"]);
}

#[tokio::test]
async fn an_ambiguous_send_that_never_arrived_is_sent_under_the_same_key() {
    let channel = Arc::new(Scripted::default());
    channel.sends.lock().unwrap().push(Err(SendErrorKind::Ambiguous));
    *channel.found.lock().unwrap() = Some(false);
    let (_dir, engine, ledger) = setup(channel.clone()).await;
    tick(&engine, &ledger, "2025-12-01T00:00:00Z").await;
    assert_eq!(tick(&engine, &ledger, "2025-12-01T06:00:00Z").await, ["sent"]);
    assert_eq!(channel.delivered.lock().unwrap().len(), 1);
    let rows = ledger.reminders_of("C1").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.seq, r.status.as_str())).collect::<Vec<_>>(),
        [(1, "sent")]
    );
}

#[tokio::test]
async fn when_the_provider_cannot_be_asked_nothing_is_sent() {
    let channel = Arc::new(Scripted::default());
    channel.sends.lock().unwrap().push(Err(SendErrorKind::Ambiguous));
    let (_dir, engine, ledger) = setup(channel.clone()).await;
    tick(&engine, &ledger, "2025-12-01T00:00:00Z").await;
    assert_eq!(tick(&engine, &ledger, "2025-12-01T06:00:00Z").await, ["unknown"]);
    assert_eq!(*channel.attempts.lock().unwrap(), 1);
}

#[tokio::test]
async fn permanent_failures_flag_the_address_and_are_not_retried() {
    for (kind, skip) in [
        (SendErrorKind::InvalidAddress, "no_valid_address"),
        (SendErrorKind::OptedOut, "opted_out"),
    ] {
        let channel = Arc::new(Scripted::default());
        channel.sends.lock().unwrap().push(Err(kind));
        let (_dir, engine, ledger) = setup(channel.clone()).await;
        assert_eq!(tick(&engine, &ledger, "2025-12-01T00:00:00Z").await, ["failed"]);
        assert!(tick(&engine, &ledger, "2025-12-05T00:00:00Z").await.is_empty());
        assert_eq!(*channel.attempts.lock().unwrap(), 1, "{kind:?}");
        let (status, _) = engine
            .status(at("2025-12-05T00:00:00Z"), Some(&ledger), None)
            .await
            .unwrap();
        assert_eq!(status[0].state, skip);
    }
}

#[tokio::test]
async fn transient_failures_are_retried_then_left_for_the_next_check() {
    let channel = Arc::new(Scripted::default());
    channel.sends.lock().unwrap().extend([Err(SendErrorKind::Transient); 3]);
    let (_dir, engine, ledger) = setup(channel.clone()).await;
    assert_eq!(tick(&engine, &ledger, "2025-12-01T00:00:00Z").await, ["failed"]);
    assert_eq!(*channel.attempts.lock().unwrap(), 3, "one try and two retries");
    assert_eq!(tick(&engine, &ledger, "2025-12-01T06:00:00Z").await, ["sent"]);
    let rows = ledger.reminders_of("C1").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.seq, r.status.as_str())).collect::<Vec<_>>(),
        [(1, "sent")]
    );
}

#[tokio::test]
async fn a_channel_down_stops_sending_for_the_check() {
    let channel = Arc::new(Scripted::default());
    channel.sends.lock().unwrap().push(Err(SendErrorKind::ChannelDown));
    let book = vec![
        item("C1", "F-1", "2025-11-20", 1, 0),
        item("C2", "F-2", "2025-11-20", 1, 0),
    ];
    let (_dir, engine, ledger) = setup_with(channel.clone(), book).await;
    assert_eq!(
        tick(&engine, &ledger, "2025-12-01T00:00:00Z").await,
        ["failed", "skipped"]
    );
    assert_eq!(*channel.attempts.lock().unwrap(), 1, "no retry storm");
    assert_eq!(tick(&engine, &ledger, "2025-12-01T06:00:00Z").await, ["sent", "sent"]);
}

#[tokio::test]
async fn fallback_reaches_each_client_once_on_the_right_channel() {
    let sms = Arc::new(Scripted::default());
    let email = Arc::new(Scripted {
        email: true,
        ..Scripted::default()
    });
    // +221 70 000 00 00 is refused by the provider as invalid.
    sms.sends.lock().unwrap().push(Err(SendErrorKind::InvalidAddress));
    let text = "[engine]\nfallback = [\"email\"]\n[rules]\nquiet_hours = \"off\"\n[source]\nkind = \"book\"\n\
                [channels.sms]\nkind = \"x\"\n[channels.email]\nkind = \"x\"\n";
    let config = Config::parse(text, Path::new("rappel.toml"), &|_| None).unwrap();
    let mut channels = Channels::new();
    channels.insert("sms".into(), sms.clone() as Arc<dyn Channel>);
    channels.insert("email".into(), email.clone() as Arc<dyn Channel>);
    let mut only_email = item("A", "F-1", "2025-11-20", 1, 0);
    only_email.phone = None;
    only_email.email = Some("a@example.com".into());
    let mut refused = item("B", "F-2", "2025-11-20", 1, 0);
    refused.phone = Some("70 000 00 00".into());
    refused.email = Some("b@example.com".into());
    let phone_only = item("C", "F-3", "2025-11-20", 1, 0);
    let book = Book(vec![only_email, refused, phone_only]);
    let engine = Engine::new(config, Box::new(book), channels).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_sqlite(&dir.path().join("l.db")).await.unwrap();

    let mut reached = Vec::new();
    engine
        .check(
            at("2025-12-01T10:00:00Z"),
            Mode::Send,
            Some(&ledger),
            &mut |m: &MessageReport| reached.push((m.debtor_id.clone(), m.channel.clone(), m.status)),
        )
        .await
        .unwrap();
    let want = |d: &str, c: &str| (d.to_string(), c.to_string(), "sent");
    assert_eq!(reached, [want("A", "email"), want("B", "email"), want("C", "sms")]);
    assert_eq!(*email.delivered.lock().unwrap(), ["a@example.com", "b@example.com"]);
    assert_eq!(*sms.delivered.lock().unwrap(), ["+221771234567"]);
    let rows = ledger.reminders_of("B").await.unwrap();
    assert_eq!(
        (rows.len(), rows[0].channel.as_str(), rows[0].status.as_str()),
        (1, "email", "sent")
    );

    // Next cycle step: B's phone is flagged invalid, so email is its channel from now on.
    let (status, _) = engine
        .status(at("2025-12-04T10:00:00Z"), Some(&ledger), Some("B"))
        .await
        .unwrap();
    assert_eq!(status[0].channel.as_deref(), Some("email"));
}

#[tokio::test]
async fn a_stop_lets_the_send_in_flight_finish_and_hands_the_other_claims_to_the_next_check() {
    let channel = Arc::new(Scripted {
        slow: std::time::Duration::from_millis(200),
        ..Scripted::default()
    });
    let text = "[rules]\nquiet_hours = \"off\"\n[source]\nkind = \"book\"\n[channels.sms]\nkind = \"scripted\"\n";
    let config = Config::parse(text, Path::new("rappel.toml"), &|_| None).unwrap();
    let mut channels = Channels::new();
    channels.insert("sms".into(), channel.clone() as Arc<dyn Channel>);
    let book = || {
        Book(vec![
            item("C1", "F-1", "2025-11-20", 1, 0),
            item("C2", "F-2", "2025-11-20", 1, 0),
            item("C3", "F-3", "2025-11-20", 1, 0),
        ])
    };
    let engine = Engine::new(config.clone(), Box::new(book()), channels.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_sqlite(&dir.path().join("l.db")).await.unwrap();

    let stop = async {
        channel.started.notified().await;
        engine.stop_sending();
    };
    let (statuses, ()) = tokio::join!(tick(&engine, &ledger, "2025-12-01T10:00:00Z"), stop);
    assert_eq!(statuses, ["sent", "skipped", "skipped"]);
    assert_eq!(
        *channel.attempts.lock().unwrap(),
        1,
        "nothing new starts after the stop"
    );
    for debtor in ["C2", "C3"] {
        let rows = ledger.reminders_of(debtor).await.unwrap();
        assert_eq!(rows[0].status, "failed", "{debtor}: withdrawn, retryable");
        assert_eq!(rows[0].error.as_deref(), Some("rappel is shutting down"));
    }

    // The next process sends the two withdrawn reminders under their keys, and not C1's again.
    let engine = Engine::new(config, Box::new(book()), channels).unwrap();
    let statuses = tick(&engine, &ledger, "2025-12-01T10:05:00Z").await;
    assert_eq!(statuses, ["sent", "sent"]);
    assert_eq!(*channel.delivered.lock().unwrap(), ["+221771234567"; 3]);
    let c2 = ledger.reminders_of("C2").await.unwrap();
    assert_eq!((c2.len(), c2[0].status.as_str()), (1, "sent"));
}

#[tokio::test]
async fn a_slow_answer_does_not_hold_back_the_other_sends_and_reports_keep_plan_order() {
    let channel = Arc::new(Scripted {
        // Long enough that the other five are sent meanwhile, even on a busy machine.
        slow: std::time::Duration::from_secs(1),
        in_flight: 2,
        slow_for: vec!["C1"],
        ..Scripted::default()
    });
    let book = clients(6);
    let (_dir, engine, ledger) = setup_with(channel.clone(), book).await;

    let mut reports = Vec::new();
    engine
        .check(
            at("2025-12-01T10:00:00Z"),
            Mode::Send,
            Some(&ledger),
            &mut |m: &MessageReport| {
                reports.push((m.debtor_id.clone(), m.status));
            },
        )
        .await
        .unwrap();
    // While C1's answer was slow, the other slot sent every other client.
    assert_eq!(*channel.finished.lock().unwrap(), ["C2", "C3", "C4", "C5", "C6", "C1"]);
    let expected: Vec<_> = (1..=6).map(|n| (format!("C{n}"), "sent")).collect();
    assert_eq!(reports, expected, "reports leave in plan order");
}

/// What a check told its reports, in order.
#[derive(Default)]
struct Told(Vec<String>);

impl super::Reports for Told {
    fn report(&mut self, message: &MessageReport) {
        self.0.push(format!("{} {}", message.debtor_id, message.status));
    }

    fn recorded(&mut self) {
        self.0.push("recorded".into());
    }
}

#[tokio::test]
async fn reports_are_told_when_each_batch_is_recorded_not_only_at_the_end() {
    let channel = Arc::new(Scripted {
        // Long enough that C1's batch is recorded before C2 ends, even on a busy machine.
        slow: std::time::Duration::from_secs(1),
        in_flight: 1,
        slow_for: vec!["C2"],
        ..Scripted::default()
    });
    let book = clients(3);
    let (_dir, engine, ledger) = setup_with(channel, book).await;

    let mut told = Told::default();
    engine
        .check(at("2025-12-01T10:00:00Z"), Mode::Send, Some(&ledger), &mut told)
        .await
        .unwrap();
    let told = told.0;
    assert_eq!(
        told[..2],
        ["C1 sent", "recorded"],
        "C1 is printed while C2 is sent: {told:?}"
    );
    assert_eq!(told.last().map(String::as_str), Some("recorded"), "{told:?}");
    let reports: Vec<&String> = told.iter().filter(|t| *t != "recorded").collect();
    assert_eq!(reports, ["C1 sent", "C2 sent", "C3 sent"]);
}

#[tokio::test]
async fn a_client_with_a_refused_item_is_held_back_in_whichever_chunk_it_is_grouped() {
    // 5,000 clients: more than one chunk. Client C10 (first chunk) gets an item in another
    // currency right after its first, client C4500 (second chunk) after everyone's items: the
    // first is refused before the first chunk is decided, the second while it is.
    let mut items: Vec<crate::DebtItem> = (0..5_000)
        .map(|i| item(&format!("C{i}"), &format!("F-{i}"), "2025-11-20", 2500, 0))
        .collect();
    for (client, at) in [("C10", 11), ("C4500", 5_001)] {
        let mut euros = item(client, &format!("E-{client}"), "2025-11-20", 100, 0);
        euros.currency = iso_currency::Currency::EUR;
        items.insert(at, euros);
    }
    let (_dir, engine, _ledger) = setup_with(Arc::new(Scripted::default()), items).await;
    let mut previewed = Vec::new();
    let summary = engine
        .check(
            at("2025-12-01T10:00:00Z"),
            Mode::Preview,
            None,
            &mut |m: &MessageReport| previewed.push(m.debtor_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(summary.clients, 5_000);
    let expected: Vec<String> = (0..5_000)
        .filter(|i| ![10, 4500].contains(i))
        .map(|i| format!("C{i}"))
        .collect();
    assert_eq!(previewed, expected, "everyone else, in the book's order");
    let refused: Vec<&str> = summary.rejected.iter().map(|r| r.origin.as_str()).collect();
    assert_eq!(refused, ["test E-C10", "test E-C4500"]);
    assert_eq!(summary.skipped.get(&crate::rules::SkipReason::BadRows), Some(&2));
}

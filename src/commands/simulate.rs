//! `rappel simulate`: the real rules, templates and ledger logic over a virtual clock, against
//! the configured source, with payments applied on their day. Nothing is sent; the ledger is
//! a scratch file deleted at the end. It is how a user checks a period or a rule set before
//! going live.

use super::history::parse_since;
use crate::app::{self, UsageError};
use crate::cli::Cli;
use crate::output;
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rappel_core::engine::{Engine, MessageReport, Mode};
use rappel_core::ledger::Ledger;
use rappel_core::money::parse_amount;
use rappel_core::registry::Channels;
use rappel_core::schedule::next_slot;
use rappel_core::{
    Channel, DebtItem, Delivery, Estimate, Medium, Message, SendError, Source, SourceBatch, SourceError,
};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// One line of the timeline.
#[derive(Debug, Serialize)]
struct Event {
    day: i64,
    at: DateTime<Utc>,
    event: &'static str,
    debtor_id: String,
    name: String,
    channel: Option<String>,
    reminder: Option<u32>,
    message: Option<String>,
    variant: Option<String>,
    total_minor: Option<i64>,
    currency: Option<String>,
}

/// Runs the simulation and prints the timeline.
pub async fn run(
    cli: &Cli,
    days: u32,
    from: Option<&str>,
    payments: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut config = app::load_config(&cli.config)?;
    let tz = config.engine.timezone;
    let start = match from {
        Some(text) => parse_since(text, tz).map_err(|e| UsageError(format!("--from: {e}")))?,
        None => app::clock(cli.now).now(),
    };
    let (source, channels) = app::build_parts(&config, json)?;
    let batch = source
        .load()
        .await
        .map_err(|e| anyhow::anyhow!("source {}: {e}", source.describe()))?;
    let sort_by_client = batch.sort_by_client;
    let items: Vec<DebtItem> = batch.items.into_iter().collect();
    let payments = match payments {
        Some(path) => read_payments(path, &items)?,
        None => Vec::new(),
    };
    let book = Arc::new(Mutex::new(Book {
        items,
        rejected: batch.rejected,
        sort_by_client,
        payments,
        today: None,
    }));
    let simulated: Channels = channels
        .into_iter()
        .map(|(name, real)| (name, Arc::new(Simulated(real)) as Arc<dyn Channel>))
        .collect();
    let scratch = std::env::temp_dir().join(format!(
        "rappel-simulate-{}-{}.db",
        std::process::id(),
        start.timestamp()
    ));
    config.state.url = None;
    let engine = app::engine_with(config, Box::new(Shared(book.clone())), simulated)?;
    let ledger = Ledger::open_sqlite(&scratch).await?;
    let result = timeline(&engine, &ledger, &book, start, days, json).await;
    ledger.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn timeline(
    engine: &Engine,
    ledger: &Ledger,
    book: &Mutex<Book>,
    start: DateTime<Utc>,
    days: u32,
    json: bool,
) -> anyhow::Result<()> {
    let config = engine.config();
    let (interval, tz, locale) = (
        config.engine.interval.0,
        config.engine.timezone,
        config.engine.locale.clone(),
    );
    let end = start + Duration::days(i64::from(days));
    let first_day = start.with_timezone(&tz).date_naive();
    let mut at = if start == next_slot(start - Duration::seconds(1), interval, tz) {
        start
    } else {
        next_slot(start, interval, tz)
    };
    let mut reminders = 0;
    while at < end {
        let today = at.with_timezone(&tz).date_naive();
        if let Ok(mut b) = book.lock() {
            b.today = Some(today);
        }
        let day = (today - first_day).num_days();
        let open_before: HashSet<String> = open_cycles(ledger).await?;
        let mut events = Vec::new();
        engine
            .check(at, Mode::Send, Some(ledger), &mut |m: &MessageReport| {
                if m.status == "sent" {
                    events.push(Event {
                        day,
                        at,
                        event: "reminder",
                        debtor_id: m.debtor_id.clone(),
                        name: m.name.clone(),
                        channel: Some(m.channel.clone()),
                        reminder: Some(m.reminder),
                        message: Some(m.message.clone()),
                        variant: m.variant.clone(),
                        total_minor: Some(m.total_minor),
                        currency: Some(m.currency.clone()),
                    });
                }
            })
            .await?;
        let open_after = open_cycles(ledger).await?;
        let names = book.lock().map(|b| b.names()).unwrap_or_default();
        let mut closed: Vec<&String> = open_before.difference(&open_after).collect();
        closed.sort();
        for debtor in closed {
            events.push(Event {
                day,
                at,
                event: "paid",
                debtor_id: debtor.clone(),
                name: names
                    .iter()
                    .find(|(id, _)| id == debtor)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                channel: None,
                reminder: None,
                message: None,
                variant: None,
                total_minor: None,
                currency: None,
            });
        }
        for e in &events {
            reminders += usize::from(e.event == "reminder");
            if json {
                output::json_line(e);
            } else if e.event == "reminder" {
                println!(
                    "day {:>3}  {}  {} {} · reminder {} · {}{} · {}",
                    e.day,
                    output::local(e.at, tz),
                    e.debtor_id,
                    e.name,
                    e.reminder.unwrap_or_default(),
                    e.message.clone().unwrap_or_default(),
                    e.variant.as_ref().map(|v| format!(" ({v})")).unwrap_or_default(),
                    output::money(
                        e.total_minor.unwrap_or_default(),
                        e.currency.as_deref().unwrap_or("XOF"),
                        &locale
                    )
                );
            } else {
                println!(
                    "day {:>3}  {}  {} {} · paid up, cycle closed",
                    e.day,
                    output::local(e.at, tz),
                    e.debtor_id,
                    e.name
                );
            }
        }
        at = next_slot(at, interval, tz);
    }
    if !json {
        println!("{reminders} reminders over {days} days (simulated: nothing sent)");
    }
    Ok(())
}

async fn open_cycles(ledger: &Ledger) -> anyhow::Result<HashSet<String>> {
    Ok(ledger
        .histories()
        .await?
        .into_iter()
        .filter(|(_, h)| h.open_cycle.is_some())
        .map(|(id, _)| id)
        .collect())
}

/// The debt book as of the simulated day: payments up to that day applied.
struct Book {
    items: Vec<DebtItem>,
    rejected: Vec<rappel_core::RejectedRow>,
    sort_by_client: bool,
    payments: Vec<(NaiveDate, String, i64)>,
    today: Option<NaiveDate>,
}

impl Book {
    fn as_of(&self) -> SourceBatch {
        let mut items = self.items.clone();
        let today = self.today.unwrap_or(NaiveDate::MAX);
        for (_, debtor, amount) in self.payments.iter().filter(|(d, _, _)| *d <= today) {
            let mut left = *amount;
            let mut owed: Vec<&mut DebtItem> = items.iter_mut().filter(|i| &i.debtor_id == debtor).collect();
            owed.sort_by_key(|i| i.due_date);
            for item in owed {
                let pay = left.min(item.remaining_minor());
                item.paid_minor += pay;
                left -= pay;
            }
        }
        SourceBatch {
            items: items.into(),
            rejected: self.rejected.clone(),
            sort_by_client: self.sort_by_client,
        }
    }

    fn names(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .map(|i| (i.debtor_id.clone(), i.name.clone()))
            .collect()
    }
}

struct Shared(Arc<Mutex<Book>>);

#[async_trait]
impl Source for Shared {
    fn describe(&self) -> String {
        "simulated book".into()
    }
    async fn load(&self) -> Result<SourceBatch, SourceError> {
        self.0
            .lock()
            .map(|b| b.as_of())
            .map_err(|_| SourceError::msg("simulation state poisoned"))
    }
}

/// A channel that sends nothing: the real channel's medium and estimates, no request.
struct Simulated(Arc<dyn Channel>);

#[async_trait]
impl Channel for Simulated {
    fn medium(&self) -> Medium {
        self.0.medium()
    }
    async fn send(&self, m: &Message) -> Result<Delivery, SendError> {
        Ok(Delivery {
            provider_id: m.reminder_id.map(|id| format!("simulated-{id}")),
            ..Delivery::default()
        })
    }
    fn estimate(&self, body: &str) -> Option<Estimate> {
        self.0.estimate(body)
    }
    async fn find_sent(&self, _: &Message, _: DateTime<Utc>) -> Result<Option<Delivery>, SendError> {
        Ok(None)
    }
}

/// `date,debtor_id,amount` rows, amounts in major units of the debtor's currency.
fn read_payments(path: &Path, items: &[DebtItem]) -> anyhow::Result<Vec<(NaiveDate, String, i64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("--payments {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: String| UsageError(format!("{} line {}: {what}", path.display(), i + 1));
        let fields: Vec<&str> = line.splitn(3, [',', ';']).map(str::trim).collect();
        let [date, debtor, amount] = fields[..] else {
            return Err(bad("expected date,debtor_id,amount".into()).into());
        };
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| bad(format!("date \"{date}\" is not YYYY-MM-DD")))?;
        let currency = items
            .iter()
            .find(|i| i.debtor_id == debtor)
            .map(|i| i.currency)
            .ok_or_else(|| bad(format!("no client \"{debtor}\" in the source")))?;
        let minor = parse_amount(amount.trim_matches('"'), currency).map_err(|e| bad(format!("amount {e}")))?;
        out.push((date, debtor.to_string(), minor));
    }
    out.sort();
    Ok(out)
}

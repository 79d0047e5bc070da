//! What a check reports: one record per message (the `--json` contract of `tick` and
//! `preview`) and a summary.

use crate::debt::ItemKind;
use crate::render::ItemData;
use crate::rules::SkipReason;
use crate::source::RejectedRow;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a check's reports go: each message in plan order, as its outcome is recorded.
/// A closure taking `&MessageReport` is one.
pub trait Reports: Send {
    /// One message's report.
    fn report(&mut self, message: &MessageReport);

    /// The reports given so far are recorded in the ledger (`tick` calls this after each
    /// batch it commits): a printer that buffers its lines writes them now.
    fn recorded(&mut self) {}
}

impl<F: FnMut(&MessageReport) + Send> Reports for F {
    fn report(&mut self, message: &MessageReport) {
        self(message);
    }
}

/// One overdue item in a message report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemReport {
    /// `invoice` or `manual`.
    pub kind: ItemKind,
    /// Reference.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// Still owed, minor units.
    pub remaining_minor: i64,
}

impl From<&ItemData> for ItemReport {
    fn from(i: &ItemData) -> Self {
        Self {
            kind: i.kind,
            reference: i.reference.clone(),
            due_date: i.due_date.clone(),
            remaining_minor: i.remaining_minor,
        }
    }
}

/// One message: planned, previewed, sent or failed. Field names are a contract: later
/// versions may add fields, never rename them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageReport {
    /// The client's id in the source.
    pub debtor_id: String,
    /// The client's name.
    pub name: String,
    /// The channel's name (`sms`).
    pub channel: String,
    /// The address.
    pub to: String,
    /// The body.
    pub body: String,
    /// The subject (email only, else null).
    pub subject: Option<String>,
    /// The template used (`fr/sms/reminder-firm`).
    pub template: String,
    /// The message chosen by the `[[messages]]` rules (`reminder-firm`).
    pub message: String,
    /// The experiment, when a rule names one.
    pub experiment: Option<String>,
    /// The experiment's variant for this client.
    pub variant: Option<String>,
    /// The overdue items listed.
    pub items: Vec<ItemReport>,
    /// Their total, minor units.
    pub total_minor: i64,
    /// ISO code.
    pub currency: String,
    /// `preview`, `dry-run`, `sent`, `failed`, `unknown` or `skipped` (already claimed).
    pub status: &'static str,
    /// The cycle.
    pub cycle: u32,
    /// The reminder's number in the cycle.
    pub reminder: u32,
    /// The ledger id (tick only).
    pub reminder_id: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The provider's error code.
    pub error_code: Option<String>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// `GSM-7` or `UCS-2` for SMS, when the channel estimates.
    pub encoding: Option<String>,
    /// SMS segments: estimated before sending, then as the provider counted them.
    pub segments: Option<u32>,
    /// Estimated cost before sending, decimal (`0.0150`).
    pub estimated_cost: Option<String>,
    /// Its currency (`USD`).
    pub cost_currency: Option<String>,
    /// The price the provider reported after sending, as written.
    pub price: Option<String>,
    /// Its currency.
    pub price_unit: Option<String>,
}

/// The outcome of one check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckSummary {
    /// The check's instant.
    pub at: DateTime<Utc>,
    /// Clients read from the source.
    pub clients: usize,
    /// Clients with an overdue balance.
    pub clients_overdue: usize,
    /// Reminders due (sent, previewed or failed).
    pub due: usize,
    /// Reminders handed over.
    pub sent: usize,
    /// Reminders that failed.
    pub failed: usize,
    /// Reminders whose outcome is unknown.
    pub unknown: usize,
    /// Clients with an overdue balance but no reminder now, by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Cycles closed because the balance was paid.
    pub cycles_closed: usize,
    /// Payments seen (drops of overdue balances since the last check).
    pub payments: usize,
    /// Rows the source could not read.
    pub rejected: Vec<RejectedRowReport>,
    /// Nothing sent or recorded (dry run or preview).
    pub dry_run: bool,
    /// SMS segments of the due reminders (estimated).
    pub segments: u64,
    /// Their estimated cost, decimal, when the channel has a price.
    pub estimated_cost: Option<String>,
    /// Its currency.
    pub cost_currency: Option<String>,
    #[serde(skip)]
    pub(crate) cost_micros: i64,
}

/// A rejected row in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedRowReport {
    /// Where.
    pub origin: String,
    /// Why.
    pub reason: String,
}

impl From<&RejectedRow> for RejectedRowReport {
    fn from(r: &RejectedRow) -> Self {
        Self {
            origin: r.origin.clone(),
            reason: r.reason.clone(),
        }
    }
}

impl CheckSummary {
    /// Skipped clients in all.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

impl std::fmt::Display for CheckSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} clients, {} with an overdue balance; ",
            self.clients, self.clients_overdue
        )?;
        if self.dry_run {
            write!(f, "{} reminders due (nothing sent or recorded)", self.due)?;
        } else {
            write!(f, "{} sent, {} failed", self.sent, self.failed)?;
            if self.unknown > 0 {
                write!(f, ", {} unknown", self.unknown)?;
            }
        }
        let skipped: Vec<String> = self
            .skipped
            .iter()
            .filter(|(r, _)| **r != SkipReason::NotOverdue)
            .map(|(r, n)| format!("{n} {}", r.describe()))
            .collect();
        if !skipped.is_empty() {
            write!(f, "; skipped: {}", skipped.join(", "))?;
        }
        if let (Some(cost), Some(currency)) = (&self.estimated_cost, &self.cost_currency) {
            write!(f, "; {} segments, about {cost} {currency}", self.segments)?;
        }
        if self.cycles_closed > 0 {
            write!(f, "; {} paid up", self.cycles_closed)?;
        }
        write!(f, "; {} rows rejected", self.rejected.len())
    }
}

//! The ledger's rows and the values its methods take, as plain data.

use crate::channel::Delivery;
use crate::rules::Outcome;
use chrono::{DateTime, Utc};

/// Address flags that stop sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactState {
    /// The recipient said STOP.
    OptedOut,
    /// A provider refused the address.
    Invalid,
}

impl ContactState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::Invalid => "invalid",
        }
    }
}

/// A reminder about to be sent.
#[derive(Debug, Clone)]
pub struct NewReminder<'a> {
    /// The debtor.
    pub debtor_id: &'a str,
    /// The cycle.
    pub cycle: u32,
    /// Its number in the cycle.
    pub seq: u32,
    /// Whether it opens the cycle.
    pub opens_cycle: bool,
    /// The channel's name.
    pub channel: &'a str,
    /// The template's name.
    pub template: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// SHA-256 of the body, hex.
    pub body_hash: &'a str,
    /// The overdue total it announces.
    pub total_minor: i64,
    /// Its currency.
    pub currency: &'a str,
    /// How many items it lists.
    pub items: u32,
    /// `GSM-7` or `UCS-2`, when the channel estimates.
    pub encoding: Option<&'a str>,
    /// Segments estimated before sending.
    pub segments: Option<u32>,
    /// Estimated cost in millionths of `cost_currency`.
    pub estimated_cost_micros: Option<i64>,
    /// The currency of the estimate.
    pub cost_currency: Option<&'a str>,
    /// The message chosen by the rules (`reminder-firm`).
    pub message: &'a str,
    /// The experiment, if any.
    pub experiment: Option<&'a str>,
    /// Its variant.
    pub variant: Option<&'a str>,
}

/// How a claimed reminder ended, as [`Ledger::settle`](super::Ledger::settle) records it.
#[derive(Debug, Clone, Copy)]
pub enum Settled<'a> {
    /// Handed over to the provider. `found_from`: the provider already had it from the
    /// attempt made then, whose instant its period counts from.
    Sent {
        /// The reminder.
        id: i64,
        /// What the provider said.
        delivery: &'a Delivery,
        /// The earlier attempt that reached the provider, when it was found there.
        found_from: Option<DateTime<Utc>>,
    },
    /// Not sent: `failed`, or `unknown` when it may have reached the provider.
    Failed {
        /// The reminder.
        id: i64,
        /// `failed` or `unknown`.
        status: &'a str,
        /// Why.
        error: &'a str,
        /// The provider's error code.
        code: Option<&'a str>,
        /// Whether the next check tries it again.
        retryable: bool,
    },
    /// Claimed but never handed to a channel (shutting down, channel down): recorded as a
    /// retryable failure, so that the next check sends it.
    Withdrawn {
        /// The reminder.
        id: i64,
        /// Why it was not sent.
        reason: &'a str,
    },
}

/// A stored reminder, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    /// Ledger id.
    pub id: i64,
    /// Debtor.
    pub debtor_id: String,
    /// Cycle.
    pub cycle: u32,
    /// Number in the cycle.
    pub seq: u32,
    /// Channel name.
    pub channel: String,
    /// Recipient address.
    pub recipient: String,
    /// Status.
    pub status: String,
    /// Error, if any.
    pub error: Option<String>,
    /// When it was attempted.
    pub attempted_at: DateTime<Utc>,
}

/// A client's overdue balance that changed since the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    /// The client.
    pub debtor_id: String,
    /// The balance seen before (0 if never seen).
    pub previous_minor: i64,
    /// The balance now.
    pub overdue_minor: i64,
    /// Its currency.
    pub currency: String,
}

/// A sent reminder, for statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentReminder {
    /// Ledger id.
    pub id: i64,
    /// The client.
    pub debtor_id: String,
    /// The message chosen by the rules.
    pub message: String,
    /// The experiment.
    pub experiment: Option<String>,
    /// The variant.
    pub variant: Option<String>,
    /// The total it announced.
    pub total_minor: i64,
    /// Its currency.
    pub currency: String,
    /// SMS segments.
    pub segments: i64,
    /// Estimated cost, millionths.
    pub cost_micros: i64,
    /// Currency of the cost.
    pub cost_currency: Option<String>,
    /// When it went.
    pub at: DateTime<Utc>,
}

/// A payment: a drop of the overdue balance seen at a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The client.
    pub debtor_id: String,
    /// How much the balance dropped.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Nothing overdue any more.
    pub full: bool,
    /// The check that saw it.
    pub at: DateTime<Utc>,
    /// The reminder it is attributed to.
    pub reminder_id: Option<i64>,
}

/// What a status callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryUpdate {
    /// Stored on the reminder.
    Recorded,
    /// The stored status is as new or newer: nothing changed.
    Stale,
    /// No reminder was sent as this message.
    NoSuchMessage,
    /// Not a status rappel knows.
    UnknownStatus,
}

/// How far along a provider status is; later statuses win over earlier ones.
pub(super) fn delivery_rank(status: &str) -> Option<u8> {
    Some(match status {
        "accepted" | "scheduled" | "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "canceled" => 4,
        "read" => 5,
        _ => return None,
    })
}

/// One reminder in the audit trail (`rappel history`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    /// Ledger id.
    pub id: i64,
    /// The client.
    pub debtor_id: String,
    /// The cycle.
    pub cycle: u32,
    /// The reminder's number in the cycle.
    pub reminder: u32,
    /// The channel that sent it.
    pub channel: String,
    /// The template.
    pub template: String,
    /// The address.
    pub to: String,
    /// rappel's status: pending, sent, failed, unknown.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The provider's error code.
    pub error_code: Option<String>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// SMS segments.
    pub segments: Option<u32>,
    /// The price the provider reported.
    pub price: Option<String>,
    /// Its currency.
    pub price_unit: Option<String>,
    /// The last delivery status from the provider's callbacks.
    pub delivery_status: Option<String>,
    /// Its error code.
    pub delivery_error_code: Option<String>,
    /// The total announced, minor units.
    pub total_minor: i64,
    /// Its currency.
    pub currency: String,
    /// When it was attempted.
    pub attempted_at: DateTime<Utc>,
    /// When it was handed over.
    pub sent_at: Option<DateTime<Utc>>,
}

pub(super) fn outcome(status: &str, retryable: bool) -> Outcome {
    match status {
        "pending" => Outcome::Pending,
        "unknown" => Outcome::Unknown,
        "failed" if retryable => Outcome::FailedTransient,
        "failed" => Outcome::FailedPermanent,
        _ => Outcome::Sent,
    }
}

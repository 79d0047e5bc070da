//! `status`: per debtor, the balance, what is overdue, what was sent in the current cycle and
//! when the next reminder may go. The `--json` field names are a contract.

use crate::debt::group_by_debtor;
use crate::engine::{CheckError, Engine};
use crate::ledger::Ledger;
use crate::rules::{self, Decision, SkipReason};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One debtor's situation.
#[derive(Debug, Clone, Serialize)]
pub struct DebtorStatus {
    /// Id in the source.
    pub debtor_id: String,
    /// Name.
    pub name: String,
    /// Everything still owed, due or not, minor units.
    pub balance_minor: i64,
    /// The overdue part, minor units.
    pub overdue_minor: i64,
    /// ISO code.
    pub currency: String,
    /// Number of overdue items.
    pub overdue_items: usize,
    /// The open cycle, if any.
    pub cycle: Option<u32>,
    /// Reminders sent in the open cycle.
    pub reminders_sent: u32,
    /// When the last one was sent.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// When the next may go (`null` when nothing is overdue or none can be sent).
    pub next_due_at: Option<DateTime<Utc>>,
    /// What the next check would do now: `due`, or the reason it would not send.
    pub state: String,
    /// The channel that would reach the client now (`engine.channel` or a fallback).
    pub channel: Option<String>,
    /// The address on that channel.
    pub address: Option<String>,
    /// The address said STOP.
    pub opted_out: bool,
    /// A provider refused the address.
    pub invalid_contact: bool,
}

impl Engine {
    /// The status of every debtor (or of one) at `now`.
    pub async fn status(
        &self,
        now: DateTime<Utc>,
        ledger: Option<&Ledger>,
        only: Option<&str>,
    ) -> Result<(Vec<DebtorStatus>, Vec<crate::source::RejectedRow>), CheckError> {
        let batch = self.source().load().await.map_err(|error| CheckError::Source {
            source_name: self.source().describe(),
            error,
        })?;
        let (debtors, _) = group_by_debtor(batch.items);
        let (histories, flags) = match ledger {
            Some(l) => (l.histories().await?, l.contact_flags().await?),
            None => Default::default(),
        };
        let at = self.instant(now);
        let rules = &self.config().rules;
        let out = debtors
            .iter()
            .filter(|d| only.is_none_or(|id| id == d.id))
            .map(|debtor| {
                let e = self.evaluate(debtor, histories.get(&debtor.id), &flags, at);
                let open = e.history.open_cycle.as_ref();
                let (state, next_due_at) = match &e.decision {
                    Decision::Send { .. } => ("due".to_string(), Some(now)),
                    Decision::Skip {
                        reason: SkipReason::NotYetDue,
                        ..
                    } => ("waiting".to_string(), rules::next_due(&e.history, rules)),
                    Decision::Skip {
                        reason: SkipReason::QuietHours,
                        ..
                    } => ("quiet_hours".to_string(), None),
                    Decision::Skip { reason, .. } => (
                        serde_json::to_value(reason)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default(),
                        None,
                    ),
                };
                DebtorStatus {
                    debtor_id: debtor.id.clone(),
                    name: debtor.name.clone(),
                    balance_minor: debtor.balance_minor(),
                    overdue_minor: e.overdue_minor,
                    currency: debtor.currency.code().to_string(),
                    overdue_items: e.overdue.len(),
                    cycle: open.map(|c| c.number),
                    reminders_sent: open.map_or(0, |c| c.sent),
                    last_sent_at: open.and_then(|c| c.last_sent_at),
                    next_due_at,
                    state,
                    channel: e.routes.first().map(|r| self.channel_name(r.channel).to_string()),
                    address: e.address.as_ref().ok().cloned(),
                    opted_out: e.history.opted_out,
                    invalid_contact: e.history.invalid_contact || (e.address.is_err() && !e.history.opted_out),
                }
            })
            .collect();
        Ok((out, batch.rejected))
    }
}

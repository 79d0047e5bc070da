//! One check: read, decide, render, and (for `tick`) send and record.

use super::report::{CheckSummary, ItemReport, MessageReport, RejectedRowReport};
use super::{Engine, Route, dispatch};
use crate::debt::group_by_debtor;
use crate::ledger::{Ledger, LedgerError};
use crate::render::{ReminderData, RenderError};
use crate::rules::{Decision, SkipReason};
use crate::source::{RejectedRow, SourceError};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

/// What a check does with due reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Send and record (`tick`, `run`).
    Send,
    /// Render and report, send and record nothing (`DEBT_REMINDER_DRY_RUN=true`).
    DryRun,
    /// Like a dry run, reported as `preview` (`preview`).
    Preview,
}

/// Why a check stopped. Nothing is recorded half-way: each reminder is committed on its own.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The source cannot be read.
    #[error("source {source_name}")]
    Source {
        /// The source's description.
        source_name: String,
        /// The error.
        #[source]
        error: SourceError,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A template failed on a debtor's data.
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl Engine {
    /// Runs one check at `now`. Each message is passed to `on_message` as soon as its
    /// outcome is known (in plan order). `ledger` is required for [`Mode::Send`]; the other
    /// modes read it when given and never write.
    pub async fn check(
        &self,
        now: DateTime<Utc>,
        mode: Mode,
        ledger: Option<&Ledger>,
        on_message: &mut (dyn FnMut(&MessageReport) + Send),
    ) -> Result<CheckSummary, CheckError> {
        let span = tracing::info_span!("tick", at = %now, ?mode);
        let _enter = span.enter();
        let started = std::time::Instant::now();
        let at = self.instant(now);
        let batch = self.source.load().await.map_err(|error| CheckError::Source {
            source_name: self.source.describe(),
            error,
        })?;
        let (debtors, grouping) = group_by_debtor(batch.items);
        let mut rejected = batch.rejected;
        rejected.extend(grouping.into_iter().map(|g| RejectedRow {
            origin: g.origin,
            debtor_id: Some(g.debtor_id),
            reason: g.reason,
        }));
        for row in &rejected {
            tracing::warn!(row = %row.origin, reason = %row.reason, "row skipped");
        }
        let with_bad_rows: HashSet<&str> = rejected.iter().filter_map(|r| r.debtor_id.as_deref()).collect();

        let (histories, flags) = match ledger {
            Some(l) => (l.histories().await?, l.contact_flags().await?),
            None => Default::default(),
        };
        let balances = match (mode, ledger) {
            (Mode::Send, Some(l)) => l.balances().await?,
            _ => Default::default(),
        };
        let mut balance_changes = Vec::new();
        let mut summary = CheckSummary {
            at: now,
            clients: debtors.len(),
            rejected: rejected.iter().map(RejectedRowReport::from).collect(),
            dry_run: mode != Mode::Send,
            ..CheckSummary::default()
        };

        let mut due: Vec<Due> = Vec::new();
        for debtor in &debtors {
            let eval = self.evaluate(debtor, histories.get(&debtor.id), &flags, at);
            if eval.overdue_minor > 0 {
                summary.clients_overdue += 1;
            }
            let previous = balances.get(&debtor.id).copied().unwrap_or(0);
            if mode == Mode::Send && previous != eval.overdue_minor && !with_bad_rows.contains(debtor.id.as_str()) {
                balance_changes.push(crate::ledger::BalanceChange {
                    debtor_id: debtor.id.clone(),
                    previous_minor: previous,
                    overdue_minor: eval.overdue_minor,
                    currency: debtor.currency.code().to_string(),
                });
            }
            match eval.decision {
                Decision::Skip { reason, close_cycle } => {
                    if let (Some(number), Mode::Send, Some(l)) = (close_cycle, mode, ledger)
                        && !with_bad_rows.contains(debtor.id.as_str())
                    {
                        l.close_cycle(&debtor.id, number, now).await?;
                        summary.cycles_closed += 1;
                        tracing::info!(debtor = %debtor.id, cycle = number, "balance paid, cycle closed");
                    }
                    if reason != SkipReason::NotOverdue {
                        *summary.skipped.entry(reason).or_default() += 1;
                    }
                }
                Decision::Send { .. } if with_bad_rows.contains(debtor.id.as_str()) => {
                    *summary.skipped.entry(SkipReason::BadRows).or_default() += 1;
                    tracing::warn!(debtor = %debtor.id, "not reminded: some of its rows could not be read");
                }
                Decision::Send {
                    cycle,
                    seq,
                    opens_cycle,
                    verify,
                } => {
                    let data = ReminderData::new(debtor, &eval.overdue, at.today, seq, self.renderer.locale());
                    let (report, html, estimated_cost_micros) =
                        self.plan_message(&eval.routes[0], &data, cycle, mode)?;
                    if let Some(cost) = estimated_cost_micros {
                        summary.cost_micros += cost;
                        summary.cost_currency.clone_from(&report.cost_currency);
                    }
                    summary.segments += u64::from(report.segments.unwrap_or(0));
                    summary.due += 1;
                    if mode != Mode::Send {
                        // Nothing to send: report it now, keep nothing (big books stay small).
                        on_message(&report);
                        continue;
                    }
                    due.push(Due {
                        send: dispatch::Due {
                            report,
                            opens_cycle,
                            verify,
                            estimated_cost_micros,
                            html,
                            vars: vars_of(&data),
                        },
                        route: eval.routes[0].channel,
                        fallbacks: eval.routes[1..].to_vec(),
                        data,
                    });
                }
            }
        }
        if mode == Mode::Send {
            metrics::gauge!("rappel_clients_due").set(summary.due as f64);
            for (reason, n) in &summary.skipped {
                let reason = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from));
                metrics::counter!("rappel_reminders_skipped_total", "reason" => reason.unwrap_or_default())
                    .increment(*n as u64);
            }
        }
        if summary.cost_currency.is_some() {
            summary.estimated_cost = Some(crate::money::format_micros(summary.cost_micros));
        }

        if mode != Mode::Send {
            return Ok(summary);
        }
        let ledger = ledger.expect("Mode::Send needs a ledger");
        // Payments first: those seen now belong to reminders sent before this check.
        summary.payments = ledger
            .record_balances(&balance_changes, self.config.rules.attribution_days, now)
            .await?;
        if ledger.is_shared() && !due.is_empty() {
            // Processes sharing the ledger start at different points of the list, so that
            // they claim different clients instead of queueing behind each other.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let start = (nanos as usize ^ std::process::id() as usize) % due.len();
            due.rotate_left(start);
        }
        let downs: Vec<AtomicBool> = self.routes.iter().map(|_| AtomicBool::new(false)).collect();
        let mut sends = futures::stream::iter(due)
            .map(|d| self.deliver(d, ledger, &downs, now))
            .buffered(self.routes[0].channel.max_in_flight().max(1));
        while let Some(result) = sends.next().await {
            let report = result?;
            match report.status {
                "sent" => summary.sent += 1,
                "unknown" => summary.unknown += 1,
                "failed" => summary.failed += 1,
                _ => {}
            }
            on_message(&report);
        }
        drop(sends);
        let skipped = summary.skipped_total() as u64;
        ledger
            .record_check(
                now,
                [
                    summary.due as u64,
                    summary.sent as u64,
                    summary.failed as u64,
                    skipped,
                    summary.rejected.len() as u64,
                ],
            )
            .await?;
        metrics::counter!("rappel_checks_total").increment(1);
        metrics::histogram!("rappel_check_duration_seconds").record(started.elapsed().as_secs_f64());
        tracing::info!(
            sent = summary.sent,
            failed = summary.failed,
            skipped,
            rejected = summary.rejected.len(),
            "check done"
        );
        Ok(summary)
    }

    /// Sends one due reminder on its channel, then on the fallback channels while the send
    /// fails for good, all under the same ledger key.
    async fn deliver(
        &self,
        due: Due,
        ledger: &Ledger,
        downs: &[AtomicBool],
        now: DateTime<Utc>,
    ) -> Result<MessageReport, CheckError> {
        let named = &self.routes[due.route];
        let (mut report, mut failure) = dispatch::send_one(
            self,
            due.send,
            named.channel.as_ref(),
            ledger,
            &downs[due.route],
            now,
            None,
        )
        .await?;
        for route in &due.fallbacks {
            let (Some(kind), Some(id)) = (failure, report.reminder_id) else {
                break;
            };
            if !(kind.is_permanent()) {
                break;
            }
            tracing::info!(debtor = %report.debtor_id, from = %report.channel, to = %self.routes[route.channel].name,
                "permanent failure, trying the next channel");
            let (next, html, estimated_cost_micros) = self.plan_for(&due.data, route, report.cycle)?;
            let send = dispatch::Due {
                report: next,
                opens_cycle: false,
                verify: false,
                estimated_cost_micros,
                html,
                vars: vars_of(&due.data),
            };
            let channel = self.routes[route.channel].channel.as_ref();
            (report, failure) =
                dispatch::send_one(self, send, channel, ledger, &downs[route.channel], now, Some(id)).await?;
        }
        Ok(report)
    }

    fn plan_message(
        &self,
        route: &Route,
        data: &ReminderData,
        cycle: u32,
        mode: Mode,
    ) -> Result<(MessageReport, Option<String>, Option<i64>), RenderError> {
        let (mut report, html, cost) = self.plan_for(data, route, cycle)?;
        report.status = match mode {
            Mode::Preview => "preview",
            Mode::DryRun => "dry-run",
            Mode::Send => "pending",
        };
        Ok((report, html, cost))
    }

    /// Renders the reminder for `route`'s channel; everything else comes from `data`.
    fn plan_for(
        &self,
        data: &ReminderData,
        route: &Route,
        cycle: u32,
    ) -> Result<(MessageReport, Option<String>, Option<i64>), RenderError> {
        let named = &self.routes[route.channel];
        let scale = crate::money::parse_currency(&data.currency).map_or(1, |c| 10_i64.pow(crate::money::exponent(c)));
        let choice = self.config.strategy.choose(crate::strategy::Facts {
            debtor_id: &data.debtor_id,
            amount: u64::try_from(data.total_minor / scale).unwrap_or(0),
            stage: data.reminder_number,
            days_overdue: u32::try_from(data.max_days_overdue).unwrap_or(u32::MAX),
            channel: &named.name,
            locale: &data.locale,
        });
        let rendered = self
            .renderer
            .render_message(named.channel.medium(), &choice.template, data)?;
        let estimate = named.channel.estimate(&rendered.body);
        let cost_micros = estimate.as_ref().and_then(|e| e.cost_micros);
        let report = MessageReport {
            debtor_id: data.debtor_id.clone(),
            name: data.name.clone(),
            channel: named.name.clone(),
            to: route.address.clone(),
            encoding: estimate.as_ref().map(|e| e.encoding.clone()),
            segments: estimate.as_ref().map(|e| e.segments),
            estimated_cost: cost_micros.map(crate::money::format_micros),
            cost_currency: estimate.as_ref().and_then(|e| e.cost_currency.clone()),
            // What leaves is what the channel will send (e.g. transliterated for GSM-7).
            body: estimate.map(|e| e.body).unwrap_or(rendered.body),
            subject: rendered.subject,
            template: rendered.template,
            message: choice.template,
            experiment: choice.experiment,
            variant: choice.variant,
            items: data.items.iter().map(ItemReport::from).collect(),
            total_minor: data.total_minor,
            currency: data.currency.clone(),
            status: "pending",
            cycle,
            reminder: data.reminder_number,
            reminder_id: None,
            error: None,
            error_code: None,
            provider_id: None,
            price: None,
            price_unit: None,
        };
        Ok((report, rendered.html, cost_micros))
    }
}

/// The reminder's values for channels that fill their own templates.
fn vars_of(data: &ReminderData) -> std::collections::BTreeMap<String, String> {
    let total = crate::money::parse_currency(&data.currency)
        .map(|c| crate::money::format_minor(data.total_minor, c, &data.locale))
        .unwrap_or_else(|| format!("{} {}", data.total_minor, data.currency));
    let oldest = data.items.iter().map(|i| i.due_date.clone()).min().unwrap_or_default();
    [
        ("name", data.name.clone()),
        ("total", total),
        ("item_count", data.item_count.to_string()),
        ("reminder_number", data.reminder_number.to_string()),
        ("oldest_due_date", oldest),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A due reminder with what it needs to fall back to other channels.
struct Due {
    send: dispatch::Due,
    route: usize,
    fallbacks: Vec<Route>,
    data: ReminderData,
}

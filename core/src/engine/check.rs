//! One check: read, decide, render, and (for `tick`) send and record.

use super::report::{CheckSummary, ItemReport, MessageReport, RejectedRowReport, Reports};
use super::{Engine, Instant, Route, dispatch};
use crate::debt::{Debtor, Grouping, GroupingError, SortedGrouping};
use crate::ledger::{ContactState, Ledger, LedgerError};
use crate::render::{ReminderData, RenderError};
use crate::rules::{Decision, History, SkipReason};
use crate::source::{RejectedRow, SourceError};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

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

/// Why a check stopped. What was recorded stays: a reminder is claimed before its send and its
/// outcome recorded after it; one left `pending` is verified with the provider by a later check.
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
    /// outcome is known (in plan order), and [`Mode::Send`] tells it when each batch is
    /// recorded. `ledger` is required for [`Mode::Send`]; the other modes read it when given
    /// and never write.
    pub async fn check(
        &self,
        now: DateTime<Utc>,
        mode: Mode,
        ledger: Option<&Ledger>,
        on_message: &mut dyn Reports,
    ) -> Result<CheckSummary, CheckError> {
        let span = tracing::info_span!("tick", at = %now, ?mode);
        let _enter = span.enter();
        let started = std::time::Instant::now();
        let at = self.instant(now);
        let batch = self.source.load().await.map_err(|error| CheckError::Source {
            source_name: self.source.describe(),
            error,
        })?;
        let mut rejected = batch.rejected;
        for row in &rejected {
            tracing::warn!(row = %row.origin, reason = %row.reason, "row skipped");
        }
        let mut with_bad_rows: HashSet<String> = rejected.iter().filter_map(|r| r.debtor_id.clone()).collect();
        // Clients are grouped a chunk at a time, the next chunk while this one is decided;
        // clients to sort are sorted by id first, then grouped a chunk at a time too.
        let mut clients = if batch.sort_by_client {
            ClientChunks::Sorted(Box::new(SortedGrouping::new(batch.items, PLAN_CHUNK)))
        } else {
            ClientChunks::Grouped(Box::new(Grouping::new(batch.items, PLAN_CHUNK)))
        };
        let count = clients.count();
        let mut next = clients.next_chunk();

        let (histories, flags) = match ledger {
            Some(l) => (l.histories().await?, l.contact_flags().await?),
            None => Default::default(),
        };
        let balances = match (mode, ledger) {
            (Mode::Send, Some(l)) => l.balances().await?,
            _ => Default::default(),
        };
        let mut summary = CheckSummary {
            at: now,
            clients: count,
            dry_run: mode != Mode::Send,
            ..CheckSummary::default()
        };

        let mut tally = Tally {
            mode,
            summary: &mut summary,
            due: Vec::new(),
            balance_changes: Vec::new(),
            to_close: Vec::new(),
            balances: &balances,
            on_message,
        };
        // Deciding and rendering take most of a check's CPU: done on every core, a chunk at a
        // time, while the previous chunk is counted and reported in order, then freed (a big
        // book is not held until the end, nor freed on one core after the others are done),
        // and the next chunk is grouped.
        let mut previous: Option<(Vec<Debtor>, Vec<Plan>)> = None;
        loop {
            let chunk = next.take().map(|(debtors, refused)| {
                for g in refused {
                    tracing::warn!(row = %g.origin, reason = %g.reason, "row skipped");
                    with_bad_rows.insert(g.debtor_id.clone());
                    rejected.push(RejectedRow {
                        origin: g.origin,
                        debtor_id: Some(g.debtor_id),
                        reason: g.reason,
                    });
                }
                debtors
            });
            let with_bad_rows = &with_bad_rows;
            let (plans, following) = rayon::join(
                || {
                    chunk.as_deref().map(|chunk| {
                        chunk
                            .par_iter()
                            .map(|debtor| {
                                let bad_rows = with_bad_rows.contains(&debtor.id);
                                self.plan_debtor(debtor, histories.get(&debtor.id), &flags, at, bad_rows, mode)
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                },
                || {
                    if let Some((debtors, plans)) = previous.take() {
                        tally.count(&debtors, plans);
                    }
                    chunk.as_ref().and_then(|_| clients.next_chunk())
                },
            );
            next = following;
            previous = match chunk.zip(plans.transpose()?) {
                Some(planned) => Some(planned),
                None => break,
            };
        }
        let Tally {
            mut due,
            balance_changes,
            to_close,
            ..
        } = tally;
        summary.rejected = rejected.iter().map(RejectedRowReport::from).collect();
        if let (Mode::Send, Some(l)) = (mode, ledger) {
            for (debtor, number) in to_close {
                l.close_cycle(&debtor, number, now).await?;
                summary.cycles_closed += 1;
                tracing::info!(debtor = %debtor, cycle = number, "balance paid, cycle closed");
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
        let mut counted = Counted {
            summary: &mut summary,
            out: on_message,
        };
        dispatch::send_all(self, due, ledger, now, &mut counted).await?;
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

    /// Decides for one debtor and, when a reminder goes out (and all its rows were read),
    /// renders it.
    fn plan_debtor(
        &self,
        debtor: &Debtor,
        history: Option<&History>,
        flags: &HashMap<String, Vec<ContactState>>,
        at: Instant,
        bad_rows: bool,
        mode: Mode,
    ) -> Result<Plan, RenderError> {
        let eval = self.evaluate_with(debtor, history, flags, at, super::Addresses::WhenOwed);
        let message = match eval.decision {
            Decision::Send { cycle, seq, .. } if !bad_rows => {
                let data = ReminderData::new(debtor, &eval.overdue, at.today, seq, self.renderer.locale());
                let (report, html, estimated_cost_micros) = self.plan_message(&eval.routes[0], &data, cycle, mode)?;
                // Dropped here, on a planning thread, unless the send may still need it.
                let needed = mode == Mode::Send
                    && (eval.routes.len() > 1 || self.routes[eval.routes[0].channel].channel.uses_vars());
                Some(Box::new(Rendered {
                    report,
                    html,
                    estimated_cost_micros,
                    data: needed.then_some(data),
                    routes: eval.routes,
                }))
            }
            _ => None,
        };
        Ok(Plan {
            bad_rows,
            overdue_minor: eval.overdue_minor,
            decision: eval.decision,
            message,
        })
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
    pub(super) fn plan_for(
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

/// A check's clients, a chunk at a time.
enum ClientChunks {
    /// Sorted by id (then each client's items) and grouped as they are handed out.
    Sorted(Box<SortedGrouping>),
    /// Grouped as they are handed out.
    Grouped(Box<Grouping>),
}

impl ClientChunks {
    fn count(&self) -> usize {
        match self {
            ClientChunks::Sorted(grouping) => grouping.clients(),
            ClientChunks::Grouped(grouping) => grouping.clients(),
        }
    }

    /// The next [`PLAN_CHUNK`] clients and the items refused since the last chunk.
    fn next_chunk(&mut self) -> Option<(Vec<Debtor>, Vec<GroupingError>)> {
        match self {
            ClientChunks::Sorted(grouping) => grouping.next_clients(),
            ClientChunks::Grouped(grouping) => grouping.next_clients(),
        }
    }
}

/// Debtors decided and rendered in parallel at a time: enough to keep both cores busy, few
/// enough that a big book's messages are never all held at once.
const PLAN_CHUNK: usize = 4096;

/// What a check does with one debtor.
struct Plan {
    /// Some of the debtor's rows could not be read: no reminder, no balance, no closing.
    bad_rows: bool,
    overdue_minor: i64,
    decision: Decision,
    /// The reminder that goes out, rendered; `None` when none does, or when some of the
    /// debtor's rows could not be read.
    message: Option<Box<Rendered>>,
}

/// A reminder rendered for its first channel, with what its fallbacks need.
struct Rendered {
    report: MessageReport,
    html: Option<String>,
    estimated_cost_micros: Option<i64>,
    /// What the message was rendered from, kept for a `tick` whose send may need it: when
    /// there are fallback channels, or the channel fills its own template (`vars`).
    data: Option<ReminderData>,
    routes: Vec<Route>,
}

/// Counts a `tick`'s sent, failed and unknown messages as they are reported.
struct Counted<'a> {
    summary: &'a mut CheckSummary,
    out: &'a mut dyn Reports,
}

impl Reports for Counted<'_> {
    fn report(&mut self, report: &MessageReport) {
        match report.status {
            "sent" => self.summary.sent += 1,
            "unknown" => self.summary.unknown += 1,
            "failed" => self.summary.failed += 1,
            _ => {}
        }
        self.out.report(report);
    }

    fn recorded(&mut self) {
        self.out.recorded();
    }
}

/// Counts planned clients into the summary, in the book's order: reports each message
/// (preview, dry run) or keeps it to send, and notes the balances to record and the cycles to
/// close (`tick`).
struct Tally<'a> {
    mode: Mode,
    summary: &'a mut CheckSummary,
    due: Vec<dispatch::Job>,
    balance_changes: Vec<crate::ledger::BalanceChange>,
    to_close: Vec<(String, u32)>,
    balances: &'a HashMap<String, i64>,
    on_message: &'a mut dyn Reports,
}

impl<'a> Tally<'a> {
    fn count(&mut self, debtors: &[Debtor], plans: Vec<Plan>) {
        let summary = &mut *self.summary;
        for (debtor, plan) in debtors.iter().zip(plans) {
            if plan.overdue_minor > 0 {
                summary.clients_overdue += 1;
            }
            let bad_rows = plan.bad_rows;
            let previous = self.balances.get(&debtor.id).copied().unwrap_or(0);
            if self.mode == Mode::Send && previous != plan.overdue_minor && !bad_rows {
                self.balance_changes.push(crate::ledger::BalanceChange {
                    debtor_id: debtor.id.clone(),
                    previous_minor: previous,
                    overdue_minor: plan.overdue_minor,
                    currency: debtor.currency.code().to_string(),
                });
            }
            match (plan.decision, plan.message) {
                (Decision::Skip { reason, close_cycle }, _) => {
                    if let (Some(number), Mode::Send) = (close_cycle, self.mode)
                        && !bad_rows
                    {
                        self.to_close.push((debtor.id.clone(), number));
                    }
                    if reason != SkipReason::NotOverdue {
                        *summary.skipped.entry(reason).or_default() += 1;
                    }
                }
                (Decision::Send { .. }, None) => {
                    *summary.skipped.entry(SkipReason::BadRows).or_default() += 1;
                    tracing::warn!(debtor = %debtor.id, "not reminded: some of its rows could not be read");
                }
                (
                    Decision::Send {
                        opens_cycle, verify, ..
                    },
                    Some(message),
                ) => {
                    let Rendered {
                        report,
                        html,
                        estimated_cost_micros,
                        data,
                        routes,
                    } = *message;
                    if let Some(cost) = estimated_cost_micros {
                        summary.cost_micros += cost;
                        summary.cost_currency.clone_from(&report.cost_currency);
                    }
                    summary.segments += u64::from(report.segments.unwrap_or(0));
                    summary.due += 1;
                    if self.mode != Mode::Send {
                        // Nothing to send: report it now, keep nothing (big books stay small).
                        self.on_message.report(&report);
                        continue;
                    }
                    self.due.push(dispatch::Job {
                        send: dispatch::Due {
                            report,
                            opens_cycle,
                            verify,
                            estimated_cost_micros,
                            html,
                        },
                        route: routes[0].channel,
                        fallbacks: routes[1..].to_vec(),
                        data,
                    });
                }
            }
        }
    }
}

//! Sending a check's due reminders, in three stages that run together:
//!
//! 1. **claim**: each block of reminders is written `pending` by two multi-row statements,
//!    committed before any of its sends starts (a reminder whose earlier attempt may have
//!    reached the provider is taken over on its own, to be verified with the provider first);
//! 2. **send**: up to the channel's `max_in_flight` at once (a slow answer does not hold
//!    back the sends after it), tried again on transient errors only, handed to the next
//!    channel on a permanent failure;
//! 3. **record**: the outcomes are written in batches, one statement per kind, then reported,
//!    in plan order. A batch gathers what finishes within `RECORD_WAIT` (up to a block):
//!    SQLite then commits a few hundred times for 20,000 messages instead of a few thousand.
//!
//! A crash between a send and its record leaves the reminder `pending`: a later check asks
//! the provider before sending anything again, so nothing is ever sent twice.

use super::check::CheckError;
use super::report::{MessageReport, Reports};
use super::{Engine, Route};
use crate::channel::{Channel, Delivery, Message, SendError, SendErrorKind};
use crate::ledger::{ContactState, Ledger, NewReminder, Settled};
use crate::mask;
use crate::render::ReminderData;
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt, channel::mpsc};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing::Instrument;

/// Transient failures are tried this many more times within one check.
const RETRIES: usize = 2;
/// The longest wait between two tries, whatever the provider asks.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// How long the record stage gathers finished sends into one batch, at most.
const RECORD_WAIT: Duration = Duration::from_millis(20);

/// One due reminder on one channel.
pub(crate) struct Due {
    /// The message, as reported.
    pub report: MessageReport,
    /// Whether it opens its cycle.
    pub opens_cycle: bool,
    /// Whether an earlier attempt must be verified with the provider first.
    pub verify: bool,
    /// The estimate, in millionths.
    pub estimated_cost_micros: Option<i64>,
    /// The HTML body, for email.
    pub html: Option<String>,
}

/// A due reminder with what it needs to fall back to other channels.
pub(crate) struct Job {
    /// The reminder on its first channel.
    pub send: Due,
    /// That channel's index in the engine's routes.
    pub route: usize,
    /// The channels to try next, in order, on a permanent failure.
    pub fallbacks: Vec<Route>,
    /// What every channel's message is rendered from, and the template values (`vars`) of a
    /// channel that reads them; `None` when neither is needed (one channel, no `vars`): it
    /// was dropped while planning, not kept for the whole send.
    pub data: Option<ReminderData>,
}

/// A job after its claim.
enum Claimed<'e> {
    /// Not this check's to send; the report says why.
    Skipped(Box<MessageReport>),
    /// Pending in the ledger under `id`, and in the engine's in-flight set until recorded.
    Mine {
        job: Box<Job>,
        id: i64,
        previous_attempt: DateTime<Utc>,
        guard: InFlight<'e>,
    },
}

/// A job whose outcome is known, waiting to be recorded.
struct Finished<'e> {
    report: MessageReport,
    end: Option<End>,
    estimated_cost_micros: Option<i64>,
    _guard: Option<InFlight<'e>>,
}

/// How a claimed reminder ended; the error text is the report's.
enum End {
    Sent {
        delivery: Delivery,
        found_from: Option<DateTime<Utc>>,
    },
    Failed {
        retryable: bool,
    },
    Withdrawn,
}

impl Finished<'_> {
    fn settled(&self) -> Option<Settled<'_>> {
        let id = self.report.reminder_id?;
        let error = self.report.error.as_deref().unwrap_or_default();
        Some(match self.end.as_ref()? {
            End::Sent { delivery, found_from } => Settled::Sent {
                id,
                delivery,
                found_from: *found_from,
            },
            End::Failed { retryable } => Settled::Failed {
                id,
                status: self.report.status,
                error,
                code: self.report.error_code.as_deref(),
                retryable: *retryable,
            },
            End::Withdrawn => Settled::Withdrawn { id, reason: error },
        })
    }
}

/// Sends `jobs` (claim, send, record; see the module) and passes each report to `on_message`
/// once its outcome is recorded, in the order of `jobs`, telling it when each batch is
/// recorded. A ledger error ends the check.
pub(crate) async fn send_all(
    engine: &Engine,
    jobs: Vec<Job>,
    ledger: &Ledger,
    now: DateTime<Utc>,
    on_message: &mut dyn Reports,
) -> Result<(), CheckError> {
    let in_flight = engine.routes[0].channel.max_in_flight().max(1);
    // Claims run at most a few blocks ahead of the sends; outcomes are recorded in batches
    // of what finished within RECORD_WAIT, up to a block. Each block costs SQLite a commit
    // (an fsync) for its claims and another for its outcomes: at 64 rows a block, those
    // commits held W2 to about 12,500 messages/s; at 256, about 15,500.
    let block = (in_flight * 64).clamp(64, 256);
    let downs: Vec<AtomicBool> = engine.routes.iter().map(|_| AtomicBool::new(false)).collect();
    let (mut claimed_tx, claimed_rx) = mpsc::channel::<Claimed>(block);
    let (mut done_tx, done_rx) = mpsc::channel::<Finished>(block);

    let claims = async move {
        let mut jobs = jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            let block: Vec<Job> = jobs.by_ref().take(block).collect();
            for claimed in claim_block(engine, block, ledger, now).await? {
                if claimed_tx.send(claimed).await.is_err() {
                    return Ok(()); // the record stage stopped on an error, which try_join reports
                }
            }
        }
        Ok::<_, CheckError>(())
    };
    let sends = async move {
        // `max_in_flight` sends at once, and a window of a block for the ones that finish
        // before an earlier one: a slow answer does not hold the others back, and the
        // reports still leave in plan order.
        let slots = tokio::sync::Semaphore::new(in_flight);
        let (slots, downs) = (&slots, &downs);
        let mut finished = claimed_rx
            .map(|claimed| async move {
                let _slot = slots.acquire().await.expect("the semaphore is never closed");
                finish(engine, claimed, ledger, downs, now).await
            })
            .buffered(block);
        while let Some(done) = finished.next().await {
            if done_tx.send(done?).await.is_err() {
                break;
            }
        }
        Ok(())
    };
    let records = async move {
        let mut done_rx = done_rx;
        while let Some(first) = done_rx.next().await {
            let mut batch = Vec::with_capacity(block);
            batch.push(first);
            let gathering = tokio::time::sleep(RECORD_WAIT);
            tokio::pin!(gathering);
            while batch.len() < block {
                tokio::select! {
                    biased;
                    done = done_rx.next() => match done {
                        Some(done) => batch.push(done),
                        None => break,
                    },
                    () = &mut gathering => break,
                }
            }
            let ends: Vec<Settled> = batch.iter().filter_map(Finished::settled).collect();
            if !ends.is_empty() {
                ledger.settle(&ends, now).await?;
            }
            drop(ends);
            for done in batch {
                let mut report = done.report;
                if let Some(End::Sent { delivery, .. }) = done.end {
                    fill_delivery(&mut report, delivery);
                }
                count(&report, done.estimated_cost_micros);
                on_message.report(&report);
            }
            on_message.recorded();
        }
        Ok(())
    };
    futures::try_join!(claims, sends, records)?;
    Ok(())
}

/// Claims a block of jobs: new reminders together, reminders to verify one by one.
async fn claim_block<'e>(
    engine: &'e Engine,
    jobs: Vec<Job>,
    ledger: &Ledger,
    now: DateTime<Utc>,
) -> Result<Vec<Claimed<'e>>, CheckError> {
    if engine.stopping.load(Ordering::SeqCst) {
        return Ok(jobs
            .into_iter()
            .map(|job| Claimed::Skipped(Box::new(skipped(job.send.report, "rappel is shutting down".into()))))
            .collect());
    }
    let fresh_jobs: Vec<&Job> = jobs.iter().filter(|job| !job.send.verify).collect();
    let hashes: Vec<String> = fresh_jobs
        .iter()
        .map(|job| crate::render::body_hash(&job.send.report.body))
        .collect();
    let fresh: Vec<NewReminder> = fresh_jobs
        .iter()
        .zip(&hashes)
        .map(|(job, hash)| new_reminder(&job.send, hash))
        .collect();
    let mut fresh_ids = ledger.claim_many(&fresh, now).await?.into_iter();
    drop(fresh);
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let r = &job.send.report;
        let claimed = if job.send.verify {
            ledger.take_over(&r.debtor_id, r.cycle, r.reminder, now).await?
        } else {
            fresh_ids.next().flatten().map(|id| (id, now))
        };
        out.push(match claimed {
            Some((id, previous_attempt)) => Claimed::Mine {
                job: Box::new(job),
                id,
                previous_attempt,
                guard: InFlight::new(engine, id),
            },
            None => Claimed::Skipped(Box::new(skipped(
                job.send.report,
                "already taken by another check".into(),
            ))),
        });
    }
    Ok(out)
}

fn new_reminder<'a>(due: &'a Due, body_hash: &'a str) -> NewReminder<'a> {
    let r = &due.report;
    NewReminder {
        debtor_id: &r.debtor_id,
        cycle: r.cycle,
        seq: r.reminder,
        opens_cycle: due.opens_cycle,
        channel: &r.channel,
        template: &r.template,
        recipient: &r.to,
        body_hash,
        total_minor: r.total_minor,
        currency: &r.currency,
        items: r.items.len() as u32,
        encoding: r.encoding.as_deref(),
        segments: r.segments,
        estimated_cost_micros: due.estimated_cost_micros,
        cost_currency: r.cost_currency.as_deref(),
        message: &r.message,
        experiment: r.experiment.as_deref(),
        variant: r.variant.as_deref(),
    }
}

fn skipped(mut report: MessageReport, why: String) -> MessageReport {
    report.status = "skipped";
    report.error = Some(why);
    report
}

/// Takes one claimed job to its end: verified, sent (on a fallback channel if need be),
/// failed, or withdrawn unsent.
async fn finish<'e>(
    engine: &'e Engine,
    claimed: Claimed<'e>,
    ledger: &Ledger,
    downs: &[AtomicBool],
    now: DateTime<Utc>,
) -> Result<Finished<'e>, CheckError> {
    let (job, id, previous_attempt, guard) = match claimed {
        Claimed::Skipped(report) => {
            return Ok(Finished {
                report: *report,
                end: None,
                estimated_cost_micros: None,
                _guard: None,
            });
        }
        Claimed::Mine {
            job,
            id,
            previous_attempt,
            guard,
        } => (job, id, previous_attempt, guard),
    };
    let span = tracing::info_span!("send", debtor = %job.send.report.debtor_id, reminder = id);
    // A send's state is kilobytes: boxed once its slot is held, the window of sends waiting
    // for a slot stays small and the state is never copied from one future into another.
    let (report, end, estimated_cost_micros) =
        Box::pin(send_job(engine, *job, id, previous_attempt, ledger, downs, now))
            .instrument(span)
            .await?;
    Ok(Finished {
        report,
        end: Some(end),
        estimated_cost_micros,
        _guard: Some(guard),
    })
}

async fn send_job(
    engine: &Engine,
    job: Job,
    id: i64,
    previous_attempt: DateTime<Utc>,
    ledger: &Ledger,
    downs: &[AtomicBool],
    now: DateTime<Utc>,
) -> Result<(MessageReport, End, Option<i64>), CheckError> {
    let Job {
        send: mut due,
        mut route,
        fallbacks,
        data,
    } = job;
    due.report.reminder_id = Some(id);
    let mut fallbacks = fallbacks.into_iter();
    loop {
        let channel = engine.routes[route].channel.as_ref();
        let mut report = due.report;
        let cost = due.estimated_cost_micros;
        if engine.stopping.load(Ordering::SeqCst) {
            return Ok((skipped(report, "rappel is shutting down".into()), End::Withdrawn, None));
        }
        if downs[route].load(Ordering::SeqCst) {
            let why = format!("channel {} is down for this check", report.channel);
            return Ok((skipped(report, why), End::Withdrawn, None));
        }
        let message = Message {
            at: now,
            reminder_id: Some(id),
            debtor_id: Some(report.debtor_id.clone()),
            to: report.to.clone(),
            subject: report.subject.clone(),
            body: report.body.clone(),
            html: due.html,
            // Only provider-side templates read them (from the data the job keeps for them).
            vars: match &data {
                Some(data) if channel.uses_vars() => vars_of(data),
                _ => BTreeMap::new(),
            },
        };
        if due.verify {
            match channel.find_sent(&message, previous_attempt).await {
                Ok(Some(delivery)) => {
                    tracing::info!("the earlier attempt reached the provider: not sent again");
                    report.status = "sent";
                    let found_from = Some(previous_attempt);
                    return Ok((report, End::Sent { delivery, found_from }, cost));
                }
                Ok(None) => tracing::info!("the earlier attempt never arrived: sending it now"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot verify an earlier attempt: not sent");
                    report.status = "unknown";
                    report.error = Some(format!("cannot verify the earlier attempt: {}", e.message));
                    report.error_code = e.code;
                    return Ok((report, End::Failed { retryable: false }, cost));
                }
            }
        }
        let e = match send_with_retries(channel, &message).await {
            Ok(delivery) => {
                tracing::info!(to = %mask::address(&report.to), total = report.total_minor, "reminder sent");
                report.status = "sent";
                let end = End::Sent {
                    delivery,
                    found_from: None,
                };
                return Ok((report, end, cost));
            }
            Err(e) => e,
        };
        let flag = match e.kind {
            SendErrorKind::InvalidAddress => Some(ContactState::Invalid),
            SendErrorKind::OptedOut => Some(ContactState::OptedOut),
            _ => None,
        };
        if let Some(state) = flag {
            // Boxed, like the reroute below: rare, they would otherwise size every send.
            Box::pin(ledger.flag_contact(&report.to, state, Some(&report.debtor_id), &e.message, now)).await?;
        }
        if e.kind == SendErrorKind::ChannelDown {
            downs[route].store(true, Ordering::SeqCst);
            tracing::error!(error = %e, "channel unusable, no more sends on it in this check");
        } else {
            tracing::warn!(error = %e, to = %mask::address(&report.to), "reminder not sent");
        }
        let next = fallbacks.next().filter(|next| {
            e.kind.is_permanent()
                && !downs[next.channel].load(Ordering::SeqCst)
                && !engine.stopping.load(Ordering::SeqCst)
        });
        // The data is kept whenever there are fallbacks.
        let (Some(next), Some(data)) = (next, &data) else {
            let (status, retryable) = match e.kind {
                SendErrorKind::Ambiguous => ("unknown", false),
                SendErrorKind::Transient | SendErrorKind::ChannelDown => ("failed", true),
                _ => ("failed", false),
            };
            report.status = status;
            report.error = Some(e.message);
            report.error_code = e.code;
            return Ok((report, End::Failed { retryable }, cost));
        };
        tracing::info!(from = %report.channel, to = %engine.routes[next.channel].name,
            "permanent failure, trying the next channel");
        let (next_report, html, estimated_cost_micros) = engine.plan_for(data, &next, report.cycle)?;
        let hash = crate::render::body_hash(&next_report.body);
        Box::pin(ledger.reroute(
            id,
            &next_report.channel,
            &next_report.template,
            &next_report.to,
            &hash,
            now,
        ))
        .await?;
        due = Due {
            report: MessageReport {
                reminder_id: Some(id),
                ..next_report
            },
            opens_cycle: false,
            verify: false,
            estimated_cost_micros,
            html,
        };
        route = next.channel;
    }
}

/// The reminder's values for channels that fill their own templates.
fn vars_of(data: &ReminderData) -> BTreeMap<String, String> {
    let total = crate::money::format_minor_code(data.total_minor, &data.currency, &data.locale);
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

/// The metrics of one reported outcome.
fn count(report: &MessageReport, estimated_cost_micros: Option<i64>) {
    if report.reminder_id.is_none() || report.status == "skipped" {
        return; // never handed to a channel
    }
    let channel = report.channel.clone();
    metrics::counter!("rappel_reminders_total", "channel" => channel.clone(), "status" => report.status).increment(1);
    if report.status != "sent" {
        return;
    }
    if let Some(segments) = report.segments {
        metrics::counter!("rappel_sms_segments_total", "channel" => channel.clone()).increment(u64::from(segments));
    }
    if let (Some(cost), Some(currency)) = (estimated_cost_micros, &report.cost_currency) {
        metrics::counter!("rappel_estimated_cost_micros_total", "channel" => channel, "currency" => currency.clone())
            .increment(cost.max(0) as u64);
    }
}

fn fill_delivery(report: &mut MessageReport, delivery: Delivery) {
    report.provider_id = delivery.provider_id;
    report.segments = delivery.segments.or(report.segments);
    report.price = delivery.price;
    report.price_unit = delivery.price_unit;
}

/// One send, tried again on transient errors with exponential backoff (honouring the
/// provider's `Retry-After`), never on any other error.
pub async fn send_with_retries(channel: &dyn Channel, message: &Message) -> Result<Delivery, SendError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(MAX_WAIT)
        .with_max_times(RETRIES)
        .with_jitter();
    (|| async {
        let started = std::time::Instant::now();
        let result = channel.send(message).await;
        metrics::histogram!("rappel_provider_request_seconds").record(started.elapsed().as_secs_f64());
        result
    })
    .retry(backoff)
    .when(SendError::is_transient)
    .adjust(|e: &SendError, wait| wait.map(|w| e.retry_after.unwrap_or(w).min(MAX_WAIT)))
    .notify(|e: &SendError, wait| tracing::warn!(error = %e, ?wait, "transient failure, trying again"))
    .await
}

/// Keeps a claimed reminder in the engine's in-flight set until its outcome is recorded.
struct InFlight<'a> {
    engine: &'a Engine,
    id: i64,
}

impl<'a> InFlight<'a> {
    fn new(engine: &'a Engine, id: i64) -> Self {
        if let Ok(mut set) = engine.in_flight.lock() {
            set.insert(id);
        }
        Self { engine, id }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.engine.in_flight.lock() {
            set.remove(&self.id);
        }
    }
}

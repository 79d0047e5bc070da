//! Sending one due reminder: claim it in the ledger (pending, committed), hand it to the
//! channel with retries for transient errors only, then record how it ended. A reminder whose
//! earlier attempt may have reached the provider is verified with the provider first.

use super::report::MessageReport;
use crate::channel::{Channel, Delivery, Message, SendError, SendErrorKind};
use crate::ledger::{ContactState, Ledger, LedgerError, NewReminder};
use crate::mask;
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Transient failures are tried this many more times within one check.
const RETRIES: usize = 2;
/// The longest wait between two tries, whatever the provider asks.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// One due reminder and how to take it.
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
    /// The reminder's values for provider-side templates.
    pub vars: std::collections::BTreeMap<String, String>,
}

/// Sends one due reminder and fills in its status; returns how the send failed, if it did.
/// `reuse`: the reminder's ledger id when a permanent failure on another channel hands it
/// over to this one (same key, new channel and recipient). Ledger errors end the check.
pub(crate) async fn send_one(
    engine: &super::Engine,
    due: Due,
    channel: &dyn Channel,
    ledger: &Ledger,
    channel_down: &AtomicBool,
    now: DateTime<Utc>,
    reuse: Option<i64>,
) -> Result<(MessageReport, Option<SendErrorKind>), LedgerError> {
    let mut report = due.report;
    let html = due.html;
    let vars = due.vars;
    let due_cost = due.estimated_cost_micros;
    if engine.stopping.load(Ordering::SeqCst) {
        report.status = "skipped";
        report.error = Some("rappel is shutting down".into());
        return Ok((report, None));
    }
    if channel_down.load(Ordering::SeqCst) {
        report.status = "skipped";
        report.error = Some(format!("channel {} is down for this check", report.channel));
        return Ok((report, Some(SendErrorKind::ChannelDown)));
    }
    let span = tracing::info_span!("send", debtor = %report.debtor_id, channel = %report.channel);
    let _enter = span.enter();
    let claimed = if let Some(id) = reuse {
        let hash = crate::render::body_hash(&report.body);
        ledger
            .reroute(id, &report.channel, &report.template, &report.to, &hash, now)
            .await?;
        Some((id, now))
    } else if due.verify {
        ledger
            .take_over(&report.debtor_id, report.cycle, report.reminder, now)
            .await?
    } else {
        let hash = crate::render::body_hash(&report.body);
        let claim = NewReminder {
            debtor_id: &report.debtor_id,
            cycle: report.cycle,
            seq: report.reminder,
            opens_cycle: due.opens_cycle,
            channel: &report.channel,
            template: &report.template,
            recipient: &report.to,
            body_hash: &hash,
            total_minor: report.total_minor,
            currency: &report.currency,
            items: report.items.len() as u32,
            encoding: report.encoding.as_deref(),
            segments: report.segments,
            estimated_cost_micros: due.estimated_cost_micros,
            cost_currency: report.cost_currency.as_deref(),
            message: &report.message,
            experiment: report.experiment.as_deref(),
            variant: report.variant.as_deref(),
        };
        ledger.claim(&claim, now).await?.map(|id| (id, now))
    };
    let Some((id, previous_attempt)) = claimed else {
        report.status = "skipped";
        report.error = Some("already taken by another check".into());
        return Ok((report, None));
    };
    report.reminder_id = Some(id);
    let _in_flight = InFlight::new(engine, id);
    let message = Message {
        at: now,
        reminder_id: Some(id),
        debtor_id: Some(report.debtor_id.clone()),
        to: report.to.clone(),
        subject: report.subject.clone(),
        body: report.body.clone(),
        html,
        vars,
    };

    if due.verify {
        match channel.find_sent(&message, previous_attempt).await {
            Ok(Some(found)) => {
                ledger.mark_found(id, &found, previous_attempt, now).await?;
                tracing::info!(
                    reminder = id,
                    "the earlier attempt reached the provider: not sent again"
                );
                fill_delivery(&mut report, found);
                report.status = "sent";
                return Ok((report, None));
            }
            Ok(None) => tracing::info!(reminder = id, "the earlier attempt never arrived: sending it now"),
            Err(e) => {
                ledger
                    .mark_failed(id, "unknown", &e.message, e.code.as_deref(), false, now)
                    .await?;
                tracing::warn!(reminder = id, error = %e, "cannot verify an earlier attempt: not sent");
                report.status = "unknown";
                report.error = Some(format!("cannot verify the earlier attempt: {}", e.message));
                return Ok((report, Some(SendErrorKind::Ambiguous)));
            }
        }
    }

    let mut failure = None;
    match send_with_retries(channel, &message).await {
        Ok(delivery) => {
            ledger.mark_sent(id, &delivery, now).await?;
            tracing::info!(reminder = id, to = %mask::address(&report.to), total = report.total_minor, "reminder sent");
            fill_delivery(&mut report, delivery);
            report.status = "sent";
        }
        Err(e) => {
            let (status, retryable) = match e.kind {
                SendErrorKind::Ambiguous => ("unknown", false),
                SendErrorKind::Transient | SendErrorKind::ChannelDown => ("failed", true),
                _ => ("failed", false),
            };
            ledger
                .mark_failed(id, status, &e.message, e.code.as_deref(), retryable, now)
                .await?;
            let flag = match e.kind {
                SendErrorKind::InvalidAddress => Some(ContactState::Invalid),
                SendErrorKind::OptedOut => Some(ContactState::OptedOut),
                _ => None,
            };
            if let Some(state) = flag {
                ledger
                    .flag_contact(&report.to, state, Some(&report.debtor_id), &e.message, now)
                    .await?;
            }
            if e.kind == SendErrorKind::ChannelDown {
                channel_down.store(true, Ordering::SeqCst);
                tracing::error!(reminder = id, error = %e, "channel unusable, no more sends on it in this check");
            } else {
                tracing::warn!(reminder = id, error = %e, to = %mask::address(&report.to), "reminder not sent");
            }
            report.status = status;
            report.error = Some(e.message);
            report.error_code = e.code;
            failure = Some(e.kind);
        }
    }
    metrics::counter!("rappel_reminders_total", "channel" => report.channel.clone(), "status" => report.status)
        .increment(1);
    if report.status == "sent" {
        if let Some(segments) = report.segments {
            metrics::counter!("rappel_sms_segments_total", "channel" => report.channel.clone())
                .increment(u64::from(segments));
        }
        if let (Some(cost), Some(currency)) = (due_cost, &report.cost_currency) {
            metrics::counter!("rappel_estimated_cost_micros_total", "channel" => report.channel.clone(), "currency" => currency.clone())
                .increment(cost.max(0) as u64);
        }
    }
    Ok((report, failure))
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
    engine: &'a super::Engine,
    id: i64,
}

impl<'a> InFlight<'a> {
    fn new(engine: &'a super::Engine, id: i64) -> Self {
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

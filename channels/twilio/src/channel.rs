//! The Twilio channels themselves: SMS and WhatsApp through the Messages API, paced by a
//! rate limiter, with segment estimates, and a lookup after an ambiguous failure.

use crate::client::{ApiMessage, Client};
use crate::config::TwilioConfig;
use crate::errors::{Context, TwilioError, classify, codes};
use crate::segments;
use crate::settings::{Field, Problem, Sender, Settings};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rappel_core::{Channel, Delivery, Estimate, Medium, Message, SendError};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a channel waits before its next send after Twilio said the sender's queue is
/// full (21611), unless changed with [`TwilioChannel::with_queue_full_pause`].
pub const QUEUE_FULL_PAUSE: Duration = Duration::from_secs(10);

/// How far Twilio's clock may lag ours when looking up a message created since an instant.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// A Twilio SMS or WhatsApp channel.
pub struct TwilioChannel {
    name: String,
    settings: Settings,
    client: Client,
    /// `None` when `rate_per_second = 0`.
    limiter: Option<DefaultDirectRateLimiter>,
    /// Sends wait until then (set after a full queue, 21611).
    paused_until: Mutex<Option<Instant>>,
    queue_full_pause: Duration,
}

impl std::fmt::Debug for TwilioChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `settings` holds the secret as a redacted `Secret`.
        f.debug_struct("TwilioChannel")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("queue_full_pause", &self.queue_full_pause)
            .finish_non_exhaustive()
    }
}

impl TwilioChannel {
    /// Builds the `[channels.<name>]` channel for `medium` (`Sms` or `Whatsapp`), reporting
    /// every problem of `config`.
    pub fn new(name: &str, config: &TwilioConfig, medium: Medium) -> Result<Self, Vec<Problem>> {
        if !matches!(medium, Medium::Sms | Medium::Whatsapp) {
            return Err(vec![Problem {
                key: "",
                message: "Twilio channels send SMS or WhatsApp only".into(),
            }]);
        }
        let settings = config.validate(medium)?;
        let client = Client::new(
            &settings.base_url,
            &settings.account_sid,
            settings.auth.clone(),
            settings.timeout,
        )
        .map_err(|message| vec![Problem { key: "", message }])?;
        let limiter = settings
            .rate_per_second
            .and_then(|rate| Quota::with_period(Duration::from_secs_f64(1.0 / rate)))
            // A burst as large as the sends in flight: a slot missed while a send waits on the
            // ledger is made up later instead of lost, so the long-run rate is the configured one.
            .map(|quota| {
                let burst = u32::try_from(settings.max_in_flight).ok().and_then(NonZeroU32::new);
                RateLimiter::direct(quota.allow_burst(burst.unwrap_or(NonZeroU32::MIN)))
            });
        Ok(Self {
            name: name.to_string(),
            settings,
            client,
            limiter,
            paused_until: Mutex::new(None),
            queue_full_pause: QUEUE_FULL_PAUSE,
        })
    }

    /// Changes how long the channel pauses after a full queue (21611).
    pub fn with_queue_full_pause(mut self, pause: Duration) -> Self {
        self.queue_full_pause = pause;
        self
    }

    /// How long the next send will wait because of a full queue, if at all.
    pub fn pause_remaining(&self) -> Option<Duration> {
        let until = (*self.paused_until.lock().unwrap_or_else(|p| p.into_inner()))?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// `to` as Twilio wants it: `whatsapp:+E164` for WhatsApp.
    fn address(&self, to: &str) -> String {
        match self.settings.medium {
            Medium::Whatsapp if !to.starts_with("whatsapp:") => format!("whatsapp:{to}"),
            _ => to.to_string(),
        }
    }

    /// The body as it leaves: transliterated when configured.
    fn outgoing<'a>(&self, body: &'a str) -> Cow<'a, str> {
        if self.settings.transliterate {
            Cow::Owned(segments::transliterate(body))
        } else {
            Cow::Borrowed(body)
        }
    }

    /// The form fields of the CreateMessage request for `message`.
    pub fn form(&self, message: &Message) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", self.address(&message.to))];
        match &self.settings.sender {
            Sender::From(from) => form.push(("From", from.clone())),
            Sender::Service(sid) => form.push(("MessagingServiceSid", sid.clone())),
        }
        match &self.settings.content {
            Some(content) => {
                form.push(("ContentSid", content.sid.clone()));
                if !content.variables.is_empty() {
                    let values: BTreeMap<&str, String> = content
                        .variables
                        .iter()
                        .map(|(key, field)| (key.as_str(), field_value(*field, message)))
                        .collect();
                    let json = serde_json::to_string(&values).unwrap_or_else(|_| "{}".into());
                    form.push(("ContentVariables", json));
                }
            }
            None => form.push(("Body", self.outgoing(&message.body).into_owned())),
        }
        if let Some(url) = &self.settings.status_callback {
            form.push(("StatusCallback", callback_url(url, message.reminder_id)));
        }
        form
    }

    fn context<'a>(&'a self, to: Option<&'a str>, creates: bool) -> Context<'a> {
        Context {
            channel: &self.name,
            account_sid: &self.settings.account_sid,
            api_key: self.settings.auth.api_key,
            to,
            queue_full_pause: self.queue_full_pause,
            creates,
        }
    }

    fn delivery(&self, answer: ApiMessage, sent_body: Option<&str>) -> Delivery {
        // Counted here only when Twilio did not say.
        let counted = || match (self.settings.medium, sent_body) {
            (Medium::Sms, Some(body)) => Some(segments::analyze(body).segments),
            _ => None,
        };
        Delivery {
            provider_id: answer.sid,
            provider_status: answer.status,
            segments: answer.num_segments.or_else(counted),
            price: answer.price,
            price_unit: answer.price_unit,
        }
    }

    async fn wait_turn(&self) {
        if let Some(pause) = self.pause_remaining() {
            tracing::debug!(channel = %self.name, ?pause, "waiting: the sender's queue was full");
            tokio::time::sleep(pause).await;
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
    }
}

/// The status callback URL for a message: `reminder=<id>` added to its query, so that the
/// callback finds its reminder by the ledger's key (test messages have none).
fn callback_url(url: &str, reminder_id: Option<i64>) -> String {
    match reminder_id {
        Some(id) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}reminder={id}")
        }
        None => url.to_string(),
    }
}

/// The value of a template variable for `message`.
fn field_value(field: Field, message: &Message) -> String {
    match field {
        Field::Body => message.body.clone(),
        Field::To => message.to.clone(),
        Field::DebtorId => message.debtor_id.clone().unwrap_or_default(),
        Field::ReminderId => message.reminder_id.map(|id| id.to_string()).unwrap_or_default(),
        Field::Date => message.at.format("%Y-%m-%d").to_string(),
        Field::Var(name) => message.vars.get(name).cloned().unwrap_or_default(),
    }
}

#[async_trait]
impl Channel for TwilioChannel {
    fn medium(&self) -> Medium {
        self.settings.medium
    }

    fn max_in_flight(&self) -> usize {
        self.settings.max_in_flight
    }

    fn uses_vars(&self) -> bool {
        self.settings
            .content
            .as_ref()
            .is_some_and(|c| c.variables.iter().any(|(_, field)| matches!(field, Field::Var(_))))
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        self.wait_turn().await;
        let form = self.form(message);
        tracing::debug!(channel = %self.name, to = %rappel_core::mask::address(&message.to), "sending through Twilio");
        match self.client.create(&form).await {
            Ok(answer) => {
                let body = form.iter().find(|(k, _)| *k == "Body").map(|(_, v)| v.as_str());
                Ok(self.delivery(answer, body))
            }
            Err(error) => {
                if matches!(
                    &error,
                    TwilioError::Api {
                        code: Some(codes::QUEUE_FULL),
                        ..
                    }
                ) {
                    *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now() + self.queue_full_pause);
                    tracing::warn!(channel = %self.name, pause = ?self.queue_full_pause, "Twilio queue full, pausing sends");
                }
                Err(classify(error, &self.context(Some(&message.to), true)))
            }
        }
    }

    fn estimate(&self, body: &str) -> Option<Estimate> {
        let body = self.outgoing(body).into_owned();
        let (encoding, segments) = match self.settings.medium {
            Medium::Sms => {
                let info = segments::analyze(&body);
                (info.encoding.as_str().to_string(), info.segments)
            }
            // WhatsApp bills per message, whatever its length.
            _ => ("UTF-8".to_string(), 1),
        };
        Some(Estimate {
            body,
            encoding,
            segments,
            cost_micros: Some(i64::from(segments) * self.settings.price_micros),
            cost_currency: Some(self.settings.price_currency.clone()),
        })
    }

    async fn find_sent(&self, message: &Message, since: DateTime<Utc>) -> Result<Option<Delivery>, SendError> {
        let to = self.address(&message.to);
        let found = self
            .client
            .list(&to, since.date_naive())
            .await
            .map_err(|e| classify(e, &self.context(Some(&message.to), false)))?;
        let body = self.outgoing(&message.body);
        let template = self.settings.content.is_some();
        let earliest = since - CLOCK_SKEW;
        let same_body = |stored: &str| {
            // A Messaging Service with Smart Encoding may have transliterated it itself.
            stored == body || segments::transliterate(stored) == segments::transliterate(&body)
        };
        let hit = found.into_iter().find(|m| {
            m.to.as_deref() == Some(to.as_str())
                && m.date_created
                    .as_deref()
                    .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                    .is_some_and(|created| created >= earliest)
                && (template || m.body.as_deref().is_some_and(same_body))
        });
        Ok(hit.map(|m| self.delivery(m, (!template).then_some(body.as_ref()))))
    }
}

#[cfg(test)]
mod tests {
    use super::callback_url;

    #[test]
    fn the_callback_url_names_the_reminder() {
        let url = "https://shop.example/twilio/status";
        assert_eq!(callback_url(url, Some(42)), format!("{url}?reminder=42"));
        assert_eq!(
            callback_url("https://shop.example/s?shop=3", Some(42)),
            "https://shop.example/s?shop=3&reminder=42"
        );
        assert_eq!(callback_url(url, None), url);
    }
}

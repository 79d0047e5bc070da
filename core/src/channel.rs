//! The `Channel` trait: how a rendered message leaves rappel (SMS, WhatsApp, email, plugins).

use async_trait::async_trait;
use serde::Serialize;
use std::time::Duration;

/// What kind of address a channel sends to, and so which templates it uses
/// (`templates/<locale>/<medium>/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Medium {
    /// Text message to a phone number.
    Sms,
    /// WhatsApp message to a phone number.
    Whatsapp,
    /// Email to an address.
    Email,
}

impl Medium {
    /// The folder name of this medium's templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Email => "email",
        }
    }

    /// Whether messages go to a phone number (true) or an email address.
    pub fn uses_phone(self) -> bool {
        !matches!(self, Self::Email)
    }
}

/// One message ready to leave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The instant of the check that sends it (`--now` when given).
    pub at: chrono::DateTime<chrono::Utc>,
    /// The ledger id of the reminder, absent for test messages.
    pub reminder_id: Option<i64>,
    /// The debtor, absent for test messages.
    pub debtor_id: Option<String>,
    /// The recipient: E.164 phone number or email address.
    pub to: String,
    /// The subject, for email.
    pub subject: Option<String>,
    /// The text body.
    pub body: String,
    /// The HTML body, for email.
    pub html: Option<String>,
    /// Values of the reminder for channels that fill their own templates (WhatsApp
    /// Content templates): `name`, `total` (formatted, `127 000 XOF`), `item_count`,
    /// `reminder_number`, `oldest_due_date`. Empty for test messages.
    pub vars: std::collections::BTreeMap<String, String>,
}

/// What the channel knows after a successful hand-over.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delivery {
    /// The provider's id for the message (Twilio `SM…`, SMTP `Message-ID`).
    pub provider_id: Option<String>,
    /// The provider's status right after the hand-over (`queued`, `sent`, …).
    pub provider_status: Option<String>,
    /// Billable SMS segments, when the channel counts them.
    pub segments: Option<u32>,
    /// The price the provider reported, as it wrote it (Twilio: `"-0.00750"`), if any.
    pub price: Option<String>,
    /// The currency of `price` (`USD`).
    pub price_unit: Option<String>,
}

/// What a message will cost before it is sent: for SMS, its encoding and segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// The text as it will leave (after transliteration, if the channel does it).
    pub body: String,
    /// `GSM-7` or `UCS-2` for SMS; `UTF-8` for channels without segments.
    pub encoding: String,
    /// Billable parts.
    pub segments: u32,
    /// Estimated cost in millionths of `cost_currency` (0.0075 USD = 7 500), if a price is
    /// configured.
    pub cost_micros: Option<i64>,
    /// The currency of the cost (`USD`).
    pub cost_currency: Option<String>,
}

/// Whether a failed send may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendErrorKind {
    /// Try again later (rate limit, 5xx, connection refused).
    Transient,
    /// The address cannot receive messages (invalid or non-mobile number, unknown mailbox):
    /// never retried; the address is marked invalid.
    InvalidAddress,
    /// The recipient opted out (STOP): never retried; the address is marked opted out.
    OptedOut,
    /// The provider refused this message for good: never retried.
    Rejected,
    /// The channel itself is unusable (bad credentials): stop using it for this check.
    ChannelDown,
    /// The request may have reached the provider (timeout after sending): never retried
    /// blindly; recorded as `unknown`.
    Ambiguous,
}

impl SendErrorKind {
    /// Whether this message must never be tried again on this channel.
    pub fn is_permanent(self) -> bool {
        matches!(self, Self::InvalidAddress | Self::OptedOut | Self::Rejected)
    }
}

/// A failed send, saying whether retrying can help.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What kind of failure this is.
    pub kind: SendErrorKind,
    /// For the operator; never contains a secret.
    pub message: String,
    /// The provider's error code (`21211`), if any.
    pub code: Option<String>,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
    /// The underlying cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SendError {
    /// An error of `kind` with a message.
    pub fn new(kind: SendErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
            retry_after: None,
            source: None,
        }
    }

    /// A transient error.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(SendErrorKind::Transient, message)
    }

    /// Adds the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether trying again (after a wait) can help.
    pub fn is_transient(&self) -> bool {
        self.kind == SendErrorKind::Transient
    }

    /// Whether this message must never be tried again.
    pub fn is_permanent(&self) -> bool {
        self.kind.is_permanent()
    }
}

/// A way to send messages. Implemented by the built-in channel crates and by the run-time
/// plugin host.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The medium, which picks the templates and the kind of address.
    fn medium(&self) -> Medium;

    /// How many sends may be in flight at once on this channel.
    fn max_in_flight(&self) -> usize {
        1
    }

    /// Whether [`Message::vars`] is read (a provider-side template): when not, the
    /// dispatcher leaves it empty instead of formatting the values for every message.
    fn uses_vars(&self) -> bool {
        false
    }

    /// Hands one message over. Must not retry by itself: the dispatcher decides.
    async fn send(&self, message: &Message) -> Result<Delivery, SendError>;

    /// The message as it will leave, with its encoding, segments and cost. `None` for
    /// channels where that means nothing.
    fn estimate(&self, _body: &str) -> Option<Estimate> {
        None
    }

    /// After an ambiguous failure (the request may have reached the provider), asks the
    /// provider whether a message to `message.to` was created since `since`. `Ok(Some)`:
    /// it was, do not send again. `Ok(None)`: it was not, sending is safe. Channels that
    /// cannot ask return `Ok(None)` only if an ambiguous outcome cannot happen with them;
    /// the default says it cannot tell.
    async fn find_sent(
        &self,
        _message: &Message,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Delivery>, SendError> {
        Err(SendError::new(
            SendErrorKind::Ambiguous,
            "this channel cannot tell whether an earlier attempt was delivered",
        ))
    }
}

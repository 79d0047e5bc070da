//! The JSON documents that cross the ABI: the plugin's description, the message to send and
//! the outcome of a send.

use serde::{Deserialize, Serialize};

/// What `describe` returns: who the plugin is and its defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// A short name (`webhook`).
    pub name: String,
    /// The plugin's version (`0.1.0`).
    pub version: String,
    /// The medium it sends to by default: `sms`, `whatsapp` or `email`. The channel's
    /// `medium` key overrides it; absent both, `sms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// How many sends may run at once on one instance. The channel's `max_in_flight` key
    /// overrides it; absent both, 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The channel's name in the config (`[channels.NAME]`).
    pub channel: String,
    /// The instant of the check that sends it, RFC 3339.
    pub at: String,
    /// The ledger id of the reminder; absent for test messages. The same reminder keeps its
    /// id when it is tried again, so a receiver can use it to drop duplicates.
    pub reminder_id: Option<i64>,
    /// The client; absent for test messages.
    pub debtor_id: Option<String>,
    /// The recipient: an E.164 phone number or an email address.
    pub to: String,
    /// The subject (email).
    pub subject: Option<String>,
    /// The text body.
    pub body: String,
    /// The HTML body (email).
    pub html: Option<String>,
}

/// The outcome of `send`: `{"status": "sent", …}` or `{"status": "failed", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The provider took the message.
    Sent(Sent),
    /// It did not; the failure says whether retrying can help.
    Failed(Failure),
}

/// What is known after a successful hand-over. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The provider's id for the message.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The provider's status right after the hand-over (`queued`, `accepted`).
    #[serde(default)]
    pub provider_status: Option<String>,
    /// Billable SMS segments.
    #[serde(default)]
    pub segments: Option<u32>,
    /// The price as the provider wrote it.
    #[serde(default)]
    pub price: Option<String>,
    /// The currency of `price`.
    #[serde(default)]
    pub price_unit: Option<String>,
}

/// A failed send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Whether retrying can help.
    pub kind: FailureKind,
    /// For the operator; never a secret.
    pub message: String,
    /// The provider's error code, if any.
    #[serde(default)]
    pub code: Option<String>,
    /// How long the provider asked to wait before trying again, in seconds.
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
            retry_after_secs: None,
        }
    }

    /// May pass if tried again later (5xx, timeout, connection refused).
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Transient, message)
    }

    /// Will not pass if tried again (4xx): never retried.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Permanent, message)
    }

    /// Adds the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// How the host treats a failure; the same classes as rappel's built-in channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Tried again with backoff in the same check, then at the next check.
    Transient,
    /// Refused for good: never retried (a fallback channel may take the reminder).
    Permanent,
    /// The address cannot receive messages: never retried, the address is marked invalid.
    InvalidAddress,
    /// The recipient opted out: never retried, the address is marked opted out.
    OptedOut,
    /// The channel is unusable (bad credentials): no more sends on it in this check.
    ChannelDown,
    /// The message may have left (timeout after sending): recorded as `unknown`, never
    /// retried blindly.
    Ambiguous,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_have_the_documented_shape() {
        let sent = Outcome::Sent(Sent {
            provider_id: Some("m-1".into()),
            ..Sent::default()
        });
        assert_eq!(
            serde_json::to_value(&sent).unwrap(),
            serde_json::json!({"status": "sent", "provider_id": "m-1", "provider_status": null,
                "segments": null, "price": null, "price_unit": null})
        );
        let failed: Outcome =
            serde_json::from_str(r#"{"status":"failed","kind":"opted_out","message":"STOP"}"#).unwrap();
        assert_eq!(failed, Outcome::Failed(Failure::new(FailureKind::OptedOut, "STOP")));
        let minimal: Outcome = serde_json::from_str(r#"{"status":"sent"}"#).unwrap();
        assert_eq!(minimal, Outcome::Sent(Sent::default()));
    }
}

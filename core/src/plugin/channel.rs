//! The `Channel` over a plugin instance: messages go out as JSON from the blocking pool, and
//! the plugin's outcome JSON becomes a `Delivery` or a classified `SendError`.

use super::library::{CallError, Instance};
use crate::channel::{Channel, Delivery, Medium, Message, SendError, SendErrorKind};
use async_trait::async_trait;
use rappel_plugin::{Failure, FailureKind, Outcome};
use std::sync::Arc;
use std::time::Duration;

/// A channel whose sends are done by a run-time plugin.
#[derive(Debug)]
pub struct PluginChannel {
    name: String,
    medium: Medium,
    max_in_flight: usize,
    instance: Arc<Instance>,
}

impl PluginChannel {
    /// A channel named `name` over `instance`.
    pub fn new(name: &str, medium: Medium, max_in_flight: usize, instance: Instance) -> Self {
        Self {
            name: name.to_string(),
            medium,
            max_in_flight: max_in_flight.max(1),
            instance: Arc::new(instance),
        }
    }
}

#[async_trait]
impl Channel for PluginChannel {
    fn medium(&self) -> Medium {
        self.medium
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    async fn send(&self, m: &Message) -> Result<Delivery, SendError> {
        let wire = rappel_plugin::Message {
            channel: self.name.clone(),
            at: m.at.to_rfc3339(),
            reminder_id: m.reminder_id,
            debtor_id: m.debtor_id.clone(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            html: m.html.clone(),
        };
        let json = serde_json::to_vec(&wire)
            .map_err(|e| SendError::new(SendErrorKind::Rejected, "cannot encode the message").with_source(e))?;
        let instance = Arc::clone(&self.instance);
        let span = tracing::Span::current();
        // The plugin blocks (its own I/O, its own runtime if any): never on a tokio worker.
        let answer = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            instance.send(&json)
        })
        .await
        .map_err(|e| SendError::transient("the plugin call was interrupted").with_source(e))?;
        let path = self.instance.path().display();
        match answer {
            Ok(text) => outcome(&text).map_err(|e| SendError {
                message: format!("plugin {path}: {}", e.message),
                ..e
            }),
            // A panic is a bug in the plugin: not retried blindly (a fallback channel may take
            // the reminder); the message is kept in the ledger.
            Err(CallError::Panic(message)) => Err(SendError::new(
                SendErrorKind::Rejected,
                format!("plugin {path} panicked in send: {message}"),
            )),
            Err(e) => Err(SendError::new(SendErrorKind::Rejected, format!("plugin {path}: {e}"))),
        }
    }
}

/// The plugin's outcome JSON as a delivery or a classified error.
pub fn outcome(text: &str) -> Result<Delivery, SendError> {
    let outcome: Outcome = serde_json::from_str(text).map_err(|e| {
        SendError::new(
            SendErrorKind::Rejected,
            format!(
                "unreadable outcome ({e}): {}",
                text.chars().take(200).collect::<String>()
            ),
        )
    })?;
    match outcome {
        Outcome::Sent(sent) => Ok(Delivery {
            provider_id: sent.provider_id,
            provider_status: sent.provider_status,
            segments: sent.segments,
            price: sent.price,
            price_unit: sent.price_unit,
        }),
        Outcome::Failed(failure) => Err(send_error(failure)),
    }
}

fn send_error(failure: Failure) -> SendError {
    let kind = match failure.kind {
        FailureKind::Transient => SendErrorKind::Transient,
        FailureKind::Permanent => SendErrorKind::Rejected,
        FailureKind::InvalidAddress => SendErrorKind::InvalidAddress,
        FailureKind::OptedOut => SendErrorKind::OptedOut,
        FailureKind::ChannelDown => SendErrorKind::ChannelDown,
        FailureKind::Ambiguous => SendErrorKind::Ambiguous,
    };
    let mut error = SendError::new(kind, failure.message);
    error.code = failure.code;
    error.retry_after = failure.retry_after_secs.map(Duration::from_secs);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_deliveries_and_error_kinds() {
        let delivery = outcome(r#"{"status":"sent","provider_id":"m-1","segments":2}"#).unwrap();
        assert_eq!(
            (delivery.provider_id.as_deref(), delivery.segments),
            (Some("m-1"), Some(2))
        );
        for (kind, expected) in [
            ("transient", SendErrorKind::Transient),
            ("permanent", SendErrorKind::Rejected),
            ("invalid_address", SendErrorKind::InvalidAddress),
            ("opted_out", SendErrorKind::OptedOut),
            ("channel_down", SendErrorKind::ChannelDown),
            ("ambiguous", SendErrorKind::Ambiguous),
        ] {
            let e = outcome(&format!(
                r#"{{"status":"failed","kind":"{kind}","message":"no","code":"503","retry_after_secs":4}}"#
            ))
            .unwrap_err();
            assert_eq!(e.kind, expected, "{kind}");
            assert_eq!(
                (e.code.as_deref(), e.retry_after),
                (Some("503"), Some(Duration::from_secs(4)))
            );
        }
        let e = outcome("not json").unwrap_err();
        assert_eq!(e.kind, SendErrorKind::Rejected);
        assert!(e.message.starts_with("unreadable outcome"), "{}", e.message);
    }
}

//! The email channel itself: one pooled SMTP transport per channel, so the emails of a
//! check reuse open connections; each send bounded by `timeout`; each failure classified,
//! never retried here.

use crate::config::{EmailConfig, Problem, Settings};
use crate::errors::{Context, classify, timed_out};
use crate::message::{self, BuildError, Sender};
use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rappel_core::{Channel, Delivery, Medium, Message, SendError, SendErrorKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// An email channel speaking SMTP.
pub struct EmailChannel {
    name: String,
    settings: Settings,
    builder: AsyncSmtpTransportBuilder,
    /// Made at the first send (lettre's pool starts a task, which needs the runtime), and
    /// made again after a send timed out.
    transport: Mutex<Option<Arc<Transport>>>,
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `settings` shows the password as `[redacted]`; lettre's builder would not.
        f.debug_struct("EmailChannel")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl EmailChannel {
    /// Builds the `[channels.<name>]` channel, reporting every problem of `config`.
    /// `resolve` turns a relative `ca_file` into a path next to the config file.
    pub fn new(name: &str, config: &EmailConfig, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<Self, Vec<Problem>> {
        let settings = config.validate(resolve)?;
        let max_size = u32::try_from(settings.max_in_flight).unwrap_or(u32::MAX);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(settings.tls.clone())
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(max_size));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        Ok(Self {
            name: name.to_string(),
            settings,
            builder,
            transport: Mutex::new(None),
        })
    }

    /// The `[channels.<name>]` name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn transport(&self) -> Arc<Transport> {
        let mut slot = self.transport.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slot.get_or_insert_with(|| Arc::new(self.builder.clone().build())))
    }

    /// Forgets `transport` and its pool. lettre bounds only connecting by `timeout`, so a
    /// send is cut off from outside; the connection it used is then in the middle of an
    /// exchange, and lettre would put it back in the pool for the next email.
    fn discard(&self, transport: &Arc<Transport>) {
        let mut slot = self.transport.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|current| Arc::ptr_eq(current, transport)) {
            *slot = None;
        }
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn medium(&self) -> Medium {
        Medium::Email
    }

    fn max_in_flight(&self) -> usize {
        self.settings.max_in_flight
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let sender = Sender {
            from: &self.settings.from,
            reply_to: self.settings.reply_to.as_ref(),
        };
        let (email, message_id) = message::build(&sender, message).map_err(|e| {
            let kind = match e {
                BuildError::Recipient { .. } => SendErrorKind::InvalidAddress,
                BuildError::Assemble(_) => SendErrorKind::Rejected,
            };
            SendError::new(kind, e.to_string()).with_source(e)
        })?;
        let from = self.settings.from.email.to_string();
        let cx = Context {
            host: &self.settings.host,
            port: self.settings.port,
            username: self.settings.credentials.as_ref().map(|(user, _)| user.as_str()),
            from: &from,
            to: &message.to,
            timeout: self.settings.timeout,
            has_ca_file: self.settings.has_ca_file,
        };
        let transport = self.transport();
        match tokio::time::timeout(self.settings.timeout, transport.send(email)).await {
            Err(_elapsed) => {
                tracing::debug!(channel = %self.name, "send timed out: its open SMTP connections are dropped");
                self.discard(&transport);
                Err(SendError::transient(timed_out(&cx)))
            }
            Ok(Ok(response)) => {
                tracing::debug!(channel = %self.name, message_id, reply = ?response.message().collect::<Vec<_>>(), "email accepted");
                Ok(Delivery {
                    provider_id: Some(message_id),
                    provider_status: Some("accepted".into()),
                    ..Delivery::default()
                })
            }
            Ok(Err(e)) => Err(classify(e, &cx)),
        }
    }

    /// SMTP has no way to ask whether an earlier email arrived.
    async fn find_sent(
        &self,
        _message: &Message,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Delivery>, SendError> {
        Err(SendError::new(
            SendErrorKind::Ambiguous,
            "SMTP cannot tell whether an earlier email was delivered; check the server's logs",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_printed() {
        let config: EmailConfig = toml::from_str(
            "host = \"smtp.example.com\"\nfrom = \"f@example.com\"\nusername = \"u\"\npassword = \"s3cr3t-value\"",
        )
        .unwrap();
        let channel = EmailChannel::new("email", &config, &|p: &Path| p.to_path_buf()).unwrap();
        let shown = format!("{channel:?}");
        assert!(shown.contains("password: Some([redacted])"), "{shown}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert_eq!(channel.name(), "email");
    }
}

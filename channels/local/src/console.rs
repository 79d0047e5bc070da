//! `console`: prints each message to the terminal. For trying rappel out and for demos.

use async_trait::async_trait;
use rappel_core::{Channel, Delivery, Medium, Message, SendError};
use serde::Deserialize;
use std::io::Write;

/// `[channels.NAME] kind = "console"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Which templates and addresses to use: `sms` (default), `whatsapp` or `email`.
    #[serde(default = "default_medium")]
    pub medium: Medium,
}

fn default_medium() -> Medium {
    Medium::Sms
}

/// Prints messages to stdout (stderr when stdout carries `--json` output).
#[derive(Debug)]
pub struct Console {
    medium: Medium,
    name: String,
    to_stderr: bool,
}

impl Console {
    /// A console channel named `name`.
    pub fn new(config: ConsoleConfig, name: &str, to_stderr: bool) -> Self {
        Self {
            medium: config.medium,
            name: name.to_string(),
            to_stderr,
        }
    }

    fn format(&self, m: &Message) -> String {
        let mut out = format!("──── {} → {}", self.name, m.to);
        if let Some(id) = &m.debtor_id {
            out.push_str(&format!(" (client {id})"));
        }
        out.push_str(" ────\n");
        if let Some(subject) = &m.subject {
            out.push_str(&format!("Subject: {subject}\n\n"));
        }
        out.push_str(&m.body);
        out.push_str("\n\n");
        out
    }
}

#[async_trait]
impl Channel for Console {
    fn medium(&self) -> Medium {
        self.medium
    }

    async fn send(&self, message: &Message) -> Result<Delivery, SendError> {
        let text = self.format(message);
        let written = if self.to_stderr {
            std::io::stderr().lock().write_all(text.as_bytes())
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        written.map_err(|e| SendError::transient("cannot write to the terminal").with_source(e))?;
        Ok(Delivery {
            provider_status: Some("printed".into()),
            ..Delivery::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_refuses_unknown_keys() {
        let c: ConsoleConfig = toml::from_str("medium = \"email\"").unwrap();
        assert_eq!(c.medium, Medium::Email);
        let c: ConsoleConfig = toml::from_str("").unwrap();
        assert_eq!(c.medium, Medium::Sms);
        assert!(toml::from_str::<ConsoleConfig>("colour = 1").is_err());
    }

    #[test]
    fn shows_recipient_subject_and_body() {
        let console = Console::new(ConsoleConfig { medium: Medium::Email }, "mail", false);
        let text = console.format(&Message {
            at: chrono::Utc::now(),
            reminder_id: Some(1),
            debtor_id: Some("C1".into()),
            to: "awa@example.com".into(),
            subject: Some("Rappel".into()),
            body: "Bonjour".into(),
            html: None,
            vars: Default::default(),
        });
        assert_eq!(
            text,
            "──── mail → awa@example.com (client C1) ────\nSubject: Rappel\n\nBonjour\n\n"
        );
    }
}

//! `outbox`: appends one JSON object per message to a file: an audit trail, or a hand-over
//! to a system that sends messages itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rappel_core::{Channel, Delivery, Medium, Message, SendError, SendErrorKind};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use tokio::sync::Mutex;

/// `[channels.NAME] kind = "outbox"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// The JSON-lines file messages are appended to (created if missing; relative to the
    /// config file's folder).
    pub path: PathBuf,
    /// Which templates and addresses to use: `sms` (default), `whatsapp` or `email`.
    #[serde(default = "default_medium")]
    pub medium: Medium,
}

fn default_medium() -> Medium {
    Medium::Sms
}

/// One line of the outbox file.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxLine {
    /// The check's instant, RFC 3339.
    pub at: String,
    /// The client, absent for test messages.
    pub debtor_id: Option<String>,
    /// The channel's name.
    pub channel: String,
    /// The recipient.
    pub to: String,
    /// The subject (email).
    pub subject: Option<String>,
    /// The body.
    pub body: String,
    /// The ledger id of the reminder.
    pub reminder_id: Option<i64>,
}

/// Appends messages to a file, one JSON object per line.
#[derive(Debug)]
pub struct Outbox {
    medium: Medium,
    path: PathBuf,
    name: String,
    lock: Mutex<()>,
}

impl Outbox {
    /// An outbox channel named `name` writing to `path`.
    pub fn new(medium: Medium, path: PathBuf, name: &str) -> Self {
        Self {
            medium,
            path,
            name: name.to_string(),
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl Channel for Outbox {
    fn medium(&self) -> Medium {
        self.medium
    }

    async fn send(&self, m: &Message) -> Result<Delivery, SendError> {
        let line = OutboxLine {
            at: m.at.to_rfc3339(),
            debtor_id: m.debtor_id.clone(),
            channel: self.name.clone(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            reminder_id: m.reminder_id,
        };
        let mut text =
            serde_json::to_string(&line).map_err(|e| SendError::transient("cannot encode").with_source(e))?;
        text.push('\n');
        let _guard = self.lock.lock().await;
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            file.write_all(text.as_bytes())?;
            file.sync_data()
        })
        .await
        .map_err(|e| SendError::transient("outbox writer stopped").with_source(e))?;
        written.map_err(|e| {
            SendError::transient(format!("cannot append to outbox {}: {e}", self.path.display())).with_source(e)
        })?;
        Ok(Delivery {
            provider_status: Some("written".into()),
            ..Delivery::default()
        })
    }

    /// An earlier attempt arrived if its line is in the file (same reminder id).
    async fn find_sent(&self, m: &Message, _since: DateTime<Utc>) -> Result<Option<Delivery>, SendError> {
        let Some(id) = m.reminder_id else { return Ok(None) };
        let _guard = self.lock.lock().await;
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SendError::new(
                    SendErrorKind::Ambiguous,
                    format!("cannot read outbox {}: {e}", self.path.display()),
                ));
            }
        };
        let found = text
            .lines()
            .filter_map(|l| serde_json::from_str::<OutboxLine>(l).ok())
            .any(|line| line.reminder_id == Some(id));
        Ok(found.then(|| Delivery {
            provider_status: Some("written".into()),
            ..Delivery::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses() {
        let c: OutboxConfig = toml::from_str("path = \"out.jsonl\"\nmedium = \"whatsapp\"").unwrap();
        assert_eq!((c.path, c.medium), (PathBuf::from("out.jsonl"), Medium::Whatsapp));
        assert!(
            toml::from_str::<OutboxConfig>("medium = \"sms\"").is_err(),
            "path is required"
        );
    }

    #[tokio::test]
    async fn appends_one_json_object_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/outbox.jsonl");
        let outbox = Outbox::new(Medium::Sms, path.clone(), "sms");
        let at = chrono::DateTime::parse_from_rfc3339("2025-11-26T12:00:00Z")
            .unwrap()
            .to_utc();
        for id in [1, 2] {
            let m = Message {
                at,
                reminder_id: Some(id),
                debtor_id: Some(format!("C{id}")),
                to: "+221771234567".into(),
                subject: None,
                body: "Bonjour\nligne 2".into(),
                html: None,
                vars: Default::default(),
            };
            outbox.send(&m).await.unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<OutboxLine> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].debtor_id.as_deref(), Some("C2"));
        assert_eq!(lines[0].body, "Bonjour\nligne 2");
        assert_eq!(lines[0].at, "2025-11-26T12:00:00+00:00");
        assert_eq!(lines[0].channel, "sms");
    }

    #[tokio::test]
    async fn find_sent_looks_for_the_reminder_id() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(Medium::Sms, dir.path().join("o.jsonl"), "sms");
        let mut m = Message {
            at: chrono::Utc::now(),
            reminder_id: Some(7),
            debtor_id: None,
            to: "x".into(),
            subject: None,
            body: "b".into(),
            html: None,
            vars: Default::default(),
        };
        assert_eq!(outbox.find_sent(&m, m.at).await.unwrap(), None, "no file yet");
        outbox.send(&m).await.unwrap();
        assert!(outbox.find_sent(&m, m.at).await.unwrap().is_some());
        m.reminder_id = Some(8);
        assert_eq!(outbox.find_sent(&m, m.at).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_unwritable_outbox_is_a_transient_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(Medium::Sms, dir.path().to_path_buf(), "sms");
        let m = Message {
            at: chrono::Utc::now(),
            reminder_id: None,
            debtor_id: None,
            to: "x".into(),
            subject: None,
            body: "b".into(),
            html: None,
            vars: Default::default(),
        };
        let err = outbox.send(&m).await.unwrap_err();
        assert!(err.is_transient());
        assert!(err.message.contains("cannot append to outbox"), "{}", err.message);
    }
}

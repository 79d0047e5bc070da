//! Turns a rendered reminder into the email that leaves: headers, a Message-ID of the
//! sender's domain, and a text part (plus an HTML alternative when there is one).

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use rappel_core::{Message, mask};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a reminder could not become an email.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The recipient is not an email address.
    #[error("\"{masked}\" is not an email address: {source}")]
    Recipient {
        /// The address, masked.
        masked: String,
        /// What lettre found wrong.
        #[source]
        source: lettre::address::AddressError,
    },
    /// lettre refused to assemble the email.
    #[error("cannot assemble the email: {0}")]
    Assemble(#[from] lettre::error::Error),
}

/// Who sends, as configured.
pub(crate) struct Sender<'a> {
    pub from: &'a Mailbox,
    pub reply_to: Option<&'a Mailbox>,
}

/// The email for `message`, and its Message-ID (with the angle brackets).
pub(crate) fn build(sender: &Sender<'_>, message: &Message) -> Result<(lettre::Message, String), BuildError> {
    let to = message
        .to
        .trim()
        .parse::<lettre::Address>()
        .map_err(|source| BuildError::Recipient {
            masked: mask::address(&message.to),
            source,
        })?;
    let id = message_id(sender.from, message.reminder_id, message.at);
    let mut builder = lettre::Message::builder()
        .from(sender.from.clone())
        .to(Mailbox::new(None, to))
        .date(message.at.into())
        .message_id(Some(id.clone()));
    if let Some(reply_to) = sender.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    if let Some(subject) = &message.subject {
        // A line break in a header would end it: keep the subject on one line.
        let subject: Vec<&str> = subject.split_whitespace().collect();
        builder = builder.subject(subject.join(" "));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone());
    let email = match &message.html {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::html(html.clone())),
        )?,
        None => builder.singlepart(text)?,
    };
    Ok((email, id))
}

/// `<rappel.r42.1732100000.7.3f9a…@example.com>`: unique, of the sender's domain (as mail
/// filters expect), and naming the reminder, so the email is easy to find in the server's
/// logs.
fn message_id(from: &Mailbox, reminder: Option<i64>, at: DateTime<Utc>) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    // Random per process and per call: two processes sending at once do not collide.
    let random = RandomState::new().hash_one((sequence, std::process::id()));
    let reminder = reminder.map_or_else(|| "test".to_string(), |id| format!("r{id}"));
    format!(
        "<rappel.{reminder}.{}.{sequence}.{random:016x}@{}>",
        at.timestamp(),
        from.email.domain()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reminder(html: Option<&str>) -> Message {
        Message {
            at: "2025-11-24T06:00:00Z".parse().unwrap(),
            reminder_id: Some(42),
            debtor_id: Some("C-17".into()),
            to: "fa.guite@example.sn".into(),
            subject: Some("Rappel : créances échues\r\nBcc: evil@example.com".into()),
            body: "Bonjour Fa Guité,\nRestant: 127 000 XOF".into(),
            html: html.map(str::to_string),
            vars: Default::default(),
        }
    }

    fn sender_mailbox() -> Mailbox {
        "Boutique Ndiaye <factures@boutique.sn>".parse().unwrap()
    }

    fn headers(email: &lettre::Message) -> String {
        let raw = String::from_utf8(email.formatted()).unwrap();
        raw.split("\r\n\r\n").next().unwrap().to_string()
    }

    #[test]
    fn headers_of_a_reminder() {
        let from = sender_mailbox();
        let reply_to: Mailbox = "awa@boutique.sn".parse().unwrap();
        let sender = Sender {
            from: &from,
            reply_to: Some(&reply_to),
        };
        let (email, id) = build(&sender, &reminder(None)).unwrap();
        let head = headers(&email);
        assert!(
            head.contains("From: \"Boutique Ndiaye\" <factures@boutique.sn>"),
            "{head}"
        );
        assert!(head.contains("To: fa.guite@example.sn"), "{head}");
        assert!(head.contains("Reply-To: awa@boutique.sn"), "{head}");
        assert!(head.contains("Date: Mon, 24 Nov 2025 06:00:00 +0000"), "{head}");
        assert!(head.contains(&format!("Message-ID: {id}")), "{head}");
        assert!(id.starts_with("<rappel.r42.") && id.ends_with("@boutique.sn>"), "{id}");
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"), "{head}");
        // The injected line stayed inside the (encoded) subject.
        assert!(!head.contains("\r\nBcc:"), "{head}");
        assert_eq!(email.envelope().to().len(), 1);
    }

    #[test]
    fn html_makes_an_alternative() {
        let from = sender_mailbox();
        let sender = Sender {
            from: &from,
            reply_to: None,
        };
        let (email, _) = build(&sender, &reminder(Some("<p>Bonjour</p>"))).unwrap();
        let head = headers(&email);
        assert!(head.contains("Content-Type: multipart/alternative"), "{head}");
        assert!(!head.contains("Reply-To"), "{head}");
    }

    #[test]
    fn ids_are_unique() {
        let from = sender_mailbox();
        let at = Utc::now();
        assert_ne!(message_id(&from, Some(1), at), message_id(&from, Some(1), at));
    }

    #[test]
    fn bad_recipient() {
        let from = sender_mailbox();
        let sender = Sender {
            from: &from,
            reply_to: None,
        };
        let mut message = reminder(None);
        message.to = "awa.example.com".into();
        let e = build(&sender, &message).unwrap_err();
        assert!(e.to_string().contains("is not an email address"), "{e}");
        assert!(!e.to_string().contains("awa.example.com"), "{e}");
    }
}

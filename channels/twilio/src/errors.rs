//! What went wrong talking to Twilio, and what it means for the engine: retry later,
//! never retry, stop the channel, or "may have been sent" (ambiguous).

use rappel_core::{SendError, SendErrorKind};
use std::time::Duration;

/// A failed call to Twilio, kept as the `source` of the [`SendError`] it becomes.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio (or something in front of it) answered with an error status.
    #[error("HTTP {status}{}", code.map(|c| format!(", Twilio error {c}")).unwrap_or_default())]
    Api {
        /// The HTTP status.
        status: u16,
        /// Twilio's error code (`21211`), if the body had one.
        code: Option<u32>,
        /// Twilio's message, or the start of a non-JSON body.
        message: String,
        /// The `Retry-After` header, in seconds.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent: connection refused, DNS, connect timeout, TLS.
    #[error("could not connect")]
    Connect(#[source] Transport),
    /// The request may have left, but no complete answer came back (timeout, reset).
    #[error("no complete answer")]
    NoAnswer(#[source] Transport),
    /// The answer came but could not be read.
    #[error("unreadable answer")]
    BadAnswer(#[source] serde_json::Error),
}

/// Why an exchange with Twilio broke off.
#[derive(Debug, thiserror::Error)]
pub enum Transport {
    /// No complete answer within the channel's `timeout`.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// hyper's client failed before the answer's head: connecting (then nothing was sent),
    /// or after the request may have left.
    #[error(transparent)]
    Request(#[from] hyper_util::client::legacy::Error),
    /// The connection broke while the answer was being read.
    #[error(transparent)]
    Answer(#[from] hyper::Error),
}

impl Transport {
    /// Whether the time limit ended it.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut(_))
    }
}

/// The Twilio error codes rappel acts on.
pub mod codes {
    /// Authentication failed.
    pub const AUTH: u32 = 20003;
    /// Too many requests.
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// Invalid `To` number.
    pub const INVALID_TO: u32 = 21211;
    /// The recipient replied STOP.
    pub const OPTED_OUT: u32 = 21610;
    /// The sender's queue is full.
    pub const QUEUE_FULL: u32 = 21611;
    /// `To` is not a mobile number.
    pub const NOT_MOBILE: u32 = 21614;
    /// WhatsApp: outside the 24-hour window without a template.
    pub const OUTSIDE_WINDOW: u32 = 63016;
}

/// What a failed create request means, from its HTTP status and Twilio code alone.
pub fn kind_for(status: u16, code: Option<u32>) -> SendErrorKind {
    use SendErrorKind::*;
    match (status, code) {
        (_, Some(codes::INVALID_TO | codes::NOT_MOBILE)) => InvalidAddress,
        (_, Some(codes::OPTED_OUT)) => OptedOut,
        (_, Some(codes::AUTH)) | (401, _) => ChannelDown,
        (_, Some(codes::TOO_MANY_REQUESTS | codes::QUEUE_FULL)) | (429, _) => Transient,
        (500..=599, _) => Transient,
        // The Messages resource itself is missing: a wrong base_url or account, for every
        // message alike; refusing each message for good would be wrong.
        (404, _) => ChannelDown,
        _ => Rejected,
    }
}

/// What the messages need to say about the channel and the request.
pub(crate) struct Context<'a> {
    /// The `[channels.NAME]` name.
    pub channel: &'a str,
    pub account_sid: &'a str,
    /// Whether the credentials are an API key (else the auth token).
    pub api_key: bool,
    /// The recipient, masked in messages.
    pub to: Option<&'a str>,
    /// How long the channel pauses after a full queue (21611).
    pub queue_full_pause: Duration,
    /// Whether the request created something (POST) or only read (GET).
    pub creates: bool,
}

/// Turns a failed call into the engine's [`SendError`], with Twilio's code kept.
pub(crate) fn classify(error: TwilioError, cx: &Context<'_>) -> SendError {
    let (kind, message, code, retry_after) = match &error {
        TwilioError::Api {
            status,
            code,
            message,
            retry_after,
        } => {
            let kind = kind_for(*status, *code);
            let detail = detail(*status, *code, message, cx.to);
            let message = explain(kind, *status, *code, &detail, cx);
            let retry_after = match code {
                Some(codes::QUEUE_FULL) => Some(cx.queue_full_pause),
                _ if kind == SendErrorKind::Transient => *retry_after,
                _ => None,
            };
            (kind, message, code.map(|c| c.to_string()), retry_after)
        }
        TwilioError::Connect(_) => (
            SendErrorKind::Transient,
            "could not reach Twilio (nothing was sent)".to_string(),
            None,
            None,
        ),
        TwilioError::NoAnswer(e) if cx.creates => (
            SendErrorKind::Ambiguous,
            format!(
                "no answer from Twilio after the request was sent ({}): the message may have been sent",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "connection broken"
                }
            ),
            None,
            None,
        ),
        TwilioError::BadAnswer(_) if cx.creates => (
            SendErrorKind::Ambiguous,
            "Twilio's answer could not be read: the message may have been sent".to_string(),
            None,
            None,
        ),
        // A lookup changes nothing at Twilio: asking again is safe.
        TwilioError::NoAnswer(_) | TwilioError::BadAnswer(_) => (
            SendErrorKind::Transient,
            "Twilio did not answer the message lookup".to_string(),
            None,
            None,
        ),
    };
    let mut send_error = SendError::new(kind, message).with_source(error);
    send_error.code = code;
    send_error.retry_after = retry_after;
    send_error
}

/// Twilio's own words, with the recipient masked, and the code and status.
fn detail(status: u16, code: Option<u32>, message: &str, to: Option<&str>) -> String {
    let mut text = message.trim().to_string();
    if let Some(to) = to {
        let number = to.strip_prefix("whatsapp:").unwrap_or(to);
        if number.len() > 6 {
            text = text.replace(number, &rappel_core::mask::address(number));
        }
    }
    let code = code.map(|c| format!("Twilio error {c}, ")).unwrap_or_default();
    if text.is_empty() {
        format!("({code}HTTP {status})")
    } else {
        format!("{text} ({code}HTTP {status})")
    }
}

fn explain(kind: SendErrorKind, status: u16, code: Option<u32>, detail: &str, cx: &Context<'_>) -> String {
    let to = cx
        .to
        .map(rappel_core::mask::address)
        .unwrap_or_else(|| "the recipient".into());
    match (kind, code) {
        (SendErrorKind::ChannelDown, _) if status == 404 => format!(
            "Twilio has no Messages resource for account {} at this address: check account_sid and base_url {detail}",
            cx.account_sid
        ),
        (SendErrorKind::ChannelDown, _) => format!(
            "Twilio refused the credentials for account {}: check {} {detail}",
            cx.account_sid,
            if cx.api_key {
                "api_key_sid and api_key_secret"
            } else {
                "auth_token"
            }
        ),
        (_, Some(codes::INVALID_TO)) => format!("Twilio says {to} is not a valid phone number: {detail}"),
        (_, Some(codes::NOT_MOBILE)) => format!("Twilio says {to} is not a mobile number: {detail}"),
        (_, Some(codes::OPTED_OUT)) => {
            format!("{to} has opted out (replied STOP) and gets nothing until they send START: {detail}")
        }
        (_, Some(codes::QUEUE_FULL)) => format!(
            "the sender's queue at Twilio is full: channel {} pauses {} s before its next send: {detail}",
            cx.channel,
            cx.queue_full_pause.as_secs()
        ),
        (_, Some(codes::OUTSIDE_WINDOW)) => format!(
            "WhatsApp refuses free-form messages outside the 24-hour window since the client last wrote: set \
             content_sid = \"HX…\" (an approved template) in [channels.{}]: {detail}",
            cx.channel
        ),
        (SendErrorKind::Transient, _) if status == 429 || code == Some(codes::TOO_MANY_REQUESTS) => {
            format!("Twilio asks to slow down: {detail}")
        }
        (SendErrorKind::Transient, _) => format!("Twilio is unavailable: {detail}"),
        _ => format!("Twilio refused the message: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SendErrorKind::*;

    fn cx() -> Context<'static> {
        Context {
            channel: "sms",
            account_sid: "AC0123456789abcdef0123456789abcdef",
            api_key: false,
            to: Some("+221771234567"),
            queue_full_pause: Duration::from_secs(10),
            creates: true,
        }
    }

    fn api(status: u16, code: Option<u32>, message: &str) -> TwilioError {
        TwilioError::Api {
            status,
            code,
            message: message.into(),
            retry_after: Some(Duration::from_secs(7)),
        }
    }

    #[test]
    fn kinds_by_status_and_code() {
        assert_eq!(kind_for(400, Some(21211)), InvalidAddress);
        assert_eq!(kind_for(400, Some(21614)), InvalidAddress);
        assert_eq!(kind_for(400, Some(21610)), OptedOut);
        assert_eq!(kind_for(401, Some(20003)), ChannelDown);
        assert_eq!(kind_for(401, None), ChannelDown);
        assert_eq!(kind_for(403, Some(20003)), ChannelDown);
        assert_eq!(kind_for(429, None), Transient);
        assert_eq!(kind_for(400, Some(20429)), Transient);
        assert_eq!(kind_for(400, Some(21611)), Transient);
        assert_eq!(kind_for(400, Some(63016)), Rejected);
        assert_eq!(kind_for(400, Some(21602)), Rejected);
        assert_eq!(kind_for(403, None), Rejected);
        assert_eq!(kind_for(500, None), Transient);
        assert_eq!(kind_for(503, Some(20503)), Transient);
        assert_eq!(kind_for(404, Some(20404)), ChannelDown);
    }

    #[test]
    fn messages_mask_the_number_and_keep_the_code() {
        let e = classify(api(400, Some(21211), "Invalid 'To' Phone Number: +221771234567"), &cx());
        assert_eq!(e.kind, InvalidAddress);
        assert_eq!(e.code.as_deref(), Some("21211"));
        assert_eq!(e.retry_after, None);
        assert!(!e.message.contains("+221771234567"), "{}", e.message);
        assert!(e.message.contains("+221771…67"), "{}", e.message);
        assert!(e.message.contains("Twilio error 21211, HTTP 400"), "{}", e.message);
    }

    #[test]
    fn auth_failure_names_the_account_and_the_key_to_check() {
        let e = classify(api(401, Some(20003), "Authenticate"), &cx());
        assert_eq!(e.kind, ChannelDown);
        assert!(
            e.message.starts_with(
                "Twilio refused the credentials for account AC0123456789abcdef0123456789abcdef: check auth_token"
            ),
            "{}",
            e.message
        );
        let key = Context { api_key: true, ..cx() };
        let e = classify(api(401, Some(20003), "Authenticate"), &key);
        assert!(
            e.message.contains("check api_key_sid and api_key_secret"),
            "{}",
            e.message
        );
    }

    #[test]
    fn retry_after_only_for_transient_errors() {
        let e = classify(api(429, Some(20429), "Too Many Requests"), &cx());
        assert_eq!((e.kind, e.retry_after), (Transient, Some(Duration::from_secs(7))));
        let e = classify(api(400, Some(21610), "unsubscribed"), &cx());
        assert_eq!(e.retry_after, None);
        let e = classify(api(400, Some(21611), "queue full"), &cx());
        assert_eq!((e.kind, e.retry_after), (Transient, Some(Duration::from_secs(10))));
        assert!(e.message.contains("pauses 10 s"), "{}", e.message);
    }

    #[test]
    fn outside_window_asks_for_a_template() {
        let e = classify(api(400, Some(63016), "outside the allowed window"), &cx());
        assert_eq!(e.kind, Rejected);
        assert!(e.message.contains("content_sid"), "{}", e.message);
        assert!(e.message.contains("[channels.sms]"), "{}", e.message);
    }

    #[test]
    fn unreadable_answers_are_ambiguous_for_a_create_and_transient_for_a_lookup() {
        let bad = || serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(classify(TwilioError::BadAnswer(bad()), &cx()).kind, Ambiguous);
        let lookup = Context { creates: false, ..cx() };
        assert_eq!(classify(TwilioError::BadAnswer(bad()), &lookup).kind, Transient);
    }
}

//! `webhook`: a rappel channel plugin that POSTs each message as JSON to a URL, with an
//! optional bearer token and an HMAC-SHA256 signature of the body. Built as a `cdylib` on
//! `rappel-plugin`; a local SMS gateway's HTTP API is the typical receiver.
//!
//! Outcomes: 2xx sent; 5xx, 408, 429 (with `Retry-After`), timeouts and connection errors
//! transient (rappel retries); 401 and 403 `channel_down` (the token is wrong: no more sends
//! in this check); other 4xx permanent.

#![warn(missing_docs)]

pub mod config;
pub mod http;
pub mod sign;

use config::{DEFAULT_TIMEOUT, Options};
use http::{HttpError, Response, Target};
use rappel_plugin::{ChannelPlugin, Description, Failure, FailureKind, Message, Sent};
use std::time::Duration;

/// The webhook channel: one configured URL.
#[derive(Debug)]
pub struct Webhook {
    url: String,
    target: Target,
    headers: Vec<(String, String)>,
    secret: Option<String>,
    signature_header: String,
    timeout: Duration,
}

impl ChannelPlugin for Webhook {
    type Options = Options;

    fn describe() -> Description {
        Description {
            name: "webhook".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            medium: None,
            max_in_flight: Some(4),
        }
    }

    fn create(options: Options) -> Result<Self, String> {
        let target = Target::parse(&options.url)?;
        let timeout = match &options.timeout {
            Some(t) => t.duration()?,
            None => DEFAULT_TIMEOUT,
        };
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            (
                "User-Agent".to_string(),
                concat!("rappel-webhook/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
        ];
        if let Some(token) = &options.bearer_token {
            check_header_value("bearer_token", token)?;
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        for (name, value) in &options.headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!("headers: \"{name}\" is not a header name"));
            }
            check_header_value(&format!("headers.{name}"), value)?;
            headers.push((name.clone(), value.clone()));
        }
        if options.secret.as_deref() == Some("") {
            return Err("secret: must not be empty (leave it out to send unsigned)".into());
        }
        check_header_value("signature_header", &options.signature_header)?;
        Ok(Self {
            url: options.url,
            target,
            headers,
            secret: options.secret,
            signature_header: options.signature_header,
            timeout,
        })
    }

    fn send(&self, message: &Message) -> Result<Sent, Failure> {
        let body = serde_json::to_vec(message).map_err(|e| Failure::permanent(format!("cannot encode: {e}")))?;
        let mut headers = self.headers.clone();
        if let Some(secret) = &self.secret {
            headers.push((self.signature_header.clone(), sign::signature(secret, &body)));
        }
        if let Some(id) = message.reminder_id {
            // The same reminder keeps its id when retried: receivers can drop duplicates.
            headers.push(("Idempotency-Key".into(), format!("rappel-{id}")));
        }
        match http::post(&self.target, &headers, &body, self.timeout) {
            Ok(response) => classify(&self.url, &response),
            Err(HttpError::Timeout) => Err(Failure::transient(format!(
                "no answer from {} within {:?}",
                self.url, self.timeout
            ))),
            Err(e) => Err(Failure::transient(format!("{}: {e}", self.url))),
        }
    }
}

fn check_header_value(key: &str, value: &str) -> Result<(), String> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(format!("{key}: must not contain a line break"));
    }
    Ok(())
}

/// Turns the receiver's answer into a delivery or a classified failure.
pub fn classify(url: &str, response: &Response) -> Result<Sent, Failure> {
    let status = response.status;
    let json: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    let field = |names: &[&str]| {
        names.iter().find_map(|n| {
            json.as_ref()?.get(*n).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        })
    };
    if (200..300).contains(&status) {
        return Ok(Sent {
            provider_id: field(&["id", "message_id", "sid"]),
            provider_status: field(&["status"]).or_else(|| Some("accepted".into())),
            segments: json
                .as_ref()
                .and_then(|j| j.get("segments"))
                .and_then(serde_json::Value::as_u64)
                .and_then(|s| u32::try_from(s).ok()),
            price: None,
            price_unit: None,
        });
    }
    let text = String::from_utf8_lossy(&response.body);
    let detail = field(&["message", "error"]).unwrap_or_else(|| text.chars().take(200).collect());
    let message = if detail.trim().is_empty() {
        format!("{url} answered {status}")
    } else {
        format!("{url} answered {status}: {}", detail.trim())
    };
    let kind = match status {
        408 | 429 | 500..=599 => FailureKind::Transient,
        401 | 403 => FailureKind::ChannelDown,
        _ => FailureKind::Permanent,
    };
    let mut failure = Failure::new(kind, message).with_code(status.to_string());
    failure.retry_after_secs = response.header("retry-after").and_then(|v| v.trim().parse().ok());
    Err(failure)
}

rappel_plugin::export_channel!(Webhook);

#[cfg(test)]
mod tests;

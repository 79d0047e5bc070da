//! The HTTP side: `POST` and `GET` on Twilio's Messages resource with Basic auth, answers
//! read into [`ApiMessage`], failures into [`TwilioError`]. It never retries.

use crate::errors::TwilioError;
use crate::settings::Auth;
use chrono::NaiveDate;
use reqwest::header::RETRY_AFTER;
use serde_json::Value;
use std::time::Duration;

/// Pages of a message lookup read at most.
const MAX_PAGES: usize = 5;
/// Messages per page of a lookup.
const PAGE_SIZE: &str = "50";

/// A message resource as Twilio returns it (the fields rappel reads).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiMessage {
    /// `SM…`.
    pub sid: Option<String>,
    /// `queued`, `accepted`, `sent`…
    pub status: Option<String>,
    /// The recipient, `whatsapp:`-prefixed for WhatsApp.
    pub to: Option<String>,
    /// The body as Twilio stored it.
    pub body: Option<String>,
    /// Segments (a string in Twilio's JSON).
    pub num_segments: Option<u32>,
    /// The price, as Twilio wrote it (`"-0.00750"`), once known.
    pub price: Option<String>,
    /// The currency of `price`.
    pub price_unit: Option<String>,
    /// RFC 2822 (`Thu, 24 Aug 2023 05:01:45 +0000`).
    pub date_created: Option<String>,
}

impl ApiMessage {
    fn from_json(value: &Value) -> Self {
        // Strings in Twilio's JSON, but accept numbers too.
        let text = |key: &str| match value.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Self {
            sid: text("sid"),
            status: text("status"),
            to: text("to"),
            body: text("body"),
            num_segments: text("num_segments").and_then(|n| n.trim().parse().ok()),
            price: text("price"),
            price_unit: text("price_unit"),
            date_created: text("date_created"),
        }
    }
}

/// Talks to one Twilio account.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    messages_url: reqwest::Url,
    auth: Auth,
}

impl Client {
    /// A client for `account_sid` at `base_url` (without a trailing `/`).
    pub(crate) fn new(base_url: &str, account_sid: &str, auth: Auth, timeout: Duration) -> Result<Self, String> {
        let messages_url = format!("{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json");
        let messages_url = reqwest::Url::parse(&messages_url).map_err(|e| format!("bad base_url: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // A redirect would turn the POST into a GET and hide what happened.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rappel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Self {
            http,
            messages_url,
            auth,
        })
    }

    /// Creates a message (CreateMessage) from its form fields.
    pub(crate) async fn create(&self, form: &[(&'static str, String)]) -> Result<ApiMessage, TwilioError> {
        let request = self
            .http
            .post(self.messages_url.clone())
            .basic_auth(&self.auth.user, Some(self.auth.secret.expose()))
            .form(form);
        let answer = read(request).await?;
        Ok(ApiMessage::from_json(&answer))
    }

    /// Lists messages to `to` sent on or after `day` (ListMessage with `DateSent>=`), newest
    /// first, following at most a few pages.
    pub(crate) async fn list(&self, to: &str, day: NaiveDate) -> Result<Vec<ApiMessage>, TwilioError> {
        let day = day.format("%Y-%m-%d").to_string();
        // `DateSent>=2025-11-20` on the wire is the parameter `DateSent>` with that value.
        let mut url = self.messages_url.clone();
        url.query_pairs_mut()
            .append_pair("To", to)
            .append_pair("DateSent>", &day)
            .append_pair("PageSize", PAGE_SIZE);
        let mut request = self.http.get(url);
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = read(request.basic_auth(&self.auth.user, Some(self.auth.secret.expose()))).await?;
            if let Some(Value::Array(messages)) = page.get("messages") {
                found.extend(messages.iter().map(ApiMessage::from_json));
            }
            match page.get("next_page_uri").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => request = self.http.get(self.next_page(next)?),
                _ => break,
            }
        }
        Ok(found)
    }
}

impl Client {
    /// The next page's URL: Twilio gives an absolute path. Anything that would take the
    /// credentials to another server (`@evil.host/…`, `//evil.host/…`) is refused; the
    /// lookup then fails, and the reminder stays `unknown` rather than risk a second send.
    fn next_page(&self, next: &str) -> Result<reqwest::Url, TwilioError> {
        let refused = || TwilioError::Api {
            status: 502,
            code: None,
            message: "the next page of the message list points outside Twilio's API".into(),
            retry_after: None,
        };
        let url = self.messages_url.join(next).map_err(|_| refused())?;
        if url.origin() != self.messages_url.origin() {
            return Err(refused());
        }
        Ok(url)
    }
}

/// Sends `request` and reads a JSON answer, or the error it carries.
async fn read(request: reqwest::RequestBuilder) -> Result<Value, TwilioError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = response.bytes().await.map_err(transport)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(TwilioError::BadAnswer);
    }
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
    let code = json
        .as_ref()
        .and_then(|j| j.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok());
    let message = match json.as_ref().and_then(|j| j.get("message")).and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
    };
    Err(TwilioError::Api {
        status: status.as_u16(),
        code,
        message,
        retry_after,
    })
}

/// A transport failure: not sent at all (connect), or sent without a complete answer.
fn transport(error: reqwest::Error) -> TwilioError {
    if error.is_connect() {
        TwilioError::Connect(error)
    } else {
        TwilioError::NoAnswer(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twilio_message_json() {
        let json = serde_json::json!({
            "sid": "SM0123456789abcdef0123456789abcdef",
            "status": "queued",
            "to": "+221771234567",
            "body": "Bonjour",
            "num_segments": "2",
            "price": null,
            "price_unit": "USD",
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        });
        let m = ApiMessage::from_json(&json);
        assert_eq!(m.num_segments, Some(2));
        assert_eq!(m.price, None);
        assert_eq!(m.price_unit.as_deref(), Some("USD"));
        assert_eq!(m.status.as_deref(), Some("queued"));
        let numbers = ApiMessage::from_json(&serde_json::json!({"num_segments": 3, "price": "-0.00750"}));
        assert_eq!(numbers.num_segments, Some(3));
        assert_eq!(numbers.price.as_deref(), Some("-0.00750"));
    }
}

//! The HTTP side: `POST` and `GET` on Twilio's Messages resource with Basic auth, answers
//! read into [`ApiMessage`], failures into [`TwilioError`]. It never retries.
//!
//! It speaks HTTP/1.1 through hyper's pooled client (keep-alive connections, TLS by rustls
//! with the platform's roots) rather than reqwest: a send is the hot path, and reqwest
//! parsed each request's URL three times and ran redirect and retry layers that a POST to
//! Twilio must not use anyway.

use crate::errors::{Transport, TwilioError};
use crate::settings::Auth;
use base64::Engine as _;
use bytes::Bytes;
use chrono::NaiveDate;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

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
    /// A message of a list page; what cannot be read is left empty.
    fn from_json(value: &Value) -> Self {
        Wire::deserialize(value).map(Self::from).unwrap_or_default()
    }
}

impl From<Wire> for ApiMessage {
    fn from(wire: Wire) -> Self {
        Self {
            sid: wire.sid.0,
            status: wire.status.0,
            to: wire.to.0,
            body: wire.body.0,
            num_segments: wire.num_segments.count(),
            price: wire.price.0,
            price_unit: wire.price_unit.0,
            date_created: wire.date_created.0,
        }
    }
}

/// The fields of a message resource rappel reads, straight from the answer's bytes (the
/// others are skipped without being built).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Wire {
    sid: Text,
    status: Text,
    to: Text,
    body: Text,
    num_segments: Text,
    price: Text,
    price_unit: Text,
    date_created: Text,
}

/// The fields of a create answer that a send records; the body, recipient and date Twilio
/// echoes are skipped unread (the body, hundreds of characters, was unescaped and copied
/// for every message sent).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Created {
    sid: Text,
    status: Text,
    num_segments: Text,
    price: Text,
    price_unit: Text,
}

impl From<Created> for ApiMessage {
    fn from(created: Created) -> Self {
        Self {
            sid: created.sid.0,
            status: created.status.0,
            num_segments: created.num_segments.count(),
            price: created.price.0,
            price_unit: created.price_unit.0,
            ..Self::default()
        }
    }
}

/// A field Twilio writes as a string; a number is read as its text, anything else as no value.
#[derive(Debug, Default)]
struct Text(Option<String>);

impl Text {
    /// The value as a count (`"2"`, `2`), when it is one.
    fn count(self) -> Option<u32> {
        self.0.and_then(|n| n.trim().parse().ok())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(serde_json::Number::from_f64(v).map(|n| n.to_string())))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        Text::deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// Talks to one Twilio account.
#[derive(Debug)]
pub(crate) struct Client {
    http: hyper_util::client::legacy::Client<Https, Full<Bytes>>,
    /// The Messages resource, for lookups (query and next pages).
    messages_url: Url,
    /// The same, parsed once for sends.
    messages_uri: Uri,
    /// `Basic …`, encoded once (not per request), marked sensitive: never shown in logs.
    authorization: HeaderValue,
    /// The longest an exchange may take, from connecting to the answer's last byte.
    timeout: Duration,
}

impl Client {
    /// A client for `account_sid` at `base_url` (without a trailing `/`).
    pub(crate) fn new(base_url: &str, account_sid: &str, auth: Auth, timeout: Duration) -> Result<Self, String> {
        let messages_url = format!("{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json");
        let messages_url = Url::parse(&messages_url).map_err(|e| format!("bad base_url: {e}"))?;
        let messages_uri = uri(&messages_url).map_err(|e| format!("bad base_url: {e}"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false); // https is hyper-rustls's to handle
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeout.min(Duration::from_secs(10))));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        // No redirects (one would turn the POST into a GET and hide what happened), no retries
        // but of a request that never left its connection.
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https);
        let credentials = format!("{}:{}", auth.user, auth.secret.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        let mut authorization = HeaderValue::try_from(format!("Basic {encoded}"))
            .map_err(|_| "the credentials cannot be sent in a header".to_string())?;
        authorization.set_sensitive(true);
        Ok(Self {
            http,
            messages_url,
            messages_uri,
            authorization,
            timeout,
        })
    }

    /// Creates a message (CreateMessage) from its form fields; the answer's `to`, `body` and
    /// `date_created` are not read.
    pub(crate) async fn create(&self, form: &[(&'static str, String)]) -> Result<ApiMessage, TwilioError> {
        let body = url::form_urlencoded::Serializer::new(String::with_capacity(512))
            .extend_pairs(form)
            .finish();
        let mut request = self.request(Method::POST, self.messages_uri.clone(), Bytes::from(body));
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let answer = self.read(request).await?;
        // A 2xx answer that is a bare string or number cannot tell what happened.
        serde_json::from_slice::<Created>(&answer)
            .map(ApiMessage::from)
            .map_err(TwilioError::BadAnswer)
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
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let page_uri = uri(&url).map_err(|e| TwilioError::Api {
                status: 502,
                code: None,
                message: format!("a page of the message list has no usable URL: {e}"),
                retry_after: None,
            })?;
            let request = self.request(Method::GET, page_uri, Bytes::new());
            let page = self.read(request).await?;
            let page: Value = serde_json::from_slice(&page).map_err(TwilioError::BadAnswer)?;
            if let Some(Value::Array(messages)) = page.get("messages") {
                found.extend(messages.iter().map(ApiMessage::from_json));
            }
            match page.get("next_page_uri").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => url = self.next_page(next)?,
                _ => break,
            }
        }
        Ok(found)
    }
}

impl Client {
    /// A request to `uri` with the account's credentials.
    fn request(&self, method: Method, uri: Uri, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("rappel/", env!("CARGO_PKG_VERSION"))),
        );
        request
    }

    /// Sends `request` and returns the body of a 2xx answer, or the error another carries.
    async fn read(&self, request: Request<Full<Bytes>>) -> Result<Bytes, TwilioError> {
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                if e.is_connect() {
                    TwilioError::Connect(e.into())
                } else {
                    TwilioError::NoAnswer(e.into())
                }
            })?;
            let (head, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| TwilioError::NoAnswer(e.into()))?
                .to_bytes();
            Ok::<_, TwilioError>((head, bytes))
        };
        let (head, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| TwilioError::NoAnswer(Transport::TimedOut(self.timeout)))??;
        if head.status.is_success() {
            return Ok(bytes);
        }
        let retry_after = head
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
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
            status: head.status.as_u16(),
            code,
            message,
            retry_after,
        })
    }

    /// The next page's URL: Twilio gives an absolute path. Anything that would take the
    /// credentials to another server (`@evil.host/…`, `//evil.host/…`) is refused; the
    /// lookup then fails, and the reminder stays `unknown` rather than risk a second send.
    fn next_page(&self, next: &str) -> Result<Url, TwilioError> {
        let url = self.messages_url.join(next).map_err(|_| outside())?;
        if url.origin() != self.messages_url.origin() {
            return Err(outside());
        }
        Ok(url)
    }
}

/// The refusal of a next page outside Twilio's API.
fn outside() -> TwilioError {
    TwilioError::Api {
        status: 502,
        code: None,
        message: "the next page of the message list points outside Twilio's API".into(),
        retry_after: None,
    }
}

/// `url` as hyper takes it.
fn uri(url: &Url) -> Result<Uri, http::uri::InvalidUri> {
    url.as_str().parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_create_answer_from_its_bytes_skipping_what_rappel_does_not_use() {
        let answer = br#"{"account_sid": "AC1", "api_version": "2010-04-01", "body": "Bonjour",
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "error_code": null, "num_media": "0",
            "num_segments": 2, "price": null, "price_unit": "USD", "sid": "SM1", "status": "queued",
            "subresource_uris": {"media": "/2010-04-01/Accounts/AC1/Messages/SM1/Media.json"},
            "to": "+221771234567", "uri": "/x.json", "to_is_a_flag": true}"#;
        let m = ApiMessage::from(serde_json::from_slice::<Wire>(answer).unwrap());
        assert_eq!(m.sid.as_deref(), Some("SM1"));
        assert_eq!(m.status.as_deref(), Some("queued"));
        assert_eq!(m.to.as_deref(), Some("+221771234567"));
        assert_eq!(m.body.as_deref(), Some("Bonjour"));
        assert_eq!(m.num_segments, Some(2));
        assert_eq!(m.price, None);
        assert_eq!(m.date_created.as_deref(), Some("Thu, 24 Aug 2023 05:01:45 +0000"));
        // Odd values are no value; an answer that is not an object cannot be read.
        let odd = br#"{"sid": {"a": [1, 2]}, "status": [true], "price": 1.5, "to": false}"#;
        let m = ApiMessage::from(serde_json::from_slice::<Wire>(odd).unwrap());
        assert_eq!((m.sid, m.status, m.to), (None, None, None));
        assert_eq!(m.price.as_deref(), Some("1.5"));
        assert!(serde_json::from_slice::<Wire>(b"\"queued\"").is_err());
        // A send records only what it needs, from the same bytes.
        let created = ApiMessage::from(serde_json::from_slice::<Created>(answer).unwrap());
        assert_eq!(
            (created.sid.as_deref(), created.status.as_deref(), created.num_segments),
            (Some("SM1"), Some("queued"), Some(2))
        );
        assert_eq!((created.price, created.price_unit.as_deref()), (None, Some("USD")));
        assert_eq!((created.to, created.body, created.date_created), (None, None, None));
        assert!(serde_json::from_slice::<Created>(b"\"queued\"").is_err());
        assert!(serde_json::from_slice::<Wire>(b"{").is_err());
    }

    #[test]
    fn encodes_basic_auth_once_and_never_shows_it() {
        let auth = Auth {
            user: "AC0123".into(),
            secret: rappel_core::secret::Secret::new("s3cr3t-token"),
            api_key: false,
        };
        let client = Client::new("http://127.0.0.1:9", "AC0123", auth, Duration::from_secs(1)).unwrap();
        // RFC 7617: "Basic " and base64 of "user:password".
        assert_eq!(
            client.authorization.to_str().unwrap(),
            "Basic QUMwMTIzOnMzY3IzdC10b2tlbg=="
        );
        assert!(client.authorization.is_sensitive());
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("QUMwMTIzOnMzY3IzdC10b2tlbg"),
            "{shown}"
        );
    }

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

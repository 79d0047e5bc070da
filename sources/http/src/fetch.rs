//! Fetching one page: the `Authorization` header, the timeout, and retries of what may
//! pass (5xx and 429 answers, failed connections) with exponential backoff and the
//! server's `Retry-After`, within bounds.

use crate::address;
use rappel_core::SourceError;
use rappel_core::secret::Secret;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::time::Duration;

/// The longest `Retry-After` honoured: a server asking for more fails this check, and the
/// next check tries again.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How requests prove who is asking.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    None,
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

/// A client with its settings, built once.
#[derive(Debug)]
pub(crate) struct Fetcher {
    pub(crate) client: reqwest::Client,
    pub(crate) auth: Auth,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    /// The first wait before a retry; doubled at each one.
    pub(crate) backoff: Duration,
    /// The largest answer read, in bytes.
    pub(crate) max_page_bytes: u64,
}

/// What one attempt gave.
enum Attempt {
    Done(Value),
    /// Worth trying again after the wait (the server's, when it said).
    Again {
        why: String,
        wait: Option<Duration>,
        cause: Option<reqwest::Error>,
    },
}

impl Fetcher {
    /// Fetches page `page` (1 for the first page read) at `url` and reads it as JSON.
    pub(crate) async fn page(&self, url: &Url, page: u32) -> Result<Value, SourceError> {
        let at = format!("page {page} ({})", address::shown(url));
        let mut attempt = 0;
        loop {
            let (why, wait, cause) = match self.attempt(url, &at).await? {
                Attempt::Done(value) => return Ok(value),
                Attempt::Again { why, wait, cause } => (why, wait, cause),
            };
            if attempt >= self.retries {
                let tries = match attempt {
                    0 => String::new(),
                    n => format!(" (after {} attempts)", n + 1),
                };
                let what = format!("{at}: {why}{tries}");
                return Err(match cause {
                    Some(e) => SourceError::with(what, e),
                    None => SourceError::msg(what),
                });
            }
            let wait = match wait {
                Some(asked) if asked > MAX_RETRY_AFTER => {
                    return Err(SourceError::msg(format!(
                        "{at}: {why}; the server asks to wait {}s before trying again, more than {}s: \
                         the next check will try again",
                        asked.as_secs(),
                        MAX_RETRY_AFTER.as_secs()
                    )));
                }
                Some(asked) => asked,
                None => self.backoff * 2_u32.saturating_pow(attempt),
            };
            attempt += 1;
            tracing::warn!(page, url = %address::shown(url), reason = %why, wait_ms = wait.as_millis() as u64, attempt, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &Url, at: &str) -> Result<Attempt, SourceError> {
        let mut request = self.client.get(url.clone()).header(ACCEPT, "application/json");
        request = match &self.auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
            Auth::Basic { username, password } => request.basic_auth(username, Some(password.expose())),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() => {
                return Ok(Attempt::Again {
                    why: "cannot connect".into(),
                    wait: None,
                    cause: Some(e.without_url()),
                });
            }
            Err(e) if e.is_timeout() => {
                return Err(SourceError::msg(format!(
                    "{at}: no answer within timeout = {}s",
                    self.timeout.as_secs_f64()
                )));
            }
            Err(e) => return Err(SourceError::with(format!("{at}: the request failed"), e.without_url())),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.body(response, at).await?;
        if status.is_success() {
            return json(&body, &headers, at).map(Attempt::Done);
        }
        self.failed(status, &headers, &body, at)
    }

    /// Reads the answer's body piece by piece, stopping as soon as it passes `max_page_bytes`
    /// (at once when its `Content-Length` says it will).
    async fn body(&self, mut response: reqwest::Response, at: &str) -> Result<Vec<u8>, SourceError> {
        let max = self.max_page_bytes;
        let too_large = || {
            SourceError::msg(format!(
                "{at}: the answer is larger than max_page_bytes = {max} bytes: reading stopped \
                 (is the API paging as configured? raise max_page_bytes if its pages really are that large)"
            ))
        };
        if response.content_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| self.cut_off(e, at))?;
            let Some(chunk) = chunk else { return Ok(body) };
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The body did not arrive whole.
    fn cut_off(&self, e: reqwest::Error, at: &str) -> SourceError {
        let what = if e.is_timeout() {
            format!(
                "{at}: the answer did not arrive within timeout = {}s",
                self.timeout.as_secs_f64()
            )
        } else {
            format!("{at}: the answer was cut off")
        };
        SourceError::with(what, e.without_url())
    }

    /// What a non-2xx answer means: try again, or a clear error.
    fn failed(&self, status: StatusCode, headers: &HeaderMap, body: &[u8], at: &str) -> Result<Attempt, SourceError> {
        let why = format!("HTTP {}", shown_status(status));
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Ok(Attempt::Again {
                why,
                wait: retry_after(headers),
                cause: None,
            });
        }
        let what = match (status, &self.auth) {
            (StatusCode::UNAUTHORIZED, Auth::None) => {
                format!("{why}: the server wants credentials: set bearer_token, or username and password")
            }
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, Auth::Bearer(_)) => {
                format!("{why}: the server refused bearer_token")
            }
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, Auth::Basic { username, .. }) => {
                format!("{why}: the server refused username {username:?} with this password")
            }
            _ => format!("{why}{}", excerpt(body)),
        };
        Err(SourceError::msg(format!("{at}: {what}")))
    }
}

/// `503 Service Unavailable`.
fn shown_status(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Reads a body as JSON; the error says what came instead.
fn json(body: &[u8], headers: &HeaderMap, at: &str) -> Result<Value, SourceError> {
    serde_json::from_slice(body).map_err(|e| {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type");
        let found = if body.iter().all(u8::is_ascii_whitespace) {
            "an empty body".to_string()
        } else {
            format!("{content_type}{}", excerpt(body))
        };
        SourceError::with(format!("{at}: the answer is not JSON: got {found}"), e)
    })
}

/// `: "<!DOCTYPE html><html>…"`: the start of a body, on one line, for messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.is_empty() {
        return String::new();
    }
    let mut shown: String = line.chars().take(80).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    format!(": {shown:?}")
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(
            excerpt(b"<html>\n  <body>Bad\tgateway</body>"),
            ": \"<html> <body>Bad gateway</body>\""
        );
        assert_eq!(excerpt(b"  "), "");
        assert!(excerpt(&[b'x'; 200]).ends_with("x…\""));
        assert_eq!(shown_status(StatusCode::SERVICE_UNAVAILABLE), "503 Service Unavailable");
    }
}

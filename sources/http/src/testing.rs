//! Test helpers: a local JSON API on 127.0.0.1 whose answers each test writes, counting
//! the requests it gets, and sources built from a `[source]` table as a user writes it.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use rappel_core::{RejectedRow, Source, SourceBatch, SourceError};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request the fake API got.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// Path and query: `/debts?page=2`.
    pub(crate) uri: String,
    /// The `Authorization` header, if sent.
    pub(crate) authorization: Option<String>,
}

/// An answer of the fake API.
pub(crate) struct Reply {
    status: StatusCode,
    content_type: &'static str,
    retry_after: Option<&'static str>,
    body: String,
}

impl Reply {
    /// `200 OK` with a JSON body.
    pub(crate) fn json(body: serde_json::Value) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: "application/json",
            retry_after: None,
            body: body.to_string(),
        }
    }

    /// Any status, with a body of some content type.
    pub(crate) fn status(status: u16, content_type: &'static str, body: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("a status code"),
            content_type,
            retry_after: None,
            body: body.to_string(),
        }
    }

    /// The same answer with a `Retry-After` header.
    pub(crate) fn retry_after(mut self, value: &'static str) -> Self {
        self.retry_after = Some(value);
        self
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// The API: answers every request with `handler(request number from 1, request)`.
pub(crate) struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeApi {
    pub(crate) async fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let (log, handler) = (Arc::clone(&log), Arc::clone(&handler));
            async move {
                let request = Seen {
                    uri: uri.to_string(),
                    authorization: headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                };
                let number = {
                    let mut log = log.lock().expect("the log lock");
                    log.push(request.clone());
                    log.len()
                };
                let reply = handler(number, &request);
                let mut response: Response = (reply.status, reply.body).into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    reply.content_type.parse().expect("a header value"),
                );
                if let Some(value) = reply.retry_after {
                    headers.insert(header::RETRY_AFTER, value.parse().expect("a header value"));
                }
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the fake API serves");
        });
        Self { base, seen, server }
    }

    /// The requests received so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log lock").clone()
    }

    /// The paths and queries requested, in order.
    pub(crate) fn uris(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.uri).collect()
    }

    /// Loads a source whose `url` is `path` on this API, with more `[source]` keys.
    pub(crate) async fn load(&self, path: &str, more_keys: &str) -> Result<SourceBatch, SourceError> {
        build(&format!("url = \"{}{path}\"\n{more_keys}", self.base))
            .expect("the source builds")
            .load()
            .await
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Builds the source from a `[source]` body as the binary does, with 50 ms as the first
/// wait before a retry so that retry tests stay fast.
pub(crate) fn build(source_body: &str) -> Result<Box<dyn Source>, String> {
    let text = format!("[channels.sms]\nkind = \"console\"\n[source]\nkind = \"http\"\n{source_body}\n");
    let config = Config::parse(&text, Path::new("rappel.toml"), &no_env).expect("the config parses");
    let ctx = BuildContext {
        config: &config,
        component: &config.source,
        name: "source",
        stdout_is_data: false,
    };
    crate::build_with_backoff(&ctx, Duration::from_millis(50)).map_err(|e| e.to_string())
}

/// An error and its causes, as the binary prints them (`{:#}`).
pub(crate) fn chain(error: &SourceError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The rejected rows as `origin: reason`, and the debtor each names.
pub(crate) fn rejections(batch: &SourceBatch) -> Vec<(String, Option<String>)> {
    batch
        .rejected
        .iter()
        .map(|r: &RejectedRow| (r.to_string(), r.debtor_id.clone()))
        .collect()
}

/// `(debtor_id, reference, amount, paid, origin)` of each item.
pub(crate) fn summary(batch: &SourceBatch) -> Vec<(String, String, i64, i64, String)> {
    batch
        .items
        .iter()
        .map(|i| {
            (
                i.debtor_id.clone(),
                i.reference.clone(),
                i.amount_minor,
                i.paid_minor,
                i.origin.clone(),
            )
        })
        .collect()
}

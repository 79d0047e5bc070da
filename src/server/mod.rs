//! The HTTP server of `rappel run`: health, Prometheus metrics, and Twilio's webhooks
//! (delivery statuses, STOP/START replies). Off unless `[server] listen` is set.

mod signature;
mod twilio;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use rappel_core::Clock;
use rappel_core::engine::Engine;
use rappel_core::ledger::Ledger;
use rappel_core::secret::Secret;
use std::sync::Arc;

/// Webhook bodies are a few hundred bytes; anything much larger is refused unread.
const MAX_BODY: usize = 64 * 1024;

/// What the handlers share.
pub struct Shared {
    pub engine: Arc<Engine>,
    pub ledger: Ledger,
    pub metrics: PrometheusHandle,
    pub clock: Arc<dyn Clock>,
    /// `[server] public_url`, without a trailing slash.
    pub public_url: Option<String>,
    pub twilio_token: Option<Secret>,
}

/// The routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/webhooks/twilio/status", post(twilio::status))
        .route("/webhooks/twilio/inbound", post(twilio::inbound))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

async fn ready(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    if let Err(e) = s.ledger.ping().await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n"));
    }
    if let Err(e) = s.engine.source().ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: source {}: {e}\n", s.engine.source().describe()),
        );
    }
    (StatusCode::OK, "ready\n".to_string())
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// The Prometheus recorder, with buckets for the latency histograms (so they are rendered
/// as histograms, not summaries).
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("rappel_provider_request_seconds".into()),
            &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full("rappel_check_duration_seconds".into()),
            &[0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0],
        )?
        .install_recorder()?;
    Ok(handle)
}

//! Twilio's webhooks: delivery statuses on the reminders, and STOP/START from recipients.
//! Every request must carry a valid `X-Twilio-Signature`, computed over the public URL.

use super::{Shared, signature};
use axum::Form;
use axum::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rappel_core::ledger::{ContactState, DeliveryUpdate};
use rappel_core::mask;
use std::sync::Arc;

type Params = Vec<(String, String)>;

/// Words that opt a number out, and back in (whole body, any case).
const STOP_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "arret",
    "arrêt",
];
const START_WORDS: &[&str] = &["start", "yes", "unstop"];

fn field<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Checks the signature; `Some` is the refusal to send back.
fn refusal(s: &Shared, uri: &Uri, headers: &HeaderMap, params: &Params, kind: &'static str) -> Option<Response> {
    let refuse = |why: &str| {
        metrics::counter!("rappel_webhook_events_total", "kind" => kind, "result" => "refused").increment(1);
        tracing::warn!(kind, "webhook refused: {why}");
        Some((StatusCode::FORBIDDEN, format!("{why}\n")).into_response())
    };
    let (Some(token), Some(base)) = (&s.twilio_token, &s.public_url) else {
        return refuse("webhooks need [server] public_url and twilio_auth_token");
    };
    let Some(given) = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()) else {
        return refuse("missing X-Twilio-Signature");
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{base}{path}");
    if !signature::verify(token.expose(), &url, params, given) {
        return refuse("bad X-Twilio-Signature");
    }
    None
}

/// `POST /webhooks/twilio/status?reminder=<id>`: `MessageSid`, `MessageStatus`, `ErrorCode`.
/// The reminder's id is in the URL rappel gave Twilio with the message; a callback without
/// it (a message sent before rappel added it) is found by `MessageSid`.
pub async fn status(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<Params>,
    Form(params): Form<Params>,
) -> Response {
    if let Some(refused) = refusal(&s, &uri, &headers, &params, "status") {
        return refused;
    }
    let (Some(sid), Some(status)) = (field(&params, "MessageSid"), field(&params, "MessageStatus")) else {
        return (StatusCode::BAD_REQUEST, "expected MessageSid and MessageStatus\n").into_response();
    };
    let reminder = match field(&query, "reminder").map(str::parse::<i64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                "reminder in the URL must be a reminder id (a number)\n",
            )
                .into_response();
        }
    };
    let code = field(&params, "ErrorCode").filter(|c| !c.is_empty());
    match s
        .ledger
        .record_delivery(reminder, sid, status, code, s.clock.now())
        .await
    {
        Ok(update) => {
            let result = match update {
                DeliveryUpdate::Recorded => "recorded",
                DeliveryUpdate::Stale => "stale",
                DeliveryUpdate::NoSuchMessage => "unknown_message",
                DeliveryUpdate::UnknownStatus => "unknown_status",
            };
            metrics::counter!("rappel_webhook_events_total", "kind" => "status", "result" => result).increment(1);
            tracing::info!(message = sid, status, result, "delivery status");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record a delivery status");
            // Twilio retries on 5xx.
            (StatusCode::SERVICE_UNAVAILABLE, "ledger unavailable\n").into_response()
        }
    }
}

/// `POST /webhooks/twilio/inbound`: a reply from a recipient. STOP words opt the number out
/// for good (until START); the answer is empty TwiML (no auto-reply from rappel).
pub async fn inbound(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    if let Some(refused) = refusal(&s, &uri, &headers, &params, "inbound") {
        return refused;
    }
    let from = field(&params, "From").unwrap_or_default();
    let number = from.strip_prefix("whatsapp:").unwrap_or(from).trim();
    let word = field(&params, "Body").unwrap_or_default().trim().to_lowercase();
    let now = s.clock.now();
    let result = if number.is_empty() {
        Ok("no_sender")
    } else if STOP_WORDS.contains(&word.as_str()) {
        s.ledger
            .flag_contact(number, ContactState::OptedOut, None, "replied STOP", now)
            .await
            .map(|()| "opted_out")
    } else if START_WORDS.contains(&word.as_str()) {
        s.ledger
            .unflag_contact(number, ContactState::OptedOut)
            .await
            .map(|_| "opted_in")
    } else {
        Ok("ignored")
    };
    match result {
        Ok(result) => {
            metrics::counter!("rappel_webhook_events_total", "kind" => "inbound", "result" => result).increment(1);
            tracing::info!(from = %mask::address(number), result, "inbound message");
            (
                [(header::CONTENT_TYPE, "text/xml")],
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record an opt-out");
            (StatusCode::SERVICE_UNAVAILABLE, "ledger unavailable\n").into_response()
        }
    }
}

//! The HTTP routes: create a message (`POST`) and list messages (`GET`) on
//! `/2010-04-01/Accounts/{AccountSid}/Messages.json`, with Basic auth and Twilio's checks.

use crate::faults::{self, Fault, error_response};
use crate::{CreatedMessage, Recorded, Shared};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

type Fields = Vec<(String, String)>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(create).get(list))
        .fallback(|| async { error_response(404, 20404, None) })
        .with_state(shared)
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let (form, rejection) = match form {
        Ok(Form(form)) => (form, None),
        Err(e) => (Vec::new(), Some(e.body_text())),
    };
    record(&shared, Method::POST, &uri, &headers, form.clone());
    if let Some(refused) = refuse(&shared, &headers, &sid) {
        return refused;
    }
    if let Some(text) = rejection {
        return error_response(400, 20001, Some(&text));
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let to = field("To");
    let fault = {
        let mut state = shared.state();
        let personal = to
            .as_ref()
            .and_then(|to| state.fault_for.get_mut(to))
            .and_then(faults::take);
        personal.or_else(|| faults::take(&mut state.fault))
    };
    if let Some(refused) = fault.as_ref().and_then(faults::refusal) {
        return refused;
    }
    let Some(to) = to else {
        return error_response(400, 21604, None);
    };
    if !(to.starts_with('+') || to.starts_with("whatsapp:+")) {
        return error_response(400, 21211, Some(&to));
    }
    let (from, service) = (field("From"), field("MessagingServiceSid"));
    if from.is_some() == service.is_some() {
        return error_response(400, 21603, Some("give exactly one of From or MessagingServiceSid"));
    }
    if let Some(from) = &from
        && to.starts_with("whatsapp:") != from.starts_with("whatsapp:")
    {
        return error_response(400, 63007, Some(from));
    }
    let (body, content_sid) = (field("Body"), field("ContentSid"));
    if body.is_none() && content_sid.is_none() {
        return error_response(400, 21602, None);
    }

    let message = {
        let mut state = shared.state();
        let message = CreatedMessage {
            sid: format!("SM{}", crate::random_hex()),
            to,
            from,
            messaging_service_sid: service,
            num_segments: crate::num_segments(body.as_deref().unwrap_or("")),
            body,
            content_sid,
            content_variables: field("ContentVariables"),
            status_callback: field("StatusCallback"),
            date_created: state.clock.unwrap_or_else(Utc::now),
        };
        state.created.push(message.clone());
        message
    };
    let answer = (
        StatusCode::CREATED,
        axum::Json(message_json(&shared.account_sid, &message, false)),
    );
    match fault {
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            answer.into_response()
        }
        Some(Fault::CreateThenDrop) => broken_answer(),
        Some(Fault::CreateThenHang) => std::future::pending().await,
        _ => answer.into_response(),
    }
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<Fields>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    record(&shared, Method::GET, &uri, &headers, Vec::new());
    if let Some(refused) = refuse(&shared, &headers, &sid) {
        return refused;
    }
    let fault = faults::take(&mut shared.state().list_fault);
    if let Some(refused) = fault.as_ref().and_then(faults::refusal) {
        return refused;
    }
    if let Some(Fault::Slow(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let date = |name: &str| -> Result<Option<NaiveDate>, String> {
        param(name)
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
            .transpose()
            .map_err(|_| format!("{name} must be YYYY-MM-DD"))
    };
    let (after, before, on) = match (date("DateSent>"), date("DateSent<"), date("DateSent")) {
        (Ok(a), Ok(b), Ok(o)) => (a, b, o),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_response(400, 20001, Some(&e)),
    };
    let page_size: usize = param("PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let messages: Vec<Value> = shared
        .state()
        .created
        .iter()
        .rev()
        .filter(|m| param("To").is_none_or(|to| m.to == to))
        .filter(|m| param("From").is_none_or(|from| m.from.as_deref() == Some(from)))
        .filter(|m| {
            let day = m.date_created.date_naive();
            after.is_none_or(|d| day >= d) && before.is_none_or(|d| day <= d) && on.is_none_or(|d| day == d)
        })
        .take(page_size)
        .map(|m| message_json(&shared.account_sid, m, true))
        .collect();
    let path = uri.path();
    let this_page = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let end = messages.len().saturating_sub(1);
    Json(json!({
        "end": end,
        "first_page_uri": this_page,
        "messages": messages,
        "next_page_uri": null,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": null,
        "start": 0,
        "uri": this_page,
    }))
    .into_response()
}

fn record(shared: &Shared, method: Method, uri: &Uri, headers: &HeaderMap, form: Fields) {
    let query = uri
        .query()
        .and_then(|q| Query::<Fields>::try_from_uri(&Uri::try_from(format!("/?{q}")).ok()?).ok())
        .map(|Query(q)| q)
        .unwrap_or_default();
    let auth_user = basic_credentials(headers).map(|(user, _)| user);
    shared.state().requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        form,
        auth_user,
    });
}

/// The `user` and `password` of a Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Accepts the account SID with its auth token, or the API key with its secret; then the
/// path must name the fake's account. Returns the refusal, if any.
fn refuse(shared: &Shared, headers: &HeaderMap, sid: &str) -> Option<Response> {
    let accepted = match basic_credentials(headers) {
        Some((user, password)) => {
            (user == shared.account_sid && password == shared.auth_token)
                || (user == shared.api_key && password == shared.api_key_secret)
        }
        None => false,
    };
    if !accepted {
        return Some(error_response(401, 20003, None));
    }
    if sid != shared.account_sid {
        return Some(error_response(404, 20404, None));
    }
    None
}

/// A message resource as Twilio shows it. `listed`: as seen later in a list (sent).
fn message_json(account_sid: &str, m: &CreatedMessage, listed: bool) -> Value {
    let date = m.date_created.to_rfc2822();
    let uri = format!("/2010-04-01/Accounts/{account_sid}/Messages/{}.json", m.sid);
    let status = match (listed, m.messaging_service_sid.is_some()) {
        (true, _) => "sent",
        (false, true) => "accepted",
        (false, false) => "queued",
    };
    json!({
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": m.body.clone().unwrap_or_default(),
        "date_created": date,
        "date_sent": if listed { Value::from(date.clone()) } else { Value::Null },
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": m.from,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": "0",
        "num_segments": m.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": m.sid,
        "status": status,
        "subresource_uris": {
            "media": format!("/2010-04-01/Accounts/{account_sid}/Messages/{}/Media.json", m.sid),
        },
        "to": m.to,
        "uri": uri,
    })
}

/// A 201 whose body fails mid-way: the connection is cut and the client gets no usable
/// answer, although the message exists.
fn broken_answer() -> Response {
    let cut = std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "fake Twilio dropped the connection",
    );
    let stream = futures::stream::iter([Err::<Bytes, std::io::Error>(cut)]);
    Response::builder()
        .status(StatusCode::CREATED)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

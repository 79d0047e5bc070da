//! The faults a test can switch on, and the Twilio-shaped error answers they produce.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// A way for the fake to misbehave on the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this HTTP status (500, 502, 503…) with Twilio's error JSON; nothing is created.
    Status5xx(u16),
    /// HTTP 429 with a `Retry-After` header and error code 20429; nothing is created.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Twilio error `code` (21211, 21614, 21610, 20003, 21611, 63016, …) with the HTTP status
    /// Twilio uses for it (401 for 20003, 429 for 20429, 400 otherwise); nothing is created.
    Code(u32),
    /// Create the message, then answer normally after this delay.
    Slow(Duration),
    /// Create the message, then break the connection without a usable answer.
    CreateThenDrop,
    /// Create the message, then never answer (the client's timeout must fire).
    CreateThenHang,
    /// Apply the inner fault to the next `n` requests, then behave again.
    FailTimes(u32, Box<Fault>),
}

impl Fault {
    /// `inner` for the next `n` requests only: `Fault::times(2, Fault::Status5xx(503))`.
    pub fn times(n: u32, inner: Fault) -> Self {
        Self::FailTimes(n, Box::new(inner))
    }
}

/// Takes the fault to apply to one request out of `slot`, counting down `FailTimes`.
pub(crate) fn take(slot: &mut Option<Fault>) -> Option<Fault> {
    match slot {
        None => None,
        Some(Fault::FailTimes(n, inner)) => {
            if *n == 0 {
                *slot = None;
                return None;
            }
            *n -= 1;
            let fault = (**inner).clone();
            if *n == 0 {
                *slot = None;
            }
            Some(fault)
        }
        Some(fault) => Some(fault.clone()),
    }
}

/// The HTTP status Twilio answers with for an error code.
pub fn status_for_code(code: u32) -> u16 {
    match code {
        20003 => 401,
        20404 => 404,
        20429 => 429,
        20500 => 500,
        20503 => 503,
        _ => 400,
    }
}

/// Twilio's wording for the codes the fake knows.
fn message_for_code(code: u32) -> &'static str {
    match code {
        20001 => "Invalid parameter",
        20003 => "Authenticate",
        20404 => "The requested resource was not found",
        20429 => "Too Many Requests",
        20500 => "An internal server error has occurred",
        20503 => "Service unavailable",
        21211 => "Invalid 'To' Phone Number",
        21602 => "Message body is required.",
        21603 => "A 'From' phone number is required.",
        21604 => "A 'To' phone number is required.",
        21610 => "Attempt to send to unsubscribed recipient",
        21611 => "This 'From' number has exceeded the maximum number of queued messages",
        21614 => "'To' number is not a valid mobile number",
        63007 => "Twilio could not find a Channel with the specified From address",
        63016 => {
            "Failed to send freeform message because you are outside the allowed window. \
             If you are using WhatsApp, please use a Message Template."
        }
        _ => "Error",
    }
}

/// An error answer in Twilio's shape: `{"code", "message", "more_info", "status"}`.
pub fn error_response(status: u16, code: u32, detail: Option<&str>) -> Response {
    let message = match detail {
        Some(detail) => format!("{}: {detail}", message_for_code(code)),
        None => message_for_code(code).to_string(),
    };
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// The answer for a fault that refuses the request outright, or `None` when the fault lets
/// the message be created (`Slow`, `CreateThenDrop`, `CreateThenHang`).
pub(crate) fn refusal(fault: &Fault) -> Option<Response> {
    match fault {
        Fault::Status5xx(status) => Some(error_response(*status, 20500, None)),
        Fault::TooManyRequests { retry_after_secs } => {
            let mut response = error_response(429, 20429, None);
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Some(response)
        }
        Fault::Code(code) => Some(error_response(status_for_code(*code), *code, None)),
        Fault::Slow(_) | Fault::CreateThenDrop | Fault::CreateThenHang | Fault::FailTimes(..) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_times_counts_down_then_clears() {
        let mut slot = Some(Fault::times(2, Fault::Code(21211)));
        assert_eq!(take(&mut slot), Some(Fault::Code(21211)));
        assert_eq!(take(&mut slot), Some(Fault::Code(21211)));
        assert_eq!(take(&mut slot), None);
        assert_eq!(slot, None);
    }

    #[test]
    fn plain_faults_stay() {
        let mut slot = Some(Fault::Status5xx(503));
        assert_eq!(take(&mut slot), Some(Fault::Status5xx(503)));
        assert_eq!(take(&mut slot), Some(Fault::Status5xx(503)));
    }

    #[test]
    fn statuses_follow_twilio() {
        assert_eq!(status_for_code(20003), 401);
        assert_eq!(status_for_code(20429), 429);
        assert_eq!(status_for_code(21211), 400);
        assert_eq!(status_for_code(63016), 400);
    }
}

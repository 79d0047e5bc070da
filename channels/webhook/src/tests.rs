//! The webhook against a local TCP server that answers what each test wants.

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

/// Serves one request with `answer` (raw HTTP) and hands back what it received.
fn serve_once(answer: &'static str, delay: Duration) -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        std::thread::sleep(delay);
        let _ = stream.write_all(answer.as_bytes());
        let _ = tx.send(got);
    });
    (url, rx)
}

fn webhook(url: &str, extra: &str) -> Webhook {
    let options: Options = serde_json::from_str(&format!(r#"{{"url":"{url}","timeout":"1s"{extra}}}"#)).unwrap();
    Webhook::create(options).unwrap()
}

fn message() -> Message {
    Message {
        channel: "hook".into(),
        at: "2025-12-01T10:00:00+00:00".into(),
        reminder_id: Some(7),
        debtor_id: Some("C1".into()),
        to: "+221771234567".into(),
        subject: None,
        body: "Bonjour Awa".into(),
        html: None,
    }
}

#[test]
fn posts_the_message_signed_with_a_bearer_token() {
    let (url, rx) = serve_once(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"id\":\"m-1\",\"status\":\"ok\"}",
        Duration::ZERO,
    );
    let hook = webhook(&url, r#","bearer_token":"tok","secret":"s3cret""#);
    let sent = hook.send(&message()).unwrap();
    assert_eq!(
        (sent.provider_id.as_deref(), sent.provider_status.as_deref()),
        (Some("m-1"), Some("ok"))
    );
    let request = String::from_utf8(rx.recv().unwrap()).unwrap();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let head = format!("{head}\r\n");
    assert!(head.starts_with("POST /hook HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nAuthorization: Bearer tok\r\n"), "{head}");
    assert!(head.contains("\r\nIdempotency-Key: rappel-7\r\n"), "{head}");
    let expected = sign::signature("s3cret", body.as_bytes());
    assert!(
        head.contains(&format!("\r\nX-Rappel-Signature: {expected}\r\n")),
        "{head}"
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (json["to"].as_str(), json["body"].as_str()),
        (Some("+221771234567"), Some("Bonjour Awa"))
    );
}

#[test]
fn server_errors_are_transient_and_client_errors_permanent() {
    let (url, _rx) = serve_once(
        "HTTP/1.1 503 Busy\r\nRetry-After: 4\r\nContent-Length: 0\r\n\r\n",
        Duration::ZERO,
    );
    let failure = webhook(&url, "").send(&message()).unwrap_err();
    assert_eq!(
        (failure.kind, failure.retry_after_secs),
        (FailureKind::Transient, Some(4))
    );
    assert_eq!(failure.code.as_deref(), Some("503"));

    let (url, _rx) = serve_once(
        "HTTP/1.1 422 Unprocessable\r\nContent-Length: 28\r\n\r\n{\"message\":\"unknown number\"}",
        Duration::ZERO,
    );
    let failure = webhook(&url, "").send(&message()).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Permanent);
    assert!(
        failure.message.ends_with("answered 422: unknown number"),
        "{}",
        failure.message
    );

    let (url, _rx) = serve_once("HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n", Duration::ZERO);
    assert_eq!(
        webhook(&url, "").send(&message()).unwrap_err().kind,
        FailureKind::ChannelDown
    );
}

#[test]
fn timeouts_and_refused_connections_are_transient() {
    let (url, _rx) = serve_once("HTTP/1.1 200 OK\r\n\r\n", Duration::from_secs(3));
    let failure = webhook(&url, "").send(&message()).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Transient);
    assert!(failure.message.contains("no answer"), "{}", failure.message);

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let failure = webhook(&format!("http://127.0.0.1:{port}/"), "")
        .send(&message())
        .unwrap_err();
    assert_eq!(failure.kind, FailureKind::Transient);
}

#[test]
fn bad_options_are_refused_at_create() {
    let create = |json: &str| Webhook::create(serde_json::from_str(json).unwrap()).unwrap_err();
    assert!(create(r#"{"url":"https://x/"}"#).contains("https is not supported"));
    assert!(create(r#"{"url":"http://x/","timeout":"soon"}"#).starts_with("timeout:"));
    assert!(create(r#"{"url":"http://x/","bearer_token":"a\nb"}"#).contains("line break"));
}

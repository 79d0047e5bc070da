//! `rappel run` with its HTTP server: webhooks signed like Twilio's, metrics, STOP/START,
//! and a graceful shutdown that never loses or doubles a send.

use crate::util::{Scratch, outbox_config};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use rappel_twilio_fake::{FakeTwilio, Fault};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ROWS: &str = "\
C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta,77 123 45 68,,invoice,F-2,2025-11-21,4000,1000,XOF
C3,Coumba,77 123 45 69,,manual,9,2025-11-22,1000,0,XOF
";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn setup(fake: &FakeTwilio, port: u16, extra_engine: &str) -> Scratch {
    let extra = format!(
        r#"
[channels.twilio]
kind = "twilio-sms"
account_sid = "{sid}"
auth_token = "${{TWILIO_AUTH_TOKEN}}"
from = "+15005550006"
base_url = "{base}"
rate_per_second = 0
timeout = "20s"

[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}/"
twilio_auth_token = "${{TWILIO_AUTH_TOKEN}}"
"#,
        sid = fake.account_sid(),
        base = fake.base_url(),
    );
    let config =
        outbox_config(&extra).replace("channel = \"outbox\"", &format!("channel = \"twilio\"\n{extra_engine}"));
    let s = Scratch::new(&config, ROWS);
    std::fs::write(s.path(".env"), format!("TWILIO_AUTH_TOKEN={}\n", fake.auth_token())).unwrap();
    s
}

struct Daemon(Child);

impl Daemon {
    fn start(s: &Scratch, now: &str) -> Self {
        Self(
            s.cmd(&["run", "--now", now])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// SIGTERM, then the exit status and how long it took.
    fn terminate(mut self) -> (std::process::ExitStatus, Duration, String) {
        let started = Instant::now();
        std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        let out = std::mem::replace(&mut self.0, std::process::Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        (
            out.status,
            started.elapsed(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded) until `f` holds.
fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// POSTs a form, signed with `token` unless `sig` overrides it; returns status and body.
fn post(port: u16, path: &str, params: &[(&str, &str)], token: &str, sig: Option<&str>) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}{path}");
    let signed = sig
        .map(str::to_string)
        .unwrap_or_else(|| signature(token, &url, params));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut request = reqwest::Client::new().post(&url).form(params);
        if !signed.is_empty() {
            request = request.header("X-Twilio-Signature", signed);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn get(port: u16, path: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let response = reqwest::get(format!("http://127.0.0.1:{port}{path}")).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

#[test]
fn webhooks_metrics_and_stop_start() {
    let fake = FakeTwilio::start_in_background();
    let port = free_port();
    let s = setup(&fake, port, "");
    let token = fake.auth_token().to_string();
    let daemon = Daemon::start(&s, "2025-12-01T10:00:00Z");
    until("the catch-up check", || fake.created().len() == 3);
    until("the server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert_eq!(get(port, "/healthz").0, 200);
    assert_eq!(get(port, "/readyz"), (200, "ready\n".into()));
    std::fs::rename(s.path("debts.csv"), s.path("debts.csv.away")).unwrap();
    let (code, body) = get(port, "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("debts.csv"), "{body}");
    std::fs::rename(s.path("debts.csv.away"), s.path("debts.csv")).unwrap();
    let created = fake.created();
    // Each message's status callback names its reminder.
    let callback = format!("http://127.0.0.1:{port}/webhooks/twilio/status");
    let requests = fake.requests();
    let mut ids: Vec<i64> = requests
        .iter()
        .map(|r| {
            let url = r.field("StatusCallback").unwrap_or_default();
            let id = url.strip_prefix(&format!("{callback}?reminder=")).unwrap_or_default();
            id.parse()
                .unwrap_or_else(|_| panic!("StatusCallback {url:?} names no reminder"))
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{ids:?}");

    // Delivery statuses: recorded, idempotent, never moving backwards; signatures enforced.
    let sid = created.iter().find(|m| m.to == "+221771234567").unwrap().sid.clone();
    let own = requests
        .iter()
        .find(|r| r.field("To") == Some("+221771234567"))
        .unwrap();
    let status_path = own.field("StatusCallback").unwrap();
    let status_path = status_path.strip_prefix(&format!("http://127.0.0.1:{port}")).unwrap();
    let delivered = [("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
    assert_eq!(post(port, status_path, &delivered, &token, None).0, 204);
    // Without the reminder (a message sent by an earlier version): found by its sid.
    assert_eq!(post(port, "/webhooks/twilio/status", &delivered, &token, None).0, 204);
    let late_sent = [("MessageSid", sid.as_str()), ("MessageStatus", "sent")];
    assert_eq!(post(port, status_path, &late_sent, &token, None).0, 204);
    let (code, body) = post(port, "/webhooks/twilio/status?reminder=x", &late_sent, &token, None);
    assert_eq!(
        (code, body.as_str()),
        (400, "reminder in the URL must be a reminder id (a number)\n")
    );
    let good = signature(&token, &callback, &delivered);
    let tampered = [("MessageSid", sid.as_str()), ("MessageStatus", "failed")];
    assert_eq!(
        post(port, "/webhooks/twilio/status", &tampered, &token, Some(&good)).0,
        403,
        "tampered parameter"
    );
    assert_eq!(
        post(port, "/webhooks/twilio/status", &delivered, &token, Some("")).0,
        403,
        "no signature"
    );
    assert_eq!(
        post(port, "/webhooks/twilio/status", &delivered, "another-token", None).0,
        403,
        "wrong token"
    );
    let history = s.run(&["history", "--json", "--debtor", "C1"]).ok().json_lines();
    assert_eq!(
        (history[0]["status"].as_str(), history[0]["delivery_status"].as_str()),
        (Some("sent"), Some("delivered"))
    );

    // STOP from C2: the next due check sends nothing to that number; START sends again.
    let (code, body) = post(
        port,
        "/webhooks/twilio/inbound",
        &[("From", "+221771234568"), ("Body", " Stop ")],
        &token,
        None,
    );
    assert_eq!(
        (code, body.as_str()),
        (200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")
    );
    s.run(&["tick", "--now", "2025-12-04T12:00:00Z"]).ok();
    let to_c2 = || fake.created().iter().filter(|m| m.to == "+221771234568").count();
    assert_eq!((fake.created().len(), to_c2()), (5, 1), "C1 and C3 reminded, C2 not");
    post(
        port,
        "/webhooks/twilio/inbound",
        &[("From", "+221771234568"), ("Body", "START")],
        &token,
        None,
    );
    s.run(&["tick", "--now", "2025-12-04T18:00:00Z"]).ok();
    assert_eq!(to_c2(), 2, "opted back in");

    let (_, metrics) = get(port, "/metrics");
    for want in [
        "rappel_reminders_total{channel=\"twilio\",status=\"sent\"} 3",
        "rappel_webhook_events_total{kind=\"status\",result=\"recorded\"} 1",
        "rappel_webhook_events_total{kind=\"status\",result=\"stale\"} 2",
        "rappel_webhook_events_total{kind=\"status\",result=\"refused\"} 3",
        "rappel_webhook_events_total{kind=\"inbound\",result=\"opted_out\"} 1",
        "rappel_checks_total 1",
        "rappel_sms_segments_total{channel=\"twilio\"} 6",
        "rappel_provider_request_seconds_bucket",
    ] {
        assert!(metrics.contains(want), "missing {want} in:\n{metrics}");
    }

    let (status, took, stderr) = daemon.terminate();
    assert!(status.success(), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(!stderr.contains(&token));
}

#[test]
fn sigterm_mid_check_loses_and_doubles_nothing() {
    let fake = FakeTwilio::start_in_background();
    let port = free_port();
    let s = setup(&fake, port, "shutdown_grace = \"1s\"");
    // Twilio creates each message, then answers 8 s later.
    fake.set_fault(Fault::Slow(Duration::from_secs(8)));
    let daemon = Daemon::start(&s, "2025-12-01T10:00:00Z");
    until("the sends to start", || fake.created().len() == 3);
    let (status, took, stderr) = daemon.terminate();
    assert!(status.success(), "exit 0: {stderr}");
    assert!(
        took < Duration::from_secs(5),
        "within the grace period and a margin: {took:?}"
    );
    let history = s.run(&["history", "--json"]).ok().json_lines();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|h| h["status"] == "unknown"), "{history:?}");

    // The next check asks Twilio, finds the three messages, and sends nothing again.
    fake.clear_fault();
    s.run(&["tick", "--now", "2025-12-01T12:00:00Z"]).ok();
    assert_eq!(fake.created().len(), 3);
    let history = s.run(&["history", "--json"]).ok().json_lines();
    assert!(history.iter().all(|h| h["status"] == "sent"), "{history:?}");
}

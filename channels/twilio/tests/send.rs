//! The Twilio channels against a local fake Twilio: what they send, and how each failure
//! is classified for the engine.

mod common;

use common::*;
use rappel_channel_twilio::TwilioChannel;
use rappel_core::{Channel, Medium, SendErrorKind};
use rappel_twilio_fake::{FakeTwilio, Fault};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fields(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn sends_an_sms_with_twilio_fields_and_basic_auth() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    assert_eq!(channel.medium(), Medium::Sms);
    assert_eq!(channel.max_in_flight(), 4);

    let delivery = channel.send(&message(AWA, "Bonjour Awa")).await.unwrap();

    let requests = twilio.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, twilio.messages_path());
    assert_eq!(request.auth_user.as_deref(), Some(twilio.account_sid()));
    assert_eq!(
        fields(&request.form),
        [("To", AWA), ("From", FROM), ("Body", "Bonjour Awa")]
    );
    let created = twilio.created();
    assert_eq!(created.len(), 1);
    assert_eq!(delivery.provider_id.as_deref(), Some(created[0].sid.as_str()));
    assert!(created[0].sid.starts_with("SM") && created[0].sid.len() == 34);
    assert_eq!(delivery.provider_status.as_deref(), Some("queued"));
    assert_eq!(delivery.segments, Some(1));
    assert_eq!(delivery.price, None);
    assert_eq!(delivery.price_unit.as_deref(), Some("USD"));
}

#[tokio::test]
async fn sends_the_status_callback_and_counts_segments() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "status_callback = \"https://shop.example/twilio/status\"");
    let delivery = channel.send(&message(AWA, APPROVED)).await.unwrap();
    let request = &twilio.requests()[0];
    // The callback names the reminder (7), to find it by the ledger's key.
    assert_eq!(
        request.field("StatusCallback"),
        Some("https://shop.example/twilio/status?reminder=7")
    );
    assert_eq!(request.field("Body"), Some(APPROVED));
    let estimate = channel.estimate(APPROVED).unwrap();
    assert_eq!(estimate.encoding, "UCS-2");
    assert_eq!(delivery.segments, Some(estimate.segments));
}

#[tokio::test]
async fn api_key_credentials_are_the_basic_user() {
    let twilio = FakeTwilio::start().await;
    let extra = format!(
        "auth_token = \"\"\napi_key_sid = \"{}\"\napi_key_secret = \"{}\"",
        twilio.api_key(),
        twilio.api_key_secret()
    );
    let channel = sms(&twilio, &extra);
    channel.send(&message(AWA, "Bonjour")).await.unwrap();
    assert_eq!(twilio.requests()[0].auth_user.as_deref(), Some(twilio.api_key()));
}

#[tokio::test]
async fn transliteration_sends_a_gsm7_body_and_estimates_it() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "transliterate = true");
    let estimate = channel.estimate(APPROVED).unwrap();
    assert_eq!(estimate.encoding, "GSM-7");
    // 333 septets: 3 parts of 153 (in UCS-2, 5 parts of 67).
    assert_eq!(estimate.segments, 3);
    assert_eq!(estimate.cost_micros, Some(3 * 7_500));
    assert_eq!(estimate.cost_currency.as_deref(), Some("USD"));
    let delivery = channel.send(&message(AWA, APPROVED)).await.unwrap();
    let sent = twilio.requests()[0].field("Body").unwrap().to_string();
    assert_eq!(sent, estimate.body);
    assert!(
        sent.contains("FAC-0042 - Échéance: 2025-11-20 - Restant: 2 500 XOF"),
        "{sent}"
    );
    assert_eq!(delivery.segments, Some(3));
    // Without transliteration the same text is UCS-2 and costs more.
    let plain = sms(&twilio, "").estimate(APPROVED).unwrap();
    assert_eq!(plain.encoding, "UCS-2");
    assert!(plain.segments > estimate.segments);
}

#[tokio::test]
async fn server_errors_are_transient_and_create_nothing() {
    let twilio = FakeTwilio::start().await;
    twilio.set_fault(Fault::Status5xx(503));
    let e = sms(&twilio, "").send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient);
    assert!(e.message.contains("HTTP 503"), "{}", e.message);
    assert!(twilio.created().is_empty());
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let twilio = FakeTwilio::start().await;
    twilio.set_fault(Fault::TooManyRequests { retry_after_secs: 7 });
    let e = sms(&twilio, "").send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient);
    assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(e.code.as_deref(), Some("20429"));
}

#[tokio::test]
async fn twilio_error_codes_are_classified() {
    let twilio = FakeTwilio::start().await;
    let cases = [
        (21211, SendErrorKind::InvalidAddress),
        (21614, SendErrorKind::InvalidAddress),
        (21610, SendErrorKind::OptedOut),
        (20003, SendErrorKind::ChannelDown),
        (21611, SendErrorKind::Transient),
        (63016, SendErrorKind::Rejected),
        (21408, SendErrorKind::Rejected),
    ];
    for (code, kind) in cases {
        twilio.set_fault(Fault::Code(code));
        let e = sms(&twilio, "").send(&message(AWA, "Bonjour")).await.unwrap_err();
        assert_eq!(e.kind, kind, "code {code}: {}", e.message);
        assert_eq!(e.code, Some(code.to_string()), "code {code}");
        assert!(!e.message.contains(AWA), "the number is masked: {}", e.message);
        assert!(!e.message.contains(twilio.auth_token()));
    }
    assert!(twilio.created().is_empty());
}

#[tokio::test]
async fn refused_credentials_stop_the_channel_and_never_show_the_token() {
    let twilio = FakeTwilio::start().await;
    let token = "wrong-token-0123456789";
    let channel = sms(&twilio, &format!("auth_token = \"{token}\""));
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown);
    assert_eq!(e.code.as_deref(), Some("20003"));
    assert!(
        e.message.starts_with(&format!(
            "Twilio refused the credentials for account {}: check auth_token",
            twilio.account_sid()
        )),
        "{}",
        e.message
    );
    let everything = format!("{e} {e:?} {channel:?}");
    assert!(!everything.contains(token), "{everything}");
    assert!(!everything.contains(twilio.auth_token()));
}

#[tokio::test]
async fn a_full_queue_pauses_the_next_send() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "").with_queue_full_pause(Duration::from_millis(400));
    twilio.set_fault(Fault::times(1, Fault::Code(21611)));
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        (SendErrorKind::Transient, Some(Duration::from_millis(400)))
    );
    assert!(channel.pause_remaining().is_some());
    let started = Instant::now();
    channel.send(&message(AWA, "Bonjour")).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(channel.pause_remaining(), None);
}

#[tokio::test]
async fn fails_twice_then_succeeds() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    twilio.set_fault(Fault::times(2, Fault::Status5xx(500)));
    for _ in 0..2 {
        let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
        assert_eq!(e.kind, SendErrorKind::Transient);
    }
    channel.send(&message(AWA, "Bonjour")).await.unwrap();
    assert_eq!(twilio.requests().len(), 3);
    assert_eq!(twilio.created().len(), 1);
}

#[tokio::test]
async fn one_bad_number_does_not_stop_the_others() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    twilio.fault_for(AWA, Fault::Code(21211));
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::InvalidAddress);
    channel.send(&message(MODOU, "Bonjour")).await.unwrap();
    let created = twilio.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].to, MODOU);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let twilio = FakeTwilio::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let channel = sms(&twilio, &format!("base_url = \"http://{closed}\""));
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient, "{e:?}");
    assert!(e.message.contains("nothing was sent"), "{}", e.message);
}

#[tokio::test]
async fn an_https_base_url_speaks_tls_and_a_failed_handshake_sends_nothing() {
    let twilio = FakeTwilio::start().await;
    // A server that is not TLS: it reads what the channel opens with, then answers in clear.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opening = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 3];
        socket.read_exact(&mut first).await.unwrap();
        let _ = socket
            .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}")
            .await;
        first
    });
    let channel = sms(&twilio, &format!("base_url = \"https://{addr}\""));
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient, "{e:?}");
    assert!(e.message.contains("nothing was sent"), "{}", e.message);
    // A TLS handshake record (22), TLS 1.x: never the form in clear.
    assert_eq!(opening.await.unwrap(), [0x16, 0x03, 0x01]);
}

#[tokio::test]
async fn a_slow_answer_is_ambiguous() {
    let twilio = FakeTwilio::start().await;
    twilio.set_fault(Fault::Slow(Duration::from_secs(3)));
    let channel = sms(&twilio, "timeout = \"1s\"");
    let started = Instant::now();
    let e = channel.send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Ambiguous, "{e:?}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(twilio.created().len(), 1, "the message exists although no answer came");
}

#[tokio::test]
async fn no_answer_at_all_is_ambiguous() {
    let twilio = FakeTwilio::start().await;
    twilio.set_fault(Fault::CreateThenHang);
    let e = sms(&twilio, "timeout = \"1s\"")
        .send(&message(AWA, "Bonjour"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Ambiguous, "{e:?}");
}

#[tokio::test]
async fn a_dropped_answer_is_ambiguous_and_the_lookup_finds_the_message() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    let reminder = message(AWA, "Bonjour Awa, il reste 2 500 XOF");
    let since = chrono::Utc::now();
    twilio.set_fault(Fault::CreateThenDrop);
    let e = channel.send(&reminder).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Ambiguous, "{e:?}");
    assert!(e.message.contains("connection broken"), "{}", e.message);
    twilio.clear_fault();

    let found = channel.find_sent(&reminder, since).await.unwrap().expect("found");
    let created = twilio.created();
    assert_eq!(created.len(), 1);
    assert_eq!(found.provider_id.as_deref(), Some(created[0].sid.as_str()));
    let lookup = twilio.requests().into_iter().last().unwrap();
    assert_eq!(lookup.method, "GET");
    assert_eq!(lookup.param("To"), Some(AWA));
    assert_eq!(
        lookup.param("DateSent>"),
        Some(since.format("%Y-%m-%d").to_string().as_str())
    );
    assert!(lookup.param("PageSize").is_some());

    let never = message(MODOU, "Bonjour Awa, il reste 2 500 XOF");
    assert_eq!(channel.find_sent(&never, since).await.unwrap(), None);
    let other_text = message(AWA, "Bonjour Awa, il reste 1 000 XOF");
    assert_eq!(channel.find_sent(&other_text, since).await.unwrap(), None);
}

#[tokio::test]
async fn the_lookup_ignores_messages_older_than_since() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    let reminder = message(AWA, "Bonjour");
    let now = chrono::Utc::now();
    twilio.pin_clock(Some(now - chrono::TimeDelta::hours(1)));
    channel.send(&reminder).await.unwrap();
    assert_eq!(channel.find_sent(&reminder, now).await.unwrap(), None);
    let earlier = now - chrono::TimeDelta::hours(2);
    assert!(channel.find_sent(&reminder, earlier).await.unwrap().is_some());
}

#[tokio::test]
async fn lookup_errors_are_classified() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(&twilio, "");
    twilio.set_list_fault(Fault::Status5xx(502));
    let e = channel
        .find_sent(&message(AWA, "Bonjour"), chrono::Utc::now())
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient);
    twilio.set_list_fault(Fault::Code(20003));
    let e = channel
        .find_sent(&message(AWA, "Bonjour"), chrono::Utc::now())
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown);
}

#[tokio::test]
async fn whatsapp_prefixes_to_and_from() {
    let twilio = FakeTwilio::start().await;
    let channel = whatsapp(&twilio, "");
    assert_eq!(channel.medium(), Medium::Whatsapp);
    let reminder = message(AWA, "Bonjour Awa");
    let since = chrono::Utc::now();
    channel.send(&reminder).await.unwrap();
    let request = &twilio.requests()[0];
    assert_eq!(
        fields(&request.form),
        [
            ("To", "whatsapp:+221771234567"),
            ("From", "whatsapp:+14155238886"),
            ("Body", "Bonjour Awa")
        ]
    );
    assert!(channel.find_sent(&reminder, since).await.unwrap().is_some());
    assert_eq!(twilio.requests()[1].param("To"), Some("whatsapp:+221771234567"));
    let estimate = channel.estimate("Bonjour Awa").unwrap();
    assert_eq!((estimate.encoding.as_str(), estimate.segments), ("UTF-8", 1));
}

#[tokio::test]
async fn whatsapp_outside_the_window_asks_for_a_template() {
    let twilio = FakeTwilio::start().await;
    twilio.set_fault(Fault::Code(63016));
    let e = whatsapp(&twilio, "").send(&message(AWA, "Bonjour")).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Rejected);
    assert_eq!(e.code.as_deref(), Some("63016"));
    assert!(e.message.contains("content_sid"), "{}", e.message);
}

#[tokio::test]
async fn a_messaging_service_replaces_from() {
    let twilio = FakeTwilio::start().await;
    let channel = sms(
        &twilio,
        "messaging_service_sid = \"MG0123456789abcdef0123456789abcdef\"",
    );
    let delivery = channel.send(&message(AWA, "Bonjour")).await.unwrap();
    let request = &twilio.requests()[0];
    assert_eq!(
        fields(&request.form),
        [
            ("To", AWA),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("Body", "Bonjour")
        ]
    );
    assert_eq!(request.field("From"), None);
    assert_eq!(delivery.provider_status.as_deref(), Some("accepted"));
}

#[tokio::test]
async fn a_content_template_replaces_the_body() {
    let twilio = FakeTwilio::start().await;
    let channel = whatsapp(
        &twilio,
        "content_sid = \"HX0123456789abcdef0123456789abcdef\"\n\
         content_variables = { \"1\" = \"body\", \"2\" = \"debtor_id\", \"3\" = \"date\" }",
    );
    let reminder = message(AWA, "2 500 XOF");
    channel.send(&reminder).await.unwrap();
    let request = &twilio.requests()[0];
    assert_eq!(request.field("Body"), None);
    assert_eq!(request.field("ContentSid"), Some("HX0123456789abcdef0123456789abcdef"));
    let variables: serde_json::Value = serde_json::from_str(request.field("ContentVariables").unwrap()).unwrap();
    assert_eq!(
        variables,
        serde_json::json!({"1": "2 500 XOF", "2": "C42", "3": reminder.at.format("%Y-%m-%d").to_string()})
    );
}

#[tokio::test]
async fn the_rate_limit_paces_sends() {
    let twilio = FakeTwilio::start().await;
    let channel: Arc<TwilioChannel> = Arc::new(sms(&twilio, "rate_per_second = 25.0\nmax_in_flight = 8"));
    let started = Instant::now();
    let sends: Vec<_> = (0..50)
        .map(|i| {
            let channel = channel.clone();
            tokio::spawn(async move { channel.send(&message(&format!("+2217700000{i:02}"), "Bonjour")).await })
        })
        .collect();
    for send in sends {
        send.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(twilio.created().len(), 50);
    // 49 intervals of 40 ms after the first: about 2 s.
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

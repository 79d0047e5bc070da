//! The fake Twilio itself: it must refuse what Twilio refuses and answer in Twilio's shapes,
//! or the channel tests built on it prove nothing.

use base64::Engine as _;
use rappel_twilio_fake::{FakeTwilio, Fault};
use serde_json::Value;
use std::io::{Read, Write};

fn url(twilio: &FakeTwilio) -> String {
    format!("{}{}", twilio.base_url(), twilio.messages_path())
}

async fn post(twilio: &FakeTwilio, user: &str, password: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url(twilio))
        .basic_auth(user, Some(password))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post_ok(twilio: &FakeTwilio, form: &[(&str, &str)]) -> (u16, Value) {
    post(twilio, twilio.account_sid(), twilio.auth_token(), form).await
}

#[tokio::test]
async fn wrong_credentials_get_twilio_error_20003() {
    let twilio = FakeTwilio::start().await;
    let form = [("To", "+221771234567"), ("From", "+221338000000"), ("Body", "x")];
    let (status, body) = post(&twilio, twilio.account_sid(), "wrong", &form).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 20003);
    assert_eq!(body["status"], 401);
    assert_eq!(body["more_info"], "https://www.twilio.com/docs/errors/20003");
    assert!(twilio.created().is_empty());
    assert_eq!(twilio.requests()[0].auth_user.as_deref(), Some(twilio.account_sid()));
    let (status, _) = post(&twilio, twilio.api_key(), twilio.api_key_secret(), &form).await;
    assert_eq!(status, 201, "API keys are accepted");
}

#[tokio::test]
async fn validates_the_form_like_twilio() {
    let twilio = FakeTwilio::start().await;
    let cases: [(&[(&str, &str)], u64); 5] = [
        (&[("From", "+221338000000"), ("Body", "x")], 21604),
        (&[("To", "+221771234567"), ("Body", "x")], 21603),
        (
            &[
                ("To", "+221771234567"),
                ("From", "+221338000000"),
                ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
                ("Body", "x"),
            ],
            21603,
        ),
        (&[("To", "+221771234567"), ("From", "+221338000000")], 21602),
        (&[("To", "771234567"), ("From", "+221338000000"), ("Body", "x")], 21211),
    ];
    for (form, code) in cases {
        let (status, body) = post_ok(&twilio, form).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(code)), "{form:?}");
    }
    assert!(twilio.created().is_empty());
}

#[tokio::test]
async fn answers_a_created_message_in_twilios_shape() {
    let twilio = FakeTwilio::start().await;
    let body = "Réf 17 • 2 500 XOF";
    let (status, json) = post_ok(
        &twilio,
        &[("To", "+221771234567"), ("From", "+221338000000"), ("Body", body)],
    )
    .await;
    assert_eq!(status, 201);
    let sid = json["sid"].as_str().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    assert_eq!(json["status"], "queued");
    assert_eq!(json["num_segments"], "1");
    assert_eq!(json["price"], Value::Null);
    assert_eq!(json["price_unit"], "USD");
    assert_eq!(json["error_code"], Value::Null);
    assert_eq!(json["account_sid"], twilio.account_sid());
    assert_eq!(json["api_version"], "2010-04-01");
    assert_eq!(json["body"], body);
    assert!(chrono::DateTime::parse_from_rfc2822(json["date_created"].as_str().unwrap()).is_ok());
    assert_eq!(twilio.created()[0].sid, sid);
}

#[tokio::test]
async fn lists_created_messages_by_recipient_and_day() {
    let twilio = FakeTwilio::start().await;
    for to in ["+221771234567", "+221781112233"] {
        post_ok(&twilio, &[("To", to), ("From", "+221338000000"), ("Body", "x")]).await;
    }
    let list = |query: String| {
        let url = format!("{}?{query}", url(&twilio));
        let (user, password) = (twilio.account_sid().to_string(), twilio.auth_token().to_string());
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .basic_auth(user, Some(password))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let today = chrono::Utc::now().date_naive();
    let page = list(format!("To=%2B221771234567&DateSent%3E={today}&PageSize=20")).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["to"], "+221771234567");
    assert_eq!(page["next_page_uri"], Value::Null);
    let tomorrow = today.succ_opt().unwrap();
    let page = list(format!("To=%2B221771234567&DateSent>={tomorrow}")).await;
    assert!(page["messages"].as_array().unwrap().is_empty());
    assert_eq!(
        twilio.requests().last().unwrap().param("DateSent>"),
        Some(tomorrow.to_string().as_str())
    );
}

#[tokio::test]
async fn faults_count_down_and_target_one_recipient() {
    let twilio = FakeTwilio::start().await;
    let form = |to: &'static str| [("To", to), ("From", "+221338000000"), ("Body", "x")];
    twilio.fault_for("+221771234567", Fault::Code(21610));
    twilio.set_fault(Fault::times(1, Fault::TooManyRequests { retry_after_secs: 3 }));
    assert_eq!(post_ok(&twilio, &form("+221771234567")).await.1["code"], 21610);
    let response = reqwest::Client::new()
        .post(url(&twilio))
        .basic_auth(twilio.account_sid(), Some(twilio.auth_token()))
        .form(&form("+221781112233"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    assert_eq!(post_ok(&twilio, &form("+221781112233")).await.0, 201);
    twilio.clear_fault();
    assert_eq!(post_ok(&twilio, &form("+221771234567")).await.0, 201);
}

#[test]
fn runs_in_the_background_for_synchronous_tests() {
    let twilio = FakeTwilio::start_in_background();
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", twilio.account_sid(), twilio.auth_token()));
    let mut stream = std::net::TcpStream::connect(twilio.addr()).unwrap();
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n",
        twilio.messages_path(),
        twilio.addr()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"messages\":[]"), "{answer}");
    drop(twilio);
}

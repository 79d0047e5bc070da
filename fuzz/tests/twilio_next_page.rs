//! Regression found while writing the `twilio_response` target: a lookup (`find_sent`)
//! follows Twilio's `next_page_uri` by pasting it after `base_url`, so an answer's
//! `next_page_uri` of `@other-host/…` (or `.other-host/…`) sends the next request, with the
//! account's Basic credentials, to another server. The lookup must stay on `base_url`'s
//! server. Fails until `channels/twilio/src/client.rs` (`Client::list`) joins the link to
//! `base_url` and refuses one that leaves its origin.

use rappel_channel_twilio::{TwilioChannel, TwilioConfig};
use rappel_core::{Channel, Medium, Message};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "tok_SECRET_next_page";

/// A server answering every request with `body`, keeping each request's head.
fn server(body: String) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            kept.lock().unwrap().push(head);
            let mut out = stream;
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn a_lookup_never_follows_next_page_uri_to_another_server() {
    let (other, other_seen) = server(r#"{"messages": [], "next_page_uri": null}"#.to_string());
    let link = format!("@127.0.0.1:{other}/stolen");
    let (twilio, _) = server(format!(r#"{{"messages": [], "next_page_uri": "{link}"}}"#));
    let config: TwilioConfig = toml::from_str(&format!(
        "account_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"{TOKEN}\"\n\
         from = \"+221770000000\"\nbase_url = \"http://127.0.0.1:{twilio}\"\nrate_per_second = 0.0\ntimeout = \"5s\"\n"
    ))
    .unwrap();
    let channel = TwilioChannel::new("sms", &config, Medium::Sms).unwrap();
    let at = chrono::Utc::now();
    let message = Message {
        at,
        reminder_id: Some(1),
        debtor_id: Some("1".into()),
        to: "+221771234567".into(),
        subject: None,
        body: "Bonjour".into(),
        html: None,
        vars: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = runtime.block_on(channel.find_sent(&message, at));
    let leaked = other_seen.lock().unwrap().clone();
    assert!(
        leaked.is_empty(),
        "the lookup followed next_page_uri to another server, credentials included: {leaked:?}"
    );
}

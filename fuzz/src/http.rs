//! Targets that need an HTTP answer: the HTTP source's JSON pages and Twilio's answers to
//! a send and to a lookup, each served by a local server (the parsers are private; this
//! is the path a real answer takes).

use crate::server::{Answer, Server};
use crate::text::{SECRET, exclusive, options};
use rappel_channel_twilio::{TwilioChannel, TwilioConfig};
use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use rappel_core::{Channel, Medium, Message, Source};
use serde_json::Value;
use std::error::Error;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

struct Place {
    server: Server,
    runtime: tokio::runtime::Runtime,
}

fn place() -> &'static Place {
    static PLACE: OnceLock<Place> = OnceLock::new();
    PLACE.get_or_init(|| Place {
        server: Server::start(),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
    })
}

/// An error with its causes, and its `Debug` form: everything a log line could show.
fn everything(error: &(dyn Error + 'static)) -> String {
    let mut text = format!("{error} {error:?}");
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(&format!(": {e} {e:?}"));
        cause = e.source();
    }
    text
}

const STATUSES: [u16; 8] = [200, 201, 400, 401, 404, 429, 500, 503];

/// A page body under options: bit 0 `items_pointer = ""`, bit 1 `next_link` pagination,
/// bits 2–4 the status. Every array entry is an item or a rejection, once; errors never
/// show the bearer token; the token is sent.
pub fn http_page(data: &[u8]) {
    let _only = exclusive();
    let (opt, body) = options(data);
    let place = place();
    let status = STATUSES[usize::from(opt >> 2) % STATUSES.len()];
    place.server.answer(Answer {
        status,
        content_type: "application/json",
        body: body.to_vec(),
    });
    let pointer = if opt & 1 == 1 { "" } else { "/items" };
    let pagination = if opt & 2 == 2 { "next_link" } else { "none" };
    let text = format!(
        "[channels.sms]\nkind = \"console\"\n[source]\nkind = \"http\"\nurl = \"{}/debts\"\n\
         bearer_token = \"${{API_TOKEN}}\"\nretries = 0\ntimeout = \"10s\"\nitems_pointer = \"{pointer}\"\n\
         pagination = \"{pagination}\"\n",
        place.server.url()
    );
    let env = |name: &str| (name == "API_TOKEN").then(|| SECRET.to_string());
    let config = Config::parse(&text, Path::new("/fuzz/rappel.toml"), &env).expect("the config parses");
    let ctx = BuildContext {
        config: &config,
        component: &config.source,
        name: "source",
        stdout_is_data: false,
    };
    let source: Box<dyn Source> = rappel_source_http::build(&ctx).expect("the source builds");
    let result = place.runtime.block_on(source.load());
    let requests = place.server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.contains(&format!("authorization: Bearer {SECRET}"))
                || r.contains(&format!("Authorization: Bearer {SECRET}"))),
        "a request without the token: {requests:?}"
    );
    // A page that holds the token itself (a value the server sent back) may be quoted: that
    // is the server's data, not rappel showing its configuration.
    let echoed = body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
    match result {
        Ok(batch) => {
            assert!((200..300).contains(&status), "HTTP {status} was read as a page");
            let json: Value = serde_json::from_slice(body).expect("a page that was read is JSON");
            if pagination == "none" {
                let listed = json
                    .pointer(pointer)
                    .and_then(Value::as_array)
                    .expect("an array at items_pointer")
                    .len();
                assert_eq!(batch.items.len() + batch.rejected.len(), listed, "every entry once");
            }
            for row in &batch.rejected {
                assert!(
                    echoed || !row.to_string().contains(SECRET),
                    "a rejection shows the token: {row}"
                );
            }
        }
        Err(e) => {
            let shown = everything(&e);
            assert!(echoed || !shown.contains(SECRET), "the error shows the token: {shown}");
            assert!(shown.starts_with("page "), "the error does not say which page: {shown}");
        }
    }
}

fn twilio(place: &Place, medium: Medium) -> &'static TwilioChannel {
    static CHANNELS: OnceLock<[TwilioChannel; 2]> = OnceLock::new();
    let channels = CHANNELS.get_or_init(|| {
        let make = |medium| {
            let config: TwilioConfig = toml::from_str(&format!(
                "account_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"{SECRET}\"\n\
                 from = \"+221770000000\"\nbase_url = \"{}\"\nrate_per_second = 0.0\ntimeout = \"10s\"\n",
                place.server.url()
            ))
            .expect("the channel config parses");
            TwilioChannel::new("sms", &config, medium)
                .expect("the channel builds")
                .with_queue_full_pause(Duration::ZERO)
        };
        [make(Medium::Sms), make(Medium::Whatsapp)]
    });
    &channels[usize::from(medium == Medium::Whatsapp)]
}

/// Twilio's answer under options: bits 0–2 the status, bit 3 WhatsApp, bit 4 a lookup
/// (`find_sent`) instead of a send. Only a 2xx answer is a success; a JSON object's `sid`
/// becomes the provider id; no error shows the auth token.
pub fn twilio_response(data: &[u8]) {
    let _only = exclusive();
    let (opt, body) = options(data);
    let place = place();
    let status = STATUSES[usize::from(opt) % STATUSES.len()];
    let medium = if opt & 8 == 8 { Medium::Whatsapp } else { Medium::Sms };
    place.server.answer(Answer {
        status,
        content_type: "application/json",
        body: body.to_vec(),
    });
    let channel = twilio(place, medium);
    let at = chrono::DateTime::parse_from_rfc3339("2025-12-01T10:00:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let message = Message {
        at,
        reminder_id: Some(7),
        debtor_id: Some("1".into()),
        to: "+221771234567".into(),
        subject: None,
        body: "Bonjour Haziza Apple".into(),
        html: None,
        vars: Default::default(),
    };
    let json: Option<Value> = serde_json::from_slice(body).ok();
    // A body that holds the token itself may be quoted back; any other mention is a leak.
    let echoed = body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
    if opt & 16 == 16 {
        match place.runtime.block_on(channel.find_sent(&message, at)) {
            Ok(_) => assert!((200..300).contains(&status), "HTTP {status} was read as a list"),
            Err(e) => {
                let shown = everything(&e);
                assert!(echoed || !shown.contains(SECRET), "the error shows the token: {shown}");
            }
        }
        return;
    }
    match place.runtime.block_on(channel.send(&message)) {
        Ok(delivery) => {
            assert!((200..300).contains(&status), "HTTP {status} was taken for a send");
            let sid = json.as_ref().and_then(|j| j.get("sid")).and_then(Value::as_str);
            if let Some(sid) = sid {
                assert_eq!(delivery.provider_id.as_deref(), Some(sid));
            }
        }
        Err(e) => {
            let shown = everything(&e);
            assert!(echoed || !shown.contains(SECRET), "the error shows the token: {shown}");
            assert!(!e.message.trim().is_empty(), "an error without a message");
        }
    }
    let requests = place.server.requests();
    assert!(requests.len() <= 1, "the channel retried by itself: {requests:?}");
}

//! The channels as rappel builds them from `rappel.toml`: both kinds register, their keys
//! parse, bad tables give errors that name the key, and the token never shows.

use rappel_channel_twilio::{SMS_KIND, TwilioChannel, TwilioConfig, WHATSAPP_KIND, build_sms, build_whatsapp};
use rappel_core::Medium;
use rappel_core::config::Config;
use rappel_core::registry::Registry;
use std::path::Path;

const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn env(name: &str) -> Option<String> {
    match name {
        "TWILIO_ACCOUNT_SID" => Some(SID.into()),
        "TWILIO_AUTH_TOKEN" => Some(TOKEN.into()),
        "TWILIO_FROM" => Some("+221338000000".into()),
        _ => None,
    }
}

fn load(channels: &str) -> Config {
    let text = format!("[source]\nkind = \"csv\"\npath = \"debts.csv\"\n\n{channels}");
    Config::parse(&text, Path::new("rappel.toml"), &env).expect("config parses")
}

fn registry() -> Registry {
    Registry::new()
        .channel(SMS_KIND, build_sms)
        .channel(WHATSAPP_KIND, build_whatsapp)
}

#[test]
fn both_kinds_build_from_the_reference_keys() {
    let config = load(
        r#"
[channels.sms]
kind = "twilio-sms"
account_sid = "${TWILIO_ACCOUNT_SID}"
auth_token = "${TWILIO_AUTH_TOKEN}"
from = "${TWILIO_FROM}"
status_callback = "https://shop.example/twilio/status"
rate_per_second = 1.0
max_in_flight = 2
timeout = "15s"
price_per_segment = 0.0075
price_currency = "USD"
transliterate = true
base_url = "https://api.twilio.com"

[channels.whatsapp]
kind = "twilio-whatsapp"
account_sid = "${TWILIO_ACCOUNT_SID}"
auth_token = "${TWILIO_AUTH_TOKEN}"
from = "whatsapp:+14155238886"
content_sid = "HX0123456789abcdef0123456789abcdef"
content_variables = { "1" = "body" }
"#,
    );
    let channels = registry().build_channels(&config, false).expect("channels build");
    let sms = &channels["sms"];
    assert_eq!(sms.medium(), Medium::Sms);
    assert_eq!(sms.max_in_flight(), 2);
    let estimate = sms.estimate("Réf 17 • Échéance").unwrap();
    assert_eq!(estimate.body, "Réf 17 - Échéance");
    assert_eq!(
        (estimate.encoding.as_str(), estimate.cost_micros),
        ("GSM-7", Some(7_500))
    );
    let whatsapp = &channels["whatsapp"];
    assert_eq!(whatsapp.medium(), Medium::Whatsapp);
    assert_eq!(whatsapp.max_in_flight(), 4);
}

#[test]
fn bad_tables_name_their_keys_and_never_the_token() {
    let config = load(&format!(
        r#"
[channels.sms]
kind = "twilio-sms"
account_sid = "{TOKEN}"
auth_token = "{TOKEN}"
from = "+221338000000"
messaging_service_sid = "MG0123456789abcdef0123456789abcdef"
rate_per_second = -2.0
base_url = "not a url"

[channels.whatsapp]
kind = "twilio-whatsapp"
account_sid = "{SID}"
from = "+14155238886"

[channels.typo]
kind = "twilio-sms"
account_sid = "{SID}"
auth_token = "{TOKEN}"
from = "+221338000000"
colour = "blue"
"#
    ));
    let errors = registry().build_channels(&config, false).err().expect("refused");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{text:#?}");
    for line in &text {
        assert!(!line.contains(TOKEN), "token shown: {line}");
    }
    let sms = text.iter().find(|l| l.starts_with("channels.sms")).unwrap();
    for key in ["account_sid", "from", "rate_per_second", "base_url"] {
        assert!(sms.contains(key), "{sms}");
    }
    let whatsapp = text.iter().find(|l| l.starts_with("channels.whatsapp")).unwrap();
    assert!(
        whatsapp.starts_with("channels.whatsapp.auth_token: missing credentials"),
        "{whatsapp}"
    );
    let typo = text.iter().find(|l| l.starts_with("channels.typo")).unwrap();
    assert!(typo.contains("colour"), "{typo}");
}

#[test]
fn debug_output_redacts_the_token() {
    for (medium, from) in [(Medium::Sms, "+221338000000"), (Medium::Whatsapp, "+14155238886")] {
        let config: TwilioConfig = toml::from_str(&format!(
            "account_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\nfrom = \"{from}\""
        ))
        .unwrap();
        let channel = TwilioChannel::new("sms", &config, medium).unwrap();
        let debug = format!("{config:?} {channel:?} {channel:#?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
        assert!(debug.contains(SID));
    }
}

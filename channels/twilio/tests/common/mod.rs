//! Helpers shared by the Twilio channel tests: a channel pointed at a fake Twilio, and
//! messages to send.
#![allow(dead_code)]

use rappel_channel_twilio::{TwilioChannel, TwilioConfig};
use rappel_core::{Medium, Message};
use rappel_twilio_fake::FakeTwilio;

/// The SMS sender used by the tests.
pub const FROM: &str = "+221338000000";
/// The WhatsApp sender used by the tests.
pub const WA_FROM: &str = "+14155238886";
/// A Senegalese mobile number.
pub const AWA: &str = "+221771234567";
/// Another one.
pub const MODOU: &str = "+221781112233";

/// The channel's table: credentials and address of `fake`, no rate limit, then `extra`
/// (whose keys win).
pub fn config(fake: &FakeTwilio, extra: &str) -> TwilioConfig {
    let mut table: toml::Table = format!(
        "account_sid = \"{}\"\nauth_token = \"{}\"\nbase_url = \"{}\"\nrate_per_second = 0\n",
        fake.account_sid(),
        fake.auth_token(),
        fake.base_url()
    )
    .parse()
    .unwrap();
    let extra: toml::Table = extra.parse().expect("extra config is TOML");
    table.extend(extra);
    table.try_into().expect("config parses")
}

/// An SMS channel sending from [`FROM`] to `fake`, with `extra` keys.
pub fn sms(fake: &FakeTwilio, extra: &str) -> TwilioChannel {
    let extra = if extra.contains("messaging_service_sid") || extra.contains("from =") {
        extra.to_string()
    } else {
        format!("from = \"{FROM}\"\n{extra}")
    };
    TwilioChannel::new("sms", &config(fake, &extra), Medium::Sms).expect("valid SMS config")
}

/// A WhatsApp channel sending from [`WA_FROM`] to `fake`, with `extra` keys.
pub fn whatsapp(fake: &FakeTwilio, extra: &str) -> TwilioChannel {
    let extra = format!("from = \"{WA_FROM}\"\n{extra}");
    TwilioChannel::new("whatsapp", &config(fake, &extra), Medium::Whatsapp).expect("valid WhatsApp config")
}

/// A reminder to `to`.
pub fn message(to: &str, body: &str) -> Message {
    Message {
        at: chrono::Utc::now(),
        reminder_id: Some(7),
        debtor_id: Some("C42".into()),
        to: to.into(),
        subject: None,
        body: body.into(),
        html: None,
        vars: Default::default(),
    }
}

/// The reminder text the users approved (DESIGN.md), for Fa Guité.
pub const APPROVED: &str = "Bonjour Fa Guité,\n\nNous vous informons que certaines créances ont dépassé leur date \
d'échéance :\n\nFactures en retard:\n - Facture FAC-0042 • Échéance: 2025-11-20 • Restant: 2 500 XOF\n\n\
Créances manuelles en retard:\n - Réf 17 • Échéance: 2025-11-02 • Restant: 235 000 XOF\n\n\
Merci de régulariser votre situation dans les meilleurs délais.";

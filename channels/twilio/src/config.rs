//! The `[channels.NAME]` table of the Twilio channels: plain data whose fields' docs are
//! the user documentation. `settings.rs` validates it.

use rappel_core::config::Interval;
use rappel_core::secret::Secret;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// `[channels.NAME] kind = "twilio-sms"` or `kind = "twilio-whatsapp"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// Your Twilio account SID, `AC` followed by 32 hex digits (usually
    /// `"${TWILIO_ACCOUNT_SID}"`). Required.
    pub account_sid: String,
    /// The account's auth token (usually `"${TWILIO_AUTH_TOKEN}"`). Never printed. Give
    /// either this or `api_key_sid` + `api_key_secret`.
    #[serde(default, deserialize_with = "secret")]
    pub auth_token: Option<Secret>,
    /// An API key SID (`SK…`), used with `api_key_secret` instead of `auth_token`.
    #[serde(default)]
    pub api_key_sid: Option<String>,
    /// The secret of `api_key_sid`. Never printed.
    #[serde(default, deserialize_with = "secret")]
    pub api_key_secret: Option<Secret>,
    /// The sender: a Twilio number in E.164 (`"+221…"`, usually `"${TWILIO_FROM}"`) or, for
    /// SMS, an alphanumeric sender ID of at most 11 characters. For WhatsApp, `"+221…"` and
    /// `"whatsapp:+221…"` are both accepted (the prefix is added when missing). Give exactly
    /// one of `from` and `messaging_service_sid`.
    #[serde(default)]
    pub from: Option<String>,
    /// A Messaging Service SID (`MG…`) that picks the sender, instead of `from`.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// A URL Twilio calls with each status change (sent, delivered, failed…), sent as
    /// `StatusCallback` with `reminder=<id>` added to its query (the message's reminder in
    /// the ledger). Optional.
    #[serde(default)]
    pub status_callback: Option<String>,
    /// Requests per second sent to Twilio by this channel (one sender). Twilio long codes
    /// send about 1 segment per second and queue the rest. `0` means no limit (benchmarks).
    /// Default `1.0`.
    #[serde(default = "default_rate")]
    pub rate_per_second: f64,
    /// Sends in flight at once on this channel. Default `4`.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// How long one request to Twilio may take (`"15s"`, `"1m"` or seconds). A send that
    /// times out after the request left is recorded as `unknown`, never blindly retried.
    /// Default `"15s"`.
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
    /// The price of one SMS segment (of one WhatsApp message), for cost estimates. Default
    /// `0.0075`.
    #[serde(default = "default_price")]
    pub price_per_segment: f64,
    /// The currency of `price_per_segment` (ISO 4217). Default `"USD"`.
    #[serde(default = "default_currency")]
    pub price_currency: String,
    /// Replace characters outside the GSM-7 alphabet (`ê`, `•`, `’`, non-breaking spaces…)
    /// by their closest GSM-7 form before sending, so that a message costs 160 characters
    /// per segment instead of 70. Never makes a message cost more. Default `false`.
    #[serde(default)]
    pub transliterate: bool,
    /// Twilio's API address; change it only for tests. Default `"https://api.twilio.com"`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// WhatsApp only: an approved Content template (`HX…`) sent instead of the rendered
    /// body. Needed to write to a client outside WhatsApp's 24-hour customer-service window.
    #[serde(default)]
    pub content_sid: Option<String>,
    /// WhatsApp only, with `content_sid`: the template's variables, each taken from a field
    /// of the message: `{ "1" = "name", "2" = "total" }`. Known fields: `name`, `total`
    /// (`127 000 XOF`), `item_count`, `reminder_number`, `oldest_due_date`, `body` (the rendered
    /// text), `to`, `debtor_id`, `reminder_id`, `date` (the check's date, `YYYY-MM-DD`).
    #[serde(default)]
    pub content_variables: BTreeMap<String, String>,
}

fn default_rate() -> f64 {
    1.0
}
fn default_max_in_flight() -> usize {
    4
}
fn default_timeout() -> Interval {
    Interval(Duration::from_secs(15))
}
fn default_price() -> f64 {
    0.0075
}
fn default_currency() -> String {
    "USD".into()
}
fn default_base_url() -> String {
    "https://api.twilio.com".into()
}

/// Reads a secret without ever echoing its value, even when it has the wrong type.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(Some(Secret::new(s))),
        _ => Err(serde::de::Error::custom(
            "expected a string in quotes (value not shown)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "tok_very_secret_4242";

    fn parse(extra: &str) -> TwilioConfig {
        toml::from_str(&format!("account_sid = \"{SID}\"\n{extra}")).unwrap()
    }

    #[test]
    fn defaults() {
        let c = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"+221771234567\""));
        assert_eq!(c.rate_per_second, 1.0);
        assert_eq!(c.max_in_flight, 4);
        assert_eq!(c.timeout.0, Duration::from_secs(15));
        assert_eq!(c.price_per_segment, 0.0075);
        assert_eq!(c.price_currency, "USD");
        assert!(!c.transliterate);
        assert_eq!(c.base_url, "https://api.twilio.com");
        assert!(c.content_sid.is_none() && c.content_variables.is_empty());
        assert!(!format!("{c:?}").contains(TOKEN));
    }

    #[test]
    fn refuses_unknown_keys_and_shows_no_secret_of_the_wrong_type() {
        assert!(toml::from_str::<TwilioConfig>(&format!("account_sid = \"{SID}\"\nauth_tokn = \"x\"")).is_err());
        // As rappel reads it: the table first, then the channel's typed config.
        let table: toml::Table = format!("account_sid = \"{SID}\"\nauth_token = 987654321")
            .parse()
            .unwrap();
        let e = table.try_into::<TwilioConfig>().unwrap_err().to_string();
        assert!(!e.contains("987654321"), "{e}");
    }
}

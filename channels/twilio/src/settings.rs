//! Validation of a [`TwilioConfig`] into the [`Settings`] a channel runs with: every
//! problem is collected, none echoes a secret.

use crate::config::TwilioConfig;
use rappel_core::Medium;
use rappel_core::secret::Secret;
use std::time::Duration;

/// One problem in a [`TwilioConfig`]: the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key inside the channel's table (`from`), or empty for the whole table.
    pub key: &'static str,
    /// What is wrong and what was expected. Never contains a secret.
    pub message: String,
}

/// How the channel proves who it is.
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    /// The Basic user: the account SID or the API key SID.
    pub user: String,
    pub secret: Secret,
    /// Which keys to name when Twilio refuses them.
    pub api_key: bool,
}

/// Who sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sender {
    /// `From`, already `whatsapp:`-prefixed for WhatsApp.
    From(String),
    /// `MessagingServiceSid`.
    Service(String),
}

/// A field of the message a template variable is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Body,
    To,
    DebtorId,
    ReminderId,
    Date,
    /// One of the reminder's values (`Message::vars`).
    Var(&'static str),
}

const FIELDS: &str =
    "body, to, debtor_id, reminder_id, date, name, total, item_count, reminder_number, oldest_due_date";

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "body" => Self::Body,
            "to" => Self::To,
            "debtor_id" => Self::DebtorId,
            "reminder_id" => Self::ReminderId,
            "date" => Self::Date,
            "name" => Self::Var("name"),
            "total" => Self::Var("total"),
            "item_count" => Self::Var("item_count"),
            "reminder_number" => Self::Var("reminder_number"),
            "oldest_due_date" => Self::Var("oldest_due_date"),
            _ => return None,
        })
    }
}

/// An approved WhatsApp template and where its variables come from.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub sid: String,
    pub variables: Vec<(String, Field)>,
}

/// A validated config: what a channel runs with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub medium: Medium,
    pub account_sid: String,
    pub auth: Auth,
    pub sender: Sender,
    pub status_callback: Option<String>,
    /// `None`: no limit.
    pub rate_per_second: Option<f64>,
    pub max_in_flight: usize,
    pub timeout: Duration,
    pub price_micros: i64,
    pub price_currency: String,
    pub transliterate: bool,
    /// Without a trailing `/`.
    pub base_url: String,
    pub content: Option<Content>,
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Describes a value that should have been a SID without echoing it whole (it might be a
/// token pasted in the wrong place).
fn not_a_sid(value: &str, prefix: &str, what: &str) -> String {
    let start: String = value.chars().take(2).collect();
    format!(
        "expected {what}: \"{prefix}\" followed by 32 hex digits (found {} characters starting with \"{start}\")",
        value.chars().count()
    )
}

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn is_e164(value: &str) -> bool {
    value
        .strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()))
}

impl TwilioConfig {
    /// Checks every key for `medium` (SMS or WhatsApp), reporting every problem at once.
    pub(crate) fn validate(&self, medium: Medium) -> Result<Settings, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |key: &'static str, message: String| problems.push(Problem { key, message });
        let whatsapp = medium == Medium::Whatsapp;

        let account_sid = self.account_sid.trim().to_string();
        if account_sid.is_empty() {
            problem(
                "account_sid",
                "is empty: set it to your account SID, e.g. account_sid = \"${TWILIO_ACCOUNT_SID}\"".into(),
            );
        } else if !is_sid(&account_sid, "AC") {
            problem("account_sid", not_a_sid(&account_sid, "AC", "an account SID"));
        }

        let token = self.auth_token.clone().filter(|t| !t.is_empty());
        let key_secret = self.api_key_secret.clone().filter(|t| !t.is_empty());
        let auth = match (token, blank(&self.api_key_sid), key_secret) {
            (Some(secret), None, None) => Some(Auth {
                user: account_sid.clone(),
                secret,
                api_key: false,
            }),
            (None, Some(key), Some(secret)) => {
                if !is_sid(key, "SK") {
                    problem("api_key_sid", not_a_sid(key, "SK", "an API key SID"));
                }
                Some(Auth {
                    user: key.to_string(),
                    secret,
                    api_key: true,
                })
            }
            (None, None, None) => {
                problem(
                    "auth_token",
                    "missing credentials: set auth_token = \"${TWILIO_AUTH_TOKEN}\", or api_key_sid and \
                     api_key_secret"
                        .into(),
                );
                None
            }
            (Some(_), _, _) => {
                problem(
                    "auth_token",
                    "give either auth_token or api_key_sid + api_key_secret, not both".into(),
                );
                None
            }
            (None, Some(_), None) => {
                problem("api_key_secret", "missing: api_key_sid needs its api_key_secret".into());
                None
            }
            (None, None, Some(_)) => {
                problem(
                    "api_key_sid",
                    "missing: api_key_secret needs its api_key_sid (SK…)".into(),
                );
                None
            }
        };

        let sender = match (blank(&self.from), blank(&self.messaging_service_sid)) {
            (Some(_), Some(_)) => {
                problem("from", "give either from or messaging_service_sid, not both".into());
                None
            }
            (None, None) => {
                problem(
                    "from",
                    "missing sender: set from = \"${TWILIO_FROM}\" (a Twilio number) or messaging_service_sid = \"MG…\""
                        .into(),
                );
                None
            }
            (None, Some(service)) => {
                if !is_sid(service, "MG") {
                    problem(
                        "messaging_service_sid",
                        not_a_sid(service, "MG", "a Messaging Service SID"),
                    );
                }
                Some(Sender::Service(service.to_string()))
            }
            (Some(from), None) if whatsapp => {
                let number = from.strip_prefix("whatsapp:").unwrap_or(from);
                if !is_e164(number) {
                    problem(
                        "from",
                        format!(
                            "\"{from}\" is not a WhatsApp sender: expected \"whatsapp:+\" or \"+\" and the number in E.164"
                        ),
                    );
                }
                Some(Sender::From(format!("whatsapp:{number}")))
            }
            (Some(from), None) => {
                let alphanumeric = from.len() <= 11
                    && from.chars().any(|c| c.is_ascii_alphabetic())
                    && from.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
                if !(is_e164(from) || alphanumeric) {
                    problem(
                        "from",
                        format!(
                            "\"{from}\" is not an SMS sender: expected a number in E.164 (\"+221…\") or an \
                             alphanumeric sender ID of at most 11 letters and digits"
                        ),
                    );
                }
                Some(Sender::From(from.to_string()))
            }
        };

        let status_callback = blank(&self.status_callback).map(str::to_string);
        if let Some(url) = &status_callback
            && !is_http_url(url)
        {
            problem("status_callback", format!("\"{url}\" is not an http(s) URL"));
        }

        let base_url = self.base_url.trim().trim_end_matches('/').to_string();
        if !is_http_url(&base_url) {
            problem(
                "base_url",
                format!("\"{base_url}\" is not an http(s) URL (expected e.g. \"https://api.twilio.com\")"),
            );
        }

        let rate = self.rate_per_second;
        if !rate.is_finite() || rate < 0.0 {
            problem(
                "rate_per_second",
                format!("{rate} is not a rate: expected a number of requests per second ≥ 0 (0 = no limit)"),
            );
        }
        if self.max_in_flight == 0 {
            problem("max_in_flight", "must be at least 1".into());
        }
        let price = self.price_per_segment;
        if !price.is_finite() || !(0.0..=1000.0).contains(&price) {
            problem("price_per_segment", format!("{price} is not a price ≥ 0"));
        }
        let currency = self.price_currency.trim().to_string();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            problem(
                "price_currency",
                format!("\"{currency}\" is not an ISO 4217 code such as \"USD\""),
            );
        }

        let content = match blank(&self.content_sid) {
            Some(_) if !whatsapp => {
                problem("content_sid", "is for kind = \"twilio-whatsapp\" only".into());
                None
            }
            Some(sid) => {
                if !is_sid(sid, "HX") {
                    problem("content_sid", not_a_sid(sid, "HX", "a Content template SID"));
                }
                let mut variables = Vec::new();
                for (key, field) in &self.content_variables {
                    match Field::parse(field.trim()) {
                        Some(f) => variables.push((key.clone(), f)),
                        None => problem(
                            "content_variables",
                            format!(
                                "\"{key}\" = \"{field}\": unknown message field, expected one of: {FIELDS} (the \
                                 client's name and total are only in the rendered body for now)"
                            ),
                        ),
                    }
                }
                Some(Content {
                    sid: sid.to_string(),
                    variables,
                })
            }
            None => {
                if !self.content_variables.is_empty() {
                    problem(
                        "content_variables",
                        "needs content_sid (an approved template \"HX…\")".into(),
                    );
                }
                None
            }
        };

        match (auth, sender) {
            (Some(auth), Some(sender)) if problems.is_empty() => Ok(Settings {
                medium,
                account_sid,
                auth,
                sender,
                status_callback,
                rate_per_second: (rate > 0.0).then_some(rate),
                max_in_flight: self.max_in_flight,
                timeout: self.timeout.0,
                // The only float arithmetic on prices: later costs are integer micros.
                price_micros: (price * 1_000_000.0).round() as i64,
                price_currency: currency,
                transliterate: self.transliterate,
                base_url,
                content,
            }),
            _ => Err(problems),
        }
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "tok_very_secret_4242";

    fn parse(extra: &str) -> TwilioConfig {
        toml::from_str(&format!("account_sid = \"{SID}\"\n{extra}")).unwrap()
    }

    fn keys(result: Result<Settings, Vec<Problem>>) -> Vec<&'static str> {
        result.err().unwrap().iter().map(|p| p.key).collect()
    }

    #[test]
    fn sms_settings() {
        let c = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"+221771234567\""));
        let s = c.validate(Medium::Sms).unwrap();
        assert_eq!(s.price_micros, 7_500);
        assert_eq!(s.rate_per_second, Some(1.0));
        assert_eq!(s.timeout, Duration::from_secs(15));
        assert_eq!(s.sender, Sender::From("+221771234567".into()));
        assert_eq!(s.auth.user, SID);
        assert!(!format!("{s:?}").contains(TOKEN));
    }

    #[test]
    fn whatsapp_sender_gets_its_prefix() {
        let c = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"+14155238886\""));
        assert_eq!(
            c.validate(Medium::Whatsapp).unwrap().sender,
            Sender::From("whatsapp:+14155238886".into())
        );
        let c = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"whatsapp:+14155238886\""));
        assert_eq!(
            c.validate(Medium::Whatsapp).unwrap().sender,
            Sender::From("whatsapp:+14155238886".into())
        );
        let c = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"BOUTIQUE\""));
        assert_eq!(keys(c.validate(Medium::Whatsapp)), ["from"]);
        assert!(
            c.validate(Medium::Sms).is_ok(),
            "alphanumeric sender IDs are fine for SMS"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let c: TwilioConfig = toml::from_str(
            "account_sid = \"XX123\"\nrate_per_second = -1.0\nbase_url = \"ftp:/nowhere\"\nprice_currency = \"usd\"",
        )
        .unwrap();
        assert_eq!(
            keys(c.validate(Medium::Sms)),
            [
                "account_sid",
                "auth_token",
                "from",
                "base_url",
                "rate_per_second",
                "price_currency"
            ]
        );
    }

    #[test]
    fn sender_must_be_exactly_one() {
        let both = parse(&format!(
            "auth_token = \"{TOKEN}\"\nfrom = \"+221771234567\"\nmessaging_service_sid = \"MG0123456789abcdef0123456789abcdef\""
        ));
        assert_eq!(keys(both.validate(Medium::Sms)), ["from"]);
        let service = parse(&format!(
            "auth_token = \"{TOKEN}\"\nmessaging_service_sid = \"MG0123456789abcdef0123456789abcdef\""
        ));
        assert!(matches!(
            service.validate(Medium::Sms).unwrap().sender,
            Sender::Service(_)
        ));
    }

    #[test]
    fn credentials() {
        let key = parse(&format!(
            "api_key_sid = \"SK0123456789abcdef0123456789abcdef\"\napi_key_secret = \"{TOKEN}\"\nfrom = \"+221771234567\""
        ));
        let s = key.validate(Medium::Sms).unwrap();
        assert!(s.auth.api_key);
        assert!(s.auth.user.starts_with("SK"));
        let half = parse("api_key_sid = \"SK0123456789abcdef0123456789abcdef\"\nfrom = \"+221771234567\"");
        assert_eq!(keys(half.validate(Medium::Sms)), ["api_key_secret"]);
        let both = parse(&format!(
            "auth_token = \"{TOKEN}\"\napi_key_sid = \"SK0123456789abcdef0123456789abcdef\"\napi_key_secret = \"x\"\nfrom = \"+221771234567\""
        ));
        assert_eq!(keys(both.validate(Medium::Sms)), ["auth_token"]);
        let pasted = parse(&format!("auth_token = \"{TOKEN}\"\nfrom = \"+221771234567\""));
        let mut pasted = pasted;
        pasted.account_sid = TOKEN.into();
        let problems = pasted.validate(Medium::Sms).unwrap_err();
        assert!(!format!("{problems:?}").contains(TOKEN), "{problems:?}");
    }

    #[test]
    fn content_template_is_for_whatsapp_and_known_fields() {
        let c = parse(&format!(
            "auth_token = \"{TOKEN}\"\nfrom = \"+14155238886\"\ncontent_sid = \"HX0123456789abcdef0123456789abcdef\"\n\
             content_variables = {{ \"1\" = \"body\", \"2\" = \"date\" }}"
        ));
        let s = c.validate(Medium::Whatsapp).unwrap();
        let content = s.content.unwrap();
        assert_eq!(
            content.variables,
            [("1".to_string(), Field::Body), ("2".to_string(), Field::Date)]
        );
        assert_eq!(keys(c.validate(Medium::Sms)), ["content_sid"]);
        let unknown = parse(&format!(
            "auth_token = \"{TOKEN}\"\nfrom = \"+14155238886\"\ncontent_sid = \"HX0123456789abcdef0123456789abcdef\"\n\
             content_variables = {{ \"1\" = \"nom\" }}"
        ));
        assert_eq!(keys(unknown.validate(Medium::Whatsapp)), ["content_variables"]);
    }

    #[test]
    fn rate_zero_means_no_limit_and_timeout_parses() {
        let c = parse(&format!(
            "auth_token = \"{TOKEN}\"\nfrom = \"+221771234567\"\nrate_per_second = 0\ntimeout = \"2m\""
        ));
        let s = c.validate(Medium::Sms).unwrap();
        assert_eq!(s.rate_per_second, None);
        assert_eq!(s.timeout, Duration::from_secs(120));
    }
}

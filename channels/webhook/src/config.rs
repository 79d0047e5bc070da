//! The plugin's options (`[channels.NAME.options]`), checked once at start-up.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[channels.NAME.options]` of a webhook channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Where each message is POSTed, e.g. `"http://127.0.0.1:8081/send"`. Only `http://`:
    /// put a TLS-terminating proxy in front of an `https://` service.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>` when set. Never logged.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// When set, the body is signed: `<signature_header>: sha256=<hex HMAC-SHA256(secret,
    /// body)>`. Never logged.
    #[serde(default)]
    pub secret: Option<String>,
    /// The signature's header name.
    #[serde(default = "default_signature_header")]
    pub signature_header: String,
    /// How long to wait for the connection, and for each read or write: `"10s"`,
    /// `"500ms"`, `"1m"`, or a number of seconds.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// Extra request headers (an API key header, for instance).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_signature_header() -> String {
    "X-Rappel-Signature".into()
}

/// A timeout written as text (`"10s"`) or seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Timeout {
    /// Seconds.
    Seconds(u64),
    /// `"500ms"`, `"10s"`, `"1m"`.
    Text(String),
}

/// The timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Timeout {
    /// The duration, or what was expected.
    pub fn duration(&self) -> Result<Duration, String> {
        let parsed = match self {
            Self::Seconds(s) => Some(Duration::from_secs(*s)),
            Self::Text(text) => {
                let text = text.trim();
                let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
                let (number, unit) = text.split_at(digits);
                number.parse::<u64>().ok().and_then(|n| match unit.trim() {
                    "ms" => Some(Duration::from_millis(n)),
                    "" | "s" => Some(Duration::from_secs(n)),
                    "m" => Some(Duration::from_secs(n * 60)),
                    _ => None,
                })
            }
        };
        match parsed {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(format!(
                "timeout: {self:?} is not a duration, expected e.g. \"10s\", \"500ms\" or \"1m\""
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_with_defaults() {
        let o: Options = serde_json::from_str(r#"{"url":"http://127.0.0.1:9/x","timeout":"500ms"}"#).unwrap();
        assert_eq!(o.signature_header, "X-Rappel-Signature");
        assert_eq!(o.timeout.unwrap().duration().unwrap(), Duration::from_millis(500));
        assert_eq!(Timeout::Seconds(3).duration().unwrap(), Duration::from_secs(3));
        assert!(Timeout::Text("soon".into()).duration().is_err());
        assert!(serde_json::from_str::<Options>(r#"{"url":"x","tokn":"y"}"#).is_err());
    }
}

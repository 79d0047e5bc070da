//! The API's URL: checked when the config is read, and shown in messages and logs without
//! credentials (no `user:password@`, and no value of a `token`, `key`… query parameter).

use reqwest::Url;
use serde::{Deserialize, Deserializer, de};
use std::fmt;

/// An `http://` or `https://` URL. Its `Debug` is [`ApiUrl::shown`].
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUrl(pub Url);

impl ApiUrl {
    /// Parses a URL written in the config.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match Url::parse(raw.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(Self(url)),
            Ok(url) => Err(format!("{:?} is not an http:// or https:// URL", shown(&url))),
            Err(e) => Err(format!("{:?} is not a URL: {e}", without_userinfo(raw))),
        }
    }

    /// The URL for messages and logs.
    pub fn shown(&self) -> String {
        shown(&self.0)
    }
}

impl fmt::Debug for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApiUrl").field(&self.shown()).finish()
    }
}

impl<'de> Deserialize<'de> for ApiUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// Query parameters whose value is a credential, by a part of their name.
const SECRET_PARAMS: [&str; 7] = ["token", "key", "secret", "pass", "pwd", "auth", "sig"];

/// `url` without user and password, and with `***` for the value of query parameters that
/// look like credentials (`api_key`, `access_token`, `signature`…).
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        SECRET_PARAMS.iter().any(|s| name.contains(s))
    };
    if url.query_pairs().any(|(name, _)| secret(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if secret(&name) {
                    "***".into()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Text that is not a URL, with anything between `://` and an `@` removed.
fn without_userinfo(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}{}", &raw[..scheme_end + 3], &raw[at + 1..]),
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_never_shown() {
        let url = ApiUrl::parse("https://shop:pa55@erp.example.sn/api/debts?api_key=abc123&status=open").unwrap();
        assert_eq!(url.shown(), "https://erp.example.sn/api/debts?api_key=***&status=open");
        assert_eq!(
            format!("{url:?}"),
            "ApiUrl(\"https://erp.example.sn/api/debts?api_key=***&status=open\")"
        );
        assert_eq!(
            shown(&Url::parse("http://h/x?Access_Token=t&page=2").unwrap()),
            "http://h/x?Access_Token=***&page=2"
        );
        assert_eq!(
            shown(&Url::parse("http://h:8080/x?page=2").unwrap()),
            "http://h:8080/x?page=2"
        );
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        assert_eq!(
            ApiUrl::parse("erp.example.sn/api").unwrap_err(),
            "\"erp.example.sn/api\" is not a URL: relative URL without a base"
        );
        assert_eq!(
            ApiUrl::parse("http://u:pa55@[::1/x").unwrap_err(),
            "\"http://[::1/x\" is not a URL: invalid IPv6 address"
        );
        assert_eq!(
            ApiUrl::parse("file:///tmp/x").unwrap_err(),
            "\"file:///tmp/x\" is not an http:// or https:// URL"
        );
    }
}

//! The database URL: checked when the config is read, and shown everywhere with its
//! password masked (`postgres://rappel:***@db:5432/boutique`).

use serde::{Deserialize, Deserializer, de};
use sqlx::postgres::PgConnectOptions;
use std::fmt;
use std::str::FromStr;

/// `postgres://user:password@host:port/database?sslmode=…`, parsed. Its `Debug` masks the
/// password; [`DatabaseUrl::shown`] is the form used in messages.
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    options: PgConnectOptions,
}

impl DatabaseUrl {
    /// Parses a URL written in the config.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let expected = || {
            format!(
                "{:?} is not a PostgreSQL URL: expected postgres://user:password@host:port/database",
                mask_password(raw)
            )
        };
        let scheme_ok = raw.starts_with("postgres://") || raw.starts_with("postgresql://");
        if !scheme_ok {
            return Err(expected());
        }
        // sqlx's parse errors never echo the URL, but keep their text out anyway: it may
        // quote a piece of the query string.
        let options = PgConnectOptions::from_str(raw).map_err(|_| expected())?;
        Ok(Self {
            raw: raw.to_string(),
            options,
        })
    }

    /// The connection options (with the password).
    pub(crate) fn options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// `postgres://user:***@host:port/database`, for messages and logs.
    pub fn shown(&self) -> String {
        let o = &self.options;
        let password = if has_password(&self.raw) { ":***" } else { "" };
        let host = match o.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => o.get_host().to_string(),
        };
        format!(
            "postgres://{}{password}@{}/{}",
            o.get_username(),
            self.server_with(&host),
            o.get_database().unwrap_or_default()
        )
    }

    /// `host:port/database`, the short form used in connection errors.
    pub fn server(&self) -> String {
        let o = &self.options;
        format!(
            "{}/{}",
            self.server_with(o.get_host()),
            o.get_database().unwrap_or_default()
        )
    }

    fn server_with(&self, host: &str) -> String {
        if host.contains(':') && !host.starts_with('[') && !host.starts_with('/') {
            format!("[{host}]:{}", self.options.get_port())
        } else {
            format!("{host}:{}", self.options.get_port())
        }
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for DatabaseUrl {}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.shown()).finish()
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(raw.trim()).map_err(de::Error::custom)
    }
}

/// Whether the URL carries a password, in its user part or as `?password=`.
fn has_password(raw: &str) -> bool {
    mask_password(raw) != raw || raw.contains("password=")
}

/// The URL with the password of its user part replaced by `***`, and any `password=`
/// parameter's value too.
pub(crate) fn mask_password(raw: &str) -> String {
    let mut out = raw.to_string();
    if let Some(start) = raw.find("://").map(|i| i + 3) {
        let end = raw[start..].find(['/', '?', '#']).map_or(raw.len(), |i| start + i);
        if let Some(at) = raw[start..end].rfind('@').map(|i| start + i)
            && let Some(colon) = raw[start..at].find(':').map(|i| start + i)
        {
            out = format!("{}:***{}", &raw[..colon], &raw[at..]);
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let url = DatabaseUrl::parse("postgres://rappel:p%40ss:w0rd@db.local:6432/compta?sslmode=require").unwrap();
        assert_eq!(url.shown(), "postgres://rappel:***@db.local:6432/compta");
        assert_eq!(url.server(), "db.local:6432/compta");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(\"postgres://rappel:***@db.local:6432/compta\")"
        );
        let url = DatabaseUrl::parse("postgresql://shop@127.0.0.1/boutique?password=hunter2").unwrap();
        assert_eq!(url.shown(), "postgres://shop:***@127.0.0.1:5432/boutique");
        assert_eq!(
            mask_password("postgres://shop@h/b?sslmode=disable&password=hunter2"),
            "postgres://shop@h/b?sslmode=disable&password=***"
        );
        assert_eq!(mask_password("postgres://a:b@h/x"), "postgres://a:***@h/x");
        assert_eq!(mask_password("postgres://h/x?user=a"), "postgres://h/x?user=a");
    }

    #[test]
    fn refuses_what_is_not_a_postgres_url() {
        assert_eq!(
            DatabaseUrl::parse("boutique.db").unwrap_err(),
            "\"boutique.db\" is not a PostgreSQL URL: expected postgres://user:password@host:port/database"
        );
        assert!(
            DatabaseUrl::parse("postgres://a:s3cret@h:99999/x")
                .unwrap_err()
                .contains("a:***@h")
        );
        assert!(DatabaseUrl::parse("postgres://h/x?sslmode=sometimes").is_err());
    }
}

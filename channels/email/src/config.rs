//! The `[channels.NAME] kind = "smtp"` table (plain data, the fields' docs are the user
//! documentation) and its validation into the settings a channel runs with.

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use rappel_core::config::Interval;
use rappel_core::secret::Secret;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[channels.NAME] kind = "smtp"`: email through an SMTP server (your provider's
/// submission server, or a relay on this machine).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's name, e.g. `"smtp.example.com"`; its TLS certificate must be valid
    /// for this name. Required.
    pub host: String,
    /// The server's port. Default: `587` with `security = "starttls"`, `465` with `"tls"`,
    /// `25` with `"none"`.
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is encrypted: `"starttls"` (plain connection upgraded with
    /// STARTTLS, which the server must offer), `"tls"` (TLS from the first byte, usually port
    /// 465) or `"none"` (no encryption: only for a relay on this machine or your local
    /// network). Default `"starttls"`.
    #[serde(default)]
    pub security: Security,
    /// The login for SMTP authentication (usually `"${SMTP_USER}"`). Give it together with
    /// `password`, or neither when the server needs no login.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for `username` (usually `"${SMTP_PASSWORD}"`). Never printed.
    #[serde(default, deserialize_with = "secret")]
    pub password: Option<Secret>,
    /// The sender as clients see it: `"Boutique Ndiaye <factures@example.com>"` or
    /// `"factures@example.com"`. Your provider must allow this address. Required.
    pub from: String,
    /// Where clients' answers go, when not to `from`: `"Awa Ndiaye <awa@example.com>"`.
    /// Optional.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// How long handing one email to the server may take, from connecting to its last
    /// answer (`"20s"`, `"1m"` or seconds). Default `"20s"`.
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
    /// Emails sent at once on this channel, each on its own connection (connections are kept
    /// open and reused for the next emails of a check). Default `4`.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// A PEM file holding an extra certificate authority to trust, for a server whose
    /// certificate is self-signed or signed by your own authority. Relative paths are read
    /// from the config file's folder. Optional: well-known authorities are always trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// How the connection to the SMTP server is encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// A plain connection upgraded with STARTTLS; refused if the server does not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption.
    None,
}

impl Security {
    /// The port used when `port` is not given.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

fn default_timeout() -> Interval {
    Interval(Duration::from_secs(20))
}
fn default_max_in_flight() -> usize {
    4
}

/// Reads a secret without ever echoing its value, even when it has the wrong type.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Option<Secret>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string in quotes (value not shown)")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Secret::new(v)))
        }
    }
    d.deserialize_any(Visitor)
        .map_err(|_: D::Error| serde::de::Error::custom("expected a string in quotes (value not shown)"))
}

/// One problem in an [`EmailConfig`]: the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key inside the channel's table (`from`).
    pub key: &'static str,
    /// What is wrong and what was expected. Never contains the password.
    pub message: String,
}

fn problem(key: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        key,
        message: message.into(),
    }
}

/// A validated config: what a channel runs with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Login and password.
    pub credentials: Option<(String, Secret)>,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub timeout: Duration,
    pub max_in_flight: usize,
    /// `Tls::None`, `Tls::Required` (STARTTLS) or `Tls::Wrapper` (implicit TLS).
    pub tls: Tls,
    pub has_ca_file: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .field("password", &self.credentials.as_ref().map(|(_, secret)| secret))
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .field("timeout", &self.timeout)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

const MAILBOX_FORM: &str = "expected \"Name <address@example.com>\" or \"address@example.com\"";

fn mailbox(key: &'static str, text: &str, problems: &mut Vec<Problem>) -> Option<Mailbox> {
    match text.trim().parse::<Mailbox>() {
        Ok(mailbox) => Some(mailbox),
        Err(e) => {
            problems.push(problem(
                key,
                format!("\"{text}\" is not an email address ({e}); {MAILBOX_FORM}"),
            ));
            None
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl EmailConfig {
    /// Checks every key and reads `ca_file` (`resolve` turns a relative path into one next to
    /// the config file). Returns every problem found.
    pub(crate) fn validate(&self, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<Settings, Vec<Problem>> {
        let mut problems = Vec::new();

        let host = self.host.trim().to_string();
        if host.is_empty() {
            problems.push(problem(
                "host",
                "is empty; expected the SMTP server's name, e.g. \"smtp.example.com\"",
            ));
        } else if host.contains("://") || host.contains('/') {
            problems.push(problem(
                "host",
                format!("\"{host}\" is not a server name; write only the name (\"smtp.example.com\") and set `port` and `security` apart"),
            ));
        } else if host.matches(':').count() == 1 {
            problems.push(problem(
                "host",
                format!("\"{host}\" contains a port; write the name alone and the port in `port`"),
            ));
        }
        let port = self.port.unwrap_or(self.security.default_port());
        if port == 0 {
            problems.push(problem("port", "must be between 1 and 65535"));
        }

        let credentials = match (&self.username, &self.password) {
            (Some(user), Some(password)) => {
                if user.trim().is_empty() {
                    problems.push(problem(
                        "username",
                        "is empty; remove `username` and `password` if the server needs no login",
                    ));
                }
                if password.is_empty() {
                    problems.push(problem("password", "is empty (is its environment variable set?)"));
                }
                Some((user.trim().to_string(), password.clone()))
            }
            (Some(_), None) => {
                problems.push(problem(
                    "password",
                    "is missing: `username` is set, give both or neither",
                ));
                None
            }
            (None, Some(_)) => {
                problems.push(problem(
                    "username",
                    "is missing: `password` is set, give both or neither",
                ));
                None
            }
            (None, None) => None,
        };
        if credentials.is_some() && self.security == Security::None && !is_loopback(&host) {
            problems.push(problem(
                "security",
                format!("is \"none\": the password would cross the network to {host} unencrypted; use \"starttls\" or \"tls\""),
            ));
        }

        let from = mailbox("from", &self.from, &mut problems);
        let reply_to = self
            .reply_to
            .as_deref()
            .and_then(|r| mailbox("reply_to", r, &mut problems));

        if self.max_in_flight == 0 {
            problems.push(problem("max_in_flight", "must be at least 1"));
        }

        let root = match &self.ca_file {
            Some(path) => read_ca_file(&resolve(path), &mut problems),
            None => None,
        };
        if root.is_some() && self.security == Security::None {
            problems.push(problem(
                "ca_file",
                "is set but `security` is \"none\": no certificate is checked",
            ));
        }

        let tls = match self.security {
            Security::None => Some(Tls::None),
            Security::Starttls | Security::Tls => {
                let mut builder = TlsParameters::builder(host.clone());
                if let Some(root) = root {
                    builder = builder.add_root_certificate(root);
                }
                match builder.build() {
                    Ok(params) if self.security == Security::Tls => Some(Tls::Wrapper(params)),
                    Ok(params) => Some(Tls::Required(params)),
                    Err(e) => {
                        let key = if self.ca_file.is_some() { "ca_file" } else { "security" };
                        problems.push(problem(key, format!("cannot set up TLS: {e}")));
                        None
                    }
                }
            }
        };

        match (from, tls) {
            (Some(from), Some(tls)) if problems.is_empty() => Ok(Settings {
                host,
                port,
                security: self.security,
                credentials,
                from,
                reply_to,
                timeout: self.timeout.0,
                max_in_flight: self.max_in_flight,
                tls,
                has_ca_file: self.ca_file.is_some(),
            }),
            _ => Err(problems),
        }
    }
}

fn read_ca_file(path: &Path, problems: &mut Vec<Problem>) -> Option<Certificate> {
    let pem = match std::fs::read(path) {
        Ok(pem) => pem,
        Err(e) => {
            problems.push(problem("ca_file", format!("cannot read {}: {e}", path.display())));
            return None;
        }
    };
    let has_certificate = pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----");
    match Certificate::from_pem(&pem) {
        Ok(cert) if has_certificate => Some(cert),
        _ => {
            problems.push(problem(
                "ca_file",
                format!(
                    "{} holds no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")",
                    path.display()
                ),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a table the way core does: from a TOML value, so errors carry no source line.
    fn parse(text: &str) -> Result<EmailConfig, toml::de::Error> {
        toml::from_str::<toml::Table>(text).unwrap().try_into()
    }

    fn validate(text: &str) -> Result<Settings, Vec<Problem>> {
        parse(text).unwrap().validate(&|p: &Path| p.to_path_buf())
    }

    fn keys(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.key).collect()
    }

    #[test]
    fn defaults() {
        let c = parse("host = \"smtp.example.com\"\nfrom = \"factures@example.com\"").unwrap();
        assert_eq!(c.security, Security::Starttls);
        assert_eq!(c.timeout, Interval(Duration::from_secs(20)));
        assert_eq!(c.max_in_flight, 4);
        let s = validate("host = \"smtp.example.com\"\nfrom = \"factures@example.com\"").unwrap();
        assert_eq!(s.port, 587);
        assert!(matches!(s.tls, Tls::Required(_)));
        assert!(s.credentials.is_none());
        assert!(s.reply_to.is_none());
    }

    #[test]
    fn port_follows_security() {
        let with = |security: &str| {
            validate(&format!(
                "host = \"127.0.0.1\"\nfrom = \"a@example.com\"\nsecurity = \"{security}\""
            ))
            .unwrap()
        };
        assert_eq!(with("tls").port, 465);
        assert!(matches!(with("tls").tls, Tls::Wrapper(_)));
        assert_eq!(with("none").port, 25);
        assert!(matches!(with("none").tls, Tls::None));
        let s = validate("host = \"h.example\"\nfrom = \"a@example.com\"\nport = 2525").unwrap();
        assert_eq!(s.port, 2525);
    }

    #[test]
    fn full_table() {
        let s = validate(
            r#"
            host = "smtp.example.com"
            port = 587
            security = "starttls"
            username = "factures@example.com"
            password = "hunter2"
            from = "Boutique Ndiaye <factures@example.com>"
            reply_to = "Awa Ndiaye <awa@example.com>"
            timeout = "1m"
            max_in_flight = 2
            "#,
        )
        .unwrap();
        assert_eq!(s.from.name.as_deref(), Some("Boutique Ndiaye"));
        assert_eq!(s.from.email.to_string(), "factures@example.com");
        assert_eq!(s.reply_to.unwrap().email.to_string(), "awa@example.com");
        assert_eq!(s.timeout, Duration::from_secs(60));
        assert_eq!(s.max_in_flight, 2);
        let (user, password) = s.credentials.unwrap();
        assert_eq!((user.as_str(), password.expose()), ("factures@example.com", "hunter2"));
    }

    #[test]
    fn every_problem_is_reported() {
        let problems = validate(
            r#"
            host = "smtp.example.com:587"
            username = "me"
            from = "Boutique Ndiaye factures at example.com"
            reply_to = "nobody"
            max_in_flight = 0
            "#,
        )
        .unwrap_err();
        assert_eq!(
            keys(&problems),
            ["host", "password", "from", "reply_to", "max_in_flight"]
        );
        assert!(
            problems[2]
                .message
                .contains("\"Boutique Ndiaye factures at example.com\" is not an email address")
        );
        assert!(problems[2].message.contains(MAILBOX_FORM));
    }

    #[test]
    fn password_without_username() {
        let problems =
            validate("host = \"h.example\"\nfrom = \"a@example.com\"\npassword = \"s3cr3t-value\"").unwrap_err();
        assert_eq!(keys(&problems), ["username"]);
        assert!(!format!("{problems:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn no_clear_text_password_to_a_remote_server() {
        let table = "host = \"smtp.example.com\"\nfrom = \"a@example.com\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"s3cr3t-value\"";
        let problems = validate(table).unwrap_err();
        assert_eq!(keys(&problems), ["security"]);
        assert!(problems[0].message.contains("unencrypted"));
        let local = table.replace("smtp.example.com", "127.0.0.1");
        assert!(validate(&local).is_ok());
    }

    #[test]
    fn password_never_printed() {
        let table = "host = \"h.example\"\nfrom = \"a@example.com\"\nusername = \"u\"\npassword = \"s3cr3t-value\"";
        let config = parse(table).unwrap();
        assert!(!format!("{config:?}").contains("s3cr3t-value"));
        let settings = validate(table).unwrap();
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("[redacted]") && !shown.contains("s3cr3t-value"),
            "{shown}"
        );
        // A password of the wrong type is not echoed either.
        let e = parse("host = \"h\"\nfrom = \"a@example.com\"\nusername = \"u\"\npassword = 987654321").unwrap_err();
        assert!(!e.to_string().contains("987654321"), "{e}");
        assert!(e.to_string().contains("value not shown"), "{e}");
    }

    #[test]
    fn unknown_security() {
        let e = parse("host = \"h\"\nfrom = \"a@example.com\"\nsecurity = \"ssl\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown variant `ssl`, expected one of `starttls`, `tls`, `none`"),
            "{e}"
        );
    }

    #[test]
    fn bad_ca_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let table = format!(
            "host = \"h.example\"\nfrom = \"a@example.com\"\nca_file = {:?}",
            missing.display().to_string()
        );
        let problems = validate(&table).unwrap_err();
        assert_eq!(keys(&problems), ["ca_file"]);
        assert!(
            problems[0].message.starts_with("cannot read "),
            "{}",
            problems[0].message
        );

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let table = format!(
            "host = \"h.example\"\nfrom = \"a@example.com\"\nca_file = {:?}",
            junk.display().to_string()
        );
        let problems = validate(&table).unwrap_err();
        assert!(
            problems[0].message.contains("holds no PEM certificate"),
            "{}",
            problems[0].message
        );
    }
}

//! What went wrong talking to the SMTP server, and what it means for the engine: retry
//! later, never retry, flag the address, or stop the channel for this check.
//!
//! lettre does not say at which step (AUTH, MAIL, RCPT, DATA) a reply came, so a refusal is
//! read from its reply code and its enhanced status code (RFC 3463, `5.1.1`), which say what
//! was refused.

use lettre::transport::smtp::Error as SmtpError;
use rappel_core::mask;
use rappel_core::{SendError, SendErrorKind};
use std::error::Error as _;
use std::time::Duration;

/// What a negative reply refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 4xx: the server asks to try again later.
    Later,
    /// The login (username or password) was refused (535, 5.7.8).
    Login,
    /// The server wants a login and none was given (530).
    LoginRequired,
    /// The sender (`from`) is not allowed (5.1.7, 5.1.8, "Sender address rejected").
    Sender,
    /// The server will not relay to other domains for us (e.g. "Relay access denied").
    Relay,
    /// The recipient's mailbox does not exist or cannot receive mail (5.1.1, 5.1.2, 5.2.1…).
    Recipient,
    /// Anything else refused for good: this message.
    Message,
}

impl Refusal {
    /// What the engine does about it. Refusals that would hit every message alike (login,
    /// sender, relay) stop the channel instead of failing each message for good.
    pub fn kind(self) -> SendErrorKind {
        match self {
            Self::Later => SendErrorKind::Transient,
            Self::Login | Self::LoginRequired | Self::Sender | Self::Relay => SendErrorKind::ChannelDown,
            Self::Recipient => SendErrorKind::InvalidAddress,
            Self::Message => SendErrorKind::Rejected,
        }
    }
}

/// The enhanced status code at the start of a reply's text (`5.1.1 <x@y>: …` → `(5, 1, 1)`).
pub fn enhanced_status(text: &str) -> Option<(u16, u16, u16)> {
    let word = text.split_whitespace().next()?;
    let mut parts = word.split('.').map(|p| p.parse::<u16>().ok());
    let status = (parts.next()??, parts.next()??, parts.next()??);
    (parts.next().is_none() && matches!(status.0, 2 | 4 | 5)).then_some(status)
}

/// What a negative reply (`code`, and its `text` after the code) refuses.
pub fn refusal(code: u16, text: &str) -> Refusal {
    let enhanced = enhanced_status(text);
    let lower = text.to_lowercase();
    if code / 100 == 4 {
        return Refusal::Later;
    }
    match (code, enhanced) {
        (530, _) => Refusal::LoginRequired,
        (534 | 535 | 538, _) | (_, Some((5, 7, 8 | 9 | 11 | 12))) => Refusal::Login,
        (_, Some((5, 1, 7 | 8))) => Refusal::Sender,
        _ if lower.contains("sender") => Refusal::Sender,
        _ if lower.contains("relay") => Refusal::Relay,
        (_, Some((5, 1, 1 | 2 | 3 | 6 | 10) | (5, 2, 1))) => Refusal::Recipient,
        (550 | 551 | 553, None) if ["user", "mailbox", "recipient"].iter().any(|w| lower.contains(w)) => {
            Refusal::Recipient
        }
        _ => Refusal::Message,
    }
}

/// What the messages need to say about the channel and the email.
pub(crate) struct Context<'a> {
    pub host: &'a str,
    pub port: u16,
    pub username: Option<&'a str>,
    /// The `from` address.
    pub from: &'a str,
    /// The recipient, masked wherever it appears in a message.
    pub to: &'a str,
    pub timeout: Duration,
    /// Whether `ca_file` is set, for advice on untrusted certificates.
    pub has_ca_file: bool,
}

impl Context<'_> {
    /// The server's text with the recipient masked (replies often quote it).
    fn quote(&self, text: &str) -> String {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.to.is_empty() {
            text
        } else {
            text.replace(self.to, &mask::address(self.to))
        }
    }
}

/// Turns a failed SMTP exchange into the engine's [`SendError`], keeping the reply code.
pub(crate) fn classify(error: SmtpError, cx: &Context<'_>) -> SendError {
    let server = format!("the SMTP server {}:{}", cx.host, cx.port);
    let detail = error.source().map(|s| s.to_string()).unwrap_or_default();
    if let Some(code) = error.status() {
        let code: u16 = code.to_string().parse().unwrap_or(0);
        let refusal = refusal(code, &detail);
        let reply = format!("{code} {}", cx.quote(&detail));
        let message = match refusal {
            Refusal::Later => format!("{server} asks to try again later: {reply}"),
            Refusal::Login => format!(
                "{server} refused the login \"{}\": check `username` and `password` ({reply})",
                cx.username.unwrap_or_default()
            ),
            Refusal::LoginRequired if cx.username.is_none() => {
                format!("{server} requires a login: set `username` and `password` ({reply})")
            }
            Refusal::LoginRequired => format!("{server} requires a login ({reply})"),
            Refusal::Sender => format!("{server} refuses the sender {}: check `from` ({reply})", cx.from),
            Refusal::Relay => format!(
                "{server} refuses to pass the email on to other domains: check `username` and `password`, \
                 and that `host` is your provider's submission server ({reply})"
            ),
            Refusal::Recipient => format!("the recipient's address cannot receive email: {reply}"),
            Refusal::Message => format!("{server} refused this email: {reply}"),
        };
        let code = match enhanced_status(&detail) {
            Some((a, b, c)) => format!("{code} {a}.{b}.{c}"),
            None => code.to_string(),
        };
        return SendError::new(refusal.kind(), message)
            .with_code(code)
            .with_source(error);
    }

    let (kind, message) = if error.is_client() {
        client_problem(&server, &detail)
    } else if is_tls_failure(&error) {
        (
            SendErrorKind::ChannelDown,
            format!("TLS with {server} failed: {} ({detail})", tls_advice(&detail, cx)),
        )
    } else if error.is_timeout() {
        (SendErrorKind::Transient, timed_out(cx))
    } else if error.is_transport_shutdown() {
        (
            SendErrorKind::ChannelDown,
            "the SMTP connection pool was shut down".to_string(),
        )
    } else if error.is_response() {
        (
            SendErrorKind::Transient,
            format!("{server} sent an unreadable answer: {detail}"),
        )
    } else {
        // Connection refused, name not found, connection reset during the exchange.
        let what = if error.to_string().starts_with("Connection") {
            "cannot connect to"
        } else {
            "lost the connection to"
        };
        (SendErrorKind::Transient, format!("{what} {server}: {detail}"))
    };
    SendError::new(kind, message).with_source(error)
}

/// The message when the server took longer than `timeout`.
pub(crate) fn timed_out(cx: &Context<'_>) -> String {
    format!(
        "the SMTP server {}:{} did not answer within {}s",
        cx.host,
        cx.port,
        cx.timeout.as_secs()
    )
}

/// lettre's own refusals, before anything reaches the server.
fn client_problem(server: &str, detail: &str) -> (SendErrorKind, String) {
    if detail.contains("STARTTLS") {
        (
            SendErrorKind::ChannelDown,
            format!(
                "{server} does not offer STARTTLS: use `security = \"tls\"` (usually port 465), \
                 or \"none\" for a relay on this machine"
            ),
        )
    } else if detail.contains("authentication mechanism") {
        (
            SendErrorKind::ChannelDown,
            format!(
                "{server} offers no login method rappel knows (PLAIN, LOGIN) on this connection; \
                 check `security` (many servers offer login only after STARTTLS)"
            ),
        )
    } else {
        (
            SendErrorKind::Rejected,
            format!("cannot send this email to {server}: {detail}"),
        )
    }
}

/// What to do about a failed TLS handshake, from rustls's reason.
fn tls_advice(detail: &str, cx: &Context<'_>) -> String {
    if detail.contains("UnknownIssuer") {
        if cx.has_ca_file {
            "its certificate is not signed by the authority in `ca_file`".to_string()
        } else {
            "its certificate is signed by an unknown authority; for a self-signed server or your own \
             authority, give its certificate in `ca_file`"
                .to_string()
        }
    } else if detail.contains("NotValidForName") || detail.contains("not valid for name") {
        format!(
            "its certificate is not valid for the name \"{}\": set `host` to a name it holds",
            cx.host
        )
    } else if detail.contains("Expired") {
        "its certificate has expired".to_string()
    } else if detail.contains("CaUsedAsEndEntity") {
        "its certificate is an authority's (basicConstraints CA:TRUE), which cannot be a server's \
         certificate: make the server's certificate with CA:FALSE, or sign it with that authority"
            .to_string()
    } else if detail.contains("certificate") {
        "its certificate was refused".to_string()
    } else {
        "check `security` and `port` (\"tls\" is usually port 465, \"starttls\" 587)".to_string()
    }
}

/// Whether the connection failed in the TLS handshake (untrusted certificate, TLS spoken to
/// a plain server), which retrying the same settings will not fix.
fn is_tls_failure(error: &SmtpError) -> bool {
    let mut source = error.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidData
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes() {
        assert_eq!(
            enhanced_status("5.1.1 <a@b>: Recipient address rejected"),
            Some((5, 1, 1))
        );
        assert_eq!(enhanced_status("4.3.0 Try later"), Some((4, 3, 0)));
        assert_eq!(enhanced_status("5.1.10 null MX"), Some((5, 1, 10)));
        assert_eq!(enhanced_status("No such user here"), None);
        assert_eq!(enhanced_status("1.2.3.4 looks like an IP"), None);
        assert_eq!(enhanced_status(""), None);
    }

    #[test]
    fn replies() {
        use Refusal::*;
        let cases = [
            (451, "4.3.0 Temporary failure, try again later", Later),
            (421, "Service not available", Later),
            (454, "4.7.0 Temporary authentication failure", Later),
            (535, "5.7.8 Authentication credentials invalid", Login),
            (534, "5.7.9 Please log in with your web browser", Login),
            (530, "5.7.0 Authentication required", LoginRequired),
            (
                550,
                "5.1.1 <x@example.com>: Recipient address rejected: User unknown",
                Recipient,
            ),
            (550, "5.1.2 Bad destination system address", Recipient),
            (550, "5.2.1 Mailbox disabled", Recipient),
            (553, "5.1.3 Bad recipient address syntax", Recipient),
            (550, "No such user here", Recipient),
            (
                553,
                "5.1.8 <f@example.com>: Sender address rejected: Domain not found",
                Sender,
            ),
            (
                553,
                "5.7.1 <f@example.com>: Sender address rejected: not owned by user u",
                Sender,
            ),
            (554, "5.7.1 <x@other.sn>: Relay access denied", Relay),
            (554, "5.7.1 Message rejected as spam", Message),
            (552, "5.2.2 Mailbox full", Message),
            (550, "Message content rejected", Message),
            (554, "Transaction failed", Message),
        ];
        for (code, text, expected) in cases {
            assert_eq!(refusal(code, text), expected, "{code} {text}");
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(Refusal::Later.kind(), SendErrorKind::Transient);
        assert_eq!(Refusal::Login.kind(), SendErrorKind::ChannelDown);
        assert_eq!(Refusal::Relay.kind(), SendErrorKind::ChannelDown);
        assert_eq!(Refusal::Recipient.kind(), SendErrorKind::InvalidAddress);
        assert_eq!(Refusal::Message.kind(), SendErrorKind::Rejected);
    }

    #[test]
    fn recipient_masked_in_quotes() {
        let cx = Context {
            host: "h",
            port: 25,
            username: None,
            from: "f@example.com",
            to: "awa@example.com",
            timeout: Duration::from_secs(1),
            has_ca_file: false,
        };
        assert_eq!(
            cx.quote("5.1.1 <awa@example.com>:\n Recipient   rejected"),
            "5.1.1 <a…@example.com>: Recipient rejected"
        );
    }
}

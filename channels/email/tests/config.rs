//! The `[channels.email] kind = "smtp"` table as the binary reads it: what a user sees
//! when a key is wrong.

mod common;

use common::try_channel;

const OK: &str = "host = \"smtp.example.com\"\nfrom = \"Boutique Ndiaye <factures@example.com>\"";

fn error(table: &str) -> String {
    match try_channel(table, &[]) {
        Ok(_) => panic!("accepted:\n{table}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_table_builds_outside_a_runtime() {
    let email = try_channel(OK, &[]).unwrap();
    assert_eq!(email.medium(), rappel_core::Medium::Email);
    assert_eq!(email.max_in_flight(), 4);
    assert_eq!(rappel_channel_email::KIND, "smtp");
}

#[test]
fn unknown_key_is_named() {
    let e = error(&format!("{OK}\nprot = 587"));
    assert!(
        e.starts_with("channels.email.prot: unknown field `prot`, expected one of `host`, `port`"),
        "{e}"
    );
}

#[test]
fn missing_key_is_named() {
    let e = error("host = \"smtp.example.com\"");
    assert_eq!(e, "channels.email: missing field `from`");
}

#[test]
fn bad_from() {
    let e = error("host = \"smtp.example.com\"\nfrom = \"Boutique Ndiaye factures@example.com\"");
    assert!(
        e.starts_with("channels.email.from: \"Boutique Ndiaye factures@example.com\" is not an email address ("),
        "{e}"
    );
    assert!(
        e.ends_with("expected \"Name <address@example.com>\" or \"address@example.com\""),
        "{e}"
    );
}

#[test]
fn bad_reply_to() {
    let e = error(&format!("{OK}\nreply_to = \"awa\""));
    assert!(
        e.starts_with("channels.email.reply_to: \"awa\" is not an email address"),
        "{e}"
    );
}

#[test]
fn unknown_security() {
    let e = error(&format!("{OK}\nsecurity = \"ssl\""));
    assert_eq!(
        e,
        "channels.email.security: unknown variant `ssl`, expected one of `starttls`, `tls`, `none`"
    );
}

#[test]
fn bad_timeout() {
    let e = error(&format!("{OK}\ntimeout = \"soon\""));
    assert!(e.starts_with("channels.email.timeout: "), "{e}");
    assert!(e.contains("\"soon\" is not an interval"), "{e}");
}

#[test]
fn username_without_password() {
    let e = error(&format!("{OK}\nusername = \"factures@example.com\""));
    assert_eq!(
        e,
        "channels.email.password: is missing: `username` is set, give both or neither"
    );
}

#[test]
fn empty_password() {
    let e = error(&format!("{OK}\nusername = \"u\"\npassword = \"\""));
    assert_eq!(
        e,
        "channels.email.password: is empty (is its environment variable set?)"
    );
}

#[test]
fn password_never_shown_in_errors() {
    let secret = "Tr3s-s3cret!";
    let table = "host = \"smtp.example.com:587\"\nfrom = \"nobody\"\nusername = \"u\"\npassword = \"${SMTP_PASSWORD}\"";
    let e = match try_channel(table, &[("SMTP_PASSWORD", secret)]) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    let shown = format!("{e} {e:?}");
    assert!(shown.starts_with("channels.email: 2 problems: host: "), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
}

#[test]
fn ca_file_is_read_next_to_the_config() {
    // The config file is /etc/rappel/rappel.toml (see common::try_channel).
    let e = error(&format!("{OK}\nca_file = \"certs/relay.pem\""));
    assert!(
        e.starts_with("channels.email.ca_file: cannot read /etc/rappel/certs/relay.pem: "),
        "{e}"
    );
}

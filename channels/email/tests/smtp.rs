//! The email channel against a real SMTP server (aiosmtpd): what the server receives, and
//! what the engine is told when the server refuses.

mod common;

use common::{Certs, Server, channel, have_aiosmtpd, reminder, try_channel};
use rappel_core::SendErrorKind;

const FROM: &str = "Boutique Ndiaye <factures@boutique.sn>";
const PASSWORD: &str = "Sésame-2025!x";

fn plain_table(server: &Server) -> String {
    format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"{FROM}\"",
        server.port
    )
}

fn starttls_table(server: &Server, certs: &Certs, password: &str) -> String {
    format!(
        "host = \"localhost\"\nport = {}\nsecurity = \"starttls\"\nusername = \"rappel\"\npassword = \"{password}\"\n\
         from = \"{FROM}\"\nreply_to = \"Awa Ndiaye <awa@boutique.sn>\"\nca_file = {:?}",
        server.port,
        certs.cert.display().to_string()
    )
}

/// Lines as a reader sees them, whatever the line endings on the wire.
fn lines(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_string()
}

#[tokio::test]
async fn starttls_and_login_deliver_the_reminder() {
    if !have_aiosmtpd("starttls_and_login_deliver_the_reminder") {
        return;
    }
    let certs = Certs::new();
    let cert = certs.cert.to_str().unwrap();
    let key = certs.key.to_str().unwrap();
    let server = Server::start(&["--starttls", cert, key, "--auth", &format!("rappel:{PASSWORD}")]);
    let table = starttls_table(&server, &certs, "${SMTP_PASSWORD}");
    let email = try_channel(&table, &[("SMTP_PASSWORD", PASSWORD)]).unwrap();
    assert_eq!(email.medium(), rappel_core::Medium::Email);
    assert_eq!(email.max_in_flight(), 4);

    let body = "Bonjour Haziza Apple,\n\nFactures en retard:\n - Facture FAC-0042 • Restant: 2 500 XOF\n";
    let html = "<p>Bonjour Haziza Apple,</p>\n<ul><li>Facture FAC-0042 &bull; Restant: 2 500 XOF</li></ul>";
    let message = reminder("haziza@example.sn", "Rappel de paiement", body, Some(html));
    let delivery = email
        .send(&message)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));

    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.json["mail_from"], "factures@boutique.sn");
    assert_eq!(mail.json["rcpt_tos"], serde_json::json!(["haziza@example.sn"]));
    assert_eq!(mail.header("From"), "Boutique Ndiaye <factures@boutique.sn>");
    assert_eq!(mail.header("To"), "haziza@example.sn");
    assert_eq!(mail.header("Reply-To"), "Awa Ndiaye <awa@boutique.sn>");
    assert_eq!(mail.header("Subject"), "Rappel de paiement");
    assert_eq!(mail.header("Date"), "Mon, 24 Nov 2025 06:00:00 +0000");
    let id = mail.header("Message-ID");
    assert!(id.starts_with("<rappel.r7.") && id.ends_with("@boutique.sn>"), "{id}");
    assert_eq!(delivery.provider_id.as_deref(), Some(id));
    assert_eq!(mail.json["content_type"], "multipart/alternative");
    assert_eq!(mail.content_types(), ["text/plain", "text/html"]);
    assert_eq!(lines(mail.part("text/plain")), lines(body));
    assert_eq!(lines(mail.part("text/html")), lines(html));
}

#[tokio::test]
async fn accents_and_amounts_arrive_intact() {
    if !have_aiosmtpd("accents_and_amounts_arrive_intact") {
        return;
    }
    let server = Server::start(&[]);
    let email = channel(&plain_table(&server));
    let subject = "Rappel : créances échues — reçu de votre fenêtre de paiement";
    let body = "Bonjour Fa Guité,\n\nNous vous informons que certaines créances ont dépassé leur date d'échéance :\n\n\
                Factures en retard:\n - Facture FAC-0043 • Échéance: 2025-11-20 • Restant: 127 000 XOF\n\n\
                Merci de régulariser votre situation, façon « fenêtre » comprise.\n";
    // French formatting with a narrow no-break space (U+202F), as the renderer may write it.
    let html = "<p>Bonjour Fa Guité,</p><p>Restant\u{a0}: 127\u{202f}000 XOF — reçu, fenêtre, déjà.</p>";
    email
        .send(&reminder("fa.guite@example.sn", subject, body, Some(html)))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));

    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.header("Subject"), subject);
    assert_eq!(lines(mail.part("text/plain")), lines(body));
    assert_eq!(lines(mail.part("text/html")), lines(html));
    for part in mail.json["parts"].as_array().unwrap() {
        assert_eq!(part["charset"], "utf-8", "{part}");
    }
    // Encoded for the wire: no server needs 8BITMIME or SMTPUTF8 to carry it.
    assert!(mail.raw.is_ascii(), "{}", mail.raw);
}

#[tokio::test]
async fn text_only_reminder_is_a_single_part() {
    if !have_aiosmtpd("text_only_reminder_is_a_single_part") {
        return;
    }
    let server = Server::start(&[]);
    let email = channel(&plain_table(&server));
    let body = "Bonjour Grand Ndiaye,\nRestant: 235 000 XOF\n";
    email
        .send(&reminder("grand@example.sn", "Rappel", body, None))
        .await
        .unwrap();
    let mail = &server.mails()[0];
    assert_eq!(mail.json["content_type"], "text/plain");
    assert_eq!(mail.content_types(), ["text/plain"]);
    assert_eq!(lines(mail.part("text/plain")), lines(body));
    assert!(mail.json["headers"].get("Reply-To").is_none());
}

#[tokio::test]
async fn wrong_password_stops_the_channel_without_showing_it() {
    if !have_aiosmtpd("wrong_password_stops_the_channel_without_showing_it") {
        return;
    }
    let certs = Certs::new();
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--starttls", cert, key, "--auth", &format!("rappel:{PASSWORD}")]);
    let wrong = "Wr0ng-pass-4242";
    let email = channel(&starttls_table(&server, &certs, wrong));

    let e = email
        .send(&reminder("cheikh@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert_eq!(e.code.as_deref(), Some("535 5.7.8"));
    assert_eq!(
        e.message,
        format!(
            "the SMTP server localhost:{} refused the login \"rappel\": check `username` and `password` \
             (535 5.7.8 Authentication credentials invalid)",
            server.port
        )
    );
    let everything = format!("{e} {e:?}");
    assert!(!everything.contains(wrong), "{everything}");
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn login_required_but_not_configured() {
    if !have_aiosmtpd("login_required_but_not_configured") {
        return;
    }
    let certs = Certs::new();
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--starttls", cert, key, "--auth", "rappel:x"]);
    let table = format!(
        "host = \"localhost\"\nport = {}\nfrom = \"{FROM}\"\nca_file = {:?}",
        server.port,
        certs.cert.display().to_string()
    );
    let e = channel(&table)
        .send(&reminder("cheikh@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert!(
        e.message.contains("requires a login: set `username` and `password`"),
        "{e}"
    );
}

#[tokio::test]
async fn unknown_mailbox_is_an_invalid_address() {
    if !have_aiosmtpd("unknown_mailbox_is_an_invalid_address") {
        return;
    }
    let server = Server::start(&["--reject-rcpt", "inconnu@example.sn"]);
    let email = channel(&plain_table(&server));

    let e = email
        .send(&reminder("inconnu@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::InvalidAddress, "{e}");
    assert_eq!(e.code.as_deref(), Some("550 5.1.1"));
    assert_eq!(
        e.message,
        "the recipient's address cannot receive email: \
         550 5.1.1 <i…@example.sn>: Recipient address rejected: User unknown"
    );
    assert!(!e.is_transient() && e.is_permanent());

    // The next client's reminder still goes.
    email
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap();
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].json["rcpt_tos"], serde_json::json!(["awa@example.sn"]));
}

#[tokio::test]
async fn temporary_failure_then_success() {
    if !have_aiosmtpd("temporary_failure_then_success") {
        return;
    }
    let server = Server::start(&["--tempfail-once"]);
    let email = channel(&plain_table(&server));
    let message = reminder("awa@example.sn", "Rappel", "Bonjour", None);

    let e = email.send(&message).await.unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient, "{e}");
    assert_eq!(e.code.as_deref(), Some("451 4.3.0"));
    assert_eq!(
        e.message,
        format!(
            "the SMTP server 127.0.0.1:{} asks to try again later: 451 4.3.0 Temporary failure, try again later",
            server.port
        )
    );
    assert!(server.mails().is_empty());

    // The dispatcher tries again; the channel itself did not.
    email.send(&message).await.unwrap();
    assert_eq!(server.mails().len(), 1);
}

#[tokio::test]
async fn implicit_tls() {
    if !have_aiosmtpd("implicit_tls") {
        return;
    }
    let certs = Certs::new();
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--tls", cert, key, "--auth", &format!("rappel:{PASSWORD}")]);
    let table = format!(
        "host = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nusername = \"rappel\"\npassword = \"{PASSWORD}\"\n\
         from = \"{FROM}\"\nca_file = {:?}",
        server.port,
        certs.cert.display().to_string()
    );
    channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour Awa", None))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(lines(mails[0].part("text/plain")), "Bonjour Awa");
}

/// An untrusted certificate stops the channel: every email would fail the same way until
/// the operator sets `ca_file` (or fixes `host`), so retrying each one is pointless; the
/// reminders stay retryable for the next check.
#[tokio::test]
async fn untrusted_certificate_stops_the_channel() {
    if !have_aiosmtpd("untrusted_certificate_stops_the_channel") {
        return;
    }
    let certs = Certs::new();
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--starttls", cert, key]);
    let table = format!("host = \"localhost\"\nport = {}\nfrom = \"{FROM}\"", server.port);
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert!(
        e.message.starts_with(&format!(
            "TLS with the SMTP server localhost:{} failed: its certificate is signed by an unknown authority; \
             for a self-signed server or your own authority, give its certificate in `ca_file` (",
            server.port
        )),
        "{e}"
    );
    assert!(e.message.contains("UnknownIssuer"), "{e}");
    assert!(server.mails().is_empty());
}

/// `openssl req -x509` marks its certificate as an authority unless told otherwise; rustls
/// refuses such a certificate from a server even when `ca_file` trusts it.
#[tokio::test]
async fn authority_certificate_on_the_server_is_explained() {
    if !have_aiosmtpd("authority_certificate_on_the_server_is_explained") {
        return;
    }
    let certs = Certs::authority();
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--starttls", cert, key]);
    let table = format!(
        "host = \"localhost\"\nport = {}\nfrom = \"{FROM}\"\nca_file = {:?}",
        server.port,
        certs.cert.display().to_string()
    );
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert!(
        e.message
            .contains("its certificate is an authority's (basicConstraints CA:TRUE)"),
        "{e}"
    );
}

#[tokio::test]
async fn certificate_for_another_name() {
    if !have_aiosmtpd("certificate_for_another_name") {
        return;
    }
    let certs = Certs::for_name("mail.boutique.sn");
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&["--starttls", cert, key]);
    let table = format!(
        "host = \"localhost\"\nport = {}\nfrom = \"{FROM}\"\nca_file = {:?}",
        server.port,
        certs.cert.display().to_string()
    );
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert!(
        e.message
            .contains("its certificate is not valid for the name \"localhost\": set `host`"),
        "{e}"
    );
}

#[tokio::test]
async fn starttls_not_offered_stops_the_channel() {
    if !have_aiosmtpd("starttls_not_offered_stops_the_channel") {
        return;
    }
    let server = Server::start(&[]);
    let table = format!("host = \"127.0.0.1\"\nport = {}\nfrom = \"{FROM}\"", server.port);
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::ChannelDown, "{e}");
    assert!(
        e.message.contains("does not offer STARTTLS: use `security = \"tls\"`"),
        "{e}"
    );
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let table = format!("host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"{FROM}\"");
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient, "{e}");
    assert!(
        e.message
            .starts_with(&format!("cannot connect to the SMTP server 127.0.0.1:{port}: ")),
        "{e}"
    );
    assert!(e.message.to_lowercase().contains("refused"), "{e}");
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let table =
        format!("host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout = \"1s\"\nfrom = \"{FROM}\"");
    let started = std::time::Instant::now();
    let e = channel(&table)
        .send(&reminder("awa@example.sn", "Rappel", "Bonjour", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SendErrorKind::Transient, "{e}");
    assert_eq!(
        e.message,
        format!("the SMTP server 127.0.0.1:{port} did not answer within 1s")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(listener);
}

#[tokio::test]
async fn emails_of_a_check_share_one_connection() {
    if !have_aiosmtpd("emails_of_a_check_share_one_connection") {
        return;
    }
    let server = Server::start(&[]);
    let email = channel(&plain_table(&server));
    for to in ["awa@example.sn", "fa.guite@example.sn", "cheikh@example.sn"] {
        email.send(&reminder(to, "Rappel", "Bonjour", None)).await.unwrap();
        // lettre puts a connection back in its pool from a spawned task: let it run, as the
        // time between two sends of a check does.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails = server.mails();
    assert_eq!(mails.len(), 3);
    let ports: Vec<_> = mails.iter().map(|m| m.json["peer_port"].as_u64().unwrap()).collect();
    assert!(
        ports.iter().all(|p| *p == ports[0]),
        "one connection expected, client ports: {ports:?}"
    );
}

//! Email through a real SMTP server (aiosmtpd), and falling back from SMS to email.

use crate::util::{Scratch, Smtp, outbox_config};
use rappel_twilio_fake::{FakeTwilio, Fault};

#[test]
fn each_client_is_reached_once_by_the_right_channel() {
    let Some(smtp) = Smtp::start() else { return };
    let fake = FakeTwilio::start_in_background();
    let twilio = format!(
        "\n[channels.sms_twilio]\nkind = \"twilio-sms\"\naccount_sid = \"{}\"\nauth_token = \"{}\"\n\
         from = \"+15005550006\"\nbase_url = \"{}\"\nrate_per_second = 0\n",
        fake.account_sid(),
        fake.auth_token(),
        fake.base_url()
    );
    let config = outbox_config(&(twilio + &smtp.channel())).replace(
        "channel = \"outbox\"",
        "channel = \"sms_twilio\"\nfallback = [\"email\"]",
    );
    let rows = "\
A,Awa Diop,,awa@example.com,invoice,F-1,2025-11-20,2500,0,XOF
B,Binta Fall,12,binta@example.com,invoice,F-2,2025-11-20,4000,0,XOF
C,Coumba Sy,77 123 45 69,,invoice,F-3,2025-11-20,1000,0,XOF
D,Dieyna Ba,77 123 45 70,dieyna@example.com,manual,7,2025-11-20,127000,0,XOF
";
    let s = Scratch::new(&config, rows);
    fake.fault_for("+221771234570", Fault::Code(21211));
    let run = s.run(&["tick", "--json", "--now", "2025-12-01T10:00:00Z"]).ok();
    let lines = run.json_lines();
    let channel_of = |id: &str| {
        lines
            .iter()
            .find(|l| l["debtor_id"] == id)
            .map(|l| (l["channel"].clone(), l["status"].clone()))
    };
    assert_eq!(channel_of("A"), Some(("email".into(), "sent".into())), "only an email");
    assert_eq!(channel_of("B"), Some(("email".into(), "sent".into())), "unusable phone");
    assert_eq!(
        channel_of("C"),
        Some(("sms_twilio".into(), "sent".into())),
        "phone only"
    );
    assert_eq!(
        channel_of("D"),
        Some(("email".into(), "sent".into())),
        "number refused by Twilio"
    );

    let mails = smtp.mails();
    let mut to: Vec<&str> = mails.iter().map(|m| m["rcpt_tos"][0].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(
        to,
        ["awa@example.com", "binta@example.com", "dieyna@example.com"],
        "one email each"
    );
    let sms: Vec<String> = fake.created().into_iter().map(|m| m.to).collect();
    assert_eq!(sms, ["+221771234569"], "one SMS; D's refused number created nothing");

    let d = mails.iter().find(|m| m["rcpt_tos"][0] == "dieyna@example.com").unwrap();
    assert_eq!(d["headers"]["Subject"], "Rappel : 1 créance en retard (127 000 XOF)");
    assert_eq!(d["content_type"], "multipart/alternative");
    assert!(
        d["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Réf 7 • Échéance: 2025-11-20 • Restant: 127 000 XOF")
    );
    assert!(
        d["parts"][1]["text"]
            .as_str()
            .unwrap()
            .contains("<td>Réf 7</td><td>2025-11-20</td><td align=\"right\">127 000 XOF</td>")
    );

    // The ledger says which channel reached each client, and status shows it.
    let status = s
        .run(&["status", "--json", "--now", "2025-12-02T10:00:00Z"])
        .ok()
        .json_lines();
    let via = |id: &str| status.iter().find(|l| l["debtor_id"] == id).unwrap()["channel"].clone();
    assert_eq!(
        (via("A"), via("C"), via("D")),
        ("email".into(), "sms_twilio".into(), "email".into())
    );
    let history = s
        .run(&["status", "--debtor", "D", "--now", "2025-12-02T10:00:00Z"])
        .ok()
        .stdout;
    assert!(history.contains("email → dieyna@example.com · sent"), "{history}");
}

#[test]
fn send_test_by_email() {
    let Some(smtp) = Smtp::start() else { return };
    let s = Scratch::new(&outbox_config(&smtp.channel()), "");
    let run = s
        .run(&["send-test", "--channel", "email", "--to", "someone@example.com"])
        .ok();
    assert!(
        run.stdout.contains("sent to someone@example.com via email"),
        "{}",
        run.stdout
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["rcpt_tos"][0], "someone@example.com");
    assert_eq!(mails[0]["headers"]["Subject"], "rappel test");
}

//! Email through a real SMTP server (aiosmtpd), and falling back from SMS to email.

use crate::util::{Scratch, outbox_config, repo};
use rappel_twilio_fake::{FakeTwilio, Fault};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The email channel's test server, run as a child process; killed on drop.
struct Smtp {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    /// `None` (said loudly) when aiosmtpd is missing; under `CI=true` that is a failure.
    fn start() -> Option<Self> {
        let has_aiosmtpd = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd must be installed under CI"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: aiosmtpd not installed (python3 -m pip install aiosmtpd)"
            );
            return None;
        }
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(repo().join("channels/email/tests/smtp_server.py"))
            .args(["--maildir", maildir.path().to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port from the SMTP server: {line:?}"));
        Some(Self { child, port, maildir })
    }

    /// The received mails, decoded, in arrival order.
    fn mails(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.maildir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
        });
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    fn channel(&self) -> String {
        format!(
            "\n[channels.email]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Boutique Ndiaye <factures@example.com>\"\ntimeout = \"5s\"\n",
            self.port
        )
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

//! The `twilio-sms` channel end to end, against a local server speaking Twilio's API.

use crate::timeline::{Sent, book, run_timeline};
use crate::util::{Run, Scratch, outbox_config};
use rappel_twilio_fake::{FakeTwilio, Fault};

/// A config whose `sms` channel is Twilio at `fake`; the token comes from `.env`.
fn twilio_scratch(fake: &FakeTwilio, rows: &str) -> Scratch {
    let channel = format!(
        r#"
[channels.twilio]
kind = "twilio-sms"
account_sid = "{sid}"
auth_token = "${{TWILIO_AUTH_TOKEN}}"
from = "+15005550006"
base_url = "{url}"
rate_per_second = 0
timeout = "2s"
"#,
        sid = fake.account_sid(),
        url = fake.base_url()
    );
    let config = outbox_config(&channel).replace("channel = \"outbox\"", "channel = \"twilio\"");
    let s = Scratch::new(&config, rows);
    std::fs::write(s.path(".env"), format!("TWILIO_AUTH_TOKEN={}\n", fake.auth_token())).unwrap();
    s
}

/// Asserts that nothing the user can see carries the token.
fn no_token(fake: &FakeTwilio, run: &Run) {
    assert!(!run.stdout.contains(fake.auth_token()) && !run.stderr.contains(fake.auth_token()));
}

const ROWS: &str = "\
C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta,77 123 45 68,,invoice,F-2,2025-11-21,4000,1000,XOF
C3,Coumba,77 123 45 69,,manual,9,2025-11-22,1000,0,XOF
";
const NOW: &str = "2025-12-01T10:00:00Z";

#[test]
fn the_timeline_holds_with_twilio_sms() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, &book(0));
    let sent = || {
        fake.created()
            .into_iter()
            .map(|m| Sent {
                // row() gives client X<n> the number 77 123 45 0<n>.
                debtor: match &m.to[m.to.len() - 1..] {
                    "1" => "A1",
                    "2" => "B2",
                    "3" => "C3",
                    _ => "D4",
                }
                .to_string(),
                at: m.date_created,
                body: m.body.unwrap_or_default(),
            })
            .collect()
    };
    run_timeline(&s, |now| fake.pin_clock(Some(now)), sent);
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.field("From") == Some("+15005550006")));
    assert!(
        requests
            .iter()
            .all(|r| r.auth_user.as_deref() == Some(fake.account_sid()))
    );
}

#[test]
fn preview_shows_encoding_segments_and_cost() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, ROWS);
    let run = s.run(&["preview", "--json", "--now", NOW]).ok();
    no_token(&fake, &run);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    for m in &lines {
        assert_eq!(m["encoding"], "GSM-7", "the default French SMS is GSM-7: {}", m["body"]);
        assert_eq!(m["segments"], 2);
        assert_eq!(
            (m["estimated_cost"].as_str(), m["cost_currency"].as_str()),
            (Some("0.015"), Some("USD"))
        );
    }
    let summary: serde_json::Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        (summary["segments"].as_u64(), summary["estimated_cost"].as_str()),
        (Some(6), Some("0.045"))
    );
    let human = s.run(&["preview", "--now", NOW]).ok().stdout;
    assert!(human.contains("(GSM-7, 2 segments · about 0.015 USD)"), "{human}");
    assert!(human.contains("6 segments, about 0.045 USD"), "{human}");
    assert!(fake.requests().is_empty(), "preview sends nothing");
}

#[test]
fn a_lost_answer_is_looked_up_and_never_sent_twice() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, &ROWS[..ROWS.find('\n').unwrap() + 1]);
    fake.pin_clock(Some(NOW.parse().unwrap()));
    fake.set_fault(Fault::CreateThenDrop);
    let first = s.run(&["tick", "--now", NOW]);
    assert_eq!(first.code, 1, "an unknown outcome is reported: {}", first.stdout);
    assert!(first.stdout.contains("unknown"), "{}", first.stdout);
    assert_eq!(fake.created().len(), 1, "Twilio created the message");
    fake.clear_fault();
    let second = s.run(&["tick", "--now", "2025-12-01T12:00:00Z"]).ok();
    no_token(&fake, &second);
    assert_eq!(fake.created().len(), 1, "not sent a second time");
    let posts = fake.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1);
    let status = s
        .run(&["status", "--json", "--now", "2025-12-01T12:00:00Z"])
        .ok()
        .json_lines();
    assert_eq!(
        (status[0]["reminders_sent"].as_u64(), status[0]["state"].as_str()),
        (Some(1), Some("waiting"))
    );
    assert_eq!(
        status[0]["last_sent_at"], "2025-12-01T10:00:00Z",
        "the period counts from the first attempt"
    );
}

#[test]
fn provider_errors_change_what_rappel_does() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, ROWS);
    fake.fault_for("+221771234567", Fault::Code(21211));
    fake.fault_for("+221771234568", Fault::Code(21610));
    fake.fault_for(
        "+221771234569",
        Fault::times(1, Fault::TooManyRequests { retry_after_secs: 1 }),
    );
    let run = s.run(&["tick", "--json", "--now", NOW]);
    assert_eq!(run.code, 1);
    no_token(&fake, &run);
    let lines = run.json_lines();
    let status_of = |id: &str| lines.iter().find(|l| l["debtor_id"] == id).unwrap();
    assert_eq!(
        (
            status_of("C1")["status"].as_str(),
            status_of("C1")["error_code"].as_str()
        ),
        (Some("failed"), Some("21211"))
    );
    assert_eq!(status_of("C2")["error_code"], "21610");
    assert_eq!(status_of("C3")["status"], "sent", "429 then success");
    let to = |n: &str| fake.requests().iter().filter(|r| r.field("To") == Some(n)).count();
    assert_eq!(
        (to("+221771234567"), to("+221771234568"), to("+221771234569")),
        (1, 1, 2)
    );

    fake.clear_fault();
    s.run(&["tick", "--now", "2025-12-05T10:00:00Z"]).ok();
    assert_eq!((to("+221771234567"), to("+221771234568")), (1, 1), "never retried");
    let status = s
        .run(&["status", "--json", "--now", "2025-12-05T10:00:00Z"])
        .ok()
        .json_lines();
    assert_eq!(
        (status[0]["invalid_contact"].as_bool(), status[0]["state"].as_str()),
        (Some(true), Some("no_valid_address"))
    );
    assert_eq!(
        (status[1]["opted_out"].as_bool(), status[1]["state"].as_str()),
        (Some(true), Some("opted_out"))
    );
}

#[test]
fn bad_credentials_stop_the_channel_without_a_retry_storm() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, ROWS);
    std::fs::write(s.path(".env"), "TWILIO_AUTH_TOKEN=wrong-token-abc123\n").unwrap();
    let run = s.run(&["tick", "--now", NOW]);
    assert_eq!(run.code, 1);
    // Sends already in flight (max_in_flight = 4) finish; none is retried, none starts after.
    let requests = fake.requests();
    assert!(requests.len() <= 3, "{requests:?}");
    for n in ["+221771234567", "+221771234568", "+221771234569"] {
        assert!(
            requests.iter().filter(|r| r.field("To") == Some(n)).count() <= 1,
            "no retry to {n}"
        );
    }
    assert!(run.stdout.contains("credentials"), "{}", run.stdout);
    assert!(!run.stdout.contains("wrong-token-abc123") && !run.stderr.contains("wrong-token-abc123"));
    // Once the token is fixed, the next check sends all three.
    std::fs::write(s.path(".env"), format!("TWILIO_AUTH_TOKEN={}\n", fake.auth_token())).unwrap();
    s.run(&["tick", "--now", "2025-12-01T12:00:00Z"]).ok();
    assert_eq!(fake.created().len(), 3);
}

#[test]
fn send_test_sends_one_real_sms() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, ROWS);
    let run = s
        .run(&["send-test", "--channel", "twilio", "--to", "+221771234567"])
        .ok();
    no_token(&fake, &run);
    let created = fake.created();
    assert_eq!(created.len(), 1);
    assert!(
        run.stdout
            .contains(&format!("sent to +221771234567 via twilio (id {})", created[0].sid)),
        "{}",
        run.stdout
    );
    assert_eq!(
        created[0].body.as_deref(),
        Some("Test rappel : le canal twilio fonctionne.")
    );
}

#[test]
fn validate_warns_when_a_template_forces_ucs2() {
    let fake = FakeTwilio::start_in_background();
    let s = twilio_scratch(&fake, ROWS);
    let clean = s.run(&["validate"]).ok();
    assert!(
        !clean.stderr.contains("GSM-7"),
        "the default template is GSM-7: {}",
        clean.stderr
    );
    std::fs::create_dir_all(s.path("templates/fr/sms")).unwrap();
    std::fs::write(
        s.path("templates/fr/sms/reminder.hbs"),
        "Bonjour {{name}},\nVous devez {{money total_minor currency}} • merci\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(s.path("rappel.toml")).unwrap() + "\n[templates]\ndir = \"templates\"\n";
    std::fs::write(s.path("rappel.toml"), config).unwrap();
    let run = s.run(&["validate"]).ok();
    assert!(
        run.stderr.contains("warning: channel twilio: template"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("reminder.hbs line 2, column 43: '•' (U+2022) is not GSM-7"),
        "{}",
        run.stderr
    );
    let with_transliteration = std::fs::read_to_string(s.path("rappel.toml"))
        .unwrap()
        .replace("timeout = \"2s\"", "timeout = \"2s\"\ntransliterate = true");
    std::fs::write(s.path("rappel.toml"), with_transliteration).unwrap();
    let run = s.run(&["validate"]).ok();
    assert!(!run.stderr.contains("is not GSM-7"), "transliterated: {}", run.stderr);
}

#[test]
fn whatsapp_templates_get_the_clients_name_and_total() {
    let fake = FakeTwilio::start_in_background();
    let channel = format!(
        r#"
[channels.wa]
kind = "twilio-whatsapp"
account_sid = "{sid}"
auth_token = "{token}"
from = "+15005550006"
base_url = "{url}"
rate_per_second = 0
content_sid = "HX0123456789abcdef0123456789abcdef"
content_variables = {{ "1" = "name", "2" = "total", "3" = "oldest_due_date" }}
"#,
        sid = fake.account_sid(),
        token = fake.auth_token(),
        url = fake.base_url()
    );
    let config = outbox_config(&channel).replace("channel = \"outbox\"", "channel = \"wa\"");
    let s = Scratch::new(
        &config,
        "C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF\nC1,Awa,77 123 45 67,,manual,3,2025-11-10,125000,1000,XOF\n",
    );
    s.run(&["tick", "--now", NOW]).ok();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.field("To"), r.field("From")),
        (Some("whatsapp:+221771234567"), Some("whatsapp:+15005550006"))
    );
    assert_eq!(r.field("ContentSid"), Some("HX0123456789abcdef0123456789abcdef"));
    let vars: serde_json::Value = serde_json::from_str(r.field("ContentVariables").unwrap()).unwrap();
    assert_eq!(
        vars,
        serde_json::json!({"1": "Awa", "2": "126 500 XOF", "3": "2025-11-10"})
    );
    assert_eq!(r.field("Body"), None);
}

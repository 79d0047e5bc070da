//! `status`, `reset`, `send-test`, `validate`, `preview` and quiet hours, as a user runs them.

use crate::util::{Scratch, outbox_config};

const ROWS: &str = "\
C1,Awa Diop,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C1,Awa Diop,77 123 45 67,,manual,4,2025-11-25,10 000,2 000,XOF
C2,Binta Fall,,,invoice,F-2,2025-11-21,4000,0,XOF
C3,Coumba Sy,77 123 45 69,,invoice,F-3,2025-12-20,1000,0,XOF
";
const NOW: &str = "2025-12-01T10:00:00Z";

#[test]
fn status_shows_balance_cycle_and_next_due() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    s.run(&["tick", "--now", NOW]).ok();
    let lines = s
        .run(&["status", "--json", "--now", "2025-12-01T12:00:00Z"])
        .ok()
        .json_lines();
    assert_eq!(lines.len(), 3);
    let c1 = &lines[0];
    assert_eq!(c1["debtor_id"], "C1");
    assert_eq!(c1["name"], "Awa Diop");
    assert_eq!(c1["balance_minor"], 10_500);
    assert_eq!(c1["currency"], "XOF");
    assert_eq!(c1["overdue_items"], 2);
    assert_eq!(c1["reminders_sent"], 1);
    assert_eq!(c1["last_sent_at"], "2025-12-01T10:00:00Z");
    assert_eq!(c1["next_due_at"], "2025-12-04T10:00:00Z");
    assert_eq!(c1["opted_out"], false);
    let c2 = &lines[1];
    assert_eq!(
        (c2["state"].as_str(), c2["invalid_contact"].as_bool()),
        (Some("no_valid_address"), Some(true))
    );
    let c3 = &lines[2];
    assert_eq!(
        (c3["overdue_items"].as_u64(), c3["state"].as_str()),
        (Some(0), Some("not_overdue"))
    );

    let table = s.run(&["status", "--now", "2025-12-01T12:00:00Z"]).ok().stdout;
    assert!(table.starts_with("CLIENT"), "{table}");
    assert!(table.contains("C1      Awa Diop"), "{table}");
    assert!(table.contains("10 500 XOF"), "{table}");

    let one = s.run(&["status", "--debtor", "C1", "--now", NOW]).ok().stdout;
    assert!(one.contains("1 reminders recorded for C1"), "{one}");
    assert!(
        one.contains("cycle 1 #1 · 2025-12-01 10:00 · outbox → +221771234567 · sent"),
        "{one}"
    );
    let missing = s.run(&["status", "--debtor", "C9", "--now", NOW]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("no client \"C9\""), "{}", missing.stderr);
}

#[test]
fn reset_forgets_one_client_or_all() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    s.run(&["tick", "--now", NOW]).ok();
    assert_eq!(s.outbox().len(), 1);
    let run = s.run(&["reset", "--debtor", "C1"]).ok();
    assert!(run.stdout.contains("forgot 1 reminders of client C1"), "{}", run.stdout);
    s.run(&["tick", "--now", NOW]).ok();
    assert_eq!(s.outbox().len(), 2, "sent again after the reset");
    s.run(&["reset", "--all"]).ok();
    let lines = s.run(&["status", "--json", "--now", NOW]).ok().json_lines();
    assert!(lines.iter().all(|l| l["reminders_sent"] == 0));
    assert_eq!(s.run(&["reset"]).code, 2, "reset needs --debtor or --all");
}

#[test]
fn send_test_sends_one_message_without_recording_it() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    let run = s
        .run(&[
            "send-test",
            "--channel",
            "outbox",
            "--to",
            "77 999 88 77",
            "--body",
            "Ceci est un test",
        ])
        .ok();
    assert!(
        run.stdout.contains("sent to +221779998877 via outbox"),
        "{}",
        run.stdout
    );
    let lines = s.outbox();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["to"].as_str(), lines[0]["body"].as_str()),
        (Some("+221779998877"), Some("Ceci est un test"))
    );
    assert!(lines[0]["reminder_id"].is_null());

    let bad = s.run(&["send-test", "--channel", "outbox", "--to", "12"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--to:"), "{}", bad.stderr);
    let unknown = s.run(&["send-test", "--channel", "fax", "--to", "77 999 88 77"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no channel \"fax\" (configured: outbox, sms)"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn preview_shows_what_tick_would_send_and_changes_nothing() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    let run = s.run(&["preview", "--json", "--now", NOW]).ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1);
    let m = &lines[0];
    assert_eq!(m["debtor_id"], "C1");
    assert_eq!(m["status"], "preview");
    assert_eq!(m["channel"], "outbox");
    assert_eq!(m["to"], "+221771234567");
    assert_eq!(m["template"], "fr/sms/reminder");
    assert_eq!(m["total_minor"], 10_500);
    assert_eq!(m["currency"], "XOF");
    assert!(m["subject"].is_null());
    assert_eq!(m["items"].as_array().unwrap().len(), 2);
    assert!(
        m["body"]
            .as_str()
            .unwrap()
            .contains("Réf 4 - Échéance: 2025-11-25 - Restant: 8 000 XOF")
    );
    let summary: serde_json::Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(summary["clients_overdue"], 2);
    assert_eq!(summary["skipped"]["no_valid_address"], 1);
    assert!(s.outbox().is_empty());
    assert!(!s.path("rappel.db").exists());
}

#[test]
fn quiet_hours_hold_reminders_until_the_window_opens() {
    let s = Scratch::new(
        &outbox_config("").replace("quiet_hours = \"off\"", "quiet_hours = \"21:00-08:00\""),
        ROWS,
    );
    let night = s.run(&["tick", "--now", "2025-12-01T03:00:00Z"]).ok();
    assert!(night.stdout.contains("1 quiet hours"), "{}", night.stdout);
    assert!(s.outbox().is_empty());
    s.run(&["tick", "--now", "2025-12-01T06:00:00Z"]).ok();
    assert!(s.outbox().is_empty(), "06:00 is still inside 21:00-08:00");
    s.run(&["tick", "--now", "2025-12-01T12:00:00Z"]).ok();
    assert_eq!(s.outbox().len(), 1);
}

#[test]
fn tick_json_prints_one_object_per_message_and_the_summary_on_stderr() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    let run = s.run(&["tick", "--json", "--now", NOW]).ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], "sent");
    assert!(lines[0]["reminder_id"].as_i64().is_some());
    assert_eq!(
        (lines[0]["cycle"].as_u64(), lines[0]["reminder"].as_u64()),
        (Some(1), Some(1))
    );
    let summary: serde_json::Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        (summary["sent"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(0))
    );
}

#[test]
fn an_unwritable_outbox_fails_the_send_and_the_next_tick_retries_it() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    std::fs::create_dir(s.path("outbox.jsonl")).unwrap();
    let run = s.run(&["tick", "--now", NOW]);
    assert_eq!(run.code, 1, "a failed send is a runtime failure");
    assert!(
        run.stdout.contains("failed") && run.stdout.contains("cannot append to outbox"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir(s.path("outbox.jsonl")).unwrap();
    s.run(&["tick", "--now", "2025-12-01T12:00:00Z"]).ok();
    let lines = s.outbox();
    assert_eq!(lines.len(), 1);
    let status = s.run(&["status", "--debtor", "C1", "--now", NOW]).ok().stdout;
    assert!(
        status.contains("cycle 1 #1") && status.contains("· sent"),
        "same reminder, now sent: {status}"
    );
}

//! A reminder is recorded and sent once, whatever runs at the same instant; a dry run sends
//! and records nothing.

use crate::util::{Scratch, outbox_config};

const ROWS: &str = "\
C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta,77 123 45 68,,invoice,F-2,2025-11-21,4000,1000,XOF
C3,Coumba,77 123 45 69,,manual,9,2025-11-22,1000,0,XOF
";
const NOW: &str = "2025-12-01T10:00:00Z";

#[test]
fn two_ticks_at_the_same_instant_send_one_message_per_client() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    let first = s.run(&["tick", "--now", NOW]).ok();
    assert!(first.stdout.contains("3 sent, 0 failed"), "{}", first.stdout);
    let second = s.run(&["tick", "--now", NOW]).ok();
    assert!(second.stdout.contains("0 sent, 0 failed"), "{}", second.stdout);
    let ids: Vec<String> = s
        .outbox()
        .iter()
        .map(|l| l["debtor_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["C1", "C2", "C3"]);
}

#[test]
fn concurrent_ticks_never_send_twice() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    // Create the ledger first so that both processes race on claims, not on creating tables.
    s.run(&["status"]).ok();
    s.run(&["reset", "--all"]).ok();
    let children: Vec<_> = (0..4)
        .map(|_| s.cmd(&["tick", "--now", NOW]).output().unwrap())
        .collect();
    assert!(children.iter().all(|o| o.status.success()));
    assert_eq!(s.outbox().len(), 3, "{:?}", s.outbox());
}

#[test]
fn dry_run_sends_and_records_nothing() {
    let s = Scratch::new(&outbox_config(""), ROWS);
    let run = s
        .run_env(&["tick", "--now", NOW, "--json"], &[("DEBT_REMINDER_DRY_RUN", "true")])
        .ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["status"] == "dry-run"));
    assert!(s.outbox().is_empty(), "nothing sent");
    assert!(!s.path("rappel.db").exists(), "nothing recorded");
    // And a real tick afterwards still sends everything: the dry run took no reminder.
    s.run(&["tick", "--now", NOW]).ok();
    assert_eq!(s.outbox().len(), 3);
}

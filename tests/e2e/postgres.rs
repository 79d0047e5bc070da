//! Several rappel processes sharing one PostgreSQL ledger: every client reminded exactly
//! once, and the work shared; a ledger that cannot be reached fails the check cleanly.

use crate::util::{Scratch, outbox_config, pg_schema};
use rappel_twilio_fake::FakeTwilio;
use std::collections::HashSet;

fn twilio_on_postgres(fake: &FakeTwilio, url: &str, rows: &str) -> Scratch {
    let extra = format!(
        r#"
[channels.twilio]
kind = "twilio-sms"
account_sid = "{sid}"
auth_token = "{token}"
from = "+15005550006"
base_url = "{base}"
rate_per_second = 0
max_in_flight = 8
"#,
        sid = fake.account_sid(),
        token = fake.auth_token(),
        base = fake.base_url()
    );
    let config = outbox_config(&extra)
        .replace("channel = \"outbox\"", "channel = \"twilio\"")
        .replace("path = \"rappel.db\"", &format!("url = \"{url}\""));
    Scratch::new(&config, rows)
}

#[test]
fn three_processes_on_one_postgres_ledger_send_each_reminder_once() {
    let Some(db) = pg_schema() else { return };
    let fake = FakeTwilio::start_in_background();
    let rows: String = (0..2000)
        .map(|i| {
            format!(
                "C{i:04},Client {i},77{:07},,invoice,F-{i},2025-11-20,1000,0,XOF\n",
                1_000_000 + i
            )
        })
        .collect();
    let s = twilio_on_postgres(&fake, &db.url, &rows);
    // Each send takes 10 ms at the provider, so that the three processes overlap.
    fake.set_fault(rappel_twilio_fake::Fault::Slow(std::time::Duration::from_millis(10)));
    s.run(&["validate"]).ok();
    // Create the tables once, so that the three processes race on claims only.
    s.run(&["status", "--debtor", "C0000"]).ok();

    // Each child's output is drained by its own thread: a child blocked on a full pipe would
    // stall the others on its open claims.
    let children: Vec<_> = (0..3)
        .map(|_| {
            let child = s
                .cmd(&["tick", "--json", "--now", "2025-12-01T10:00:00Z"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::spawn(move || child.wait_with_output().unwrap())
        })
        .collect();
    let mut per_process = Vec::new();
    for child in children {
        let out = child.join().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let sent = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["status"] == "sent")
            .count();
        per_process.push(sent);
    }
    let created = fake.created();
    let unique: HashSet<&str> = created.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(created.len(), 2000, "one message per client, no double");
    assert_eq!(unique.len(), 2000);
    assert_eq!(per_process.iter().sum::<usize>(), 2000, "{per_process:?}");
    assert!(
        per_process.iter().all(|n| *n > 0),
        "every process took a share: {per_process:?}"
    );
}

#[test]
fn an_unreachable_ledger_fails_the_check_cleanly_and_the_next_one_works() {
    let Some(db) = pg_schema() else { return };
    let s = Scratch::new(
        &outbox_config(""),
        "C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF\n",
    );
    let good = std::fs::read_to_string(s.path("rappel.toml"))
        .unwrap()
        .replace("path = \"rappel.db\"", &format!("url = \"{}\"", db.url));
    let down = good
        .replace("127.0.0.1:5432", "127.0.0.1:1")
        .replace("@localhost:5432", "@127.0.0.1:1");
    std::fs::write(s.path("rappel.toml"), &down).unwrap();
    let run = s.run(&["tick", "--now", "2025-12-01T10:00:00Z"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("ledger postgres://") && run.stderr.contains("cannot connect"),
        "{}",
        run.stderr
    );
    assert!(s.outbox().is_empty(), "nothing sent without a ledger");
    std::fs::write(s.path("rappel.toml"), &good).unwrap();
    s.run(&["tick", "--now", "2025-12-01T10:00:00Z"]).ok();
    assert_eq!(s.outbox().len(), 1);
}

#[test]
fn the_example_billing_schema_gives_the_right_reminders() {
    let Some(db) = pg_schema() else { return };
    let schema = std::fs::read_to_string(crate::util::repo().join("config/examples/postgres/schema.sql")).unwrap();
    let data = "
        INSERT INTO clients (id, name, phone, email) VALUES
          (1, 'Haziza Apple', '77 123 45 67', NULL),
          (2, 'Fa Guité', '+221 76 234 56 78', NULL),
          (3, 'Grand Ndiaye', '00221781112233', NULL),
          (4, 'Awa Diop', '77 200 10 10', NULL);
        INSERT INTO invoices (id, client_id, number, due_date, amount) VALUES
          (1, 1, 'FAC-0042', '2025-11-20', 2500),
          (2, 2, 'FAC-0051', '2025-11-10', 100000),
          (3, 4, 'FAC-0044', '2025-11-05', 50000);
        INSERT INTO invoice_payments (invoice_id, paid_on, amount) VALUES
          (2, '2025-11-12', 5000), (2, '2025-11-20', 3000), (3, '2025-11-06', 50000);
        INSERT INTO manual_debts (id, client_id, reference, due_date, amount) VALUES
          (17, 3, '', '2025-11-02', 250000), (18, 2, '18', '2025-11-15', 35000);
        INSERT INTO debt_repayments (debt_id, paid_on, amount) VALUES (17, '2025-11-25', 15000);
    ";
    crate::util::pg_exec(&db, &format!("{schema}\n{data}"));
    let s = Scratch::new(&outbox_config(""), "");
    let config = std::fs::read_to_string(s.path("rappel.toml")).unwrap().replace(
        "kind = \"csv\"\npath = \"debts.csv\"",
        &format!("kind = \"postgres\"\nurl = \"{}\"", db.url),
    );
    std::fs::write(s.path("rappel.toml"), config).unwrap();
    let lines = s
        .run(&["preview", "--json", "--now", "2025-12-01T10:00:00Z"])
        .ok()
        .json_lines();
    let body = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .map(|l| l["body"].as_str().unwrap().to_string())
    };
    assert_eq!(lines.len(), 3, "Awa Diop paid in full");
    assert!(
        body("Haziza Apple")
            .unwrap()
            .contains(" - Facture FAC-0042 - Échéance: 2025-11-20 - Restant: 2 500 XOF")
    );
    let fa = body("Fa Guité").unwrap();
    assert!(
        fa.contains(" - Facture FAC-0051 - Échéance: 2025-11-10 - Restant: 92 000 XOF"),
        "{fa}"
    );
    assert!(
        fa.contains(" - Réf 18 - Échéance: 2025-11-15 - Restant: 35 000 XOF"),
        "{fa}"
    );
    assert!(
        body("Grand Ndiaye")
            .unwrap()
            .contains(" - Réf 17 - Échéance: 2025-11-02 - Restant: 235 000 XOF")
    );
    let totals: Vec<i64> = lines.iter().map(|l| l["total_minor"].as_i64().unwrap()).collect();
    assert_eq!(totals, [2_500, 127_000, 235_000]);
}

#[test]
fn a_query_longer_than_a_second_reads_without_a_warning() {
    let Some(db) = pg_schema() else { return };
    let s = Scratch::new(&outbox_config(""), "");
    let query = "SELECT '1' AS debtor_id, 'Awa Diop' AS name, '77 123 45 67' AS phone, 'invoice' AS kind, \
                 'FAC-1' AS reference, DATE '2025-11-01' AS due_date, 2500 AS amount FROM pg_sleep(1.1)";
    let config = std::fs::read_to_string(s.path("rappel.toml")).unwrap().replace(
        "kind = \"csv\"\npath = \"debts.csv\"",
        &format!("kind = \"postgres\"\nurl = \"{}\"\nquery = \"{query}\"", db.url),
    );
    std::fs::write(s.path("rappel.toml"), config).unwrap();
    let run = s.run(&["preview", "--json", "--now", "2025-12-01T10:00:00Z"]).ok();
    assert_eq!(run.json_lines().len(), 1);
    assert!(!run.stderr.contains("slow statement"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("pg_sleep"),
        "the query stays out of the logs: {}",
        run.stderr
    );
}

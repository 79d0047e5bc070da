//! Configuration errors reported together, and the legacy variables overriding the file.

use crate::util::{Scratch, outbox_config};

const ROW: &str = "C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF\n";
const NOW: &str = "2025-12-01T10:00:00Z";

#[test]
fn every_config_error_is_reported_at_once_with_its_key() {
    let config = r#"
[engine]
channel = "fax"
interval = "soon"
[rules]
period_days = "three"
quiet_hours = "9pm"
[source]
kind = "csv"
path = "debts.csv"
[channels.sms]
kind = "carrier-pigeon"
[channels.mail]
kind = "outbox"
path = "${OUTBOX_PATH}"
"#;
    let s = Scratch::new(config, ROW);
    for command in ["tick", "validate"] {
        let run = s.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        for key in [
            "engine.interval",
            "rules.period_days",
            "channels.mail.path: environment variable OUTBOX_PATH",
        ] {
            assert!(
                run.stderr.contains(key),
                "{command}: {key} missing from:\n{}",
                run.stderr
            );
        }
    }
    // With the file mistakes fixed, the component errors are reported together too.
    let config = config
        .replace("interval = \"soon\"", "")
        .replace("period_days = \"three\"", "")
        .replace("quiet_hours = \"9pm\"", "")
        .replace("\"fax\"", "\"sms\"")
        .replace("${OUTBOX_PATH}", "out.jsonl")
        .replace("path = \"debts.csv\"", "path = \"debts.csv\"\ncolour = \"red\"");
    std::fs::write(s.path("rappel.toml"), config).unwrap();
    let run = s.run(&["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("channels.sms.kind: unknown kind \"carrier-pigeon\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("source.colour"), "{}", run.stderr);
}

#[test]
fn a_missing_config_file_says_where_rappel_looked() {
    let s = Scratch::new("", ROW);
    let run = s.run(&["-c", "nope.toml", "tick"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nope.toml: no such configuration file"),
        "{}",
        run.stderr
    );
}

#[test]
fn rappel_config_variable_and_dotenv_are_read() {
    let s = Scratch::new(&outbox_config(""), ROW);
    std::fs::rename(s.path("rappel.toml"), s.path("other.toml")).unwrap();
    std::fs::write(s.path(".env"), "RAPPEL_CONFIG=other.toml\nDEBT_REMINDER_CHANNEL=sms\n").unwrap();
    let run = s.run(&["tick", "--now", NOW]).ok();
    // sms is the console channel: the message is printed, the outbox stays empty.
    assert!(run.stdout.contains("Bonjour Awa,"), "{}", run.stdout);
    assert!(s.outbox().is_empty());
}

#[test]
fn legacy_variables_override_the_file() {
    let s = Scratch::new(&outbox_config(""), ROW);

    let run = s
        .run_env(&["tick", "--now", NOW], &[("ENABLE_DEBT_REMINDERS", "false")])
        .ok();
    assert!(run.stderr.contains("reminders are disabled"), "{}", run.stderr);
    assert!(s.outbox().is_empty());

    let run = s
        .run_env(&["tick", "--now", NOW], &[("DEBT_REMINDER_CHANNEL", "sms")])
        .ok();
    assert!(run.stdout.contains("──── sms → +221771234567"), "{}", run.stdout);
    assert!(s.outbox().is_empty());

    s.run(&["reset", "--all"]).ok();
    s.run(&["tick", "--now", NOW]).ok();
    assert_eq!(s.outbox().len(), 1);
    let next_day = "2025-12-02T10:00:00Z";
    s.run(&["tick", "--now", next_day]).ok();
    assert_eq!(s.outbox().len(), 1, "period_days = 3 in the file");
    s.run_env(&["tick", "--now", next_day], &[("DEBT_REMINDER_PERIOD_DAYS", "1")])
        .ok();
    assert_eq!(s.outbox().len(), 2, "DEBT_REMINDER_PERIOD_DAYS=1 wins");

    let run = s.run_env(&["validate", "--json"], &[("DEBT_REMINDER_INTERVAL_SECONDS", "soon")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .contains("environment variable DEBT_REMINDER_INTERVAL_SECONDS"),
        "{}",
        run.stdout
    );

    // A local number is read with DEFAULT_COUNTRY_CODE.
    s.write_csv("C9,Jean,06 12 34 56 78,,invoice,F-9,2025-11-20,1000,0,XOF\n");
    let run = s
        .run_env(&["preview", "--json", "--now", NOW], &[("DEFAULT_COUNTRY_CODE", "+33")])
        .ok();
    assert_eq!(run.json_lines()[0]["to"], "+33612345678");
}

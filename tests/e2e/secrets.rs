//! Secrets never leak: distinctive fake secrets (Twilio token, SMTP password, bearer token,
//! PostgreSQL password), set in the config and in the environment, never appear in stdout,
//! stderr, logs at any level and in either format, `--json` output, the ledger or any
//! other file rappel writes, across every command and the error paths a user meets.

use crate::util::{Run, Scratch, outbox_config, pg_schema};
use rappel_twilio_fake::{FakeTwilio, Fault};
use std::io::{Read, Write};
use std::net::TcpListener;

const TWILIO_TOKEN: &str = "tok_SECRET_twilio_123";
const SMTP_PASSWORD: &str = "pw_SECRET_smtp_456";
const BEARER: &str = "bearer_SECRET_http_789";
const PG_PASSWORD: &str = "pg_SECRET_pass_000";
const NOW: &str = "2025-12-01T10:00:00Z";

const ROWS: &str = "\
C1,Awa Diop,77 123 45 67,awa@example.com,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta Fall,77 123 45 68,,manual,7,2025-11-02,235000,0,XOF
";

/// Every command a user runs, each plain and with `--json` where it has one.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["validate"],
        vec!["validate", "--json"],
        vec!["preview", "--now", NOW],
        vec!["preview", "--json", "--now", NOW],
        vec!["tick", "--now", NOW],
        vec!["tick", "--json", "--now", NOW],
        vec!["status", "--now", NOW],
        vec!["status", "--json", "--now", NOW],
        vec!["status", "--debtor", "C1", "--now", NOW],
        vec!["history"],
        vec!["history", "--json"],
        vec!["send-test", "--channel", "twilio", "--to", "+221771234567"],
        vec!["send-test", "--channel", "email", "--to", "awa@example.com"],
        vec!["reset", "--debtor", "C1"],
        vec!["reset", "--all"],
    ]
}

/// A way to turn logs up: extra arguments and extra environment variables.
type Loud = (&'static [&'static str], &'static [(&'static str, &'static str)]);

/// The ways logs are turned up: `-vv` in human form, and `RAPPEL_LOG=trace` as JSON.
const LOUD: [Loud; 2] = [(&["-vv"], &[]), (&["--log-format", "json"], &[("RAPPEL_LOG", "trace")])];

/// Every file rappel wrote in the folder (ledger, WAL, outbox…), not the ones the test wrote
/// with the secrets on purpose.
fn written_files(s: &Scratch) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(s.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter(|e| !matches!(e.file_name().to_str(), Some("rappel.toml" | ".env")))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs every command, loud, and asserts that no secret shows anywhere. Returns the runs.
fn run_all(s: &Scratch, secrets: &[&str], env: &[(&str, &str)], commands: &[Vec<&str>]) -> Vec<(String, Run)> {
    run_loud(s, secrets, env, commands, &LOUD)
}

/// [`run_all`] with only some of the ways logs are turned up.
fn run_loud(
    s: &Scratch,
    secrets: &[&str],
    env: &[(&str, &str)],
    commands: &[Vec<&str>],
    loud: &[Loud],
) -> Vec<(String, Run)> {
    let mut runs = Vec::new();
    for (flags, log_env) in loud {
        for command in commands {
            let args: Vec<&str> = flags.iter().copied().chain(command.iter().copied()).collect();
            let env: Vec<(&str, &str)> = env.iter().chain(log_env.iter()).copied().collect();
            let run = s.run_env(&args, &env);
            let label = format!("rappel {} (env {:?})", args.join(" "), log_env);
            for secret in secrets {
                assert!(
                    !run.stdout.contains(secret),
                    "{label}: stdout shows {secret}:\n{}",
                    run.stdout
                );
                assert!(
                    !run.stderr.contains(secret),
                    "{label}: stderr shows {secret}:\n{}",
                    run.stderr
                );
                assert!(!run.stderr.contains("panicked"), "{label} panicked:\n{}", run.stderr);
                for (file, bytes) in written_files(s) {
                    assert!(!contains(&bytes, secret), "{label}: {file} holds {secret}");
                }
            }
            runs.push((label, run));
        }
    }
    runs
}

/// A config with a Twilio channel at `base_url`, an SMTP channel at `smtp_port`, and
/// `[source]`/`[state]` as given, secrets taken from the environment.
fn config(base_url: &str, account_sid: &str, smtp_port: u16, token: &str) -> String {
    let extra = format!(
        r#"
[channels.twilio]
kind = "twilio-sms"
account_sid = "{account_sid}"
auth_token = "{token}"
from = "+15005550006"
base_url = "{base_url}"
rate_per_second = 0
timeout = "2s"

[channels.email]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "boutique"
password = "${{SMTP_PASSWORD}}"
from = "factures@example.com"
timeout = "2s"
"#
    );
    outbox_config(&extra).replace("channel = \"outbox\"", "channel = \"twilio\"\nfallback = [\"email\"]")
}

/// A port where nothing listens.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that answers every request with `status` and a body that quotes the request
/// (headers included), as a careless API or proxy would.
fn echo_server(status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0_u8; 8192];
            let n = stream.read(&mut request).unwrap_or(0);
            let body = String::from_utf8_lossy(&request[..n]).replace(['\r', '\n'], " ");
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn secrets_stay_hidden_when_everything_works() {
    let fake = FakeTwilio::start_in_background();
    let token = fake.auth_token().to_string();
    let s = Scratch::new(
        &config(
            &fake.base_url(),
            fake.account_sid(),
            closed_port(),
            "${TWILIO_AUTH_TOKEN}",
        ),
        ROWS,
    );
    // The token from `.env`, the SMTP password from the process environment.
    std::fs::write(s.path(".env"), format!("TWILIO_AUTH_TOKEN={token}\n")).unwrap();
    let runs = run_all(
        &s,
        &[&token, SMTP_PASSWORD],
        &[("SMTP_PASSWORD", SMTP_PASSWORD)],
        &commands(),
    );
    // The runs did what they say: both clients reminded through Twilio with the right token
    // (once per log mode, `reset --all` in between), and the test SMS sent.
    let created = fake.created().len();
    assert!(created >= 4, "{created} messages reached the fake Twilio");
    let tick = runs.iter().find(|(l, _)| l.contains("tick --now")).unwrap();
    assert_eq!(tick.1.code, 0, "{}", tick.1.stderr);
}

#[test]
fn secrets_stay_hidden_when_twilio_refuses_the_token() {
    let fake = FakeTwilio::start_in_background();
    fake.set_fault(Fault::Code(20003));
    let s = Scratch::new(
        &config(&fake.base_url(), fake.account_sid(), closed_port(), TWILIO_TOKEN),
        ROWS,
    );
    let runs = run_all(
        &s,
        &[TWILIO_TOKEN, SMTP_PASSWORD],
        &[("SMTP_PASSWORD", SMTP_PASSWORD), ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)],
        &commands(),
    );
    let test = runs
        .iter()
        .find(|(l, _)| l.contains("send-test --channel twilio"))
        .unwrap();
    assert_ne!(test.1.code, 0, "a refused token must fail send-test");
}

#[test]
fn secrets_stay_hidden_when_twilio_and_smtp_are_unreachable() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let s = Scratch::new(
        &config(
            &url,
            "AC0123456789abcdef0123456789abcdef",
            closed_port(),
            "${TWILIO_AUTH_TOKEN}",
        ),
        ROWS,
    );
    let runs = run_all(
        &s,
        &[TWILIO_TOKEN, SMTP_PASSWORD],
        &[("SMTP_PASSWORD", SMTP_PASSWORD), ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)],
        &commands(),
    );
    let test = runs
        .iter()
        .find(|(l, _)| l.contains("send-test --channel email"))
        .unwrap();
    assert_ne!(test.1.code, 0, "an unreachable SMTP server must fail send-test");
}

#[test]
fn secrets_stay_hidden_when_the_smtp_server_wants_another_login() {
    let smtp = crate::util::Smtp::start_with_login("boutique:the-right-one");
    let Some(smtp) = smtp else { return };
    let fake = FakeTwilio::start_in_background();
    let s = Scratch::new(
        &config(&fake.base_url(), fake.account_sid(), smtp.port, TWILIO_TOKEN),
        ROWS,
    );
    let mails = vec![vec!["send-test", "--channel", "email", "--to", "awa@example.com"]];
    let runs = run_all(
        &s,
        &[SMTP_PASSWORD, TWILIO_TOKEN],
        &[("SMTP_PASSWORD", SMTP_PASSWORD)],
        &mails,
    );
    assert_ne!(runs[0].1.code, 0, "a refused login must fail send-test");
}

#[test]
fn the_http_source_token_stays_hidden_when_the_api_fails() {
    for status in [500, 401, 404] {
        let url = echo_server(status);
        let config = outbox_config("").replace(
            "kind = \"csv\"\npath = \"debts.csv\"",
            &format!(
                "kind = \"http\"\nurl = \"{url}/debts?token_hint=none\"\nbearer_token = \"${{API_TOKEN}}\"\nretries = 0"
            ),
        );
        let s = Scratch::new(&config, ROWS);
        let commands: Vec<Vec<&str>> = commands().into_iter().filter(|c| !c.contains(&"send-test")).collect();
        // The answer quotes the request, `Authorization` header included: rappel must not
        // show it. (A body is shown in errors only as a short excerpt.)
        let runs = run_all(&s, &[BEARER], &[("API_TOKEN", BEARER)], &commands);
        let tick = runs.iter().find(|(l, _)| l.contains("tick --now")).unwrap();
        assert_ne!(tick.1.code, 0, "HTTP {status} must fail the check");
    }
    // The same with the token written in the config file itself.
    let url = echo_server(500);
    let config = outbox_config("").replace(
        "kind = \"csv\"\npath = \"debts.csv\"",
        &format!("kind = \"http\"\nurl = \"{url}/debts\"\nbearer_token = \"{BEARER}\"\nretries = 0"),
    );
    let s = Scratch::new(&config, ROWS);
    run_all(&s, &[BEARER], &[], &[vec!["validate"], vec!["tick", "--now", NOW]]);
}

#[test]
fn the_postgres_password_stays_hidden_when_the_ledger_is_unreachable() {
    let url = format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/test", closed_port());
    let config = outbox_config("").replace(
        "[state]\npath = \"rappel.db\"",
        "[state]\npath = \"rappel.db\"\nurl = \"${RAPPEL_STATE_URL}\"",
    );
    let s = Scratch::new(&config, ROWS);
    // Each run waits for the pool's connect timeout: the loudest log mode only.
    let commands = vec![vec!["tick", "--json", "--now", NOW], vec!["reset", "--all"]];
    let runs = run_loud(&s, &[PG_PASSWORD], &[("RAPPEL_STATE_URL", &url)], &commands, &LOUD[1..]);
    assert!(runs.iter().all(|(_, r)| r.code != 0), "an unreachable ledger must fail");
    // Written in the file itself, too.
    let s = Scratch::new(
        &outbox_config("").replace("[state]\npath = \"rappel.db\"", &format!("[state]\nurl = \"{url}\"")),
        ROWS,
    );
    run_loud(&s, &[PG_PASSWORD], &[], &[vec!["status", "--now", NOW]], &LOUD[..1]);
}

#[test]
fn the_postgres_password_stays_hidden_when_the_ledger_works() {
    let Some(db) = pg_schema() else { return };
    // The test server trusts local users: any password is accepted, and must not show.
    let Some(rest) = db.url.strip_prefix("postgres://") else {
        return;
    };
    let url = match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => format!("postgres://{user}:{PG_PASSWORD}@{host}"),
        _ => return,
    };
    let config = outbox_config("").replace(
        "[state]\npath = \"rappel.db\"",
        "[state]\nurl = \"${RAPPEL_STATE_URL}\"",
    );
    let s = Scratch::new(&config, ROWS);
    let commands: Vec<Vec<&str>> = commands().into_iter().filter(|c| !c.contains(&"send-test")).collect();
    let runs = run_all(&s, &[PG_PASSWORD], &[("RAPPEL_STATE_URL", &url)], &commands);
    let tick = runs.iter().find(|(l, _)| l.contains("tick --json")).unwrap();
    assert_eq!(tick.1.code, 0, "{}", tick.1.stderr);
}

#[test]
fn secrets_stay_hidden_in_configuration_errors() {
    let fake = FakeTwilio::start_in_background();
    let base = config(&fake.base_url(), fake.account_sid(), closed_port(), TWILIO_TOKEN);
    let broken = [
        // An unknown key next to the secrets.
        base.replace("rate_per_second = 0", "rate_per_second = 0\nauth_tokn = \"x\""),
        // A secret of the wrong type (and a legacy variable that is not a number).
        base.replace(&format!("auth_token = \"{TWILIO_TOKEN}\""), "auth_token = 42"),
        // The token given twice (token and API key): refused, the value never echoed.
        base.replace(
            "rate_per_second = 0",
            &format!("rate_per_second = 0\napi_key_sid = \"SKx\"\napi_key_secret = \"{TWILIO_TOKEN}\""),
        ),
        // Not even TOML.
        format!("{base}\n[channels.twilio\nauth_token = \"{TWILIO_TOKEN}\""),
        // A missing variable in a secret.
        base.replace("${SMTP_PASSWORD}", "${SMTP_PASSWORD_UNSET}"),
    ];
    for text in broken {
        let s = Scratch::new(&text, ROWS);
        let runs = run_all(
            &s,
            &[TWILIO_TOKEN, SMTP_PASSWORD],
            &[("SMTP_PASSWORD", SMTP_PASSWORD), ("DEBT_REMINDER_PERIOD_DAYS", "often")],
            &[vec!["validate"], vec!["validate", "--json"], vec!["tick", "--now", NOW]],
        );
        assert!(runs.iter().all(|(_, r)| r.code == 2), "a broken config must exit 2");
    }
}

//! Helpers for driving the `rappel` binary: a scratch folder with a config and a CSV, and a
//! command runner with a clean environment.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The variables a user's shell may carry that would change what rappel does.
const CLEARED: &[&str] = &[
    "ENABLE_DEBT_REMINDERS",
    "DEBT_REMINDER_CHANNEL",
    "DEBT_REMINDER_DRY_RUN",
    "DEBT_REMINDER_INTERVAL_SECONDS",
    "DEBT_REMINDER_PERIOD_DAYS",
    "DEFAULT_COUNTRY_CODE",
    "RAPPEL_CONFIG",
    "RAPPEL_LOG",
];

/// The CSV header every test file uses.
pub const HEADER: &str = "debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency\n";

/// A scratch folder holding `rappel.toml`, `debts.csv`, the ledger and the outbox.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "exit code {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout parsed as JSON lines.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// A config using the outbox channel, no quiet hours, period 3 days, with `extra` appended.
pub fn outbox_config(extra: &str) -> String {
    format!(
        r#"
[engine]
channel = "outbox"
timezone = "Africa/Dakar"

[rules]
period_days = 3
quiet_hours = "off"

[source]
kind = "csv"
path = "debts.csv"

[state]
path = "rappel.db"

[channels.outbox]
kind = "outbox"
path = "outbox.jsonl"

[channels.sms]
kind = "console"
{extra}"#
    )
}

impl Scratch {
    /// A folder with `config` as rappel.toml and `csv_rows` (after the header) as debts.csv.
    pub fn new(config: &str, csv_rows: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("rappel.toml"), config).unwrap();
        let s = Self { dir };
        s.write_csv(csv_rows);
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Replaces debts.csv (header included).
    pub fn write_csv(&self, rows: &str) {
        std::fs::write(self.path("debts.csv"), format!("{HEADER}{rows}")).unwrap();
    }

    /// The rappel command, run in the folder with a clean environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        rappel(self.dir.path(), args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("rappel runs"))
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.cmd(args);
        cmd.envs(env.iter().copied());
        Run::from(cmd.output().expect("rappel runs"))
    }

    /// The outbox file's lines, parsed.
    pub fn outbox(&self) -> Vec<serde_json::Value> {
        match std::fs::read_to_string(self.path("outbox.jsonl")) {
            Ok(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// The rappel binary run in `dir` with the legacy variables cleared.
pub fn rappel(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rappel"));
    cmd.current_dir(dir).args(args);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    cmd
}

/// The repository root (for the demo config).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A private PostgreSQL schema for one test, dropped at the end. `None` (with a loud note)
/// when `RAPPEL_TEST_DATABASE_URL` is unset; under `CI=true` that is a failure.
pub struct PgSchema {
    pub url: String,
    base: String,
    name: String,
}

fn pg(sql: String, base: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(base)
            .await
            .expect("RAPPEL_TEST_DATABASE_URL reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("schema statement");
    });
}

/// A test that cannot run here says so loudly (straight to stderr: the harness captures
/// `eprintln!`); under `CI=true` it fails with `under_ci` instead, since CI must run it.
fn skip(under_ci: &str, why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{under_ci}");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

pub fn pg_schema() -> Option<PgSchema> {
    let Ok(base) = std::env::var("RAPPEL_TEST_DATABASE_URL") else {
        skip(
            "RAPPEL_TEST_DATABASE_URL must be set under CI: the Postgres tests cannot be skipped",
            "RAPPEL_TEST_DATABASE_URL is not set",
        );
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("rappel_e2e_{}_{nanos}", std::process::id());
    pg(format!("CREATE SCHEMA {name}"), &base);
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
    Some(PgSchema { url, base, name })
}

/// Runs SQL inside the test schema.
pub fn pg_exec(db: &PgSchema, sql: &str) {
    pg(format!("SET search_path TO {};\n{sql}", db.name), &db.base);
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (sql, base) = (
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
            self.base.clone(),
        );
        let _ = std::thread::spawn(move || pg(sql, &base)).join();
    }
}

/// The email channel's test server, run as a child process; killed on drop.
pub struct Smtp {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    /// `None` (said loudly) when aiosmtpd is missing; under `CI=true` that is a failure.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// Like [`Smtp::start`], requiring the login `user:password`.
    pub fn start_with_login(user_pass: &str) -> Option<Self> {
        Self::start_with(&["--auth", user_pass])
    }

    fn start_with(options: &[&str]) -> Option<Self> {
        let has_aiosmtpd = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            skip(
                "aiosmtpd must be installed under CI",
                "aiosmtpd not installed (python3 -m pip install aiosmtpd)",
            );
            return None;
        }
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(repo().join("channels/email/tests/smtp_server.py"))
            .args(["--maildir", maildir.path().to_str().unwrap()])
            .args(options)
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
    pub fn mails(&self) -> Vec<serde_json::Value> {
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

    pub fn channel(&self) -> String {
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

//! Test helpers: a real SMTP server (`smtp_server.py`, on aiosmtpd) run as a child process,
//! self-signed certificates made with `openssl`, and channels built from a config table the
//! way the binary builds them.
#![allow(dead_code)]

use rappel_core::Channel;
use rappel_core::config::{Config, ConfigError};
use rappel_core::registry::BuildContext;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// How long the server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `python3` can import aiosmtpd. Without it, tests are skipped with a loud message,
/// except under CI (`CI=true`), where they fail.
pub fn have_aiosmtpd(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "{test}: the Python package aiosmtpd is missing; run `python3 -m pip install aiosmtpd` before the tests"
            );
        }
        eprintln!("\n!!!!!!!! SKIPPED {test}: aiosmtpd not installed (python3 -m pip install aiosmtpd) !!!!!!!!\n");
    }
    ok
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, with its key.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certs {
    /// A self-signed server certificate (`CA:FALSE`), the kind a relay should have.
    pub fn new() -> Self {
        Self::make("DNS:localhost,IP:127.0.0.1", "critical,CA:FALSE")
    }

    /// A self-signed server certificate for other names only.
    pub fn for_name(dns: &str) -> Self {
        Self::make(&format!("DNS:{dns}"), "critical,CA:FALSE")
    }

    /// A self-signed certificate marked as an authority (`CA:TRUE`, what `openssl req -x509`
    /// makes by default), which rustls refuses as a server's certificate.
    pub fn authority() -> Self {
        Self::make("DNS:localhost,IP:127.0.0.1", "critical,CA:TRUE")
    }

    fn make(names: &str, basic_constraints: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
            ])
            .args(["-days", "2", "-addext"])
            .arg(format!("subjectAltName={names}"))
            .arg("-addext")
            .arg(format!("basicConstraints={basic_constraints}"))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("the openssl command is needed to make a test certificate");
        assert!(
            out.status.success(),
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir, cert, key }
    }
}

/// One email the server accepted.
#[derive(Debug)]
pub struct Mail {
    /// Exactly as received.
    pub raw: String,
    /// As Python's `email` package reads it: `headers` (decoded), `parts` (decoded `text`,
    /// `content_type`, `charset`), `content_type`, `mail_from`, `rcpt_tos`, `peer_port`.
    pub json: Value,
}

impl Mail {
    /// A decoded header.
    pub fn header(&self, name: &str) -> &str {
        self.json["headers"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} header in:\n{}", self.raw))
    }

    /// The decoded text of the part of type `content_type`.
    pub fn part(&self, content_type: &str) -> &str {
        let parts = self.json["parts"].as_array().unwrap();
        parts
            .iter()
            .find(|p| p["content_type"] == content_type)
            .and_then(|p| p["text"].as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in:\n{}", self.raw))
    }

    pub fn content_types(&self) -> Vec<&str> {
        let parts = self.json["parts"].as_array().unwrap();
        parts.iter().map(|p| p["content_type"].as_str().unwrap()).collect()
    }
}

/// A running `smtp_server.py`, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
    log: PathBuf,
}

impl Server {
    /// Starts the server with `args` (see `smtp_server.py --help`) and waits until it listens.
    pub fn start(args: &[&str]) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let log = maildir.path().join("server.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--port", "0", "--maildir"])
            .arg(maildir.path().join("mail"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("cannot start python3");
        // The script prints its port once it listens: waiting for that line is waiting until
        // it accepts connections.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let mut server = Self {
            child,
            port: 0,
            maildir,
            log,
        };
        server.port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => panic!(
                "the SMTP server did not start within {START_TIMEOUT:?} (printed {line:?}); its log:\n{}",
                server.log()
            ),
        };
        server
    }

    /// What the server wrote on stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The emails received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let dir = self.maildir.path().join("mail");
        (1..)
            .map(|n| dir.join(format!("{n}.json")))
            .take_while(|json| json.exists())
            .map(|json| Mail {
                raw: std::fs::read_to_string(json.with_extension("eml")).unwrap(),
                json: serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap(),
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole config file around a `[channels.email]` table.
pub fn config_text(table: &str) -> String {
    format!("[engine]\nchannel = \"email\"\n\n[source]\nkind = \"csv\"\n\n[channels.email]\nkind = \"smtp\"\n{table}\n")
}

/// Builds the `[channels.email]` channel of a config holding `table`, as the binary does
/// (with `${VAR}` taken from `env`).
pub fn try_channel(table: &str, env: &[(&str, &str)]) -> Result<Arc<dyn Channel>, ConfigError> {
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let config = Config::parse(&config_text(table), Path::new("/etc/rappel/rappel.toml"), &lookup)
        .unwrap_or_else(|errors| panic!("config: {errors:?}"));
    let component = &config.channels["email"];
    rappel_channel_email::build(&BuildContext {
        config: &config,
        component,
        name: "email",
        stdout_is_data: false,
    })
}

pub fn channel(table: &str) -> Arc<dyn Channel> {
    try_channel(table, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A reminder to `to`.
pub fn reminder(to: &str, subject: &str, body: &str, html: Option<&str>) -> rappel_core::Message {
    rappel_core::Message {
        at: "2025-11-24T06:00:00Z".parse().unwrap(),
        reminder_id: Some(7),
        debtor_id: Some("C-2".into()),
        to: to.into(),
        subject: Some(subject.into()),
        body: body.into(),
        html: html.map(str::to_string),
        vars: Default::default(),
    }
}

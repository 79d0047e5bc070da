//! The command line: global options and one subcommand per job.

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// rappel: automatic debt reminders by SMS, WhatsApp and email.
#[derive(Debug, Parser)]
#[command(name = "rappel", version, about, propagate_version = true)]
pub struct Cli {
    /// The configuration file.
    #[arg(short, long, global = true, env = "RAPPEL_CONFIG", default_value = "rappel.toml")]
    pub config: PathBuf,

    /// Run as of this instant instead of the system clock (RFC 3339, e.g.
    /// 2025-12-01T10:00:00Z). `run` starts its clock there and lets it advance.
    #[arg(long, global = true, value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, env = "RAPPEL_LOG_FORMAT", default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// More logs on stderr: -v for each check and send, -vv for debugging.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// `--json` for commands that list things.
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonFlag {
    /// One JSON object per line on stdout (summary on stderr).
    #[arg(long)]
    pub json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one check now: send the reminders that are due and print a summary.
    Tick(JsonFlag),
    /// Show what `tick` would send now, without sending or recording anything.
    Preview(JsonFlag),
    /// Per client: balance, overdue items, reminders of the current cycle, next due.
    Status {
        /// Only this client (its id in the source), with its reminder history.
        #[arg(long)]
        debtor: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Forget the reminder history (opt-outs and invalid numbers are kept).
    Reset {
        /// Forget this client's history.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        debtor: Option<String>,
        /// Forget every client's history.
        #[arg(long)]
        all: bool,
    },
    /// Send one test message through a configured channel.
    SendTest {
        /// The `[channels.NAME]` to use.
        #[arg(long)]
        channel: String,
        /// The phone number or email address.
        #[arg(long)]
        to: String,
        /// The text (default: a short test sentence in the configured language).
        #[arg(long)]
        body: Option<String>,
    },
    /// Check the configuration, the templates and the source; report every problem.
    Validate(JsonFlag),
    /// Stay up and run a check at every interval, aligned to the wall clock.
    Run,
    /// What each message and experiment variant achieved: payers, amounts, rates, cost.
    Stats {
        /// Only reminders and payments from this date (YYYY-MM-DD, local time) or instant.
        #[arg(long)]
        since: Option<String>,
        /// Only this experiment.
        #[arg(long)]
        experiment: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Run the real rules over the configured source on a virtual clock, with an in-memory
    /// ledger and nothing sent: who would get which reminder on which day.
    Simulate {
        /// How many days to simulate.
        #[arg(long)]
        days: u32,
        /// The first day (YYYY-MM-DD, local time) or instant; default: --now or today.
        #[arg(long)]
        from: Option<String>,
        /// Payments to apply on their day: a CSV with the header date,debtor_id,amount
        /// (amount in major units).
        #[arg(long)]
        payments: Option<std::path::PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Every reminder recorded: when, to whom, by which channel and template, how it went.
    History {
        /// Only this client.
        #[arg(long)]
        debtor: Option<String>,
        /// Only reminders from this date (YYYY-MM-DD, local time) or instant (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| format!("\"{text}\" is not an RFC 3339 instant such as 2025-12-01T10:00:00Z ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "rappel",
            "tick",
            "--now",
            "2025-12-01T10:00:00+01:00",
            "--json",
            "-c",
            "x.toml",
        ])
        .unwrap();
        assert_eq!(cli.now.unwrap().to_rfc3339(), "2025-12-01T09:00:00+00:00");
        assert_eq!(cli.config, PathBuf::from("x.toml"));
        assert!(matches!(cli.command, Command::Tick(JsonFlag { json: true })));
        assert!(Cli::try_parse_from(["rappel", "tick", "--now", "yesterday"]).is_err());
        assert!(Cli::try_parse_from(["rappel", "reset"]).is_err());
        assert!(Cli::try_parse_from(["rappel", "reset", "--all", "--debtor", "x"]).is_err());
    }
}

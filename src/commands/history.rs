//! `rappel history`: the audit trail of what was sent, to whom, by which channel, and how
//! it went (rappel's status and the provider's delivery status).

use crate::app::{self, UsageError};
use crate::cli::Cli;
use crate::output;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::process::ExitCode;

/// Lists reminders oldest first, as a table or one JSON object per line.
pub async fn run(cli: &Cli, debtor: Option<&str>, since: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let tz = config.engine.timezone;
    let since = since
        .map(|s| parse_since(s, tz).map_err(|e| UsageError(format!("--since: {e}"))))
        .transpose()?;
    let path = config.resolve(&config.state.path);
    if config.state.url.is_none() && !path.exists() {
        if !json {
            println!("no reminder recorded yet ({} does not exist)", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ledger = rappel_core::ledger::Ledger::open(config.state.url.as_deref(), &path).await?;
    let rows = ledger.history(debtor, since).await?;
    ledger.close().await;
    if json {
        rows.iter().for_each(output::json_line);
        return Ok(ExitCode::SUCCESS);
    }
    let locale = &config.engine.locale;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                output::local(r.attempted_at, tz),
                r.debtor_id.clone(),
                format!("{}#{}", r.cycle, r.reminder),
                r.channel.clone(),
                r.to.clone(),
                output::money(r.total_minor, &r.currency, locale),
                r.status.clone(),
                r.delivery_status.clone().unwrap_or_else(|| "-".into()),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "WHEN", "CLIENT", "CYCLE#", "CHANNEL", "TO", "TOTAL", "STATUS", "DELIVERY", "ERROR"
            ],
            &table
        )
    );
    println!("{} reminders", rows.len());
    Ok(ExitCode::SUCCESS)
}

pub fn parse_since(text: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, UsageError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).earliest())
        .map(|t| t.to_utc())
        .ok_or_else(|| {
            UsageError(format!(
                "--since: \"{text}\" is not a date (YYYY-MM-DD) or an RFC 3339 instant"
            ))
        })
}

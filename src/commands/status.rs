//! `rappel status`: per client, where the reminders stand.

use crate::cli::Cli;
use crate::{app, output};
use anyhow::bail;
use std::process::ExitCode;

/// Prints the status table, or one JSON object per client.
pub async fn run(cli: &Cli, debtor: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let engine = app::engine(config, json)?;
    let now = app::clock(cli.now).now();
    let ledger = engine.open_ledger_if_exists().await?;
    let (statuses, rejected) = engine.status(now, ledger.as_ref(), debtor).await?;
    for row in &rejected {
        eprintln!("warning: {row} (row skipped)");
    }
    if let Some(id) = debtor
        && statuses.is_empty()
    {
        bail!("no client \"{id}\" in {}", engine.source().describe());
    }
    let tz = engine.config().engine.timezone;
    let locale = engine.config().engine.locale.clone();
    if json {
        statuses.iter().for_each(output::json_line);
    } else {
        let rows: Vec<Vec<String>> = statuses
            .iter()
            .map(|s| {
                vec![
                    s.debtor_id.clone(),
                    s.name.clone(),
                    output::money(s.balance_minor, &s.currency, &locale),
                    output::money(s.overdue_minor, &s.currency, &locale),
                    s.overdue_items.to_string(),
                    s.reminders_sent.to_string(),
                    s.last_sent_at
                        .map(|t| output::local(t, tz))
                        .unwrap_or_else(|| "-".into()),
                    s.next_due_at
                        .map(|t| output::local(t, tz))
                        .unwrap_or_else(|| "-".into()),
                    s.state.clone(),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(
                &[
                    "CLIENT",
                    "NAME",
                    "BALANCE",
                    "OVERDUE",
                    "ITEMS",
                    "SENT",
                    "LAST SENT",
                    "NEXT DUE",
                    "STATE"
                ],
                &rows
            )
        );
    }
    if let (Some(id), Some(l), false) = (debtor, &ledger, json) {
        let history = l.reminders_of(id).await?;
        println!("\n{} reminders recorded for {id}:", history.len());
        for r in history {
            println!(
                "  cycle {} #{} · {} · {} → {} · {}{}",
                r.cycle,
                r.seq,
                output::local(r.attempted_at, tz),
                r.channel,
                r.recipient,
                r.status,
                r.error.map(|e| format!(" ({e})")).unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `rappel stats`: payers, amounts, rates and cost per message and experiment variant, and
//! between two variants a two-proportion z-test with a verdict in plain words.

use super::history::parse_since;
use crate::app::{self, UsageError};
use crate::cli::Cli;
use crate::output;
use rappel_core::stats;
use serde_json::json;
use std::process::ExitCode;

/// Prints one line per message/variant and per comparison.
pub async fn run(cli: &Cli, since: Option<&str>, experiment: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let since = since
        .map(|s| parse_since(s, config.engine.timezone).map_err(|e| UsageError(format!("--since: {e}"))))
        .transpose()?;
    let path = config.resolve(&config.state.path);
    let (reminders, payments) = if config.state.url.is_none() && !path.exists() {
        Default::default()
    } else {
        let ledger = rappel_core::ledger::Ledger::open(config.state.url.as_deref(), &path).await?;
        let data = ledger.stats_data(since).await?;
        ledger.close().await;
        data
    };
    let (groups, comparisons) = stats::compute(&reminders, &payments, experiment);
    if json {
        for g in &groups {
            let mut v = serde_json::to_value(g)?;
            v["kind"] = json!("group");
            output::json_line(&v);
        }
        for c in &comparisons {
            let mut v = serde_json::to_value(c)?;
            v["kind"] = json!("comparison");
            output::json_line(&v);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if groups.is_empty() {
        println!("no reminder sent yet in this period");
        return Ok(ExitCode::SUCCESS);
    }
    let locale = &config.engine.locale;
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                g.message.clone(),
                g.variant
                    .clone()
                    .map(|v| format!("{}:{v}", g.experiment.clone().unwrap_or_default()))
                    .unwrap_or("-".into()),
                g.clients_reminded.to_string(),
                g.reminders_sent.to_string(),
                g.paid_in_full.to_string(),
                g.paid_in_part.to_string(),
                output::money(g.recovered_minor, &g.currency, locale),
                pct(g.recovery_rate),
                g.median_days_to_payment.map_or("-".into(), |d| format!("{d:.1}")),
                g.segments.to_string(),
                format!("{} {}", g.estimated_cost, g.cost_currency.clone().unwrap_or_default()),
                g.cost_per_1000_recovered.clone().unwrap_or("-".into()),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "MESSAGE",
                "VARIANT",
                "CLIENTS",
                "SENT",
                "PAID",
                "PART",
                "RECOVERED",
                "RATE",
                "DAYS",
                "SEGMENTS",
                "COST",
                "COST/1000"
            ],
            &rows
        )
    );
    for c in &comparisons {
        println!(
            "{}: {} vs {}: full-payment rate {:+.1} points, z = {:.2}, p = {:.3}: {}",
            c.experiment,
            c.a,
            c.b,
            c.difference * 100.0,
            c.z,
            c.p_value,
            c.verdict
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `tick` and `preview`: one check, printed as it goes.

use crate::cli::Cli;
use crate::{app, output};
use rappel_core::engine::{CheckSummary, Engine, MessageReport, Mode, Reports};
use std::process::ExitCode;

/// `rappel tick`: send what is due now.
pub async fn tick(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    if !config.engine.enabled {
        eprintln!("reminders are disabled (engine.enabled = false or ENABLE_DEBT_REMINDERS=false): nothing sent");
        return Ok(ExitCode::SUCCESS);
    }
    let mode = if config.engine.dry_run {
        Mode::DryRun
    } else {
        Mode::Send
    };
    let engine = app::engine(config, json)?;
    let now = app::clock(cli.now).now();
    let ledger = match mode {
        Mode::Send => Some(engine.open_ledger().await?),
        _ => engine.open_ledger_if_exists().await?,
    };
    let summary = run_check(&engine, now, mode, ledger.as_ref(), json).await;
    if let Some(l) = ledger {
        l.close().await;
    }
    let summary = summary?;
    Ok(if summary.failed + summary.unknown > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `rappel preview`: what `tick` would send now.
pub async fn preview(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    if !config.engine.enabled {
        eprintln!("note: reminders are disabled; this is what would be sent once enabled");
    }
    let engine = app::engine(config, json)?;
    let now = app::clock(cli.now).now();
    let ledger = engine.open_ledger_if_exists().await?;
    run_check(&engine, now, Mode::Preview, ledger.as_ref(), json).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs one check and prints messages and summary. Shared with `run`.
pub async fn run_check(
    engine: &Engine,
    now: chrono::DateTime<chrono::Utc>,
    mode: Mode,
    ledger: Option<&rappel_core::ledger::Ledger>,
    json: bool,
) -> anyhow::Result<CheckSummary> {
    let mut printer = Printer {
        // Lines leave in blocks of 64 KiB, and a tick's also after each batch the ledger
        // records: one write for up to a few hundred lines, each out soon after its send.
        out: output::Batched::new(64 * 1024),
        json,
        mode,
        locale: engine.config().engine.locale.clone(),
    };
    let summary = engine.check(now, mode, ledger, &mut printer).await;
    printer.out.flush();
    let summary = summary?;
    print_summary(&summary, json);
    Ok(summary)
}

/// Prints each message of a check: a JSON line, a line per send, or a block per preview.
struct Printer {
    out: output::Batched,
    json: bool,
    mode: Mode,
    locale: String,
}

impl Reports for Printer {
    fn report(&mut self, m: &MessageReport) {
        if self.json {
            self.out.json_line(m);
        } else if self.mode == Mode::Send {
            self.out.line(&output::message_line(m, &self.locale));
        } else {
            self.out.line(&output::message_block(m, &self.locale));
        }
    }

    fn recorded(&mut self) {
        self.out.flush();
    }
}

fn print_summary(summary: &CheckSummary, json: bool) {
    for row in &summary.rejected {
        eprintln!("warning: {}: {} (row skipped)", row.origin, row.reason);
    }
    if json {
        eprintln!("{}", serde_json::to_string(summary).unwrap_or_default());
    } else {
        println!("{summary}");
    }
}

//! `rappel run`: stay up and check at every interval, aligned to the wall clock. A catch-up
//! check runs at start when the last one is older than the interval. SIGINT or SIGTERM stop
//! it between checks.

use super::check::run_check;
use crate::app;
use crate::cli::Cli;
use rappel_core::engine::Mode;
use rappel_core::schedule::next_slot;
use rappel_core::{Clock, OffsetClock, SystemClock};
use std::process::ExitCode;
use std::sync::Arc;

/// Runs until a signal arrives.
pub async fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let clock: Arc<dyn Clock> = match cli.now {
        Some(start) => Arc::new(OffsetClock::starting_at(start)),
        None => Arc::new(SystemClock),
    };
    let interval = config.engine.interval.0;
    let tz = config.engine.timezone;
    let enabled = config.engine.enabled;
    let mode = if config.engine.dry_run {
        Mode::DryRun
    } else {
        Mode::Send
    };
    let engine = app::engine(config, false)?;
    let ledger = engine.open_ledger().await?;
    tracing::info!(interval = ?interval, timezone = %tz, "rappel running");

    let last = ledger.last_check().await?;
    let now = clock.now();
    if enabled && last.is_none_or(|t| now - t >= chrono::Duration::from_std(interval).unwrap_or_default()) {
        tracing::info!("catch-up check: the last one is older than the interval");
        if let Err(e) = run_check(&engine, now, mode, Some(&ledger), false).await {
            tracing::error!(error = format!("{e:#}"), "check failed; the next one will try again");
        }
    }
    loop {
        let now = clock.now();
        let slot = next_slot(now, interval, tz);
        let wait = (slot - now).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown() => {
                tracing::info!("signal received, stopping");
                ledger.close().await;
                return Ok(ExitCode::SUCCESS);
            }
        }
        if !enabled {
            tracing::info!(slot = %slot, "reminders are disabled (ENABLE_DEBT_REMINDERS=false): idle");
            continue;
        }
        if let Err(e) = run_check(&engine, slot, mode, Some(&ledger), false).await {
            tracing::error!(error = format!("{e:#}"), "check failed; the next one will try again");
        }
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

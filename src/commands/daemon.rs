//! `rappel run`: stay up and check at every interval, aligned to the wall clock, with the
//! HTTP server when configured. A catch-up check runs at start when the last one is older
//! than the interval (one, not one per missed slot). SIGINT or SIGTERM: no new send starts,
//! sends in flight get `[engine] shutdown_grace` to finish and are otherwise recorded as
//! `unknown`, the ledger is closed, exit 0.

use super::check::run_check;
use crate::cli::Cli;
use crate::{app, server};
use rappel_core::engine::{Engine, Mode};
use rappel_core::ledger::Ledger;
use rappel_core::schedule::{needs_catch_up, next_check};
use rappel_core::{Clock, OffsetClock, SystemClock};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;

/// Runs until a signal arrives.
pub async fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let clock: Arc<dyn Clock> = match cli.now {
        Some(start) => Arc::new(OffsetClock::starting_at(start)),
        None => Arc::new(SystemClock),
    };
    let engine = Arc::new(app::engine(config, false)?);
    let ledger = engine.open_ledger().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    let server = match &engine.config().server.listen {
        Some(listen) => Some(start_server(listen, &engine, &ledger, &clock, stop_rx.clone()).await?),
        None => None,
    };
    let result = schedule(&engine, &ledger, clock.as_ref(), stop_rx).await;
    if let Some(server) = server {
        let _ = server.await;
    }
    ledger.close().await;
    tracing::info!("stopped");
    result.map(|()| ExitCode::SUCCESS)
}

async fn start_server(
    listen: &str,
    engine: &Arc<Engine>,
    ledger: &Ledger,
    clock: &Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("server.listen: cannot listen on {listen}: {e}"))?;
    let config = &engine.config().server;
    let shared = Arc::new(server::Shared {
        engine: engine.clone(),
        ledger: ledger.clone(),
        metrics: server::install_metrics()?,
        clock: clock.clone(),
        public_url: config.public_url.as_ref().map(|u| u.trim_end_matches('/').to_string()),
        twilio_token: config.twilio_auth_token.clone(),
    });
    tracing::info!(address = %listener.local_addr()?, "HTTP server listening");
    let app = server::router(shared);
    Ok(tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    }))
}

/// The check loop: a catch-up check, then one at every slot, until `stop`.
async fn schedule(
    engine: &Engine,
    ledger: &Ledger,
    clock: &dyn Clock,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = engine.config();
    let interval = config.engine.interval.0;
    let tz = config.engine.timezone;
    let mode = if config.engine.dry_run {
        Mode::DryRun
    } else {
        Mode::Send
    };
    let quiet_end = config
        .rules
        .quiet_hours
        .filter(|_| config.engine.check_when_quiet_hours_end)
        .map(|q| q.end);
    tracing::info!(interval = ?interval, timezone = %tz, enabled = config.engine.enabled, "rappel running");

    if config.engine.enabled && needs_catch_up(ledger.last_check().await?, clock.now(), interval) {
        tracing::info!("catch-up check: the last one is older than the interval");
        if !check(engine, ledger, clock.now(), mode, &mut stop).await {
            return Ok(());
        }
    }
    loop {
        let now = clock.now();
        let slot = next_check(now, interval, tz, quiet_end);
        let wait = (slot - now).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => {
                tracing::info!("signal received, stopping");
                return Ok(());
            }
        }
        if !config.engine.enabled {
            tracing::info!(slot = %slot, "reminders are disabled (ENABLE_DEBT_REMINDERS=false): idle");
            continue;
        }
        if !check(engine, ledger, slot, mode, &mut stop).await {
            return Ok(());
        }
    }
}

/// One check that a signal can interrupt. Returns false when the process must stop.
async fn check(
    engine: &Engine,
    ledger: &Ledger,
    at: chrono::DateTime<chrono::Utc>,
    mode: Mode,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let grace = engine.config().engine.shutdown_grace.0;
    let work = run_check(engine, at, mode, Some(ledger), false);
    tokio::pin!(work);
    let result = tokio::select! {
        result = &mut work => result,
        _ = stop.wait_for(|s| *s) => {
            tracing::info!(grace = ?grace, "signal received: no new send; waiting for the sends in flight");
            engine.stop_sending();
            match tokio::time::timeout(grace, &mut work).await {
                Ok(result) => result,
                Err(_) => {
                    let ids = engine.in_flight();
                    match ledger.mark_interrupted(&ids, at).await {
                        Ok(n) => tracing::warn!(reminders = n, "sends still in flight recorded as unknown; the next start asks the provider"),
                        Err(e) => tracing::error!(error = %e, "cannot record the sends in flight"),
                    }
                    return false;
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::error!(error = format!("{e:#}"), "check failed; the next one will try again");
    }
    !*stop.borrow()
}

async fn shutdown_signal() {
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

//! `rappel reset`: forget the reminder history, for one client or all (the old "reset cache").

use crate::app;
use crate::cli::Cli;
use std::process::ExitCode;

/// Forgets reminders and cycles; opt-outs and invalid addresses stay.
pub async fn run(cli: &Cli, debtor: Option<&str>, all: bool) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let path = config.resolve(&config.state.path);
    let ledger = rappel_core::ledger::Ledger::open(config.state.url.as_deref(), &path).await?;
    let target = if all { None } else { debtor };
    let removed = ledger.reset(target).await?;
    ledger.close().await;
    match target {
        Some(id) => println!("forgot {removed} reminders of client {id} (opt-outs kept)"),
        None => println!("forgot {removed} reminders of every client (opt-outs kept)"),
    }
    Ok(ExitCode::SUCCESS)
}

//! One module per subcommand; `run` routes to them.

mod check;
mod daemon;
mod history;
mod reset;
mod send_test;
mod simulate;
mod stats;
mod status;
mod validate;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Tick(flag) => check::tick(&cli, flag.json).await,
        Command::Preview(flag) => check::preview(&cli, flag.json).await,
        Command::Status { debtor, json } => status::run(&cli, debtor.as_deref(), json.json).await,
        Command::Reset { debtor, all } => reset::run(&cli, debtor.as_deref(), *all).await,
        Command::SendTest { channel, to, body } => send_test::run(&cli, channel, to, body.as_deref()).await,
        Command::Validate(flag) => validate::run(&cli, flag.json).await,
        Command::Run => daemon::run(&cli).await,
        Command::Stats {
            since,
            experiment,
            json,
        } => stats::run(&cli, since.as_deref(), experiment.as_deref(), json.json).await,
        Command::Simulate {
            days,
            from,
            payments,
            json,
        } => simulate::run(&cli, *days, from.as_deref(), payments.as_deref(), json.json).await,
        Command::History { debtor, since, json } => {
            history::run(&cli, debtor.as_deref(), since.as_deref(), json.json).await
        }
    }
}

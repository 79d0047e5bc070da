//! The `rappel` binary: parse the command line, load `.env` and the config, run a command.
//! Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error.

mod app;
mod builtins;
mod cli;
mod commands;
mod output;
mod server;

use clap::Parser;
use rappel_core::config::ConfigErrors;
use std::process::ExitCode;

/// mimalloc: a check allocates many small strings per row and per message, from several
/// threads; it is markedly faster at that than the system allocator (see README, Performance).
/// Built without transparent huge pages: zeroing 2 MiB at each fresh page cost more than it
/// saved.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Phone metadata takes a few milliseconds to load: do it on the other core while the
    // config, the source and the ledger are read.
    std::thread::spawn(rappel_core::phone::warm_up);
    // `.env` first, so that its variables fill `${VAR}` and the legacy overrides. Variables
    // already set in the environment win.
    let dotenv = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    init_logs(&cli);
    if let Err(e) = dotenv
        && !e.not_found()
    {
        tracing::warn!(error = %e, "cannot read .env");
    }
    // The daemon serves HTTP while it checks: every core. A one-shot command is one check:
    // its sends, ledger writes and output on one thread, which saves a thread hand-off per
    // request (deciding and rendering still use every core, through rayon).
    let mut builder = match cli.command {
        cli::Command::Run => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let usage = e.downcast_ref::<app::UsageError>().is_some() || e.downcast_ref::<ConfigErrors>().is_some();
            eprintln!("error: {e:#}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn init_logs(cli: &cli::Cli) {
    use tracing_subscriber::EnvFilter;
    let default = match (cli.verbose, &cli.command) {
        (0, cli::Command::Run) => "info",
        (0, _) => "warn",
        (1, _) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("RAPPEL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        cli::LogFormat::Json => builder.json().init(),
        cli::LogFormat::Human => builder.with_target(false).init(),
    }
}

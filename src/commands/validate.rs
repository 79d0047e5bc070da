//! `rappel validate`: load everything a check would load and report every problem.

use crate::app;
use crate::cli::Cli;
use rappel_core::config::{Config, ConfigErrors};
use rappel_core::engine::Engine;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize, Default)]
struct Report {
    ok: bool,
    file: String,
    problems: Vec<String>,
    warnings: Vec<String>,
    source: Option<String>,
    items: usize,
    clients: usize,
    rows_rejected: usize,
}

/// Exit 0 when all is well, 2 when anything is wrong.
pub async fn run(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let mut report = Report {
        file: cli.config.display().to_string(),
        ..Report::default()
    };
    if let Some(config) = load(cli, &mut report) {
        check(config, &mut report).await;
    }
    report.ok = report.problems.is_empty();
    if !json {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if json {
        crate::output::json_line(&report);
    } else if report.ok {
        println!(
            "{}: ok · source {}: {} items, {} clients, no row rejected",
            report.file,
            report.source.unwrap_or_default(),
            report.items,
            report.clients
        );
    } else {
        eprintln!("{}: {} problem(s):", report.file, report.problems.len());
        for p in &report.problems {
            eprintln!("  {p}");
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn load(cli: &Cli, report: &mut Report) -> Option<Config> {
    match app::load_config(&cli.config) {
        Ok(c) => Some(c),
        Err(e) => {
            match e.downcast::<ConfigErrors>() {
                Ok(errors) => report.problems.extend(errors.errors.iter().map(ToString::to_string)),
                Err(e) => report.problems.push(format!("{e:#}")),
            }
            None
        }
    }
}

async fn check(config: Config, report: &mut Report) {
    let parts = match app::build_parts(&config, false) {
        Ok(parts) => parts,
        Err(errors) => {
            report.problems.extend(errors.errors.iter().map(ToString::to_string));
            return;
        }
    };
    let (source, channels) = parts;
    let engine = match Engine::new(config, source, channels) {
        Ok(e) => e,
        Err(e) => {
            report.problems.push(e.to_string());
            return;
        }
    };
    report.source = Some(engine.source().describe());
    report.warnings = engine.template_warnings();
    match engine.source().load().await {
        Ok(batch) => {
            report.items = batch.items.len();
            let (debtors, grouping) = rappel_core::debt::group_by_debtor(batch.items);
            report.clients = debtors.len();
            report.rows_rejected = batch.rejected.len() + grouping.len();
            report.problems.extend(batch.rejected.iter().map(ToString::to_string));
            report
                .problems
                .extend(grouping.iter().map(|g| format!("{}: {}", g.origin, g.reason)));
            let mut unreachable = 0;
            for d in &debtors {
                if let Err(e) = engine.address_of(d) {
                    unreachable += 1;
                    tracing::info!(debtor = %d.id, "no usable address: {e}");
                }
            }
            if unreachable > 0 {
                eprintln!(
                    "note: {unreachable} client(s) have no usable address for the configured channel (-v lists them)"
                );
            }
        }
        Err(e) => report
            .problems
            .push(format!("source {}: {e}", engine.source().describe())),
    }
}

//! `rappel send-test`: one message through one channel, to check credentials and delivery.

use crate::app::{self, UsageError};
use crate::cli::Cli;
use rappel_core::engine::dispatch::send_with_retries;
use rappel_core::phone::{DefaultRegion, normalize_e164};
use rappel_core::{Medium, Message};
use std::process::ExitCode;

/// Sends one test message (not recorded in the ledger).
pub async fn run(cli: &Cli, channel_name: &str, to: &str, body: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = app::load_config(&cli.config)?;
    let (_, mut channels) = app::build_parts(&config, false)?;
    let Some(channel) = channels.remove(channel_name) else {
        let known: Vec<String> = config.channels.keys().cloned().collect();
        return Err(UsageError(format!(
            "no channel \"{channel_name}\" (configured: {})",
            known.join(", ")
        ))
        .into());
    };
    let to = if channel.medium().uses_phone() {
        let region = DefaultRegion::from_calling_code(&config.engine.default_country_code)?;
        normalize_e164(to, region).map_err(|e| UsageError(format!("--to: {e}")))?
    } else {
        to.trim().to_string()
    };
    let body = body
        .map(str::to_string)
        .unwrap_or_else(|| default_body(&config.engine.locale, channel_name));
    if config.engine.dry_run {
        println!("dry run: would send to {to} via {channel_name}:\n{body}");
        return Ok(ExitCode::SUCCESS);
    }
    let message = Message {
        at: app::clock(cli.now).now(),
        reminder_id: None,
        debtor_id: None,
        to: to.clone(),
        subject: (channel.medium() == Medium::Email).then(|| "rappel test".to_string()),
        body,
        html: None,
        vars: Default::default(),
    };
    match send_with_retries(channel.as_ref(), &message).await {
        Ok(d) => {
            let id = d.provider_id.map(|id| format!(" (id {id})")).unwrap_or_default();
            println!("sent to {to} via {channel_name}{id}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let code = e.code.as_deref().map(|c| format!(" [code {c}]")).unwrap_or_default();
            eprintln!("error: not sent to {to} via {channel_name}: {e}{code}");
            Ok(ExitCode::from(1))
        }
    }
}

fn default_body(locale: &str, channel: &str) -> String {
    if locale.starts_with("fr") {
        format!("Test rappel : le canal {channel} fonctionne.")
    } else {
        format!("rappel test: the {channel} channel works.")
    }
}

//! Putting the pieces together for a command: config, clock, registry, engine, ledger.

use crate::builtins;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rappel_core::config::{Config, ConfigError, ConfigErrors};
use rappel_core::engine::Engine;
use rappel_core::registry::Channels;
use rappel_core::{Clock, FixedClock, SystemClock};
use std::path::Path;
use std::sync::Arc;

/// A usage or configuration problem: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The environment as the config sees it.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads the configuration file, or says how to get one.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    if !path.exists() {
        return Err(UsageError(format!(
            "{}: no such configuration file (give one with --config or RAPPEL_CONFIG; \
             config/rappel.toml is the commented reference)",
            path.display()
        ))
        .into());
    }
    Ok(Config::load(path, &env_var)?)
}

/// The clock for one-off commands: `--now`, else the system clock.
pub fn clock(now: Option<DateTime<Utc>>) -> Arc<dyn Clock> {
    match now {
        Some(t) => Arc::new(FixedClock(t)),
        None => Arc::new(SystemClock),
    }
}

/// Builds the source and every channel, collecting every error as config errors.
pub fn build_parts(
    config: &Config,
    stdout_is_data: bool,
) -> Result<(Box<dyn rappel_core::Source>, Channels), ConfigErrors> {
    let registry = builtins::registry();
    let mut errors: Vec<ConfigError> = Vec::new();
    let config = &with_status_callbacks(config);
    let source = registry
        .build_source(config, stdout_is_data)
        .map_err(|e| errors.push(e))
        .ok();
    let channels = registry
        .build_channels(config, stdout_is_data)
        .map_err(|e| errors.extend(e))
        .ok();
    match (source, channels) {
        (Some(s), Some(c)) if errors.is_empty() => Ok((s, c)),
        _ => Err(ConfigErrors {
            file: config.file.clone(),
            errors,
        }),
    }
}

/// With `[server] public_url`, Twilio channels that name no `status_callback` report
/// delivery to this server's webhook.
fn with_status_callbacks(config: &Config) -> Config {
    let mut config = config.clone();
    if let Some(base) = &config.server.public_url {
        let url = format!("{}/webhooks/twilio/status", base.trim_end_matches('/'));
        for channel in config.channels.values_mut() {
            if channel.kind.starts_with("twilio-") && !channel.options.contains_key("status_callback") {
                channel
                    .options
                    .insert("status_callback".into(), toml::Value::String(url.clone()));
            }
        }
    }
    config
}

/// The engine for `config`.
pub fn engine(config: Config, stdout_is_data: bool) -> anyhow::Result<Engine> {
    let (source, channels) = build_parts(&config, stdout_is_data)?;
    engine_with(config, source, channels)
}

/// The engine for `config` with parts built elsewhere (`simulate`).
pub fn engine_with(config: Config, source: Box<dyn rappel_core::Source>, channels: Channels) -> anyhow::Result<Engine> {
    let file = config.file.clone();
    Engine::new(config, source, channels)
        .map_err(|e| UsageError(format!("{}: {e}", file.display())))
        .context("cannot start")
}

//! Channels that keep messages on this machine: `console` prints them, `outbox` appends them
//! to a JSON-lines file for audits or for another system to pick up.

mod console;
mod outbox;

pub use console::{Console, ConsoleConfig};
pub use outbox::{Outbox, OutboxConfig};

use rappel_core::Channel;
use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;
use std::sync::Arc;

/// Builds a `console` channel.
pub fn build_console(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    let config: ConsoleConfig = ctx.component.parse()?;
    Ok(Arc::new(Console::new(config, ctx.name, ctx.stdout_is_data)))
}

/// Builds an `outbox` channel.
pub fn build_outbox(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    let config: OutboxConfig = ctx.component.parse()?;
    let path = ctx.resolve(&config.path);
    Ok(Arc::new(Outbox::new(config.medium, path, ctx.name)))
}

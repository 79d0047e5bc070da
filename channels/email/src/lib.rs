//! The email channel for rappel: `kind = "smtp"`, reminders sent through an SMTP server
//! with lettre (STARTTLS, implicit TLS or plain, optional login, pooled connections).
//!
//! The channel never retries: it classifies each failure ([`errors::refusal`]) and the
//! engine's dispatcher decides.
#![warn(missing_docs)]

mod channel;
mod config;
pub mod errors;
mod message;

pub use channel::EmailChannel;
pub use config::{EmailConfig, Problem, Security};
pub use message::BuildError;

use rappel_core::Channel;
use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;
use std::sync::Arc;

/// The `kind` of an email channel.
pub const KIND: &str = "smtp";

/// Builds a `kind = "smtp"` channel.
pub fn build(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    let config: EmailConfig = ctx.component.parse()?;
    match EmailChannel::new(ctx.name, &config, &|path| ctx.resolve(path)) {
        Ok(channel) => Ok(Arc::new(channel)),
        Err(mut problems) if problems.len() == 1 => {
            let p = problems.remove(0);
            Err(ctx.error(p.key, p.message))
        }
        Err(problems) => {
            let list: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
            Err(ctx.error("", format!("{} problems: {}", problems.len(), list.join("; "))))
        }
    }
}

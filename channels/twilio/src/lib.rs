//! Twilio channels for rappel: `twilio-sms` and `twilio-whatsapp`, both through Twilio's
//! Messages API (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`).
//!
//! The channel never retries: it classifies each failure ([`errors::kind_for`]) and the
//! engine's dispatcher decides. [`segments`] counts SMS segments and transliterates to
//! GSM-7.
#![warn(missing_docs)]

mod channel;
mod client;
mod config;
pub mod errors;
pub use rappel_core::sms as segments;
mod settings;

pub use channel::{QUEUE_FULL_PAUSE, TwilioChannel};
pub use client::ApiMessage;
pub use config::TwilioConfig;
pub use errors::TwilioError;
pub use settings::Problem;

use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;
use rappel_core::{Channel, Medium};
use std::sync::Arc;

/// The `kind` of a Twilio SMS channel.
pub const SMS_KIND: &str = "twilio-sms";
/// The `kind` of a Twilio WhatsApp channel.
pub const WHATSAPP_KIND: &str = "twilio-whatsapp";

/// Builds a `kind = "twilio-sms"` channel.
pub fn build_sms(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    build(ctx, Medium::Sms)
}

/// Builds a `kind = "twilio-whatsapp"` channel.
pub fn build_whatsapp(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    build(ctx, Medium::Whatsapp)
}

fn build(ctx: &BuildContext<'_>, medium: Medium) -> Result<Arc<dyn Channel>, ConfigError> {
    let config: TwilioConfig = ctx.component.parse()?;
    match TwilioChannel::new(ctx.name, &config, medium) {
        Ok(channel) => Ok(Arc::new(channel)),
        Err(mut problems) if problems.len() == 1 => {
            let p = problems.remove(0);
            Err(ctx.error(p.key, p.message))
        }
        Err(problems) => {
            let list: Vec<String> = problems
                .iter()
                .map(|p| {
                    if p.key.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}: {}", p.key, p.message)
                    }
                })
                .collect();
            Err(ctx.error("", format!("{} problems: {}", problems.len(), list.join("; "))))
        }
    }
}

//! The built-in sources and channels, in one visible list. Adding a kind is one line here.

use rappel_core::registry::Registry;

/// Every built-in kind.
pub fn registry() -> Registry {
    Registry::new()
        .source(rappel_source_csv::KIND, rappel_source_csv::build)
        .source(rappel_source_postgres::KIND, rappel_source_postgres::build)
        .source(rappel_source_http::KIND, rappel_source_http::build)
        .channel("console", rappel_channel_local::build_console)
        .channel("outbox", rappel_channel_local::build_outbox)
        .channel(rappel_channel_twilio::SMS_KIND, rappel_channel_twilio::build_sms)
        .channel(
            rappel_channel_twilio::WHATSAPP_KIND,
            rappel_channel_twilio::build_whatsapp,
        )
        .channel(rappel_channel_email::KIND, rappel_channel_email::build)
        .channel("plugin", rappel_core::plugin::build)
}

//! Channels loaded at run time: `[channels.NAME] kind = "plugin"` names a shared library built
//! on `rappel-plugin` (see docs/PLUGINS.md). The library is checked (ABI version first),
//! described, and asked to create an instance from the `options` table, all at start-up, so
//! that `validate` reports every problem with the channel's key and the library's path.
// The only module of core allowed to use `unsafe`: loading a shared library and calling its C
// functions (`library.rs`). Every block carries a SAFETY comment.
#![allow(unsafe_code)]

mod channel;
mod library;

pub use channel::PluginChannel;
pub use library::{CallError, LoadError};

use crate::channel::{Channel, Medium};
use crate::config::ConfigError;
use crate::registry::BuildContext;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// The `kind` of plugin channels.
pub const KIND: &str = "plugin";

/// `[channels.NAME] kind = "plugin"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The plugin library (`libname.so`, `libname.dylib`, `name.dll`), relative to the config
    /// file's folder.
    pub path: PathBuf,
    /// Passed to the plugin as a JSON object; the plugin checks it at start-up.
    #[serde(default)]
    pub options: toml::Table,
    /// Which templates and addresses to use: `sms`, `whatsapp` or `email`. Default: what the
    /// plugin describes, else `sms`.
    #[serde(default)]
    pub medium: Option<Medium>,
    /// How many sends may run at once. Default: what the plugin describes, else 1.
    #[serde(default)]
    pub max_in_flight: Option<usize>,
}

/// Builds a plugin channel: loads the library, checks its ABI, creates an instance.
pub fn build(ctx: &BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError> {
    let config: PluginConfig = ctx.component.parse()?;
    let path = ctx.resolve(&config.path);
    let library = library::load(&path).map_err(|e| ctx.error("path", e.to_string()))?;
    let shown = library.path().display().to_string();
    let description = library
        .describe()
        .map_err(|e| ctx.error("path", format!("{shown}: describe failed: {e}")))?;
    let medium = match (config.medium, description.medium.as_deref()) {
        (Some(medium), _) => medium,
        (None, None) => Medium::Sms,
        (None, Some(text)) => serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
            ctx.error(
                "medium",
                format!(
                    "the plugin {shown} describes medium \"{text}\": set medium = \"sms\", \"whatsapp\" or \"email\""
                ),
            )
        })?,
    };
    let max_in_flight = config
        .max_in_flight
        .or(description.max_in_flight.map(|n| n as usize))
        .unwrap_or(1);
    if max_in_flight == 0 {
        return Err(ctx.error("max_in_flight", "must be at least 1"));
    }
    let options = serde_json::to_vec(&to_json(&toml::Value::Table(config.options)))
        .map_err(|e| ctx.error("options", e.to_string()))?;
    let instance = library.create(&options).map_err(|e| {
        ctx.error(
            "options",
            format!(
                "the plugin {shown} ({} {}) refused its options: {e}",
                description.name, description.version
            ),
        )
    })?;
    tracing::debug!(channel = ctx.name, plugin = %description.name, version = %description.version, path = %shown, "plugin loaded");
    Ok(Arc::new(PluginChannel::new(ctx.name, medium, max_in_flight, instance)))
}

/// A TOML value as JSON (dates become RFC 3339 strings).
fn to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests;

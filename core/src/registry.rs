//! The registry: which source and channel kinds exist, and how each is built from its config
//! table. The binary fills it in one visible list; core knows no concrete kind.

use crate::channel::Channel;
use crate::config::{ComponentConfig, Config, ConfigError};
use crate::source::Source;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a factory gets: the whole config (for shared settings) and its own table.
pub struct BuildContext<'a> {
    /// The whole configuration.
    pub config: &'a Config,
    /// The component's table (`[source]`, `[channels.NAME]`).
    pub component: &'a ComponentConfig,
    /// The channel's name, for channels (`sms` for `[channels.sms]`).
    pub name: &'a str,
    /// Whether stdout carries machine-readable output (`--json`): channels that print must
    /// then print to stderr.
    pub stdout_is_data: bool,
}

impl BuildContext<'_> {
    /// Resolves a path written in the config against the config file's folder.
    pub fn resolve(&self, path: &std::path::Path) -> PathBuf {
        self.config.resolve(path)
    }

    /// A config error at `key` inside this component's table.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let at = if key.is_empty() {
            self.component.key.clone()
        } else {
            format!("{}.{key}", self.component.key)
        };
        ConfigError::new(at, message)
    }
}

/// Builds a source from its table.
pub type SourceFactory = fn(&BuildContext<'_>) -> Result<Box<dyn Source>, ConfigError>;
/// Builds a channel from its table.
pub type ChannelFactory = fn(&BuildContext<'_>) -> Result<Arc<dyn Channel>, ConfigError>;

/// The known kinds.
#[derive(Default)]
pub struct Registry {
    sources: BTreeMap<&'static str, SourceFactory>,
    channels: BTreeMap<&'static str, ChannelFactory>,
}

/// The channels of a configuration, by name.
pub type Channels = BTreeMap<String, Arc<dyn Channel>>;

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source kind.
    pub fn source(mut self, kind: &'static str, factory: SourceFactory) -> Self {
        self.sources.insert(kind, factory);
        self
    }

    /// Adds a channel kind.
    pub fn channel(mut self, kind: &'static str, factory: ChannelFactory) -> Self {
        self.channels.insert(kind, factory);
        self
    }

    /// The registered channel kinds.
    pub fn channel_kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.channels.keys().copied()
    }

    /// Builds the `[source]`.
    pub fn build_source(&self, config: &Config, stdout_is_data: bool) -> Result<Box<dyn Source>, ConfigError> {
        let component = &config.source;
        let factory = self
            .sources
            .get(component.kind.as_str())
            .ok_or_else(|| unknown_kind(&format!("{}.kind", component.key), &component.kind, self.sources.keys()))?;
        factory(&BuildContext {
            config,
            component,
            name: "source",
            stdout_is_data,
        })
    }

    /// Builds every `[channels.NAME]`, collecting every error.
    pub fn build_channels(&self, config: &Config, stdout_is_data: bool) -> Result<Channels, Vec<ConfigError>> {
        let mut built = Channels::new();
        let mut errors = Vec::new();
        for (name, component) in &config.channels {
            let result = match self.channels.get(component.kind.as_str()) {
                Some(factory) => factory(&BuildContext {
                    config,
                    component,
                    name,
                    stdout_is_data,
                }),
                None => Err(unknown_kind(
                    &format!("{}.kind", component.key),
                    &component.kind,
                    self.channels.keys(),
                )),
            };
            match result {
                Ok(channel) => {
                    built.insert(name.clone(), channel);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() { Ok(built) } else { Err(errors) }
    }
}

fn unknown_kind<'a>(at: &str, kind: &str, known: impl Iterator<Item = &'a &'static str>) -> ConfigError {
    let known: Vec<&str> = known.copied().collect();
    ConfigError::new(
        at,
        format!("unknown kind \"{kind}\", expected one of: {}", known.join(", ")),
    )
}

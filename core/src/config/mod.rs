//! The typed configuration (`rappel.toml`): parsed with serde, `${VAR}` expanded after
//! parsing, legacy environment variables applied on top, every error collected.

mod expand;
mod legacy;
mod values;

pub use expand::expand_str;
pub use legacy::LEGACY_VARIABLES;
pub use values::{CurrencyCode, DefaultKind, Interval, QuietHours};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// The folder relative paths are resolved against (the file's folder).
    pub base_dir: PathBuf,
    /// `[engine]`.
    pub engine: EngineConfig,
    /// `[rules]`.
    pub rules: RulesConfig,
    /// `[source]`: the kind and its own keys.
    pub source: ComponentConfig,
    /// `[state]`.
    pub state: StateConfig,
    /// `[channels.NAME]`: each channel's kind and its own keys.
    pub channels: BTreeMap<String, ComponentConfig>,
    /// `[templates]`.
    pub templates: TemplatesConfig,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[[messages]]` and `[experiments.NAME]`: which template each reminder uses.
    pub strategy: crate::strategy::Strategy,
}

/// `[server]`: the HTTP server of `rappel run` (health, metrics, provider webhooks). Off
/// unless `listen` is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The address to listen on, e.g. `"127.0.0.1:8080"`. Unset: no server.
    pub listen: Option<String>,
    /// The URL the world reaches this server at (behind a proxy), e.g.
    /// `"https://rappel.example.sn"`. Twilio signs webhooks with it, and `tick`/`run` ask
    /// Twilio to report delivery to `{public_url}/webhooks/twilio/status`.
    pub public_url: Option<String>,
    /// The Twilio auth token that signs webhooks (usually `"${TWILIO_AUTH_TOKEN}"`).
    /// Required for the Twilio webhooks; never printed.
    pub twilio_auth_token: Option<crate::secret::Secret>,
}

/// `[engine]`: what runs, when, and how it reads local data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Master switch. `false`: `tick` and `run` send nothing (legacy `ENABLE_DEBT_REMINDERS`).
    pub enabled: bool,
    /// Detect, render and print, but send and record nothing (legacy `DEBT_REMINDER_DRY_RUN`).
    pub dry_run: bool,
    /// The `[channels.NAME]` that sends reminders (legacy `DEBT_REMINDER_CHANNEL`).
    pub channel: String,
    /// Channels tried in order, in the same check, for a client the main channel cannot
    /// reach (no usable address, opted out, invalid) or whose send failed for good.
    pub fallback: Vec<String>,
    /// How often `run` checks, aligned to the wall clock (legacy
    /// `DEBT_REMINDER_INTERVAL_SECONDS`).
    pub interval: Interval,
    /// The IANA time zone of due dates, quiet hours and the schedule.
    #[serde(deserialize_with = "values::timezone")]
    pub timezone: chrono_tz::Tz,
    /// Calling code for phone numbers written without one (legacy `DEFAULT_COUNTRY_CODE`).
    pub default_country_code: String,
    /// The language of messages: picks `templates/<locale>/` and number formatting.
    pub locale: String,
    /// `run` also checks when `rules.quiet_hours` end (e.g. 08:00), so that reminders held
    /// overnight go out then instead of at the next interval slot.
    pub check_when_quiet_hours_end: bool,
    /// On SIGTERM or SIGINT, how long `run` lets sends in flight finish before recording
    /// them as `unknown` (checked with the provider at the next start).
    pub shutdown_grace: Interval,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dry_run: false,
            channel: "sms".into(),
            fallback: Vec::new(),
            interval: Interval(std::time::Duration::from_secs(6 * 3600)),
            timezone: chrono_tz::Africa::Dakar,
            default_country_code: "+221".into(),
            locale: "fr".into(),
            check_when_quiet_hours_end: false,
            shutdown_grace: Interval(std::time::Duration::from_secs(10)),
        }
    }
}

/// `[rules]`: who gets a reminder and how often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Days between two reminders to one client (legacy `DEBT_REMINDER_PERIOD_DAYS`).
    pub period_days: u32,
    /// Days after the due date before an item counts as overdue.
    pub grace_days: u32,
    /// Overdue balance below which no reminder is sent, in major units (XOF, euros).
    pub min_amount: u64,
    /// Reminders per cycle at most; 0 means until paid.
    pub max_reminders: u32,
    /// Local hours during which nothing is sent (`"21:00-08:00"`, or `"off"`).
    #[serde(deserialize_with = "values::quiet_hours")]
    pub quiet_hours: Option<QuietHours>,
    /// A payment (a drop of the overdue balance between two checks) counts for the last
    /// reminder sent at most this many days before it (`rappel stats`).
    pub attribution_days: u32,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            period_days: 3,
            grace_days: 0,
            min_amount: 0,
            max_reminders: 0,
            quiet_hours: QuietHours::parse("21:00-08:00").expect("the default parses"),
            attribution_days: 7,
        }
    }
}

/// `[state]`: where the ledger lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// The SQLite file, created with its tables on first use.
    pub path: PathBuf,
    /// A PostgreSQL URL (`postgres://user:pass@host/db`): the ledger lives there instead of
    /// `path`, and several rappel processes may share it.
    pub url: Option<String>,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            path: "rappel.db".into(),
            url: None,
        }
    }
}

/// `[templates]`: where message templates are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// A folder laid out like `templates/` (`<locale>/<medium>/<name>.hbs`). Its files
    /// replace or add to the built-in templates. Unset: the built-in templates only.
    pub dir: Option<PathBuf>,
}

/// A component table (`[source]`, `[channels.NAME]`): its `kind`, and its other keys left for
/// the component itself to read with [`ComponentConfig::parse`].
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    /// Where it is in the file: `source`, `channels.sms`.
    pub key: String,
    /// The `kind` value.
    pub kind: String,
    /// The other keys.
    pub options: toml::Table,
}

impl ComponentConfig {
    /// Reads the component's own keys into its typed config. Errors name the key path.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        parse_section(toml::Value::Table(self.options.clone()), &self.key)
    }
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: a key path (`engine.interval`) or an environment variable.
    pub at: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    /// A problem at a key path.
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }

    fn env(name: &str, message: String) -> Self {
        Self {
            at: format!("environment variable {name}"),
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// Every problem found in one configuration file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors {
    /// The file.
    pub file: PathBuf,
    /// The problems, in file order as far as possible.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{} has {n} problem{}:",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {}: {e}", self.file.display())?;
        }
        Ok(())
    }
}

fn parse_section<T: DeserializeOwned>(value: toml::Value, key: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let at = if inner == "." || inner.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{inner}")
        };
        ConfigError::new(at, e.into_inner().message().to_string())
    })
}

const SECTIONS: &[&str] = &[
    "engine",
    "rules",
    "source",
    "state",
    "channels",
    "templates",
    "server",
    "messages",
    "experiments",
];

impl Config {
    /// Reads `file`, expands `${VAR}` with `env`, applies the legacy variables, and checks
    /// what can be checked without building components. Every problem is reported.
    pub fn load(file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let fail = |errors| ConfigErrors {
            file: file.to_path_buf(),
            errors,
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| fail(vec![ConfigError::new("", format!("cannot read the file: {e}"))]))?;
        Self::parse(&text, file, env).map_err(fail)
    }

    /// Like [`Config::load`], from text already read.
    pub fn parse(text: &str, file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, Vec<ConfigError>> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| vec![ConfigError::new("", e.to_string().trim_end().to_string())])?;
        let mut errors = Vec::new();
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                errors.push(ConfigError::new(
                    key.as_str(),
                    format!("unknown section, expected one of: {}", SECTIONS.join(", ")),
                ));
            }
        }
        for (key, value) in table.iter_mut() {
            expand::expand_value(value, key, env, &mut errors);
        }

        let mut section = |name: &str| table.remove(name);
        let engine = typed(section("engine"), "engine", &mut errors);
        let rules = typed(section("rules"), "rules", &mut errors);
        let state = typed(section("state"), "state", &mut errors);
        let templates = typed(section("templates"), "templates", &mut errors);
        let server = typed(section("server"), "server", &mut errors);
        let messages: Option<Vec<crate::strategy::MessageRule>> = typed(section("messages"), "messages", &mut errors);
        let experiments: Option<BTreeMap<String, crate::strategy::Experiment>> =
            typed(section("experiments"), "experiments", &mut errors);
        let mut strategy = crate::strategy::Strategy::default();
        if let Some(rules) = messages {
            strategy.rules = rules;
        }
        strategy.experiments = experiments.unwrap_or_default();
        let source = match section("source") {
            Some(value) => component(value, "source", &mut errors),
            None => {
                errors.push(ConfigError::new(
                    "source",
                    "missing section: say where the debts are read",
                ));
                None
            }
        };
        let mut channels = BTreeMap::new();
        match section("channels") {
            Some(toml::Value::Table(tables)) => {
                for (name, value) in tables {
                    if let Some(c) = component(value, &format!("channels.{name}"), &mut errors) {
                        channels.insert(name, c);
                    }
                }
            }
            Some(_) => errors.push(ConfigError::new("channels", "expected tables such as [channels.sms]")),
            None => {}
        }

        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut config = Config {
            file: file.to_path_buf(),
            base_dir,
            engine: engine.unwrap_or_default(),
            rules: rules.unwrap_or_default(),
            source: source.unwrap_or_else(|| ComponentConfig {
                key: "source".into(),
                kind: String::new(),
                options: toml::Table::new(),
            }),
            state: state.unwrap_or_default(),
            channels,
            templates: templates.unwrap_or_default(),
            server: server.unwrap_or_default(),
            strategy,
        };
        legacy::apply(&mut config, env, &mut errors);
        config.check(&mut errors);
        if errors.is_empty() { Ok(config) } else { Err(errors) }
    }

    fn check(&self, errors: &mut Vec<ConfigError>) {
        if !self.channels.contains_key(&self.engine.channel) {
            let known: Vec<&str> = self.channels.keys().map(String::as_str).collect();
            errors.push(ConfigError::new(
                "engine.channel",
                format!(
                    "no [channels.{}] table (configured channels: {})",
                    self.engine.channel,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        for (i, name) in self.engine.fallback.iter().enumerate() {
            if !self.channels.contains_key(name) {
                errors.push(ConfigError::new(
                    format!("engine.fallback[{i}]"),
                    format!("no [channels.{name}] table"),
                ));
            } else if *name == self.engine.channel {
                errors.push(ConfigError::new(
                    format!("engine.fallback[{i}]"),
                    "is already engine.channel",
                ));
            }
        }
        if let Err(e) = crate::phone::DefaultRegion::from_calling_code(&self.engine.default_country_code) {
            errors.push(ConfigError::new("engine.default_country_code", e.to_string()));
        }
        if self.rules.period_days == 0 {
            errors.push(ConfigError::new("rules.period_days", "must be at least 1 day"));
        }
        for (at, message) in self.strategy.check() {
            errors.push(ConfigError::new(at, message));
        }
        if let Some(listen) = &self.server.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            errors.push(ConfigError::new(
                "server.listen",
                format!("\"{listen}\" is not an address such as \"127.0.0.1:8080\""),
            ));
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            errors.push(ConfigError::new(
                "server.public_url",
                "expected an http:// or https:// URL",
            ));
        }
        if let Some(url) = &self.state.url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            errors.push(ConfigError::new("state.url", "expected a postgres:// URL"));
        }
        if self.engine.locale.trim().is_empty() {
            errors.push(ConfigError::new("engine.locale", "must name a language, e.g. \"fr\""));
        }
    }

    /// Resolves a path written in the config against the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        resolve(&self.base_dir, path)
    }
}

/// Resolves `path` against `base` unless it is absolute.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn typed<T: DeserializeOwned>(value: Option<toml::Value>, key: &str, errors: &mut Vec<ConfigError>) -> Option<T> {
    let value = value?;
    parse_section(value, key).map_err(|e| errors.push(e)).ok()
}

fn component(value: toml::Value, key: &str, errors: &mut Vec<ConfigError>) -> Option<ComponentConfig> {
    let toml::Value::Table(mut options) = value else {
        errors.push(ConfigError::new(key, "expected a table with a \"kind\" key"));
        return None;
    };
    match options.remove("kind") {
        Some(toml::Value::String(kind)) => Some(ComponentConfig {
            key: key.to_string(),
            kind,
            options,
        }),
        Some(_) => {
            errors.push(ConfigError::new(format!("{key}.kind"), "expected a string"));
            None
        }
        None => {
            errors.push(ConfigError::new(key, "missing field `kind`"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const MINIMAL: &str = r#"
        [source]
        kind = "csv"
        path = "debts.csv"
        [channels.sms]
        kind = "console"
    "#;

    fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Vec<ConfigError>> {
        Config::parse(text, Path::new("conf/rappel.toml"), env)
    }

    #[test]
    fn defaults_fill_what_is_not_written() {
        let c = parse(MINIMAL, &no_env).unwrap();
        assert!(c.engine.enabled);
        assert!(!c.engine.dry_run);
        assert_eq!(c.engine.channel, "sms");
        assert_eq!(c.engine.interval.0.as_secs(), 21_600);
        assert_eq!(c.engine.timezone, chrono_tz::Africa::Dakar);
        assert_eq!(c.rules.period_days, 3);
        assert!(c.rules.quiet_hours.is_some());
        assert_eq!(c.source.kind, "csv");
        assert_eq!(c.source.options["path"].as_str(), Some("debts.csv"));
        assert_eq!(c.channels["sms"].kind, "console");
        assert_eq!(c.resolve(Path::new("debts.csv")), Path::new("conf/debts.csv"));
    }

    #[test]
    fn every_section_parses() {
        let text = r#"
            [engine]
            enabled = false
            dry_run = true
            channel = "mail"
            interval = 3600
            timezone = "Europe/Paris"
            default_country_code = "+33"
            locale = "en"
            [rules]
            period_days = 5
            grace_days = 2
            min_amount = 1000
            max_reminders = 4
            quiet_hours = "off"
            [source]
            kind = "csv"
            [state]
            path = "/var/lib/rappel/ledger.db"
            [channels.mail]
            kind = "outbox"
            [templates]
            dir = "my-templates"
        "#;
        let c = parse(text, &no_env).unwrap();
        assert!(!c.engine.enabled && c.engine.dry_run);
        assert_eq!(c.engine.interval.0.as_secs(), 3600);
        assert_eq!(c.engine.timezone, chrono_tz::Europe::Paris);
        assert_eq!(c.engine.locale, "en");
        assert_eq!(
            (
                c.rules.period_days,
                c.rules.grace_days,
                c.rules.min_amount,
                c.rules.max_reminders
            ),
            (5, 2, 1000, 4)
        );
        assert_eq!(c.rules.quiet_hours, None);
        assert_eq!(c.state.path, Path::new("/var/lib/rappel/ledger.db"));
        assert_eq!(c.templates.dir.as_deref(), Some(Path::new("my-templates")));
    }

    #[test]
    fn all_errors_are_reported_together_with_key_paths() {
        let text = r#"
            [engine]
            interval = "six hours"
            timezone = "Mars/Olympus"
            colour = "blue"
            [rules]
            period_days = "three"
            [source]
            path = "x.csv"
            [channels.sms]
            kind = "console"
            [channels.mail]
            token = "${MAIL_TOKEN}"
            [extra]
        "#;
        let errors = parse(text, &no_env).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let joined = text.join("\n");
        for want in [
            "extra: unknown section",
            "channels.mail.token: environment variable MAIL_TOKEN is not set",
            "engine",
            "rules.period_days",
            "source: missing field `kind`",
            "channels.mail: missing field `kind`",
        ] {
            assert!(joined.contains(want), "missing {want:?} in:\n{joined}");
        }
        assert!(errors.len() >= 5, "{joined}");
    }

    #[test]
    fn each_field_error_names_its_key() {
        let bad = |section: &str, body: &str| {
            let text = format!("{MINIMAL}\n[{section}]\n{body}\n");
            parse(&text, &no_env)
                .unwrap_err()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(bad("engine", "interval = \"soon\"").contains("engine.interval: \"soon\" is not an interval"));
        assert!(
            bad("engine", "timezone = \"Mars/Olympus\"")
                .contains("engine.timezone: \"Mars/Olympus\" is not an IANA time zone")
        );
        assert!(bad("engine", "colour = 1").contains("engine.colour: unknown field `colour`"));
        assert!(bad("engine", "default_country_code = \"+999\"").contains("engine.default_country_code"));
        assert!(
            bad("engine", "channel = \"fax\"")
                .contains("engine.channel: no [channels.fax] table (configured channels: sms)")
        );
        assert!(bad("rules", "quiet_hours = \"9pm\"").contains("rules.quiet_hours: \"9pm\" is not a time range"));
        assert!(bad("rules", "period_days = 0").contains("rules.period_days: must be at least 1 day"));
        assert!(bad("rules", "min_amount = -5").contains("rules.min_amount"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let errors = parse("[engine\nenabled = true", &no_env).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("line 1"), "{}", errors[0].message);
    }

    #[test]
    fn variables_are_expanded_in_component_options() {
        let env = |name: &str| (name == "CSV_PATH").then(|| "/data/debts.csv".to_string());
        let text = MINIMAL.replace("\"debts.csv\"", "\"${CSV_PATH}\"");
        let c = parse(&text, &env).unwrap();
        assert_eq!(c.source.options["path"].as_str(), Some("/data/debts.csv"));
        let c = parse(&MINIMAL.replace("\"debts.csv\"", "\"${NOPE:-fallback.csv}\""), &no_env).unwrap();
        assert_eq!(c.source.options["path"].as_str(), Some("fallback.csv"));
    }

    #[test]
    fn every_legacy_variable_overrides_the_file() {
        let text = format!("{MINIMAL}\n[channels.whatsapp]\nkind = \"console\"\n");
        let env = |name: &str| {
            Some(
                match name {
                    "ENABLE_DEBT_REMINDERS" => "false",
                    "DEBT_REMINDER_CHANNEL" => "whatsapp",
                    "DEBT_REMINDER_DRY_RUN" => "true",
                    "DEBT_REMINDER_INTERVAL_SECONDS" => "3600",
                    "DEBT_REMINDER_PERIOD_DAYS" => "7",
                    "DEFAULT_COUNTRY_CODE" => "+33",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let c = parse(&text, &env).unwrap();
        assert!(!c.engine.enabled);
        assert_eq!(c.engine.channel, "whatsapp");
        assert!(c.engine.dry_run);
        assert_eq!(c.engine.interval.0.as_secs(), 3600);
        assert_eq!(c.rules.period_days, 7);
        assert_eq!(c.engine.default_country_code, "+33");
    }

    #[test]
    fn bad_legacy_values_name_the_variable() {
        let env = |name: &str| {
            Some(
                match name {
                    "ENABLE_DEBT_REMINDERS" => "maybe",
                    "DEBT_REMINDER_INTERVAL_SECONDS" => "6h",
                    "DEBT_REMINDER_PERIOD_DAYS" => "0",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let joined = parse(MINIMAL, &env)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(joined.contains("environment variable ENABLE_DEBT_REMINDERS: \"maybe\" is not true or false"));
        assert!(joined.contains("environment variable DEBT_REMINDER_INTERVAL_SECONDS"));
        assert!(joined.contains("environment variable DEBT_REMINDER_PERIOD_DAYS"));
    }

    #[test]
    fn component_options_are_parsed_by_the_component_with_key_paths() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Csv {
            path: String,
        }
        let c = parse(&MINIMAL.replace("path =", "paht ="), &no_env).unwrap();
        let err = c.source.parse::<Csv>().unwrap_err();
        assert_eq!(err.at, "source.paht");
        assert!(err.message.contains("unknown field `paht`"), "{}", err.message);
    }
}

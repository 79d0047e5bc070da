//! The environment variables of the system rappel replaces. They override the TOML file so
//! that users can switch with their existing `.env`.

use super::{Config, ConfigError, values::Interval};

/// The legacy variables, in the order they are applied, with the key each one overrides.
pub const LEGACY_VARIABLES: &[(&str, &str)] = &[
    ("ENABLE_DEBT_REMINDERS", "engine.enabled"),
    ("DEBT_REMINDER_CHANNEL", "engine.channel"),
    ("DEBT_REMINDER_DRY_RUN", "engine.dry_run"),
    ("DEBT_REMINDER_INTERVAL_SECONDS", "engine.interval"),
    ("DEBT_REMINDER_PERIOD_DAYS", "rules.period_days"),
    ("DEFAULT_COUNTRY_CODE", "engine.default_country_code"),
];

/// Applies every legacy variable that is set (and not empty), collecting errors that name the
/// variable.
pub(super) fn apply(config: &mut Config, env: &dyn Fn(&str) -> Option<String>, errors: &mut Vec<ConfigError>) {
    for (name, _) in LEGACY_VARIABLES {
        let Some(value) = env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let result = match *name {
            "ENABLE_DEBT_REMINDERS" => parse_bool(&value).map(|b| config.engine.enabled = b),
            "DEBT_REMINDER_CHANNEL" => {
                config.engine.channel = value.clone();
                Ok(())
            }
            "DEBT_REMINDER_DRY_RUN" => parse_bool(&value).map(|b| config.engine.dry_run = b),
            "DEBT_REMINDER_INTERVAL_SECONDS" => value
                .parse::<u64>()
                .map_err(|_| format!("\"{value}\" is not a whole number of seconds"))
                .and_then(|s| Interval::parse(&s.to_string()))
                .map(|i| config.engine.interval = i),
            "DEBT_REMINDER_PERIOD_DAYS" => value
                .parse::<u32>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| format!("\"{value}\" is not a whole number of days above zero"))
                .map(|d| config.rules.period_days = d),
            "DEFAULT_COUNTRY_CODE" => {
                config.engine.default_country_code = value.clone();
                Ok(())
            }
            _ => unreachable!("every legacy variable is handled"),
        };
        if let Err(message) = result {
            errors.push(ConfigError::env(name, message));
        }
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("\"{value}\" is not true or false")),
    }
}

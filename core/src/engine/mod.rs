//! The engine: one check over the debt book. Reads the source, groups items per debtor,
//! decides with the [`rules`](crate::rules), renders, and hands due reminders to the
//! dispatcher, which writes each to the ledger before sending it.

mod check;
pub use check::CheckError;
pub mod dispatch;
mod report;

pub use check::Mode;
pub use report::{CheckSummary, ItemReport, MessageReport};

use crate::channel::{Channel, Medium};
use crate::config::Config;
use crate::debt::{DebtItem, Debtor};
use crate::ledger::{ContactState, Ledger};
use crate::phone::{DefaultRegion, normalize_e164};
use crate::registry::Channels;
use crate::render::{Renderer, TemplateError};
use crate::rules::{self, Balance, Decision, History};
use crate::source::Source;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Everything a check needs, built once.
pub struct Engine {
    config: Config,
    source: Box<dyn Source>,
    channel_name: String,
    channel: Arc<dyn Channel>,
    renderer: Renderer,
    region: DefaultRegion,
}

/// Why the engine cannot be put together.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A template is missing or broken.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The configured channel was not built.
    #[error("engine.channel: no channel named \"{0}\"")]
    NoChannel(String),
    /// The default country code is not one.
    #[error("engine.default_country_code: {0}")]
    Region(#[from] crate::phone::PhoneError),
}

/// A debtor's situation at one instant: what the rules saw and what they decided.
#[derive(Debug, Clone)]
pub struct Evaluation<'a> {
    /// The debtor.
    pub debtor: &'a Debtor,
    /// Overdue items, in source order.
    pub overdue: Vec<&'a DebtItem>,
    /// Their remaining total.
    pub overdue_minor: i64,
    /// The address for the channel's medium, normalised, or why there is none.
    pub address: Result<String, String>,
    /// The ledger's history of the debtor.
    pub history: History,
    /// The decision.
    pub decision: Decision,
}

/// The instant of a check, in UTC and in the configured zone.
#[derive(Debug, Clone, Copy)]
pub struct Instant {
    /// The instant.
    pub now: DateTime<Utc>,
    /// The local date: due dates compare with it.
    pub today: NaiveDate,
    /// The local time: quiet hours compare with it.
    pub local_time: NaiveTime,
}

impl Engine {
    /// Puts the engine together from built parts. `channels` must hold `engine.channel`.
    pub fn new(config: Config, source: Box<dyn Source>, mut channels: Channels) -> Result<Self, BuildError> {
        let channel_name = config.engine.channel.clone();
        let channel = channels
            .remove(&channel_name)
            .ok_or_else(|| BuildError::NoChannel(channel_name.clone()))?;
        let dir = config.templates.dir.as_ref().map(|d| config.resolve(d));
        let renderer = Renderer::new(&config.engine.locale, dir.as_deref())?;
        renderer.reminder_template(channel.medium())?;
        let region = DefaultRegion::from_calling_code(&config.engine.default_country_code)?;
        Ok(Self {
            config,
            source,
            channel_name,
            channel,
            renderer,
            region,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The source.
    pub fn source(&self) -> &dyn Source {
        self.source.as_ref()
    }

    /// The instant `now` seen in the configured time zone.
    pub fn instant(&self, now: DateTime<Utc>) -> Instant {
        let local = now.with_timezone(&self.config.engine.timezone);
        Instant {
            now,
            today: local.date_naive(),
            local_time: local.time(),
        }
    }

    /// The address of `debtor` for the channel's medium.
    pub fn address_of(&self, debtor: &Debtor) -> Result<String, String> {
        address_for(self.channel.medium(), debtor, self.region)
    }

    /// Evaluates one debtor against the rules.
    pub fn evaluate<'a>(
        &self,
        debtor: &'a Debtor,
        history: Option<&History>,
        flags: &HashMap<String, Vec<ContactState>>,
        at: Instant,
    ) -> Evaluation<'a> {
        let rules = &self.config.rules;
        let overdue: Vec<&DebtItem> = debtor.overdue_items(at.today, rules.grace_days).collect();
        let overdue_minor = overdue.iter().map(|i| i.remaining_minor()).sum();
        let address = self.address_of(debtor);
        let mut history = history.cloned().unwrap_or_default();
        if let Ok(addr) = &address
            && let Some(states) = flags.get(addr)
        {
            history.opted_out = states.contains(&ContactState::OptedOut);
            history.invalid_contact = states.contains(&ContactState::Invalid);
        }
        let scale = 10_i64.pow(crate::money::exponent(debtor.currency));
        let balance = Balance {
            overdue_minor,
            min_minor: i64::try_from(rules.min_amount)
                .unwrap_or(i64::MAX)
                .saturating_mul(scale),
            has_address: address.is_ok(),
        };
        let decision = rules::decide(balance, &history, rules, at.now, at.local_time);
        Evaluation {
            debtor,
            overdue,
            overdue_minor,
            address,
            history,
            decision,
        }
    }

    /// Opens the ledger named in `[state]`.
    pub async fn open_ledger(&self) -> Result<Ledger, crate::ledger::LedgerError> {
        let state = &self.config.state;
        Ledger::open(state.url.as_deref(), &self.config.resolve(&state.path)).await
    }

    /// Opens the ledger only if its file exists: reading commands must not create one.
    pub async fn open_ledger_if_exists(&self) -> Result<Option<Ledger>, crate::ledger::LedgerError> {
        if self.config.state.url.is_some() || self.config.resolve(&self.config.state.path).exists() {
            self.open_ledger().await.map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The normalised address of `debtor` for `medium`, or why there is none.
pub fn address_for(medium: Medium, debtor: &Debtor, region: DefaultRegion) -> Result<String, String> {
    if medium.uses_phone() {
        let raw = debtor.phone.as_deref().unwrap_or_default();
        normalize_e164(raw, region).map_err(|e| e.to_string())
    } else {
        let email = debtor.email.as_deref().unwrap_or_default().trim();
        match email.split_once('@') {
            Some((user, domain))
                if !user.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace) =>
            {
                Ok(email.to_string())
            }
            _ if email.is_empty() => Err("no email address".into()),
            _ => Err(format!("\"{email}\" is not an email address")),
        }
    }
}

#[cfg(test)]
mod tests;

//! The engine: one check over the debt book. Reads the source, groups items per debtor,
//! decides with the [`rules`], renders, and hands due reminders to the
//! dispatcher, which writes each to the ledger before sending it.

mod check;
pub use check::CheckError;
pub mod dispatch;
mod report;

pub use check::Mode;
pub use report::{CheckSummary, ItemReport, MessageReport, Reports};

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
    /// `engine.channel` first, then `engine.fallback` in order.
    routes: Vec<NamedChannel>,
    renderer: Renderer,
    region: DefaultRegion,
    /// Set by [`Engine::stop_sending`]: no new send starts.
    stopping: std::sync::atomic::AtomicBool,
    /// Reminders claimed and not yet recorded, for a shutdown that cannot wait.
    in_flight: std::sync::Mutex<std::collections::HashSet<i64>>,
}

/// A configured channel and its name.
pub(crate) struct NamedChannel {
    pub(crate) name: String,
    pub(crate) channel: Arc<dyn Channel>,
}

/// Why the engine cannot be put together.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A template is missing or broken.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A channel named in `[engine]` was not built.
    #[error("{key}: no channel named \"{name}\"")]
    NoChannel {
        /// `engine.channel` or `engine.fallback`.
        key: &'static str,
        /// The name.
        name: String,
    },
    /// The default country code is not one.
    #[error("engine.default_country_code: {0}")]
    Region(#[from] crate::phone::PhoneError),
}

/// One way to reach a debtor: a channel (index in the engine's routes) and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Index in `engine.channel` + `engine.fallback`.
    pub channel: usize,
    /// The normalised address for that channel's medium.
    pub address: String,
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
    /// The ways to reach the debtor, best first: channels with a valid, unflagged address.
    pub routes: Vec<Route>,
    /// The first route's address, or why the primary channel cannot reach the debtor.
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
    /// Puts the engine together from built parts. `channels` must hold `engine.channel` and
    /// every `engine.fallback`.
    pub fn new(config: Config, source: Box<dyn Source>, channels: Channels) -> Result<Self, BuildError> {
        let dir = config.templates.dir.as_ref().map(|d| config.resolve(d));
        let renderer = Renderer::new(&config.engine.locale, dir.as_deref())?;
        let names = std::iter::once(("engine.channel", &config.engine.channel))
            .chain(config.engine.fallback.iter().map(|n| ("engine.fallback", n)));
        let mut routes = Vec::new();
        for (key, name) in names {
            let channel = channels.get(name).cloned().ok_or_else(|| BuildError::NoChannel {
                key,
                name: name.clone(),
            })?;
            for template in config.strategy.templates() {
                renderer.message_template(channel.medium(), &template)?;
            }
            routes.push(NamedChannel {
                name: name.clone(),
                channel,
            });
        }
        let region = DefaultRegion::from_calling_code(&config.engine.default_country_code)?;
        Ok(Self {
            config,
            source,
            routes,
            renderer,
            region,
            stopping: Default::default(),
            in_flight: Default::default(),
        })
    }

    /// No new send starts after this (shutdown); sends in flight go on.
    pub fn stop_sending(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Reminders claimed in the ledger whose send has not been recorded yet.
    pub fn in_flight(&self) -> Vec<i64> {
        self.in_flight
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The source.
    pub fn source(&self) -> &dyn Source {
        self.source.as_ref()
    }

    /// The name of the channel at `index` of the routes.
    pub fn channel_name(&self, index: usize) -> &str {
        &self.routes[index].name
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

    /// The address of `debtor` for the primary channel's medium.
    pub fn address_of(&self, debtor: &Debtor) -> Result<String, String> {
        address_for(self.routes[0].channel.medium(), debtor, self.region)
    }

    /// Evaluates one debtor against the rules, with every address read and checked.
    pub fn evaluate<'a>(
        &self,
        debtor: &'a Debtor,
        history: Option<&History>,
        flags: &HashMap<String, Vec<ContactState>>,
        at: Instant,
    ) -> Evaluation<'a> {
        self.evaluate_with(debtor, history, flags, at, Addresses::Always)
    }

    fn evaluate_with<'a>(
        &self,
        debtor: &'a Debtor,
        history: Option<&History>,
        flags: &HashMap<String, Vec<ContactState>>,
        at: Instant,
        addresses: Addresses,
    ) -> Evaluation<'a> {
        let rules = &self.config.rules;
        let overdue: Vec<&DebtItem> = debtor.overdue_items(at.today, rules.grace_days).collect();
        let overdue_minor = overdue.iter().map(|i| i.remaining_minor()).sum();
        let scale = 10_i64.pow(crate::money::exponent(debtor.currency));
        let owed = Balance {
            overdue_minor,
            min_minor: i64::try_from(rules.min_amount)
                .unwrap_or(i64::MAX)
                .saturating_mul(scale),
            has_address: false,
        };
        // Nothing to remind: the decision does not depend on the addresses.
        let skip_addresses = addresses == Addresses::WhenOwed && owed.skip_reason().is_some();
        let mut history = history.cloned().unwrap_or_default();
        let mut routes = Vec::new();
        let mut primary = None;
        let (mut opted_out, mut invalid) = (false, false);
        for (index, named) in self.routes.iter().enumerate().filter(|_| !skip_addresses) {
            let address = address_for(named.channel.medium(), debtor, self.region);
            if index == 0 {
                primary = Some(address.clone());
            }
            let Ok(address) = address else { continue };
            let states = flags.get(&address).map(Vec::as_slice).unwrap_or_default();
            opted_out |= states.contains(&ContactState::OptedOut);
            invalid |= states.contains(&ContactState::Invalid);
            if states.is_empty() {
                routes.push(Route {
                    channel: index,
                    address,
                });
            }
        }
        // Flags only stop the debtor when no channel is left to reach them.
        history.opted_out = routes.is_empty() && opted_out;
        history.invalid_contact = routes.is_empty() && invalid;
        let address = match routes.first() {
            Some(route) => Ok(route.address.clone()),
            None if skip_addresses => Err("not read: nothing to remind".into()),
            None => primary
                .unwrap_or_else(|| Err("no channel".into()))
                .and(Err("address flagged".into())),
        };
        let balance = Balance {
            has_address: !routes.is_empty(),
            ..owed
        };
        let decision = rules::decide(balance, &history, rules, at.now, at.local_time);
        Evaluation {
            debtor,
            overdue,
            overdue_minor,
            routes,
            address,
            history,
            decision,
        }
    }

    /// Warnings about templates that make SMS cost more: for every channel that estimates
    /// costs, a reminder template whose own text forces UCS-2 (70 characters a segment
    /// instead of 160), naming the character and where it is.
    pub fn template_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for named in &self.routes {
            let medium = named.channel.medium();
            let Ok(template) = self.renderer.reminder_template(medium) else {
                continue;
            };
            let Some((file, line, column, c)) = self.renderer.first_non_gsm7(&template) else {
                continue;
            };
            // A channel that transliterates to GSM-7 sends the character as something else.
            let sent = named.channel.estimate(&c.to_string());
            if sent.is_some_and(|e| e.encoding == "UCS-2") {
                out.push(format!(
                    "channel {}: template {file} line {line}, column {column}: {c:?} (U+{:04X}) is not GSM-7, so every \
                     message is sent as UCS-2 (70 characters a segment instead of 160); change the template or set \
                     transliterate = true",
                    named.name, c as u32
                ));
            }
        }
        out
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

/// Which addresses an evaluation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addresses {
    /// Every route's, whatever the balance (`status` shows them).
    Always,
    /// Only when the balance may lead to a reminder (a check: normalising a phone number
    /// is a good part of deciding for a client).
    WhenOwed,
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

//! rappel's engine: everything between a debt book and a sent reminder.
//!
//! Sources ([`source::Source`]) produce debt items, the planner groups them per debtor and
//! applies the [`rules`], the [`render::Renderer`] turns each plan into a message, the
//! [`engine`] sends it through a [`channel::Channel`] and records it in the [`ledger`].
//! Core never depends on a concrete source or channel: the binary registers them in a
//! [`registry::Registry`].
#![warn(missing_docs)]

pub mod channel;
pub mod clock;
pub mod config;
pub mod dates;
pub mod debt;
pub mod engine;
pub mod ledger;
pub mod mask;
pub mod money;
pub mod phone;
pub mod plugin;
pub mod registry;
pub mod render;
pub mod rules;
pub mod schedule;
pub mod secret;
pub mod sms;
pub mod source;
pub mod stats;
pub mod status;
pub mod strategy;
#[cfg(test)]
pub(crate) mod testing;

pub use channel::{Channel, Delivery, Estimate, Medium, Message, SendError, SendErrorKind};
pub use clock::{Clock, FixedClock, OffsetClock, SystemClock};
pub use debt::{DebtItem, DebtItems, Debtor, ItemKind};
pub use money::Money;
pub use source::{RejectedRow, Source, SourceBatch, SourceError};

//! The `Source` trait: where debt items come from (a CSV file, a database, an HTTP API).

use crate::debt::{DebtItem, DebtItems};
use async_trait::async_trait;

/// Everything one read of a source produced: the items it could read and the rows it
/// could not, each with the reason.
#[derive(Debug, Default, Clone)]
pub struct SourceBatch {
    /// The items read.
    pub items: DebtItems,
    /// The rows refused, in source order (a source may add rows found wrong only once all
    /// are read after the others, as `postgres` does for clients its clients query lacks).
    pub rejected: Vec<RejectedRow>,
    /// The items come in no useful order (a database sending rows as it finds them, which is
    /// faster than sorting them first): clients are then sorted by id, and each client's
    /// items by due date and reference ([`crate::debt::sort_by_client`]). Otherwise clients
    /// come in the order of their first item and items in source order.
    pub sort_by_client: bool,
}

impl SourceBatch {
    /// Adds rows as a source parsed them, in source order: items to `items`, refused rows
    /// to `rejected`.
    pub fn add(&mut self, rows: impl IntoIterator<Item = Result<DebtItem, RejectedRow>>) {
        for row in rows {
            match row {
                Ok(item) => self.items.push(item),
                Err(rejected) => self.rejected.push(rejected),
            }
        }
    }
}

/// A row a source could not read. The rest of the source is still used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Where the row is: `debts.csv line 14`.
    pub origin: String,
    /// The client the row belongs to, when that much could be read. Such a client gets no
    /// reminder in this check: its total would be wrong.
    pub debtor_id: Option<String>,
    /// What was wrong: `amount "12,5OO" is not a number`.
    pub reason: String,
}

impl std::fmt::Display for RejectedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// A source that cannot be read at all: the check fails and the next one tries again.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct SourceError {
    /// What could not be done, naming the file, table or URL.
    pub what: String,
    /// The underlying cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SourceError {
    /// An error with a message and no underlying cause.
    pub fn msg(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }

    /// An error with a message and its cause.
    pub fn with(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Something that lists debt items.
#[async_trait]
pub trait Source: Send + Sync {
    /// A short description for logs and `validate`: `csv config/demo/debts.csv`.
    fn describe(&self) -> String;

    /// Reads every item. Bad rows go to [`SourceBatch::rejected`]; only a source that cannot
    /// be read at all is an error.
    async fn load(&self) -> Result<SourceBatch, SourceError>;

    /// Whether the source can be read now, cheaply (`/readyz`). By default: yes; sources
    /// with a server to reach or a file to find say more.
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }
}

//! The live source: one connection per read, the statement timeout set on it, the query
//! checked against the expected columns, then its rows streamed one by one.

use crate::columns::{ColumnNames, Layout, Reads};
use crate::errors::DbError;
use crate::row::{ClientDetails, RowParser};
use crate::url::DatabaseUrl;
use async_trait::async_trait;
use futures::TryStreamExt as _;
use iso_currency::Currency;
use rappel_core::{DebtItem, RejectedRow, Source, SourceBatch, SourceError};
use sqlx::postgres::{PgConnection, PgRow, PgStatement};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _, SqlSafeStr as _, Statement as _};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

/// Everything needed to run the query, checked when the source was built.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) url: DatabaseUrl,
    pub(crate) query: String,
    /// Lists the clients' details when `query` does not return them.
    pub(crate) clients_query: Option<String>,
    /// The query has no ORDER BY: the check sorts clients and items ([`SourceBatch::sort_by_client`]).
    pub(crate) sort_by_client: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) statement_timeout: Duration,
    pub(crate) currency: Currency,
    pub(crate) columns: ColumnNames,
}

/// Debt items from a PostgreSQL query, built by [`crate::build`] from a
/// [`crate::PostgresConfig`].
#[derive(Debug)]
pub struct PostgresSource {
    settings: Settings,
}

impl PostgresSource {
    pub(crate) fn new(settings: Settings) -> Self {
        Self { settings }
    }

    async fn connect(&self) -> Result<PgConnection, SourceError> {
        let s = &self.settings;
        let server = s.url.server();
        // Reading a big book takes seconds: sqlx's warning for a statement over 1 s, with the
        // whole query in it, would show at every check. Kept for `-vv`.
        let options = s
            .url
            .options()
            .clone()
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let connecting = PgConnection::connect_with(&options);
        let mut conn = tokio::time::timeout(s.connect_timeout, connecting)
            .await
            .map_err(|_| {
                SourceError::msg(format!(
                    "cannot connect to PostgreSQL at {server}: no answer within connect_timeout = {}",
                    seconds(s.connect_timeout)
                ))
            })?
            .map_err(|e| SourceError::with(format!("cannot connect to PostgreSQL at {server}"), DbError(e)))?;
        let set = format!("SET statement_timeout = {}", s.statement_timeout.as_millis());
        conn.execute(sqlx::raw_sql(AssertSqlSafe(set)))
            .await
            .map_err(|e| SourceError::with(format!("{server}: cannot set statement_timeout"), DbError(e)))?;
        Ok(conn)
    }

    /// An error of the query, with a hint when it was cancelled by the timeout.
    fn query_error(&self, what: &str, e: sqlx::Error) -> SourceError {
        let s = &self.settings;
        let cancelled = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "57014");
        let mut message = format!("{}: {what}", s.url.server());
        if cancelled {
            message.push_str(&format!(
                " (it ran longer than statement_timeout = {})",
                seconds(s.statement_timeout)
            ));
        }
        SourceError::with(message, DbError(e))
    }
}

/// `10s`, `1.5s`: a duration as written in messages.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

#[async_trait]
impl Source for PostgresSource {
    fn describe(&self) -> String {
        format!("postgres {}", self.settings.url.shown())
    }

    /// Ready when the database accepts a connection (within `connect_timeout`).
    async fn ping(&self) -> Result<(), SourceError> {
        let conn = self.connect().await?;
        let _ = conn.close().await;
        Ok(())
    }

    async fn load(&self) -> Result<SourceBatch, SourceError> {
        let s = &self.settings;
        let mut conn = self.connect().await?;
        if s.clients_query.is_some() {
            // Both queries read one snapshot: a client added between them is in both or in
            // neither. The transaction ends with the connection (nothing was written).
            conn.execute(sqlx::raw_sql(AssertSqlSafe(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
            )))
            .await
            .map_err(|e| self.query_error("cannot start a read-only transaction", e))?;
        }
        let items_read = if s.clients_query.is_some() {
            Reads::ItemsOfClients
        } else {
            Reads::Items
        };
        // Both queries are prepared and checked first: a mistake in each is reported at once.
        let (items, items_layout) = self.prepare(&mut conn, &s.query, items_read).await?;
        let clients = match &s.clients_query {
            Some(query) => {
                let (statement, layout) = self.prepare(&mut conn, query, Reads::Clients).await?;
                layout.map(|layout| Some((statement, layout)))
            }
            None => Ok(None),
        };
        let (items_layout, clients) = match (items_layout, clients) {
            (Ok(items_layout), Ok(clients)) => (items_layout, clients),
            (items_layout, clients) => {
                let problems: Vec<String> = [items_layout.err(), clients.err()].into_iter().flatten().collect();
                return Err(SourceError::msg(format!("{}: {}", s.url.server(), problems.join("; "))));
            }
        };

        let mut batch = SourceBatch {
            sort_by_client: s.sort_by_client,
            ..SourceBatch::default()
        };
        let mut details = Details::default();
        if let Some((statement, layout)) = &clients {
            let parser = self.parser(layout);
            self.each_row(&mut conn, statement, Reads::Clients, |row, origin| {
                add_client(&mut details, &mut batch, parser.parse_client(row, origin));
            })
            .await?;
        }
        let parser = self.parser(&items_layout);
        self.each_row(&mut conn, &items, items_read, |row, origin| {
            batch.add([parser.parse(row, origin)]);
        })
        .await?;
        if let Err(e) = conn.close().await {
            tracing::debug!(error = %e, "closing the PostgreSQL connection");
        }
        let clients_read = details.len();
        if clients.is_some() {
            if details.is_empty() && !batch.items.is_empty() {
                // One error instead of a rejected row per client.
                return Err(SourceError::msg(format!(
                    "{}: the clients query returned no client but the query {} items: check its \
                     tables, search_path and the role's rights",
                    s.url.server(),
                    batch.items.len()
                )));
            }
            give_details(&mut batch, details);
        }
        tracing::debug!(
            database = %s.url.server(),
            items = batch.items.len(),
            clients = clients.is_some().then_some(clients_read),
            rejected = batch.rejected.len(),
            "read PostgreSQL query"
        );
        Ok(batch)
    }
}

/// Each client's details, by id, until its first item takes them; found by a fast hash of
/// the id (looked up once per client).
type Details = HashMap<String, ClientDetails, foldhash::fast::RandomState>;

impl PostgresSource {
    /// The prepared query, and where its columns are or what is wrong with them.
    async fn prepare(
        &self,
        conn: &mut PgConnection,
        query: &str,
        reads: Reads,
    ) -> Result<(PgStatement, Result<Layout, String>), SourceError> {
        let statement = conn
            .prepare(AssertSqlSafe(query.to_string()).into_sql_str())
            .await
            .map_err(|e| self.query_error(&format!("{} is refused", reads.query()), e))?;
        let layout = Layout::find(statement.columns(), &self.settings.columns, reads);
        Ok((statement, layout))
    }

    fn parser<'a>(&'a self, layout: &'a Layout) -> RowParser<'a> {
        RowParser {
            layout,
            names: &self.settings.columns,
            currency: self.settings.currency,
        }
    }

    /// Runs `statement`, handing each row to `on_row` as it arrives with where it is
    /// (`query row 12`, `clients query row 3`).
    async fn each_row(
        &self,
        conn: &mut PgConnection,
        statement: &PgStatement,
        reads: Reads,
        mut on_row: impl FnMut(&PgRow, String),
    ) -> Result<(), SourceError> {
        let mut rows = statement.query().fetch(conn);
        let mut number = 0_u64;
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| self.query_error(&format!("{} failed after {number} rows", reads.query()), e))?
        {
            number += 1;
            on_row(&row, DebtItem::origin_at(reads.row_prefix(), number));
        }
        Ok(())
    }
}

/// Keeps a row of the clients query. A client listed twice keeps the first non-empty value
/// of each detail; a refused row is reported, and its client (when its id could be read)
/// is held back by the check while its items are still read.
fn add_client(details: &mut Details, batch: &mut SourceBatch, row: Result<(String, ClientDetails), RejectedRow>) {
    match row {
        Ok((id, client)) => match details.entry(id) {
            Entry::Occupied(mut known) => known.get_mut().fill(client),
            Entry::Vacant(new) => {
                new.insert(client);
            }
        },
        Err(refused) => {
            if let Some(id) = &refused.debtor_id {
                details.entry(id.clone()).or_default();
            }
            batch.rejected.push(refused);
        }
    }
}

/// Gives each client's details to its first item, once all are read: a lookup per client,
/// not per item (each a cache miss in a table of 300,000 clients). A client the clients
/// query does not list is reported on its first item, and the check holds it back.
fn give_details(batch: &mut SourceBatch, mut details: Details) {
    let SourceBatch { items, rejected, .. } = batch;
    items.for_each_first_item(|item| match details.remove(item.debtor_id.as_str()) {
        Some(client) => client.give(item),
        None => rejected.push(RejectedRow {
            origin: item.origin.clone(),
            debtor_id: Some(item.debtor_id.clone()),
            reason: format!("client {:?} is not in the clients query", item.debtor_id),
        }),
    });
}

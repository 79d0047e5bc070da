//! The live source: one connection per read, the statement timeout set on it, the query
//! checked against the expected columns, then its rows streamed one by one.

use crate::columns::{ColumnNames, Layout};
use crate::errors::DbError;
use crate::row::RowParser;
use crate::url::DatabaseUrl;
use async_trait::async_trait;
use futures::TryStreamExt as _;
use iso_currency::Currency;
use rappel_core::{DebtItem, Source, SourceBatch, SourceError};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _, SqlSafeStr as _, Statement as _};
use std::time::Duration;

/// Everything needed to run the query, checked when the source was built.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) url: DatabaseUrl,
    pub(crate) query: String,
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
        let statement = (&mut conn)
            .prepare(AssertSqlSafe(s.query.clone()).into_sql_str())
            .await
            .map_err(|e| self.query_error("the query is refused", e))?;
        let layout = Layout::find(statement.columns(), &s.columns)
            .map_err(|problems| SourceError::msg(format!("{}: {problems}", s.url.server())))?;
        let parser = RowParser {
            layout: &layout,
            names: &s.columns,
            currency: s.currency,
        };

        let mut batch = SourceBatch {
            sort_by_client: s.sort_by_client,
            ..SourceBatch::default()
        };
        let mut rows = statement.query().fetch(&mut conn);
        let mut number = 0_u64;
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| self.query_error(&format!("the query failed after {number} rows"), e))?
        {
            number += 1;
            batch.add([parser.parse(&row, DebtItem::origin_at("query row ", number))]);
        }
        drop(rows);
        if let Err(e) = conn.close().await {
            tracing::debug!(error = %e, "closing the PostgreSQL connection");
        }
        tracing::debug!(
            database = %s.url.server(),
            items = batch.items.len(),
            rejected = batch.rejected.len(),
            "read PostgreSQL query"
        );
        Ok(batch)
    }
}

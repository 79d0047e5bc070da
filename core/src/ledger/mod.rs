//! The ledger: what was sent, to whom, in which cycle, and how it ended. SQLite or PostgreSQL
//! through sqlx with runtime queries; every reminder is written as `pending` (and committed)
//! before the provider is called, under a unique (debtor, cycle, seq) key.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Database, PgPool, Pool, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to the ledger's pool: the body is compiled once per
/// backend, so the same SQL and values go through SQLite's and PostgreSQL's own drivers.
/// A body ends with values both backends share (rows are read inside it).
macro_rules! on_db {
    ($ledger:expr, |$pool:ident| $body:expr) => {
        match &$ledger.db {
            $crate::ledger::Db::Sqlite($pool) => $body,
            $crate::ledger::Db::Postgres($pool) => $body,
        }
    };
}

mod contacts;
mod payments;
mod reminders;
mod types;

pub use types::{
    BalanceChange, ContactState, DeliveryUpdate, HistoryRow, NewReminder, Payment, ReminderRow, SentReminder, Settled,
};

/// A ledger that cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("ledger {path}: {what}")]
pub struct LedgerError {
    /// The ledger's location.
    pub path: String,
    /// What was being done.
    pub what: &'static str,
    /// The database error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    db: Db,
    path: String,
}

/// The ledger's database, through its own sqlx driver rather than sqlx's `Any`, which copies
/// every value bound into its own types and then into the driver's, and every row read back.
#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

fn open_error<'a, E>(shown: &'a str, what: &'static str) -> impl Fn(E) -> LedgerError + 'a
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| LedgerError {
        path: shown.to_string(),
        what,
        source: Box::new(e),
    }
}

/// How long a ledger operation waits for the connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects a pool of up to `connections` and applies the migrations the database lacks.
async fn open_pool<DB>(
    options: <DB::Connection as sqlx::Connection>::Options,
    connections: u32,
    migrator: Migrator,
    shown: &str,
) -> Result<Pool<DB>, LedgerError>
where
    DB: Database,
    DB::Connection: Migrate,
{
    let pool = PoolOptions::<DB>::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(open_error(shown, "cannot connect"))?;
    migrator
        .run(&pool)
        .await
        .map_err(open_error(shown, "cannot apply migrations"))?;
    Ok(pool)
}

/// Rows written by one statement: 19 values each stays far below SQLite's 32 766 parameters.
const ROWS_PER_STATEMENT: usize = 256;

/// The placeholders of a statement, in the order they appear in its text: `$1, $2…` for
/// PostgreSQL, `?` for SQLite (whose numbered placeholders cost a scan of all the names for
/// each value bound). Statements built with these hold only placeholders and constants
/// (hence `AssertSqlSafe`): every value is bound.
struct Placeholders {
    numbered: bool,
    count: usize,
}

impl Placeholders {
    fn new(ledger: &Ledger) -> Self {
        Self {
            numbered: ledger.is_shared(),
            count: 0,
        }
    }

    fn next(&mut self) -> String {
        self.count += 1;
        if self.numbered {
            format!("${}", self.count)
        } else {
            "?".to_string()
        }
    }

    /// `(?, ?), (?, ?)` for 2 rows of 2 values, each row ending with `tail` (`, 'pending'`).
    fn rows(&mut self, rows: usize, values: usize, tail: &str) -> String {
        let mut out = String::with_capacity(rows * (values * 5 + tail.len() + 4));
        for row in 0..rows {
            out.push_str(if row == 0 { "(" } else { ", (" });
            for value in 0..values {
                if value > 0 {
                    out.push_str(", ");
                }
                out.push_str(&self.next());
            }
            out.push_str(tail);
            out.push(')');
        }
        out
    }
}

pub(super) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(super) fn from_ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl Ledger {
    /// Opens the ledger `[state]` names: Postgres when `url` is set, else the SQLite file
    /// at `path` (resolved by the caller).
    pub async fn open(url: Option<&str>, path: &Path) -> Result<Self, LedgerError> {
        match url {
            Some(url) => Self::open_postgres(url).await,
            None => Self::open_sqlite(path).await,
        }
    }

    /// Opens (creating if needed) the SQLite ledger at `path` and brings its tables up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Self, LedgerError> {
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(open_error(&shown, "cannot create its folder"))?;
        }
        // WAL lets readers work while a check writes; the busy timeout makes concurrent
        // processes wait for each other instead of failing. `synchronous = FULL`: every
        // commit is on disk before the next send starts. With NORMAL a power cut could undo
        // the last claims, and a reminder that had left would be sent again. A page cache of
        // 16 MiB instead of SQLite's 2 MiB: a check of 20,000 sends writes and rewrites more
        // pages than 2 MiB hold (W2 sent 3–7 % faster in three sets of 20 alternating runs,
        // 41 of the 60 pairs faster; 64 MiB gained nothing more). It fills only as pages are read.
        let options = SqliteConnectOptions::new()
            .filename(PathBuf::from(path))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .synchronous(SqliteSynchronous::Full)
            .pragma("cache_size", "-16384");
        // SQLite has one writer at a time: one connection avoids busy waits between this
        // process's own connections (other processes still wait on the busy timeout).
        let pool = open_pool(options, 1, sqlx::migrate!("migrations/sqlite"), &shown).await?;
        Ok(Self {
            db: Db::Sqlite(pool),
            path: shown,
        })
    }

    /// Opens the Postgres ledger at `url` and brings its tables up to date. Several
    /// processes may share it: the unique reminder key keeps every send single.
    pub async fn open_postgres(url: &str) -> Result<Self, LedgerError> {
        let shown = crate::mask::url(url);
        let options = PgConnectOptions::from_str(url).map_err(open_error(&shown, "is not a valid database URL"))?;
        let pool = open_pool(options, 4, sqlx::migrate!("migrations/postgres"), &shown).await?;
        Ok(Self {
            db: Db::Postgres(pool),
            path: shown,
        })
    }

    /// Whether several processes may share this ledger (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    pub(super) fn err(&self, what: &'static str) -> impl Fn(sqlx::Error) -> LedgerError + '_ {
        move |e| LedgerError {
            path: self.path.clone(),
            what,
            source: Box::new(e),
        }
    }

    /// Whether the ledger answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), LedgerError> {
        on_db!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .map_err(self.err("does not answer"))
    }

    /// Closes the pool cleanly.
    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await);
    }
}

#[cfg(test)]
mod tests;

//! Test helpers: the test database from `RAPPEL_TEST_DATABASE_URL`, one fresh schema per
//! test (so tests run in parallel), and sources built from a `[source]` table as a user
//! writes it.

use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use rappel_core::{RejectedRow, Source, SourceBatch, SourceError};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _};
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// The test database's URL. Unset: the test is skipped, loudly, except on CI (`CI=true`)
/// where a skipped database test would hide a regression.
pub(crate) fn database_url() -> Option<String> {
    match std::env::var("RAPPEL_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "RAPPEL_TEST_DATABASE_URL is not set: on CI the PostgreSQL tests must run against a real \
             database, e.g. RAPPEL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        ),
        _ => {
            // Written to stderr directly: the test harness hides `eprintln!` of passing tests.
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: RAPPEL_TEST_DATABASE_URL not set \
                     (e.g. postgres://postgres@127.0.0.1:5432/test): PostgreSQL tests not run ***\n"
                );
            });
            None
        }
    }
}

/// A schema of its own in the test database, dropped (with its tables) when the value is.
pub(crate) struct TestSchema {
    base: String,
    name: String,
}

impl TestSchema {
    /// Creates a fresh schema; `None` when the tests are skipped.
    pub(crate) async fn new() -> Option<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = database_url()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "rappel_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(&base).await.expect("the test database answers");
        conn.execute(sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {name}"))))
            .await
            .expect("the test schema is created");
        conn.close().await.ok();
        Some(Self { base, name })
    }

    /// The database URL with this schema as the search path.
    pub(crate) fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }

    /// The server as errors name it (`host:port/database`).
    pub(crate) fn server(&self) -> String {
        crate::DatabaseUrl::parse(&self.url()).unwrap().server()
    }

    /// The test database's URL with another port, user or database written in.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Runs SQL statements in the schema.
    pub(crate) async fn exec(&self, sql: &str) {
        let mut conn = PgConnection::connect(&self.url())
            .await
            .expect("the test database answers");
        conn.execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
            .await
            .unwrap_or_else(|e| panic!("test SQL fails: {e}\n{sql}"));
        conn.close().await.ok();
    }

    /// Creates the example schema's tables and view.
    pub(crate) async fn example(&self) {
        self.exec(crate::EXAMPLE_SCHEMA).await;
    }

    /// The source for this schema with more `[source]` keys.
    pub(crate) fn source(&self, more_keys: &str) -> Box<dyn Source> {
        build(&format!("url = \"{}\"\n{more_keys}", self.url())).expect("the source builds")
    }

    /// Loads the source for this schema.
    pub(crate) async fn load(&self, more_keys: &str) -> Result<SourceBatch, SourceError> {
        self.source(more_keys).load().await
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime: clean up on a thread with its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&base).await {
                    let drop = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    if let Err(e) = conn.execute(sqlx::raw_sql(AssertSqlSafe(drop))).await {
                        eprintln!("test schema {name} not dropped: {e}");
                    }
                    conn.close().await.ok();
                }
            });
        });
        cleanup.join().ok();
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Builds the source from a `[source]` body, as the binary does.
pub(crate) fn build(source_body: &str) -> Result<Box<dyn Source>, String> {
    let text = format!("[channels.sms]\nkind = \"console\"\n[source]\nkind = \"postgres\"\n{source_body}\n");
    let config = Config::parse(&text, Path::new("rappel.toml"), &no_env).expect("the config parses");
    let ctx = BuildContext {
        config: &config,
        component: &config.source,
        name: "source",
        stdout_is_data: false,
    };
    crate::build(&ctx).map_err(|e| e.to_string())
}

/// An error and its causes, as the binary prints them (`{:#}`).
pub(crate) fn chain(error: &SourceError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The rejected rows as `origin: reason`, and the debtor each names.
pub(crate) fn rejections(batch: &SourceBatch) -> Vec<(String, Option<String>)> {
    batch
        .rejected
        .iter()
        .map(|r: &RejectedRow| (r.to_string(), r.debtor_id.clone()))
        .collect()
}

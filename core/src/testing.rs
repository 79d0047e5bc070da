//! Test support: a private PostgreSQL schema per test, so tests run in parallel against the
//! machine's real server.

/// A schema created for one test and dropped when this value goes.
pub struct PgSchema {
    /// A URL whose connections use the schema.
    pub url: String,
    base: String,
    name: String,
}

/// Creates a fresh schema on `RAPPEL_TEST_DATABASE_URL`. Without the variable: `None`
/// with a loud note, or a failure under `CI=true`, where Postgres tests must run.
pub async fn postgres_schema() -> Option<PgSchema> {
    let Ok(base) = std::env::var("RAPPEL_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "RAPPEL_TEST_DATABASE_URL must be set under CI: the Postgres tests cannot be skipped"
        );
        // Straight to stderr: the test harness captures eprintln!, and this must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (Postgres part): RAPPEL_TEST_DATABASE_URL is not set"
        );
        return None;
    };
    use sqlx::Connection;
    let name = format!("rappel_test_{}_{}", std::process::id(), next_id());
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("RAPPEL_TEST_DATABASE_URL reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
    )))
    .execute(&mut conn)
    .await
    .expect("create a test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
    Some(PgSchema { url, base, name })
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    N.fetch_add(1, Ordering::SeqCst) * 1_000_000_000 + u64::from(nanos)
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop on a fresh thread and runtime: Drop may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}
